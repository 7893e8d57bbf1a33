"""pipeline/execute/params.py: parameter values checked against the declared cell before any
kernel starts (E56, E57, E59 of docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from knowrepo.pipeline.execute.params import (
    Param,
    coerce,
    declared_params,
    parse_assignments,
    resolve,
    text_value,
)
from unit.helpers import error_line

SOURCE = "reports/r.ipynb"


def param(name: str, kind: type | None, default: object = None) -> Param:
    return Param(name=name, type=kind, default=default, default_source=repr(default))


DECLARED = {"month": param("month", str, "2026-01"), "count": param("count", int, 3)}


def test_E56_a_str_parameter_keeps_the_text_an_int_one_names_the_valid_ones():
    assert resolve(SOURCE, DECLARED, ({"month": "2026-13-01"}, True)) == {"month": "2026-13-01", "count": 3}
    line = error_line(resolve, SOURCE, DECLARED, ({"count": "2026-13-01"}, True))
    assert line == (
        "reports/r.ipynb: parameter 'count' must be int, not '2026-13-01'; valid parameters:"
        " month: str = '2026-01'; count: int = 3"
    )


def test_E59_a_private_value_of_the_wrong_type_is_not_shown():
    line = error_line(
        resolve, SOURCE, {"pin": param("pin", int, 0)}, ({"pin": "hunter22"}, True), private=("pin",)
    )
    assert line == (
        "reports/r.ipynb: parameter 'pin' must be int (the value is private: not shown); valid parameters:"
        " pin: int = 0"
    )


def test_E57_a_value_that_is_not_plain_data_is_named():
    line = error_line(resolve, SOURCE, {"count": param("count", list, [])}, ({"count": [1, {2: "x"}]}, False))
    assert line == (
        "reports/r.ipynb: parameter 'count' '[1]' has the key 2, which is not text; quote it;"
        " valid parameters: count: list = []"
    )


def test_layers_override_in_order_and_unknown_names_are_refused():
    resolved = resolve(SOURCE, DECLARED, ({"count": 5}, False), ({"count": "7"}, True))
    assert resolved == {"month": "2026-01", "count": 7}
    assert error_line(resolve, SOURCE, DECLARED, ({"mnth": "x"}, True)).startswith(
        "reports/r.ipynb: unknown parameter 'mnth' (did you mean 'month'?); valid parameters: month: str"
    )


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (str, "yes", "yes"),
        (int, "08", 8),
        (float, "1e3", 1000.0),
        (bool, "Yes", True),
        (bool, "off", False),
        (list, "[1, a]", [1, "a"]),
        (dict, "", {}),
        (None, "True", True),
        (None, "None", None),
        (None, "12", 12),
        (None, "1.5", 1.5),
        (None, "2026-11-01", "2026-11-01"),  # dates stay text, as papermill's -p reads them
    ],
)
def test_command_line_text_is_read_as_the_declared_type(kind: type | None, text: str, value: object):
    assert text_value(SOURCE, param("x", kind), text) == value


def test_a_bool_is_only_a_few_words():
    assert error_line(text_value, SOURCE, param("flag", bool, False), "maybe") == (
        "reports/r.ipynb: parameter 'flag' must be bool, not 'maybe'"
    )


def test_yaml_values_are_coerced_where_harmless():
    assert coerce(SOURCE, param("month", str), 2026, from_text=False) == "2026"  # YAML read it as an int
    assert coerce(SOURCE, param("rate", float), 2, from_text=False) == 2.0
    assert "is too large for a float" in error_line(coerce, SOURCE, param("rate", float), 10**400, False)
    assert "must be int, not True" in error_line(coerce, SOURCE, param("n", int), True, False)
    assert "takes a scalar, not [1]" in error_line(coerce, SOURCE, param("any", None), [1], False)


def test_assignments_are_name_equals_value():
    assert parse_assignments(["a=1", " b =x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    assert error_line(parse_assignments, ["novalue"]) == "-p takes name=value, not 'novalue'"
    assert error_line(parse_assignments, ["=1"], flag="--param") == "--param takes name=value, not '=1'"


def test_the_parameters_cell_declares_names_types_and_defaults(tmp_path: Path):
    nb = new_notebook(cells=[new_code_cell('month = "2026-01"\ncount: int = 3\nrate = 0.5\nwhen = None\n')])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    declared = declared_params(path)
    assert [(p.name, p.type, p.default) for p in declared.values()] == [
        ("month", str, "2026-01"),
        ("count", int, 3),
        ("rate", float, 0.5),
        ("when", None, None),
    ]
    assert declared["count"].describe() == "count: int = 3"
