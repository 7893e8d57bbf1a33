"""YAML as knowrepo reads it (front matter, -p values, --params-file), and the check that a
value read from a user's file is plain data that every later stage can store.

PyYAML's safe loader minus its timestamp resolver: dates stay the text the author wrote,
so `2026-02-30` is a clear error where a date is expected (PyYAML itself raises a bare
ValueError for it) and a plain string where any value is (a parameter).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 12
MAX_NODES = 20_000
INT_RANGE = 1 << 63  # what JSON readers (orjson, JavaScript) and the run store keep exactly


class YamlProblem(ValueError):
    """YAML that cannot be read: the problem and its 1-based line, when known."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem, self.line = problem, line
        super().__init__(f"{problem}" + (f" at line {line}" if line else ""))


_loader: type[yaml.SafeLoader] | None = None


def _plain_loader() -> type[yaml.SafeLoader]:
    global _loader
    if _loader is None:
        import yaml  # (PyYAML: ~30 ms, only for front matter that changed)

        class PlainLoader(yaml.SafeLoader):
            """SafeLoader without timestamps (yaml_implicit_resolvers is per class)."""

        PlainLoader.yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        _loader = PlainLoader
    return _loader


def load_yaml(text: str) -> Any:
    """The data in `text`; YamlProblem for anything PyYAML cannot read."""
    import yaml  # here: a build that reads no changed front matter never imports PyYAML

    try:
        return yaml.load(text, Loader=_plain_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlProblem(problem, mark.line + 1 if mark else None) from None
    except RecursionError:
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except Exception as exc:  # PyYAML's constructors let KeyError, IndexError... escape (`!!bool maybe`)
        raise YamlProblem(f"a value PyYAML cannot read ({type(exc).__name__}: {exc})"[:300]) from None


def plain_problem(value: Any, where: str) -> str | None:
    """Why `value` is not plain data (text, finite numbers, booleans, null, lists, mappings
    with text keys, not too deep or large), naming the place, or None when it is."""
    problem = _PlainCheck(where).visit(value, "", 0)
    return " ".join(problem.split()) if problem else None  # (a key may hold a line break)


class _PlainCheck:
    def __init__(self, where: str) -> None:
        self.where, self.count = where, 0

    def name(self, at: str) -> str:
        return f"{self.where} '{at.lstrip('.')}'" if at else self.where

    def visit(self, item: Any, at: str, depth: int) -> str | None:
        self.count += 1
        if self.count > MAX_NODES:
            return f"{self.where} is too large (more than {MAX_NODES:,} values)"
        if depth > MAX_DEPTH:
            return f"{self.name(at)} is nested more than {MAX_DEPTH} levels deep"
        if item is None or isinstance(item, bool):
            return None
        if isinstance(item, str | int | float):
            return self.scalar(item, at)
        if isinstance(item, list | tuple):
            return next(
                (p for i, child in enumerate(item) if (p := self.visit(child, f"{at}[{i}]", depth + 1))), None
            )
        if isinstance(item, dict):
            return self.mapping(item, at, depth)
        return f"{self.name(at)} holds a value knowrepo cannot store ({type(item).__name__})"

    def scalar(self, item: str | int | float, at: str) -> str | None:
        if isinstance(item, str):
            return (
                f"{self.name(at)} holds an invalid character (a lone UTF-16 surrogate)"
                if _LONE_SURROGATE.search(item)
                else None
            )
        if isinstance(item, int):
            if not -INT_RANGE <= item < INT_RANGE:  # (no str(): a 5,000-digit int refuses it)
                bits = item.bit_length()
                return f"{self.name(at)} is an integer too large to store ({bits} bits); quote it as text"
            return None
        return None if math.isfinite(item) else f"{self.name(at)} must be a finite number, not {item}"

    def mapping(self, item: dict[Any, Any], at: str, depth: int) -> str | None:
        for key, child in item.items():
            if not isinstance(key, str):
                return f"{self.name(at)} has the key {shown(key)}, which is not text; quote it"
            if problem := self.visit(key, at, depth + 1) or self.visit(child, f"{at}.{key}", depth + 1):
                return problem
        return None


def repair_text(text: str) -> str:
    """Lone surrogates (which no UTF-8 file can hold) as U+FFFD, for text from outputs."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def repair_tree(value: Any) -> Any:
    """repair_text over every string in a parsed JSON document (a notebook from a kernel that
    printed half a UTF-16 pair)."""
    if isinstance(value, str):
        return repair_text(value)
    if isinstance(value, list):
        return [repair_tree(item) for item in value]
    if isinstance(value, dict):
        return {repair_text(key): repair_tree(item) for key, item in value.items()}
    return value


def shown(value: Any, limit: int = 60) -> str:
    """repr() of a value for a message: short, and never failing (a huge int refuses str())."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text without the control characters that XML 1.0 (the feed, the sitemap) cannot hold."""
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def control_character(text: str) -> str | None:
    """The first control character (other than tab and line breaks) in `text`, shown, or None."""
    match = _NOT_XML.search(text)
    return repr(match.group())[1:-1] if match else None
