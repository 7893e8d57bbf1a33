"""Parameters: what a notebook's `parameters` cell declares, and validating values against it.

Names and defaults come from papermill's own inspection; papermill gives types only from
annotations, so otherwise the type is that of the literal default (a None default takes any
YAML scalar). Values are checked before any kernel starts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.support.yamltext import YamlProblem, load_yaml, plain_problem, shown

TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


@dataclass(frozen=True)
class Param:
    name: str
    type: type | None  # None: any YAML scalar
    default: Any
    default_source: str

    def describe(self) -> str:
        kind = self.type.__name__ if self.type else "any"
        return f"{self.name}: {kind} = {self.default_source}"


def declared_params(path: Path) -> dict[str, Param]:
    """The parameters cell of the notebook at `path` ({} when it has none)."""
    import papermill  # ~0.4 s to import: only commands that execute pay it

    try:
        inspected = papermill.inspect_notebook(str(path))
    except Exception as exc:  # papermill raises several types for unparsable cells
        raise KnowrepoError(path, f"cannot read the parameters cell: {exc}") from None
    params = {}
    for name, info in inspected.items():
        source = info.get("default", "None")
        try:
            default = ast.literal_eval(source)
        except (ValueError, SyntaxError):
            default = source  # an expression: its value is only known in the kernel
        annotated = TYPES.get(str(info.get("inferred_type_name", "None")).split("[")[0].lower())
        kind = annotated or (
            type(default) if default is not None and type(default) in TYPES.values() else None
        )
        params[name] = Param(name=name, type=kind, default=default, default_source=source)
    return params


def _listing(params: dict[str, Param]) -> str:
    return "; ".join(p.describe() for p in params.values()) or "none"


def coerce(source: str, param: Param, value: Any, from_text: bool) -> Any:
    """`value` as the parameter's type, or a one-line error listing the valid parameters.
    Command-line text is read as papermill's -p reads it (see from_text)."""
    kind = param.type
    if from_text and isinstance(value, str):
        value = text_value(source, param, value)
    if kind is None:
        if isinstance(value, list | dict):
            raise KnowrepoError(source, f"parameter '{param.name}' takes a scalar, not {shown(value)}")
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise KnowrepoError(source, f"parameter '{param.name}' is too large for a float") from None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is str and number and not from_text:
        return str(value)  # YAML reads `month: 2026` as an int; a str parameter wants "2026"
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise KnowrepoError(source, f"parameter '{param.name}' must be {kind.__name__}, not {shown(value)}")
    return value


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def text_value(source: str, param: Param, text: str) -> Any:
    """Command-line text as the parameter's type: a str stays the text (`yes`, `2026-13-01`);
    an int reads decimal (`08` is 8); a bool true/false, yes/no, on/off, 1/0; a list or dict as
    YAML; and an untyped parameter as papermill reads -p: True, False, None, an int, a float,
    else the text (dates stay text)."""
    kind, word = param.type, text.strip()
    try:
        if kind is str:
            return text
        if kind is int:
            return int(word, 10)
        if kind is float:
            return float(word)
        if kind is bool:
            if word.lower() in _TRUE | _FALSE:
                return word.lower() in _TRUE
            raise ValueError(word)
        if kind in (list, dict):
            return load_yaml(word) if word else kind()
    except (ValueError, YamlProblem):
        assert kind is not None  # (only the reading of a typed parameter raises)
        raise KnowrepoError(
            source, f"parameter '{param.name}' must be {kind.__name__}, not {shown(text)}"
        ) from None
    return _papermill_value(word)


def _papermill_value(word: str) -> Any:
    """papermill's own reading of an untyped -p value (papermill.cli._resolve_type)."""
    if word in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[word]
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def resolve(
    source: str,
    declared: dict[str, Param],
    *layers: tuple[dict[str, Any], bool],
    private: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Defaults, overridden by each layer in turn: (values, values-are-command-line-text).
    The values of `private` parameters never appear in an error."""
    resolved = {name: param.default for name, param in declared.items()}
    for values, from_text in layers:
        for name, value in values.items():
            if name not in declared:
                raise KnowrepoError(
                    source,
                    f"unknown parameter '{name}'{did_you_mean(name, list(declared))};"
                    f" valid parameters: {_listing(declared)}",
                )
            try:
                resolved[name] = coerce(source, declared[name], value, from_text)
                if problem := plain_problem(resolved[name], f"parameter '{name}'"):
                    raise KnowrepoError(source, problem)
            except KnowrepoError as exc:
                message = exc.message
                if name in private:
                    kind = declared[name].type
                    expected = kind.__name__ if kind else "a scalar"
                    message = f"parameter '{name}' must be {expected} (the value is private: not shown)"
                raise KnowrepoError(source, f"{message}; valid parameters: {_listing(declared)}") from None
    return resolved


def parse_assignments(pairs: tuple[str, ...] | list[str], flag: str = "-p") -> dict[str, str]:
    """-p name=value pairs (values stay text until coerced to the declared type)."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise KnowrepoError(None, f"{flag} takes name=value, not {pair!r}")
        values[name.strip()] = value
    return values
