"""support/yamltext.py: YAML as knowrepo reads it, and the check that a value is plain data every
stage can store (E31-E35 of docs/errors.md). Its properties over any input are in
test_properties.py."""

from __future__ import annotations

import math

import pytest

from knowrepo.support.yamltext import (
    YamlProblem,
    control_character,
    load_yaml,
    plain_problem,
    repair_text,
    repair_tree,
    shown,
    xml_text,
)


def test_dates_stay_the_text_the_author_wrote():
    assert load_yaml("created: 2026-02-30\nat: 2026-01-01 10:00:00") == {
        "created": "2026-02-30",
        "at": "2026-01-01 10:00:00",
    }


@pytest.mark.parametrize(
    ("text", "problem", "line"),
    [
        ("a: [1,\nb: 2", "expected ',' or ']', but got '<stream end>'", 2),
        ("a: !!bool maybe", "a value PyYAML cannot read (KeyError: 'maybe')", None),
        (
            "a: !!python/object:os.system ls",
            "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'",
            1,
        ),
    ],
)
def test_yaml_that_cannot_be_read_is_a_problem_with_its_line(text: str, problem: str, line: int | None):
    with pytest.raises(YamlProblem) as raised:
        load_yaml(text)
    assert (raised.value.problem, raised.value.line) == (problem, line)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": [1, {"b": None}], "c": "text", "d": 2.5, "e": True}, None),
        ({1: "a"}, "front matter has the key 1, which is not text; quote it"),
        ({"x": 2**63}, "front matter 'x' is an integer too large to store (64 bits); quote it as text"),
        ({"x": -(2**63)}, None),
        ({"x": [math.nan]}, "front matter 'x[0]' must be a finite number, not nan"),
        ({"a\nb": "\ud800"}, "front matter 'a b' holds an invalid character (a lone UTF-16 surrogate)"),
        ({"x": b"bytes"}, "front matter 'x' holds a value knowrepo cannot store (bytes)"),
        (
            {"x": [[[[[[[[[[[[[1]]]]]]]]]]]]]},
            "front matter 'x[0][0][0][0][0][0][0][0][0][0][0][0]' is nested more than 12 levels deep",
        ),
        (list(range(20_001)), "front matter is too large (more than 20,000 values)"),
    ],
)
def test_E31_E35_plain_problem_names_the_place(value: object, problem: str | None):
    assert plain_problem(value, "front matter") == problem


def test_shown_is_short_and_never_fails():
    assert shown(10**5000) == "a 16610-bit integer"
    assert shown("x" * 100) == repr("x" * 100)[:59] + "…"
    assert shown([1]) == "[1]"


def test_lone_surrogates_are_repaired_everywhere():
    assert repair_text("a\ud800b") == "a\ufffdb"
    assert repair_tree({"k\udfff": ["\ud800", 1]}) == {"k\ufffd": ["\ufffd", 1]}


def test_text_for_xml_and_its_control_characters():
    assert xml_text("a\x0bb\x00c\td\n") == "abc\td\n"
    assert control_character("Quarterly\x0b review") == "\\x0b"
    assert control_character("tabs\tand\nlines") is None
