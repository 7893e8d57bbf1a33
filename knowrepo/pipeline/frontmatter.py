"""Front matter: YAML in a notebook's first raw cell or at the top of a Markdown file."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, TypeVar

from knowrepo.config import CODE_MODES
from knowrepo.errors import KnowrepoError, did_you_mean, unknown_key_error
from knowrepo.model import VARIANT_NAME, Meta
from knowrepo.pipeline.schedule import check_period, check_template, is_template, parse_schedule
from knowrepo.support.secrets import scrub, secrets_in
from knowrepo.support.yamltext import YamlProblem, control_character, load_yaml, plain_problem, shown

FIELDS = {f for f in Meta.__dataclass_fields__}
_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)


def split_markdown(text: str) -> tuple[str | None, str]:
    """(front matter YAML or None, the Markdown body after it)."""
    match = _FENCE.match(text)
    if not match:
        return None, text
    return match.group(1), text[match.end() :]


def front_matter_span(text: str) -> tuple[int, int] | None:
    """Where a Markdown file's front matter YAML is in its text (None: it has none)."""
    match = _FENCE.match(text)
    return match.span(1) if match else None


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
    for item in items:
        _printable(path, name, item)
    return tuple(item.strip() for item in items if str(item).strip())


def _names(path: str, name: str, value: Any) -> tuple[str, ...]:
    """Tags, authors, private parameters: a list, or one string of names separated by commas
    (`tags: "churn, q3"`, as `knowrepo new --tags churn,q3` takes them), each name once. A
    space separates nothing (`machine learning` is one tag)."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(dict.fromkeys(_strings(path, name, items)))


def name_list(value: Any) -> tuple[str, ...]:
    """The names of a list field as _names reads them, without its checks (for masking, which
    must find every private name whatever else is wrong with the front matter)."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    names = (str(item).strip() for item in items if isinstance(item, str | int | float))
    return tuple(dict.fromkeys(name for name in names if name))


def _printable(path: str, name: str, text: str) -> str:
    if (char := control_character(text)) is not None:
        raise KnowrepoError(path, f"front matter '{name}' holds the control character {char}; remove it")
    return text


def _text(path: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise KnowrepoError(path, f"front matter '{name}' must be text, not {type(value).__name__}")
    return _printable(path, name, str(value).strip())


def _date(path: str, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
            try:
                return parse(value.strip()).isoformat()
            except ValueError:
                pass
    raise KnowrepoError(path, f"front matter '{name}' must be a date like 2026-10-31, not {value!r}")


def _scalar_map(path: str, name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise KnowrepoError(path, f"front matter '{name}' must be a mapping of names to values")
    return dict(value)


MAX_MATRIX = 10_000  # expanded before any config is read; [execute] max_variants is the real cap


def variant_name(values: list[Any]) -> str:
    """A matrix combination's name: its values slugified, joined by '-' in key order."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-") for v in values)


def expand_variants(path: str, value: Any) -> dict[str, dict[str, Any]]:
    """Named parameter sets, or a {matrix: {k: [..]}} expanded in key order (eu-smb, ...)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KnowrepoError(path, "front matter 'variants' must be a mapping")
    if "matrix" in value:
        return _expand_matrix(path, value)
    variants = {}
    for name, params in value.items():
        if not VARIANT_NAME.fullmatch(str(name)):
            raise KnowrepoError(path, f"variant name {name!r} must be letters, digits, - or _")
        variants[str(name)] = _scalar_map(path, f"variants.{name}", params)
    return variants


def _expand_matrix(path: str, value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    matrix = value["matrix"]
    if len(value) != 1 or not isinstance(matrix, dict) or not matrix:
        raise KnowrepoError(path, "front matter 'variants: {matrix: ...}' takes only a matrix")
    size = 1
    for key, options in matrix.items():
        if not isinstance(options, list) or not options:
            raise KnowrepoError(path, f"variants matrix '{key}' must be a non-empty list")
        if not all(v is None or isinstance(v, str | int | float) for v in options):
            raise KnowrepoError(path, f"variants matrix '{key}' must list plain values (text or numbers)")
        size *= len(options)
        if size > MAX_MATRIX:
            raise KnowrepoError(path, f"the variants matrix has more than {MAX_MATRIX:,} combinations")
    combos: list[list[tuple[str, Any]]] = [[]]
    for key, options in matrix.items():
        combos = [combo + [(key, option)] for combo in combos for option in options]
    variants: dict[str, dict[str, Any]] = {}
    for combo in combos:
        values = [v for _k, v in combo]
        name = variant_name(values)
        blank = [v for v in values if not variant_name([v])]
        if blank:
            raise KnowrepoError(
                path, f"the matrix value {blank[0]!r} has no letters or digits to name its variants by"
            )
        if name in variants:
            clash = list(variants[name].values())
            raise KnowrepoError(
                path, f"the matrix values {clash!r} and {values!r} both give the variant name '{name}'"
            )
        variants[name] = dict(combo)
    return variants


Kind = TypeVar("Kind")


def _optional(path: str, name: str, value: Any, kind: type[Kind]) -> Kind | None:
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KnowrepoError(path, f"front matter '{name}' must be {kind.__name__}")
    return value


EMAIL_FIELDS = {"to", "cc", "subject", "variants"}


def _email(path: str, email: Any) -> dict[str, Any]:
    from knowrepo.support.addresses import address_problem, shown  # (email's parser: when needed)

    if email is None:
        return {}
    if not isinstance(email, dict):
        raise KnowrepoError(path, "front matter 'email' must be a mapping (to, cc, subject)")

    def check(fields: dict[str, Any], where: str, prefix: str, allowed: set[str]) -> None:
        for key, item in fields.items():
            if key not in allowed:
                raise unknown_key_error(path, f"email field{where}", str(key), allowed)
            if key in ("to", "cc"):
                for address in _strings(path, f"{prefix}.{key}", item):
                    if problem := address_problem(address):
                        raise KnowrepoError(
                            path, f"front matter '{prefix}.{key}' has {shown(address)}, which {problem}"
                        )
            elif key == "subject" and "\n" in _text(path, f"{prefix}.subject", item):
                raise KnowrepoError(path, f"front matter '{prefix}.subject' must be one line")

    check(email, "", "email", EMAIL_FIELDS)
    per_variant = email.get("variants") or {}
    if not isinstance(per_variant, dict):
        raise KnowrepoError(path, "front matter 'email.variants' must map variant names to to/cc/subject")
    for name, fields in per_variant.items():
        if not isinstance(fields, dict):
            raise KnowrepoError(
                path, f"front matter 'email.variants.{name}' must be a mapping (to, cc, subject)"
            )
        check(fields, f" of variant {name}", f"email.variants.{name}", EMAIL_FIELDS - {"variants"})
    return dict(email)


# Fields of the tools teams migrate from, read as knowrepo's own (Quarto; knowledge-repo).
ALIASES = {
    "author": "authors", "categories": "tags", "description": "summary", "date": "created",
    "date-modified": "updated", "image": "thumbnail",
    "tldr": "summary", "created_at": "created", "updated_at": "updated", "private": "unlisted",
}  # fmt: skip
# Fields they have that knowrepo has no use for: accepted, and listed once with -v.
IGNORED = {
    "format", "execute", "jupyter", "editor", "toc", "toc-depth", "toc-title",
    "lang", "engine", "freeze", "keep-ipynb", "number-sections", "title-block-banner", "abstract",
    "citation", "license", "filters", "crossref", "knitr", "reference-location", "code-fold",
    "code-tools", "output-file", "page-layout", "comments", "google-scholar", "appendix-style",
    "keywords", "copyright", "funding", "institute", "affiliation", "order", "pagetitle",
    "path", "allowed_groups", "id", "kp_version", "created_by", "updated_by", "stage",
    "jupytext", "kernelspec",
}  # fmt: skip
# Fields the registered body passes read from the front matter themselves (the 'citations'
# pass: render/citations.py): accepted as they are.
PASS_FIELDS = {"bibliography", "csl"}


class FrontMatterProblems(KnowrepoError):
    """Every problem of one file's front matter, found in one pass: (line, message) each. Its
    one line joins them; `knowrepo check` shows one line each."""

    def __init__(self, path: str | None, problems: list[tuple[int | None, str]] | str) -> None:
        if isinstance(problems, str):  # (rebuilt from its one line, as errors are in workers)
            problems = [(None, problems)]
        self.problems = problems
        super().__init__(path, "; ".join(f"line {n}: {m}" if n else m for n, m in problems))


def parse_meta(path: str, yaml_text: str | None, first_line: int = 2) -> Meta:
    """Validate front matter YAML into Meta, all its problems at once (FrontMatterProblems).
    `first_line`: the line of the file the YAML starts on, for the messages."""
    if yaml_text is None or not yaml_text.strip():
        return Meta()
    data, lines = _load(path, yaml_text, first_line)
    if problem := plain_problem(data, "front matter"):
        raise KnowrepoError(path, scrub(problem, front_matter_secrets(data)))
    problems: list[tuple[int | None, str]] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = ALIASES.get(key, key)
        if field in values or (field != key and field in data):
            problems.append((lines.get(key), f"'{key}' and '{field}' say the same: keep one"))
        elif key in IGNORED or key in PASS_FIELDS or field not in PARSERS:
            if key not in IGNORED and key not in PASS_FIELDS:
                hint = did_you_mean(key, FIELDS | set(ALIASES))
                fields = ", ".join(sorted(FIELDS))
                problems.append(
                    (lines.get(key), f"unknown front-matter field '{key}'{hint}; knowrepo's fields: {fields}")
                )
        else:
            try:
                values[field] = PARSERS[field](path, field, _from_alias(key, value))
            except KnowrepoError as exc:
                problems.append((lines.get(key), exc.message))
    if not problems:
        try:
            _check_templates(path, data)
            _check_matrix(path, data)
        except KnowrepoError as exc:
            problems.append((None, exc.message))
    if problems:  # (a message may quote a value: never a private one)
        hidden = front_matter_secrets(data)
        raise FrontMatterProblems(path, [(line, scrub(message, hidden)) for line, message in problems])
    return Meta(**values)


def ignored_fields(yaml_text: str | None) -> list[str]:
    """The fields of other tools that the front matter has and knowrepo ignores (for -v)."""
    try:
        data = load_yaml(yaml_text or "")
    except YamlProblem:
        return []
    return sorted(k for k in data if k in IGNORED) if isinstance(data, dict) else []


def _load(path: str, yaml_text: str, first_line: int) -> tuple[dict[str, Any], dict[str, int]]:
    """(the front matter's mapping, the line of each of its fields in the file)."""
    try:
        data = load_yaml(yaml_text)
    except YamlProblem as exc:
        where = f" at line {exc.line + first_line - 1}" if exc.line else ""
        raise KnowrepoError(path, f"invalid YAML front matter{where}: {exc.problem}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise KnowrepoError(path, "front matter must be a YAML mapping of fields")
    return data, _field_lines(yaml_text, first_line)


def _field_lines(yaml_text: str, first_line: int) -> dict[str, int]:
    import yaml  # (PyYAML: ~30 ms, only for front matter that changed)

    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    return {str(k.value): k.start_mark.line + first_line for k, _v in pairs if isinstance(k, yaml.ScalarNode)}


def _from_alias(key: str, value: Any) -> Any:
    """A value written as the other tool writes it, as knowrepo reads it."""
    if key == "author" and isinstance(value, list | dict):  # Quarto: names, or objects with a name
        items = value if isinstance(value, list) else [value]
        return [item.get("name", "") if isinstance(item, dict) else item for item in items]
    if key in ("image", "thumbnail") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # knowledge-repo: the index of a figure
    return value


def _code(path: str, name: str, value: Any) -> Any:
    if value is not None and value not in CODE_MODES:
        raise KnowrepoError(path, f"front matter 'code' must be one of {', '.join(CODE_MODES)}")
    return value


def _timeout(path: str, name: str, value: Any) -> int | None:
    timeout = _optional(path, name, value, int)
    if timeout is not None and timeout < 1:
        raise KnowrepoError(path, "front matter 'timeout' must be a positive number of seconds")
    return timeout


def _max_age(path: str, name: str, value: Any) -> str:
    text = _text(path, name, value)
    if text and age_seconds(text) is None:
        raise KnowrepoError(path, f"front matter 'max_age' must be like 35d, 12h or 2w, not {shown(text)}")
    return text


def _period(path: str, name: str, value: Any) -> str:
    """The period each run covers: text, or a template of the run's parameters and date
    (`"{{ params.month }}"`), checked here as far as it can be without a run."""
    text = _text(path, name, value)
    check_period(path, text)
    return text


def _flag(path: str, name: str, value: Any) -> bool:
    return bool(_optional(path, name, value, bool))


PARSERS: dict[str, Callable[[str, str, Any], Any]] = {
    "title": _text, "subtitle": _text, "authors": _names, "tags": _names, "summary": _text,
    "created": _date, "updated": _date, "thumbnail": _text, "draft": _flag, "unlisted": _flag,
    "params": _scalar_map, "variants": lambda p, _n, v: expand_variants(p, v),
    "private_params": _names, "inputs": _strings, "email": lambda p, _n, v: _email(p, v),
    "allow_errors": lambda p, n, v: _optional(p, n, v, bool), "timeout": _timeout, "code": _code,
    "max_age": _max_age, "schedule": lambda p, _n, v: parse_schedule(p, v), "period": _period,
}  # fmt: skip


_AGE = re.compile(r"^(\d{1,7})\s*(h|d|w)$")  # (up to 10 million: 5,000 digits are no integer Python reads)


def age_seconds(text: str) -> int | None:
    """`35d`, `12h`, `2w` in seconds (None: not such a duration)."""
    match = _AGE.match(text.strip().lower())
    return int(match.group(1)) * {"h": 3600, "d": 86400, "w": 604800}[match.group(2)] if match else None


def _check_templates(path: str, data: dict[str, Any]) -> None:
    """Date templates in params and variants ({{ run_date | previous_month }}) must evaluate."""
    private = private_names(data)
    for values in parameter_sets(data):
        for name, value in values.items():
            if is_template(value):
                check_template(path, str(name), value, name in private)


def _check_matrix(path: str, data: dict[str, Any]) -> None:
    """A private parameter is no key of a variants matrix: its values would name the variants,
    which are in every URL and page of the report."""
    variants = data.get("variants")
    matrix = variants.get("matrix") if isinstance(variants, dict) else None
    for name in private_names(data):
        if isinstance(matrix, dict) and name in matrix:
            raise KnowrepoError(
                path,
                f"the private parameter '{name}' cannot be a key of the variants matrix (its values"
                " would name the variants, in URLs); set it in params, a named variant or with -p",
            )


# ---- private values: written nowhere (masking.py masks them in the files published) ----------


def private_names(data: Any) -> tuple[str, ...]:
    return name_list(data.get("private_params") if isinstance(data, dict) else None)


def parameter_sets(data: Any) -> list[dict[str, Any]]:
    """The front matter's parameter sets: params, and each variant's (a matrix's lists too)."""
    if not isinstance(data, dict):
        return []
    variants = found if isinstance(found := data.get("variants"), dict) else {}
    sets = [data.get("params"), *variants.values()]
    return [values for values in sets if isinstance(values, dict)]


def front_matter_secrets(data: Any) -> list[str]:
    """The private values a front matter's data holds, in every form text shows them."""
    return secrets_in(parameter_sets(data), private_names(data))
