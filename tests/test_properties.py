"""Property-based tests (hypothesis) of what users type: front matter, file names, parameter
values and the variant matrix. Nothing but knowrepo's own one-line error ever escapes, and a
build never crashes after publishing, whatever the front matter of one of its reports."""

from __future__ import annotations

import itertools
import math
import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from knowrepo.errors import KnowrepoError
from knowrepo.model import Meta
from knowrepo.pipeline.build import BuildOptions, build
from knowrepo.pipeline.discover import slugify_path
from knowrepo.pipeline.execute.params import Param, coerce, resolve
from knowrepo.pipeline.frontmatter import expand_variants, parse_meta, split_markdown
from knowrepo.support.yamltext import YamlProblem, load_yaml, plain_problem

os.environ.setdefault("KNOWREPO_RENDER_SERVER", "0")  # as conftest.py: no warm server outlives a test

PURE = settings(max_examples=200, deadline=None)
BUILD = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIELD_NAMES = [
    "title",
    "authors",
    "tags",
    "summary",
    "created",
    "updated",
    "thumbnail",
    "draft",
    "unlisted",
    "params",
    "variants",
    "private_params",
    "inputs",
    "email",
    "allow_errors",
    "timeout",
    "code",
]

# An integer that YAML reads from a hex literal (no digit limit) but Python cannot write in
# decimal (more than 4,300 digits): str() of it raises ValueError.
HUGE_HEX = "0x" + "f" * 4000
OVERFLOWING_INT = "1" * 400  # an int that float() cannot hold


# --- strategies --------------------------------------------------------------------------------

surrogates = st.characters(categories=["Cs"])
texts = st.text(max_size=12) | st.text(
    st.characters() | surrogates | st.sampled_from("\n\t :#-'\""), max_size=8
)
field_keys = (
    st.sampled_from(FIELD_NAMES) | st.sampled_from(FIELD_NAMES) | st.sampled_from(FIELD_NAMES) | texts
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-02-30", "2026-13-01", "2026-02-28T25:00", "0000-00-00", "last tuesday", ""]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([2**63, -(2**63) - 1, 10**30]),  # past INT_RANGE: what JSON cannot keep exactly
    st.floats(),
    texts,
    dates,
    st.sampled_from(["show", "fold", "hide", "collapse", "EU", "US", "1.5", "~", "yes"]),
)
plain_data = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(field_keys, children, max_size=4)
        | st.dictionaries(field_keys, children, max_size=4)
        | st.dictionaries(field_keys, children, max_size=4)
        | st.dictionaries(st.integers() | st.none(), children, max_size=1)  # a key that is not text
    ),
    max_leaves=10,
)
string_lists = texts | st.lists(texts | st.integers(), max_size=4)
matrices = st.fixed_dictionaries(
    {
        "matrix": st.dictionaries(
            texts,
            st.lists(st.none() | st.booleans() | st.integers() | st.floats() | texts, max_size=4) | scalars,
            max_size=3,
        )
    }
)
named_variants = st.dictionaries(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,6}", fullmatch=True) | texts,
    st.dictionaries(texts, scalars, max_size=3) | scalars,
    max_size=3,
)
emails = st.fixed_dictionaries(
    {"to": string_lists},
    optional={
        "cc": string_lists,
        "subject": texts,
        "variants": st.dictionaries(texts, st.fixed_dictionaries({}, optional={"to": string_lists})),
    },
)
FIELD_VALUES: dict[str, Any] = {
    "title": texts,
    "summary": texts,
    "thumbnail": st.sampled_from(["1", "img.png", "../../outside.png", "/etc/passwd", ""]) | texts,
    "authors": string_lists,
    "tags": string_lists,
    "private_params": string_lists,
    "inputs": string_lists,
    "created": dates,
    "updated": dates,
    "draft": st.booleans(),
    "unlisted": st.booleans(),
    "allow_errors": st.booleans(),
    "timeout": st.integers(min_value=-3, max_value=10**6),
    "code": st.sampled_from(["show", "fold", "hide", "collapse"]),
    "params": st.dictionaries(texts, plain_data, max_size=4),
    "variants": matrices | named_variants,
    "email": emails,
}
# Mostly well-formed fields (so that some front matter passes), now and then anything at all.
field_items = st.sampled_from(FIELD_NAMES).flatmap(
    lambda name: st.tuples(st.just(name), FIELD_VALUES[name] | FIELD_VALUES[name] | plain_data)
)
front_matter_data = st.lists(field_items, max_size=6).map(dict) | st.dictionaries(
    field_keys, plain_data, max_size=6
)
dumped_front_matter = st.one_of(
    front_matter_data.map(lambda data: yaml.safe_dump(data, sort_keys=False, allow_unicode=True)),
    front_matter_data.map(lambda data: yaml.safe_dump(data, sort_keys=False, default_flow_style=True)),
    plain_data.map(lambda data: yaml.safe_dump(data, sort_keys=False)),  # not a mapping, mostly
)

ODD_VALUES = [
    "2026-02-30",
    "2026-02-28T25:61:00",
    "2026-02-28 10:00:00 +25:00",
    "99999999999999999999999999",
    "-9223372036854775809",
    "9223372036854775807",
    OVERFLOWING_INT,
    HUGE_HEX,
    "0b" + "1" * 200,
    "0777",
    "190:20:30:15",
    ".nan",
    "-.inf",
    "1.0e400",
    "!!float 1e400",
    "!!int 0x1F",
    "!!int 1.5",
    "!!binary aGVsbG8=",
    "!!binary ***",
    "!!set {a, b}",
    "!!timestamp 2026-01-01",
    "!!timestamp 2026-02-30",
    "!!omap [a: 1]",
    "!!python/object:os.system ls",
    "!!str 12",
    "!!bool maybe",
    "!!bool",
    "!!int",
    "!!int _",
    "!!float ''",
    "!!timestamp foo",
    "!custom x",
    '"\\ud800"',
    '"\\udfff tail"',
    '"\\x00 nul"',
    '"\\U0010FFFF"',
    '"\\N\\_\\L\\P"',
    "'it''s'",
    "|\n  block\n  text",
    ">-\n  folded\n  text",
    "~",
    "yes",
    "off",
    "[]",
    "{}",
    "[a, [b, [c]]]",
    "{<<: {a: 1}, b: 2}",
    "{<<: 1}",
    "&anchor [1, 2]",
    "*undefined",
    "@reserved",
    "`tick",
    "[unclosed",
    "a: b: c",
    "\t tab",
    "- a\n- b",
]
ODD_DOCUMENTS = [
    "- just\n- a list",
    "plain text",
    "%YAML 1.1\n---\ntitle: x",
    "title: a\n---\ntitle: b",
    "title: a\n...\n",
    "\ufefftitle: bom",
    "title: x\x00",
    "title: x\x85y",
    "title: x\ntitle: y",
    "? [a, b]\n: 1",
    "? {a: 1}\n: 1",
    "? !!binary aGk=\n: 1",
    "? !!set {a}\n: 1",
    "1: one",
    "null: x",
    '"a\\nb": .nan',
    "params: &p {a: 1, b: *p}",
    "params: &p [*p]",
    "tags: &t [a, b]\nauthors: *t",
    "variants: {matrix: {a: &v [1, 2], b: *v}}",
    "variants: {matrix: {a: [x-y, x], b: [z, y-z]}}",
    "variants: {matrix: {a: [1.5, '1.5']}}",
    "variants: {matrix: {a: ['!!', x]}}",
    "variants: {matrix: {}}",
    "variants: {matrix: {a: [1]}, b: 2}",
    "variants: {'e u!': {x: 1}}",
    "email: {to: a@b, variants: {x: {to: 1}}}",
    "email: {variants: [1]}",
    "timeout: true",
    "timeout: 0",
    "code: [show]",
    "code: {show: 1}",
    "draft: 'yes'",
    "  bad: indent\n wrong: here",
]


def _laughs(levels: int) -> str:
    """Each alias level nine times the last: aliases share one object, so PyYAML stays small."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + f"\nparams: {{laugh: *l{levels - 1}}}"


raw_lines = st.tuples(
    field_keys.map(lambda key: re.sub(r"[\s:#\[\]{}&*!|>'\"%@`,?-]", "", key) or "k"),
    st.sampled_from(ODD_VALUES),
).map(lambda kv: f"{kv[0]}: {kv[1]}")
raw_front_matter = st.one_of(
    st.lists(raw_lines, min_size=1, max_size=4).map("\n".join),
    st.sampled_from(ODD_DOCUMENTS),
    st.integers(min_value=1, max_value=3000).map(lambda n: "params: {x: " + "[" * n + "]" * n + "}"),
    st.integers(min_value=1, max_value=400).map(
        lambda n: "params:\n" + "".join(f"{' ' * i} k{i}:\n" for i in range(n)) + " " * n + " v"
    ),
    st.integers(min_value=1, max_value=7).map(_laughs),
    st.integers(min_value=1, max_value=6000).map(lambda n: f"params: {{x: 0x{'f' * n}}}"),
    st.text(max_size=40),
)
# Two in three dumped, one in three raw (.map keeps one_of from flattening them into one list).
front_matter_text = st.one_of(
    dumped_front_matter.map(str), dumped_front_matter.map(str), raw_front_matter.map(str)
)


def _one_line(message: str) -> bool:
    return len(message.splitlines()) <= 1  # \n, \r, and \v, \f, \x85, \u2028 ... as well


def _assert_one_line_error(exc: KnowrepoError, path: str) -> None:
    message = str(exc)
    assert _one_line(message), repr(message)
    assert message.startswith(f"{path}: "), repr(message)


# --- errors and front matter ------------------------------------------------------------------


@PURE
@given(st.none() | texts | st.just("reports/a\nb.md"), texts)
@example("reports/a\nb.md", "invalid YAML front matter")  # a file name may hold a newline
def test_an_error_is_one_line(path: str | None, message: str) -> None:
    error = KnowrepoError(path, message)
    assert _one_line(str(error)), repr(str(error))
    if error.path:  # a path's control characters are shown escaped
        assert str(error).endswith(f": {error.message}")
    else:
        assert str(error) == error.message


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
        _assert_one_line_error(exc, "reports/r.md")
        return
    data = meta.to_json()
    assert Meta.from_json(data) == meta
    # The manifest keeps it as JSON and a later build reads it back instead of the YAML.
    assert Meta.from_json(orjson.loads(orjson.dumps(data))) == meta
    assert plain_problem(data, "meta") is None


@PURE
@given(
    st.dictionaries(texts, st.lists(scalars, max_size=4), max_size=4) | matrices.map(lambda m: m["matrix"])
)
@example({"a": ["x-y", "x"], "b": ["z", "y-z"]})
@example({"a": [1e20, 1e-20]})
@example({"a": ["İ", "i"]})
def test_variant_matrix_is_the_product_with_unique_slug_names(matrix: dict[str, Any]) -> None:
    try:
        variants = expand_variants("reports/r.ipynb", {"matrix": matrix})
    except KnowrepoError as exc:
        _assert_one_line_error(exc, "reports/r.ipynb")
        return
    assert len(variants) == math.prod(len(options) for options in matrix.values())
    combos = list(itertools.product(*matrix.values()))
    assert [list(v.values()) for v in variants.values()] == [list(c) for c in combos]
    for name, values in variants.items():
        assert re.fullmatch(r"[a-z0-9-]+", name), name
        assert list(values) == list(matrix)


@PURE
@given(named_variants | plain_data)
def test_named_variants_have_valid_names(value: Any) -> None:
    try:
        variants = expand_variants("reports/r.ipynb", value)
    except KnowrepoError as exc:
        _assert_one_line_error(exc, "reports/r.ipynb")
        return
    for name, params in variants.items():
        assert name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name), name
        assert isinstance(params, dict)
    if isinstance(value, dict) and "matrix" not in value:
        assert len(variants) == len(value)


# --- YAML and plain data -----------------------------------------------------------------------


unplain = st.recursive(
    scalars
    | st.binary(max_size=3)
    | st.sampled_from([2**63, -(2**63) - 1, 10**30, math.nan, math.inf])
    | st.text(surrogates, min_size=1, max_size=2),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.frozensets(st.integers(), max_size=2)
        | st.dictionaries(texts | st.integers() | st.none(), children, max_size=3)
    ),
    max_leaves=10,
)


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
    assert problem is None or (isinstance(problem, str) and _one_line(problem)), repr(problem)


@PURE
@given(unplain)
@example({"a\nb": math.nan})
def test_plain_problem_is_none_or_one_line(value: Any) -> None:
    problem = plain_problem(value, "the value")
    assert problem is None or (isinstance(problem, str) and _one_line(problem)), repr(problem)
    if problem is None:
        orjson.dumps(value)  # plain data is what the manifest and run store can write


@PURE
@given(st.integers(min_value=60, max_value=20_000), st.sampled_from([-1, 1]), st.booleans())
@example(bits=16_000, sign=1, nested=True)  # 4,817 digits: more than str() of an int may write
def test_plain_problem_of_any_integer(bits: int, sign: int, nested: bool) -> None:
    # The integer is made here: hypothesis could not even repr() one of more than 4,300 digits.
    value = sign * 2**bits
    problem = plain_problem({"x": [value]} if nested else value, "the value")
    assert (problem is None) == (-(2**63) <= value < 2**63)
    assert problem is None or _one_line(problem)


# --- slugs -------------------------------------------------------------------------------------


path_parts = st.text(st.characters() | surrogates | st.sampled_from(" ./-_\t"), max_size=10)
relpaths = st.tuples(
    st.lists(path_parts, min_size=1, max_size=4), st.sampled_from([".md", ".ipynb", ""])
).map(lambda t: "/".join(t[0]) + t[1])


@PURE
@given(relpaths)
@example("../..//. /.md")
@example("数据/报告.ipynb")
def test_slug_is_a_clean_lowercase_url_path(relpath: str) -> None:
    slug = slugify_path(relpath)
    assert slug == slugify_path(relpath)
    assert slug and not slug.startswith("/") and not slug.endswith("/")
    for segment in slug.split("/"):
        assert segment not in ("", ".", ".."), (relpath, slug)
    assert not any(c.isspace() for c in slug), (relpath, slug)
    assert slug == slug.lower(), (relpath, slug)
    slug.encode("utf-8")  # no lone surrogate (an undecodable file name) reaches a URL


def _ascii_slug(relpath: str) -> list[str]:
    stem = relpath.rsplit(".", 1)[0]
    return [re.sub(r"[^a-z0-9_]+", "-", part.lower()).strip("-") for part in stem.split("/")]


ascii_names = st.lists(st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=3).map(
    lambda parts: "/".join(parts) + ".md"
)
any_names = ascii_names | relpaths


@PURE
@given(ascii_names, ascii_names)
def test_ascii_names_keep_their_lowercase_name(a: str, b: str) -> None:
    assert slugify_path(a) == a.removesuffix(".md").lower()
    if a.lower() != b.lower():
        assert slugify_path(a) != slugify_path(b)


@PURE
@given(any_names, any_names)
def test_names_whose_ascii_slugs_differ_get_distinct_slugs(a: str, b: str) -> None:
    slug_a, slug_b = _ascii_slug(a), _ascii_slug(b)
    if all(slug_a) and all(slug_b):
        assert slugify_path(a) == "/".join(slug_a)
        if slug_a != slug_b:
            assert slugify_path(a) != slugify_path(b)


# --- parameters --------------------------------------------------------------------------------


DEFAULTS: dict[type | None, Any] = {int: 0, float: 0.0, str: "", bool: False, list: [], dict: {}, None: None}
kinds = st.sampled_from(list(DEFAULTS))
text_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(ODD_VALUES + ODD_DOCUMENTS),
    st.integers().map(str),
    st.floats().map(repr),
    st.integers(min_value=1, max_value=6000).map(lambda n: "0x" + "f" * n),
    st.integers(min_value=300, max_value=5000).map(lambda n: "9" * n),
)
plain_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def _param(kind: type | None, name: str = "x") -> Param:
    default = DEFAULTS[kind]
    return Param(name=name, type=kind, default=default, default_source=repr(default))


def _conforms(kind: type | None, value: Any) -> bool:
    if kind is None:
        return not isinstance(value, list | dict)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


@PURE
@given(kinds, text_values)
@example(float, OVERFLOWING_INT)  # float() of the parsed int raises OverflowError
@example(int, HUGE_HEX)
@example(bool, HUGE_HEX)  # repr() of the int, for the error message, raises ValueError
@example(int, "!!float ''")
def test_a_command_line_value_is_coerced_or_a_one_line_error(kind: type | None, text: str) -> None:
    _coerced_or_one_line(kind, text, from_text=True)


def _coerced_or_one_line(kind: type | None, value: Any, from_text: bool) -> None:
    """coerce() and resolve() give a value of the declared type, or one line naming the file."""
    param = _param(kind)
    try:
        coerced = coerce("reports/r.ipynb", param, value, from_text=from_text)
    except KnowrepoError as exc:
        _assert_one_line_error(exc, "reports/r.ipynb")
    else:
        assert _conforms(kind, coerced), (kind, coerced)
    try:
        resolved = resolve("reports/r.ipynb", {"x": param}, ({"x": value}, from_text))
    except KnowrepoError as exc:
        _assert_one_line_error(exc, "reports/r.ipynb")
        return
    assert _conforms(kind, resolved["x"]), (kind, resolved)
    assert plain_problem(resolved["x"], "x") is None


@PURE
@given(kinds, plain_values)
def test_a_yaml_value_is_coerced_or_a_one_line_error(kind: type | None, value: Any) -> None:
    _coerced_or_one_line(kind, value, from_text=False)


@PURE
@given(kinds, kinds, st.booleans(), st.data())
def test_an_error_for_a_private_parameter_never_shows_its_value(
    kind: type | None, other: type | None, from_text: bool, data: st.DataObject
) -> None:
    declared = {"secret": _param(kind, "secret"), "public": _param(other, "public")}
    value = data.draw(text_values if from_text else plain_values, label="value")
    layers = [({"public": DEFAULTS[other]}, False), ({"secret": value}, from_text)]
    try:
        resolve("reports/r.ipynb", declared, *layers, private=("secret",))
    except KnowrepoError as exc:
        _assert_one_line_error(exc, "reports/r.ipynb")
        # The same error as for any other bad value: nothing in it depends on the value.
        sentinel = [1] if kind is dict else {"z": 1}
        with pytest.raises(KnowrepoError) as reference:
            resolve("reports/r.ipynb", declared, ({"secret": sentinel}, False), private=("secret",))
        assert str(exc) == str(reference.value)


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
        result = build(root, BuildOptions())
    except KnowrepoError as exc:  # allowed, but the site must be as it was
        assert _one_line(str(exc)), repr(str(exc))
        assert (site / "good" / "index.html").exists()
        return
    assert (site / "good" / "index.html").exists()
    assert not [w for w in result.warnings if "could not be saved" in w], result.warnings
    for message in result.errors:
        assert _one_line(message), repr(message)
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

    again = build(root, BuildOptions())  # never crashes after publishing
    assert again.noop or result.errors, "a second build with nothing changed is not a no-op"
    assert again.errors == result.errors  # (a build that had errors looks again, and says the same)
