"""Property-based tests (hypothesis) of what users type, the slow ones: front matter and YAML
of any form and size (alias bombs, 6,000-digit integers, 3,000 levels of brackets), and a build
that never crashes after publishing, whatever the front matter of one of its reports. The fast
properties are in tests/unit/test_properties.py."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from unit.strategies import (
    HUGE_HEX,
    assert_one_line_error,
    dumped_front_matter,
    front_matter_text,
    is_one_line,
    raw_front_matter,
)

from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry
from knowrepo.model import Meta
from knowrepo.pipeline.build import BuildOptions, build
from knowrepo.pipeline.frontmatter import parse_meta, split_markdown
from knowrepo.support.yamltext import YamlProblem, load_yaml, plain_problem

os.environ.setdefault("KNOWREPO_RENDER_SERVER", "0")  # as conftest.py: no warm server outlives a test

PURE = settings(max_examples=200, deadline=None)
BUILD = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- front matter and YAML of any form and size ----------------------------------------------


@PURE
@given(front_matter_text)
@example(f"params: {{x: {HUGE_HEX}}}")  # str() of the int raises ValueError in plain_problem
@example('"a\\nb": .nan')
@example("params: &p {a: 1, b: *p}")
@example("draft: !!bool maybe")
def test_front_matter_gives_meta_or_one_line_error(text: str) -> None:
    try:
        meta = parse_meta("reports/r.md", text)
    except KnowrepoError as exc:
        assert_one_line_error(exc, "reports/r.md")
        return
    data = meta.to_json()
    assert Meta.from_json(data) == meta
    # The manifest keeps it as JSON and a later build reads it back instead of the YAML.
    assert Meta.from_json(orjson.loads(orjson.dumps(data))) == meta
    assert plain_problem(data, "meta") is None


@PURE
@given(raw_front_matter | dumped_front_matter | st.text())
@example(f"x: {HUGE_HEX}")
@example("x: !!bool maybe")  # PyYAML raises KeyError
@example("x: !!int")  # IndexError
@example("x: !!timestamp foo")  # AttributeError
def test_yaml_loads_or_raises_yaml_problem(text: str) -> None:
    try:
        value = load_yaml(text)
    except YamlProblem as exc:
        assert isinstance(exc, ValueError)
        return
    problem = plain_problem(value, "x")
    assert problem is None or (isinstance(problem, str) and is_one_line(problem)), repr(problem)


# --- the build ---------------------------------------------------------------------------------


GOOD = "---\ntitle: Good\ntags: [a]\ncreated: 2026-01-02\n---\n# Good\n\nAlways valid.\n"
_nonce = itertools.count()
_last_write = [0]


def _repository(root: Path) -> Path:
    if not (root / "knowrepo.toml").exists():
        (root / "reports").mkdir(parents=True)
        (root / "knowrepo.toml").write_text("")
        (root / "reports" / "good.md").write_text(GOOD)
    return root


@BUILD
@given(front_matter_text)
@example(f"params: {{x: {HUGE_HEX}}}")
@example("created: 2026-02-30")
@example("title: !!timestamp foo")
@example("title: Bad\ntags: [x]\nvariants: {matrix: {region: [EU, US]}}\nparams: {n: 1}")
@example("title: Bad\ndraft: true")  # its page goes, if an earlier example published it
def test_build_survives_any_front_matter_of_a_report(tmp_path: Path, front: str) -> None:
    root = _repository(tmp_path / "repo")
    site = root / "_site"
    marker = f"Marker{next(_nonce)}x"
    body = f"# Bad\n\n{marker}\n"
    source = f"---\n{front}\n---\n{body}"
    bad = root / "reports" / "bad.md"
    bad.write_bytes(source.encode("utf-8", "surrogatepass"))  # a lone surrogate: not UTF-8
    _last_write[0] = tick = max(bad.stat().st_mtime_ns, _last_write[0] + 1_000_000)
    os.utime(bad, ns=(tick, tick))  # never two versions with one stat, however fast the examples

    try:
        result = build(root, BuildOptions(), load_registry=load_registry)
    except KnowrepoError as exc:  # allowed, but the site must be as it was
        assert is_one_line(str(exc)), repr(str(exc))
        assert (site / "good" / "index.html").exists()
        return
    assert (site / "good" / "index.html").exists()
    assert not [w for w in result.warnings if "could not be saved" in w], result.warnings
    for message in result.errors:
        assert is_one_line(message), repr(message)
        assert message.startswith("reports/bad.md: "), message  # the good report never fails

    # The bad report is published (this very version of it), skipped as a draft, or an error.
    meta = None
    if re.search("[\ud800-\udfff]", source):
        assert result.errors and "not UTF-8" in result.errors[0], result.errors
    else:
        yaml_text, rest = split_markdown(source)
        try:
            meta = parse_meta("reports/bad.md", yaml_text)
        except KnowrepoError as exc:
            assert str(exc) in result.errors, (str(exc), result.errors)
    if not result.errors:
        assert meta is not None
        page = site / "bad" / "index.html"
        if meta.draft:
            assert not page.exists()
        else:
            assert page.exists()
            if rest == body:
                assert marker in page.read_text(encoding="utf-8")

    again = build(root, BuildOptions(), load_registry=load_registry)  # never crashes after publishing
    assert again.noop or result.errors, "a second build with nothing changed is not a no-op"
    assert again.errors == result.errors  # (a build that had errors looks again, and says the same)
