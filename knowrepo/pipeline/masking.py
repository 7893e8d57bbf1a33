"""A front matter's private values written as "***" (private_params: in params, in every
variant, in a matrix), found by their place in the YAML and every other byte kept: what
downloads, run notebooks and kept conversions hold in its place (private.py publishes them)."""

from __future__ import annotations

from typing import Any

from knowrepo.pipeline.frontmatter import name_list, notebook_front_matter, parameter_sets, private_names
from knowrepo.support.secrets import MASK, masked
from knowrepo.support.yamltext import YamlProblem, load_yaml


def mask_front_matter(yaml_text: str) -> str:
    """The front matter with the value of each private parameter (in `params`, in every variant,
    in a matrix) written as "***", and every other byte as it was: what downloads and stored
    notebooks hold in its place. Values are found by their place in the YAML, not by their text,
    so a short or oddly quoted value is masked too."""
    spans = _private_spans(yaml_text)
    text = yaml_text
    for start, end in sorted(spans, reverse=True):
        span = text[start:end]
        text = text[:start] + f'"{MASK}"' + span[len(span.rstrip()) :] + text[end:]
    if spans and _still_private(text):
        return _dumped(yaml_text)
    return text


def _private_spans(yaml_text: str) -> set[tuple[int, int]]:
    """(start, end) in the text of each private parameter's value (none inside another)."""
    import yaml  # (PyYAML: ~30 ms, only where a private value is masked)

    try:
        root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return set()  # (such front matter fails validation: its report is neither run nor published)
    fields = dict(_pairs(root))
    private = _node_names(fields.get("private_params"))
    variants = [node for _name, node in _pairs(fields.get("variants"))]
    spans = {
        (node.start_mark.index, node.end_mark.index)
        for values in [fields.get("params"), *variants]
        for name, node in _pairs(values)
        if name in private
    }
    return {(a, b) for a, b in spans if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in spans)}


def _pairs(node: Any) -> list[tuple[str, Any]]:
    """The (text key, value node) pairs of a YAML mapping node (none for any other node)."""
    import yaml  # (PyYAML: ~30 ms, only where a private value is masked)

    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(key.value), value) for key, value in node.value if isinstance(key, yaml.ScalarNode)]


def _node_names(node: Any) -> set[str]:
    """The names a list field's YAML node gives, as the front matter reads them (_names)."""
    import yaml  # (PyYAML: ~30 ms, only where a private value is masked)

    if isinstance(node, yaml.ScalarNode):
        return set(name_list(str(node.value)))
    if isinstance(node, yaml.SequenceNode):
        return set(name_list([str(item.value) for item in node.value if isinstance(item, yaml.ScalarNode)]))
    return set()


def _still_private(text: str) -> bool:
    """Whether masked front matter fails to read, or holds a private value that is not ***
    (an anchor that an alias elsewhere named): then it is written anew."""
    try:
        data = load_yaml(text)
    except YamlProblem:
        return True
    private = private_names(data)
    return any(values[name] != MASK for values in parameter_sets(data) for name in private if name in values)


def _dumped(yaml_text: str) -> str:
    """The front matter written anew by PyYAML, private values masked (comments are lost)."""
    import yaml  # (PyYAML: ~30 ms, only where a private value is masked)

    data = load_yaml(yaml_text)
    private = private_names(data)
    if isinstance(data.get("params"), dict):
        data["params"] = masked(data["params"], private)
    if isinstance(data.get("variants"), dict):
        data["variants"] = {
            name: masked(values, private) if isinstance(values, dict) else values
            for name, values in data["variants"].items()
        }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def mask_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """The notebook with its front matter's private values masked (itself when it holds none)."""
    cells = nb.get("cells", [])
    yaml_text, index = notebook_front_matter(cells)
    if yaml_text is None or index is None:
        return nb
    hidden = mask_front_matter(yaml_text)
    if hidden == yaml_text:
        return nb
    cell = cells[index]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    # (the YAML's first occurrence is the front matter's: only the `---` line comes before it)
    cell = {**cell, "source": source.replace(yaml_text, hidden, 1)}
    return {**nb, "cells": [*cells[:index], cell, *cells[index + 1 :]]}
