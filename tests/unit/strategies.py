"""Hypothesis strategies of what users type (front matter, YAML, values, file names), shared by
the property tests of the fast tier (test_properties.py here) and of tests/test_properties.py."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import strategies as st

from knowrepo.errors import KnowrepoError

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


def is_one_line(message: str) -> bool:
    return len(message.splitlines()) <= 1  # \n, \r, and \v, \f, \x85, \u2028 ... as well


def assert_one_line_error(exc: KnowrepoError, path: str) -> None:
    message = str(exc)
    assert is_one_line(message), repr(message)
    assert message.startswith(f"{path}: "), repr(message)
