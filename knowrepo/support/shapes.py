"""Whether JSON data read back from a cache or a build record has the shape a type declares.

knowrepo's records (the manifest, rendered bodies, notebook facts) are dataclasses; what is
read back was written by some version of knowrepo, or edited by hand, and a checksum that
holds says nothing of its shape. `fits(data, hint)` checks the data against the dataclass's
own annotations, so the one declaration is the schema. Hand-written rather than a library:
typeguard, pydantic and msgspec are not dependencies, and a JSON Schema would repeat the
declarations. Each hint is compiled once into a checker (a 1,000-report manifest: ~13 ms,
about what building its records costs).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from itertools import repeat
from typing import Any, Union, get_args, get_origin

Check = Callable[[Any], bool]
_SCALARS = {str, int, float, bool, type(None)}


def fits(data: Any, hint: Any) -> bool:
    """Whether `data` (as json.loads returns it) has the shape of `hint`: a dataclass or a
    TypedDict (a JSON object with its required fields and no others), list[X], tuple[X, ...]
    or tuple[X, Y] (a JSON array), dict[str, X], X | None, str, int, float, bool or Any."""
    return _checker(hint)(data)


def _any(_value: Any) -> bool:
    return True


def _plain(hint: Any) -> frozenset[type] | None:
    """The JSON types of a hint made of scalars alone (str, int | None, ...), else None."""
    options = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    if not all(option in _SCALARS for option in options):
        return None
    return frozenset({*options, int} if float in options else options)  # (JSON writes 1.0 as 1)


@functools.cache
def _checker(hint: Any) -> Check:
    if hint is Any:
        return _any
    if (plain := _plain(hint)) is not None:
        return lambda value: type(value) in plain
    if dataclasses.is_dataclass(hint) or typing.is_typeddict(hint):
        return _record_checker(hint)
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if len(args) == 2 and type(None) in args:  # X | None: the common case, made fast
            inner = _checker(next(arg for arg in args if arg is not type(None)))
            return lambda value: value is None or inner(value)
        options = [_checker(option) for option in args]
        return lambda value: any(check(value) for check in options)
    if origin is tuple and args and args[-1] is not Ellipsis:
        items = [_checker(arg) for arg in args]
        return lambda value: (
            type(value) is list and len(value) == len(items) and all(map(_call, items, value))
        )
    if origin in (list, tuple, dict):
        container = dict if origin is dict else list
        values: Callable[[Any], Any] = dict.values if origin is dict else iter
        item = args[-1] if origin is dict else args[0]
        if (types_of_item := _plain(item)) is not None:  # (a set of types: ~3x faster on big lists)
            return lambda value: type(value) is container and set(map(type, values(value))) <= types_of_item
        check = _checker(item)
        return lambda value: type(value) is container and all(map(check, values(value)))
    raise TypeError(f"no JSON shape for {hint!r}")


def _call(check: Check, value: Any) -> bool:
    return check(value)


def _unknown(_value: Any) -> bool:
    """The check of a field the record does not declare."""
    return False


def _record_checker(cls: type) -> Check:
    """A dataclass's or TypedDict's fields: the required ones there, no others, each of its type."""
    hints = typing.get_type_hints(cls)
    if typing.is_typeddict(cls):
        fields = {name: _checker(hint) for name, hint in hints.items()}
        # (is_typeddict does not narrow `cls` for mypy: a TypedDict class has __required_keys__)
        required = frozenset(cls.__required_keys__)  # type: ignore[attr-defined]
    else:
        fields = {f.name: _checker(hints[f.name]) for f in dataclasses.fields(cls)}
        required = frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )

    known = fields.get

    def check(value: Any) -> bool:
        return (
            type(value) is dict
            and required <= value.keys()
            and all(map(_call, map(known, value, repeat(_unknown)), value.values()))
        )

    return check
