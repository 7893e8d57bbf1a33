"""knowrepo.toml: find the repository, read and validate its settings.

Each option is declared once, on its section's field (`option(...)`, as Sphinx's
`add_config_value(name, default, rebuild, types)` and mkdocs' config_options): its type (that
of its default), default, choices or minimum, help, and what a change of it invalidates. The
validation below, the commands' choices (commands/group.py:like_config), the README's table
(`python -m knowrepo.config` prints it) and the render cache key (`Config.values("render")`)
are all made from those declarations."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from knowrepo.errors import KnowrepoError, Problems, unknown_key_error
from knowrepo.plugins import LoadRegistry
from knowrepo.support.caches import Caches
from knowrepo.support.text import read_text

if TYPE_CHECKING:
    from knowrepo.model import Meta

CONFIG_NAME = "knowrepo.toml"
CODE_MODES = ("show", "fold", "hide")  # (front matter `code:` takes the same)

Invalidates = Literal["render", "pages", "pdf", "execute", "none"]
INVALIDATES: dict[Invalidates, str] = {  # (what the README's table says of each kind)
    "render": "every report's body is rendered again (the render cache key holds it)",
    "pages": "the pages or the search index show it",
    "pdf": "every PDF is made again",
    "execute": "it enters the runs' cache keys: under `auto`, the notebooks it concerns run again",
    "none": "no page, body, PDF or run depends on it",
}
Value = str | int | bool | tuple[str, ...]  # a TOML array of strings is read as a tuple
Choices = tuple[str, ...] | Callable[[], Iterable[str]]  # a callable: asked when needed (plugins)
V = TypeVar("V", bound=Value)
S = TypeVar("S")
_OPTION, _SECTION = "knowrepo.option", "knowrepo.section"


@dataclass(frozen=True)
class Option:
    """One setting of knowrepo.toml. `section` and `name` come from where it is declared."""

    default: Value
    help: str
    invalidates: Invalidates
    choices: Choices = ()
    minimum: int | None = None
    front_matter: str = ""  # the front-matter field that overrides it for one report
    registered: str = ""  # a kind of part ("executor"): its choices are the names the registry holds
    section: str = ""
    name: str = ""

    @property
    def key(self) -> str:
        """How messages and the README name it: `[execute] timeout`."""
        return f"[{self.section}] {self.name}"

    def allowed(self, load_registry: LoadRegistry | None = None) -> tuple[str, ...]:
        """Its choices (asked for now when they are given lazily; a registered kind's, of the
        registry `load_registry` loads); () when any value of its type goes."""
        if self.registered:
            return tuple(load_registry().names(self.registered)) if load_registry else ()
        return tuple(self.choices()) if callable(self.choices) else self.choices

    def type_name(self) -> str:
        return "list of str" if isinstance(self.default, tuple) else type(self.default).__name__

    def problem(self, value: object, load_registry: LoadRegistry | None = None) -> str | None:
        """What is wrong with `value` for this option (one line), or None."""
        expected = type(self.default)
        if isinstance(self.default, tuple):
            return _list_problem(self.key, value)
        if expected is int and isinstance(value, bool) or not isinstance(value, expected):
            return f"{self.key} must be {expected.__name__}, not {type(value).__name__}"
        if self.minimum is not None and isinstance(value, int) and value < self.minimum:
            return f"{self.key} must be at least {self.minimum}, not {value}"
        choices = self.allowed(load_registry)
        if choices and value not in choices:
            return f"{self.key} must be one of {', '.join(choices)}, not {value!r}"
        return None

    def read(self, path: Path, value: object, load_registry: LoadRegistry | None = None) -> Value:
        """`value` from the TOML file, checked (a KnowrepoError naming the file otherwise)."""
        if (problem := self.problem(value, load_registry)) is not None:
            raise KnowrepoError(path, problem)
        if isinstance(value, list):
            return tuple(str(item) for item in value)  # (frozen, as the Config is)
        assert isinstance(value, str | int | bool)  # (problem() checked its type)
        return value


def _list_problem(key: str, value: object) -> str | None:
    """What is wrong with `value` for an option that takes a list of strings, or None."""
    if not isinstance(value, list):
        return f"{key} must be a list of str, not {type(value).__name__}"
    wrong = next((item for item in value if not isinstance(item, str)), None)
    return (
        None if wrong is None else f"{key} must be a list of str, not a list holding {type(wrong).__name__}"
    )


def option(
    default: V,
    help: str,
    invalidates: Invalidates,
    *,
    choices: Choices = (),
    minimum: int | None = None,
    front_matter: str = "",
    registered: str = "",
) -> V:
    """Declare a section's field as an option of knowrepo.toml (the one place it is declared)."""
    declared = Option(default, help, invalidates, choices, minimum, front_matter, registered)
    return field(default=default, metadata={_OPTION: declared})


def section(cls: type[S]) -> S:
    """Declare a field of Config as the [section] whose table `cls` reads."""
    return field(default_factory=cls, metadata={_SECTION: cls})


@dataclass(frozen=True)
class SiteConfig:
    title: str = option("Knowledge Repository", "The site's name, atop every page.", "pages")
    description: str = option("", "Shown under the title on the listing.", "pages")
    base_url: str = option(
        "/",
        "Where the site is served: a path (`/kr/`) or an absolute URL (feed, sitemap and email links"
        " need one to be absolute).",
        "pages",
    )
    theme: str = option("default", "The older spelling of `[theme] name`, still read.", "pages")
    code: str = option(
        "show", "How code cells appear to readers.", "render", choices=CODE_MODES, front_matter="code"
    )
    output: str = option("_site", "Where the site is published (`build -o` overrides it).", "none")
    language: str = option("en", "The language the search index stems words in.", "pages")
    sanitize: bool = option(
        True,
        "Report HTML cannot run script, under a strict Content-Security-Policy (see Trust);"
        " `false`: trust every author.",
        "render",
    )
    max_output_kb: int = option(
        1024, "A longer text or HTML output is cut on the page (images: 16 times this).", "render", minimum=1
    )
    index_code: bool = option(False, "`true`: code inputs are searchable too.", "render")
    search_part_size: int = option(
        5000,
        "A site with more indexed pages than this has its search index built in parts by date, side by side.",
        "pages",
        minimum=1,
    )
    notebook_downloads: str = option(
        "lean",
        "The notebooks readers download: `lean`, without the images the pages publish; `whole`,"
        " plain copies (for curl).",
        "pages",
        choices=("lean", "whole"),
    )

    @property
    def base_path(self) -> str:
        """The path part of base_url, always with leading and trailing slashes."""
        url = self.base_url
        if "://" in url:
            url = "/" + url.split("://", 1)[1].partition("/")[2]
        return "/" + url.strip("/") + "/" if url.strip("/") else "/"

    @property
    def absolute_url(self) -> str | None:
        """base_url when it is absolute (feed, sitemap and email links need it), else None."""
        return self.base_url.rstrip("/") + "/" if "://" in self.base_url else None


@dataclass(frozen=True)
class ThemeConfig:
    name: str = option("default", "`default`, or the name of a folder in `themes/` (see Themes).", "pages")
    extra_css: tuple[str, ...] = option(
        (),
        "Stylesheets of the theme's `static/` folder or the repository, linked after the default ones.",
        "pages",
    )
    extra_js: tuple[str, ...] = option(
        (), "Scripts of the theme's `static/` folder or the repository, run after the default ones.", "pages"
    )


@dataclass(frozen=True)
class BuildConfig:
    render_server_idle: int = option(
        900, "Seconds a warm render server waits for the next small build; 0: none.", "none", minimum=0
    )


@dataclass(frozen=True)
class ExecuteConfig:
    mode: str = option(
        "auto",
        "Which notebooks a build runs: `auto`, those with no run of their current code, parameters"
        " and inputs; `always`, all; `never`, none (`build --execute` overrides it).",
        "none",
        choices=("never", "auto", "always"),
    )
    workers: int = option(0, "Runs at once; 0: one per core (`-j` overrides it).", "none", minimum=0)
    timeout: int = option(600, "Seconds a cell may run.", "none", minimum=1, front_matter="timeout")
    kernel: str = option(
        "python3", "The kernel of notebooks whose metadata names none (the others keep theirs).", "execute"
    )
    allow_errors: bool = option(
        False, "`true`: a cell that raises does not fail the run.", "none", front_matter="allow_errors"
    )
    max_variants: int = option(
        50, "A report with more variants is refused before any kernel starts.", "none", minimum=1
    )
    executor: str = option(
        "local",
        "Where runs execute: `local`, processes here; `dask`, a Dask cluster (see On a Dask cluster);"
        " or a plugin's executor.",
        "none",
        registered="executor",
    )
    scheduler: str = option(
        "", "The Dask scheduler's address; empty: Dask's config, else a LocalCluster.", "none"
    )
    retries: int = option(
        1, "Times a run whose worker died is submitted again (never a failed cell).", "none", minimum=0
    )
    threads: int = option(
        0, "BLAS/OpenMP threads per run; 0: cores / runs at once here, 1 on Dask.", "none", minimum=0
    )


@dataclass(frozen=True)
class PdfConfig:
    enabled: bool = option(False, "`true`: build a PDF of every report page (`build --pdf`: once).", "pages")
    paper: str = option("A4", "The PDFs' paper size.", "pdf", choices=("A4", "Letter"))


@dataclass(frozen=True)
class EmailConfig:
    host: str = option("localhost", "The SMTP server.", "none")
    port: int = option(587, "Its port.", "none", minimum=1)
    security: str = option(
        "starttls", "How the connection is encrypted.", "none", choices=("starttls", "ssl", "none")
    )
    user: str = option("", "The login; empty: none.", "none")
    password_env: str = option("", "The NAME of the environment variable that holds the password.", "none")
    sender: str = option("", "The From address (empty: the login when it is an address).", "none")
    verify: bool = option(True, "`false` turns certificate checks off (with a warning).", "none")


@dataclass(frozen=True)
class Config:
    root: Path
    site: SiteConfig = section(SiteConfig)
    theme: ThemeConfig = section(ThemeConfig)
    build: BuildConfig = section(BuildConfig)
    execute: ExecuteConfig = section(ExecuteConfig)
    pdf: PdfConfig = section(PdfConfig)
    email: EmailConfig = section(EmailConfig)
    digest: str = ""  # hash of the config file's bytes: a change invalidates every page

    @property
    def state_dir(self) -> Path:
        return self.root / ".knowrepo"

    @property
    def caches(self) -> Caches:
        return Caches(self.state_dir)

    def workers(self, requested: int = 0) -> int:
        """Processes to run at once: the command's -j, else [execute] workers, else one per core."""
        return requested or self.execute.workers or os.cpu_count() or 1

    def value(self, declared: Option, meta: Meta | None = None) -> Value:
        """The option's value here; for a report (its front matter `meta`), its own override first."""
        own = (
            getattr(meta, declared.front_matter, None) if meta is not None and declared.front_matter else None
        )
        found: Value = own if own is not None else getattr(getattr(self, declared.section), declared.name)
        return found

    def values(self, invalidates: Invalidates, meta: Meta | None = None) -> dict[str, Value]:
        """The value of each option declared to invalidate `invalidates` (by key): what a cache
        key of that kind holds, so that a new option of the kind enters it with no other edit."""
        return {o.key: self.value(o, meta) for o in _OF_KIND[invalidates]}


def _declared_in(name: str, cls: type) -> dict[str, Option]:
    """The options a section class declares (every field of it must be an option())."""
    found = {}
    for one in fields(cls):
        if _OPTION not in one.metadata:
            raise TypeError(f"{cls.__name__}.{one.name} is not declared with option()")
        found[one.name] = replace(one.metadata[_OPTION], section=name, name=one.name)
    return found


SECTIONS: dict[str, type] = {f.name: f.metadata[_SECTION] for f in fields(Config) if _SECTION in f.metadata}
OPTIONS: dict[str, dict[str, Option]] = {name: _declared_in(name, cls) for name, cls in SECTIONS.items()}


def declared_options() -> list[Option]:
    """Every option, in the order of the sections and of their fields."""
    return [one for section_options in OPTIONS.values() for one in section_options.values()]


# The options of each kind, once (a build asks for the render ones for every report).
_OF_KIND = {kind: tuple(o for o in declared_options() if o.invalidates == kind) for kind in INVALIDATES}


def option_named(section_name: str, name: str) -> Option:
    """The declaration of [section_name] name."""
    return OPTIONS[section_name][name]


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds knowrepo.toml (as git finds .git)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise KnowrepoError(start, f"no {CONFIG_NAME} here or in any parent folder (see `knowrepo init`)")


def parse_config(
    root: Path, text: str, path: Path | None = None, load_registry: LoadRegistry | None = None
) -> Config:
    """Validate the TOML text of knowrepo.toml into a Config (pure). An option whose choices are
    registered names ([execute] executor) is checked against the registry `load_registry`
    loads, only when it is set (loading the registry is not for every read of the config);
    without one, any name goes here and the registry refuses an unknown one where it is used."""
    path = path or root / CONFIG_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowrepoError(path, f"invalid TOML: {exc}") from None
    sections: dict[str, Any] = {}  # (section name -> its dataclass, as Config takes them)
    problems: list[str] = []  # (every fault of the file, as `check` finds a front matter's)
    for name, body in data.items():
        if name not in OPTIONS:
            problems.append(unknown_key_error(path, "section", name, set(OPTIONS)).message)
        elif not isinstance(body, dict):
            problems.append(f"'{name}' must be a [{name}] table")
        else:
            values = _read_section(path, name, body, load_registry, problems)
            sections[name] = SECTIONS[name](**values)
    for check in (_check_sender, _theme_name):
        try:
            sections = check(path, data, sections)
        except KnowrepoError as exc:
            problems.append(exc.message)
    if problems:
        raise Problems(path, problems)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Config(root=root, digest=digest, **sections)


def _read_section(
    path: Path, name: str, body: dict[str, object], load_registry: LoadRegistry | None, problems: list[str]
) -> dict[str, Value]:
    """A section's table, each key known and each value checked by its declaration; what is
    wrong goes to `problems` (one message each, naming the key)."""
    declared, values = OPTIONS[name], {}
    for key, value in body.items():
        if key not in declared:
            problems.append(unknown_key_error(path, f"key in [{name}]", key, set(declared)).message)
            continue
        try:
            values[key] = declared[key].read(path, value, load_registry)
        except KnowrepoError as exc:
            problems.append(exc.message)
    return values


def _theme_name(path: Path, data: dict[str, Any], sections: dict[str, Any]) -> dict[str, Any]:
    """[theme] name, or [site] theme where a knowrepo.toml still says it there (not both)."""
    theme = sections.get("theme", ThemeConfig())
    old, new = _table(data, "site").get("theme"), _table(data, "theme").get("name")
    if old is not None and new is not None and old != new:
        raise KnowrepoError(
            path, f"[site] theme {old!r} and [theme] name {new!r} disagree (keep [theme] name)"
        )
    return {**sections, "theme": replace(theme, name=old) if old is not None else theme}


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    body = data.get(name, {})
    return body if isinstance(body, dict) else {}


def _check_sender(path: Path, _data: dict[str, Any], sections: dict[str, Any]) -> dict[str, Any]:
    """[email] sender is a From header and the SMTP envelope's sender: one real address."""
    # (the email parser: ~13 ms, only for an [email] sender)
    from knowrepo.support.addresses import address_problem, shown

    email: EmailConfig | None = sections.get("email")
    if email is not None and email.sender and (problem := address_problem(email.sender)):
        raise KnowrepoError(path, f"[email] sender {shown(email.sender)} {problem}")
    return sections


def load_config(root: Path, load_registry: LoadRegistry | None = None) -> Config:
    """Read knowrepo.toml at `root` (`load_registry`: as parse_config takes it)."""
    path = root / CONFIG_NAME
    return parse_config(root, read_text(path), path, load_registry)


def toml_value(value: Value) -> str:
    """`value` as knowrepo.toml spells it (a TOML basic string is spelt as a JSON string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


def options_table() -> str:
    """The README's table of every option and its legend, made from the declarations (a test
    checks that the README holds it; `python -m knowrepo.config` prints it)."""
    rows = ["| option | type | default | a change redoes | what it does |", "| --- | --- | --- | --- | --- |"]
    rows += [_table_row(one) for one in declared_options()]
    legend = [f"- `{kind}`: {meaning}." for kind, meaning in INVALIDATES.items()]
    note = (
        "*A change redoes* (any edit of knowrepo.toml also assembles every page again; no body"
        " is rendered again unless an option marked `render` changed):"
    )
    return "\n".join([*rows, "", note, "", *legend]) + "\n"


def _table_row(declared: Option) -> str:
    help_text = declared.help
    if declared.front_matter:
        help_text += f" A report's front matter `{declared.front_matter}:` overrides it."
    cells = (
        f"`{declared.key}`",
        _type_text(declared),
        f"`{toml_value(declared.default)}`",
        f"`{declared.invalidates}`",
        help_text,
    )
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _type_text(declared: Option) -> str:
    if declared.registered:
        return f"a registered {declared.registered}'s name"
    if choices := declared.allowed():
        return "one of " + ", ".join(f"`{choice}`" for choice in choices)
    if declared.minimum is not None:
        return f"{declared.type_name()}, at least {declared.minimum}"
    return declared.type_name()


if __name__ == "__main__":  # `python -m knowrepo.config`: the README's table of options
    print(options_table(), end="")
