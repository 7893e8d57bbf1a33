"""Front matter: YAML in a notebook's first raw cell or at the top of a Markdown file."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .config import CODE_MODES
from .errors import KnowrepoError, unknown_key_error
from .model import Meta

FIELDS = {f for f in Meta.__dataclass_fields__}
_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)


def split_markdown(text: str) -> tuple[str | None, str]:
    """(front matter YAML or None, the Markdown body after it)."""
    match = _FENCE.match(text)
    if not match:
        return None, text
    return match.group(1), text[match.end() :]


def notebook_front_matter(cells: list[dict[str, Any]]) -> tuple[str | None, int | None]:
    """(YAML text, cell index) of the notebook's front-matter raw cell, if it has one."""
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "raw":
            return None, None
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        yaml_text, _rest = split_markdown(source.strip() + "\n")
        if yaml_text is not None:
            return yaml_text, index
    return None, None


def _strings(path: str, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = [str(v) for v in value]
    else:
        raise KnowrepoError(path, f"front matter '{name}' must be a string or a list of strings")
    return tuple(item.strip() for item in items if str(item).strip())


def _date(path: str, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value).isoformat()
            except ValueError:
                pass
    raise KnowrepoError(path, f"front matter '{name}' must be a date like 2026-10-31, not {value!r}")


def _scalar_map(path: str, name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise KnowrepoError(path, f"front matter '{name}' must be a mapping of names to values")
    return dict(value)


def _variant_name(values: list[Any]) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-") for v in values)


def expand_variants(path: str, value: Any) -> dict[str, dict[str, Any]]:
    """Named parameter sets, or a {matrix: {k: [..]}} expanded in key order (eu-smb, ...)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KnowrepoError(path, "front matter 'variants' must be a mapping")
    if "matrix" in value:
        matrix = value["matrix"]
        if len(value) != 1 or not isinstance(matrix, dict) or not matrix:
            raise KnowrepoError(path, "front matter 'variants: {matrix: ...}' takes only a matrix")
        combos: list[list[tuple[str, Any]]] = [[]]
        for key, options in matrix.items():
            if not isinstance(options, list) or not options:
                raise KnowrepoError(path, f"variants matrix '{key}' must be a non-empty list")
            combos = [combo + [(key, option)] for combo in combos for option in options]
        return {_variant_name([v for _k, v in combo]): dict(combo) for combo in combos}
    variants = {}
    for name, params in value.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", str(name)):
            raise KnowrepoError(path, f"variant name {name!r} must be letters, digits, - or _")
        variants[str(name)] = _scalar_map(path, f"variants.{name}", params)
    return variants


def _optional(path: str, name: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KnowrepoError(path, f"front matter '{name}' must be {kind.__name__}")
    return value


def parse_meta(path: str, yaml_text: str | None) -> Meta:
    """Validate front matter YAML into Meta; any problem is a one-line KnowrepoError."""
    if yaml_text is None or not yaml_text.strip():
        return Meta()
    import yaml  # here, not at the top: a build that reads no changed source never needs it

    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowrepoError(path, f"invalid YAML front matter{where}: {problem}") from None
    if data is None:
        return Meta()
    if not isinstance(data, dict):
        raise KnowrepoError(path, "front matter must be a YAML mapping of fields")
    for key in data:
        if key not in FIELDS:
            raise unknown_key_error(path, "front-matter field", str(key), FIELDS)
    code = data.get("code")
    if code is not None and code not in CODE_MODES:
        raise KnowrepoError(path, f"front matter 'code' must be one of {', '.join(CODE_MODES)}")
    email = data.get("email") or {}
    if not isinstance(email, dict):
        raise KnowrepoError(path, "front matter 'email' must be a mapping (to, cc, subject)")
    for key in email:
        if key not in ("to", "cc", "subject", "variants"):
            raise unknown_key_error(path, "email field", str(key), {"to", "cc", "subject", "variants"})
    for name, fields in (email.get("variants") or {}).items():
        for key in fields or {}:
            if key not in ("to", "cc", "subject"):
                raise unknown_key_error(
                    path, f"email field of variant {name}", str(key), {"to", "cc", "subject"}
                )
    title = data.get("title")
    summary = data.get("summary")
    return Meta(
        title=str(title).strip() if title is not None else "",
        authors=_strings(path, "authors", data.get("authors")),
        tags=_strings(path, "tags", data.get("tags")),
        summary=str(summary).strip() if summary is not None else "",
        created=_date(path, "created", data.get("created")),
        updated=_date(path, "updated", data.get("updated")),
        thumbnail=str(data.get("thumbnail") or ""),
        draft=bool(_optional(path, "draft", data.get("draft"), bool)),
        unlisted=bool(_optional(path, "unlisted", data.get("unlisted"), bool)),
        params=_scalar_map(path, "params", data.get("params")),
        variants=expand_variants(path, data.get("variants")),
        private_params=_strings(path, "private_params", data.get("private_params")),
        inputs=_strings(path, "inputs", data.get("inputs")),
        email=dict(email),
        allow_errors=_optional(path, "allow_errors", data.get("allow_errors"), bool),
        timeout=_optional(path, "timeout", data.get("timeout"), int),
        code=code,
    )
