"""Property-based tests (hypothesis) of what users type: front matter, file names, parameter
values and the variant matrix. Nothing but knowrepo's own one-line error ever escapes. (The
fuzzers over raw YAML of any size, and the build over any front matter, are in
tests/test_properties.py: they take a minute.)"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.discover import slugify_path
from knowrepo.pipeline.execute.params import Param, coerce, resolve
from knowrepo.pipeline.frontmatter import expand_variants
from knowrepo.support.yamltext import plain_problem
from unit.strategies import (
    HUGE_HEX,
    ODD_DOCUMENTS,
    ODD_VALUES,
    OVERFLOWING_INT,
    assert_one_line_error,
    is_one_line,
    matrices,
    named_variants,
    plain_data,
    scalars,
    surrogates,
    texts,
)

PURE = settings(max_examples=200, deadline=None)


# --- errors and variants ---------------------------------------------------------------------


@PURE
@given(st.none() | texts | st.just("reports/a\nb.md"), texts)
@example("reports/a\nb.md", "invalid YAML front matter")  # a file name may hold a newline
def test_an_error_is_one_line(path: str | None, message: str) -> None:
    error = KnowrepoError(path, message)
    assert is_one_line(str(error)), repr(str(error))
    if error.path:  # a path's control characters are shown escaped
        assert str(error).endswith(f": {error.message}")
    else:
        assert str(error) == error.message


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
        assert_one_line_error(exc, "reports/r.ipynb")
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
        assert_one_line_error(exc, "reports/r.ipynb")
        return
    for name, params in variants.items():
        assert name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name), name
        assert isinstance(params, dict)
    if isinstance(value, dict) and "matrix" not in value:
        assert len(variants) == len(value)


# --- plain data ------------------------------------------------------------------------------


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
@given(unplain)
@example({"a\nb": math.nan})
def test_plain_problem_is_none_or_one_line(value: Any) -> None:
    problem = plain_problem(value, "the value")
    assert problem is None or (isinstance(problem, str) and is_one_line(problem)), repr(problem)
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
    assert problem is None or is_one_line(problem)


# --- slugs -----------------------------------------------------------------------------------


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


# --- parameters ------------------------------------------------------------------------------


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
        assert_one_line_error(exc, "reports/r.ipynb")
    else:
        assert _conforms(kind, coerced), (kind, coerced)
    try:
        resolved = resolve("reports/r.ipynb", {"x": param}, ({"x": value}, from_text))
    except KnowrepoError as exc:
        assert_one_line_error(exc, "reports/r.ipynb")
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
        assert_one_line_error(exc, "reports/r.ipynb")
        # The same error as for any other bad value: nothing in it depends on the value.
        sentinel = [1] if kind is dict else {"z": 1}
        with pytest.raises(KnowrepoError) as reference:
            resolve("reports/r.ipynb", declared, ({"secret": sentinel}, False), private=("secret",))
        assert str(exc) == str(reference.value)
