"""Themes: jinja2 templates and static files. A user theme extends the default one: its
templates replace or extend (`{% extends "default/report.html" %}`) the default's, its static
files join the default's, and [theme] extra_css / extra_js are linked after the default's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import knowrepo
from knowrepo.config import CONFIG_NAME, ThemeConfig
from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.plugins import Registry
from knowrepo.support.paths import outside_reason
from knowrepo.support.text import not_utf8

if TYPE_CHECKING:
    import jinja2

DEFAULT_PREFIX = "default"  # "default/report.html": the default theme's own template, always
EXTRA_FOLDER = "extra"  # assets/extra/: the [theme] extra files that come from the repository
# What knowrepo itself writes under assets/ (assemble/__init__.py, packaged.py): a theme's
# static file there would be overwritten, or would overwrite it.
MADE_ASSETS = ("pygments.css", "math.woff", "plotly.min.js", "vega.js", "mermaid.min.js")
MADE_FOLDERS = ("img/", "bokeh/", f"{EXTRA_FOLDER}/")


def default_theme_dir() -> Path:
    """The default theme: inside the installed package, or themes/default in a checkout."""
    here = Path(knowrepo.__file__).parent
    for candidate in (here / "themes" / "default", here.parent / "themes" / "default"):
        if (candidate / "templates").is_dir():
            return candidate
    raise KnowrepoError(here, "the default theme is missing from this installation")


def theme_dirs(root: Path, name: str) -> list[Path]:
    """Theme folders, most specific first: the user's theme (if any), then the default."""
    default = default_theme_dir()
    if name == "default":
        local = root / "themes" / "default"
        return [local, default] if local.is_dir() and local.resolve() != default.resolve() else [default]
    user = root / "themes" / name
    if not (user / "templates").is_dir() and not (user / "static").is_dir():
        there = sorted(p.name for p in (root / "themes").glob("*/") if p.is_dir())
        raise KnowrepoError(
            root / "knowrepo.toml",
            f"theme '{name}' not found: no folder {user}{did_you_mean(name, there)};"
            f" themes: {', '.join(['default', *there])}",
        )
    return [user, default]


def theme_files(dirs: list[Path]) -> dict[str, Path]:
    """Every theme file by its path inside the theme; the first theme that has it wins."""
    files: dict[str, Path] = {}
    for folder in reversed(dirs):
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                files[path.relative_to(folder).as_posix()] = path
    return files


def theme_digest(dirs: list[Path]) -> str:
    """A hash of every file of every theme folder: a user template that extends a default one
    shows it too, so the default's files count even where the user's have their names."""
    digest = hashlib.sha256()
    for index, folder in enumerate(dirs):
        for rel, path in sorted(theme_files([folder]).items()):
            digest.update(f"{index}/{rel}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def theme_loader(dirs: list[Path]) -> jinja2.BaseLoader:
    """The user's templates first, then the default's; "default/<name>" is always the default
    theme's own <name>, so a user report.html can extend the report.html it replaces (as
    mkdocs' custom_dir and Sphinx's inherit do: a PrefixLoader, jinja2's own way)."""
    import jinja2  # (jinja2: not for the no-op build)

    loaders = [jinja2.FileSystemLoader(str(d / "templates")) for d in dirs]
    return jinja2.ChoiceLoader([jinja2.PrefixLoader({DEFAULT_PREFIX: loaders[-1]}), *loaders])


@dataclass(frozen=True)
class ThemeExtras:
    """[theme] extra_css and extra_js, found: the site paths every page links after the default
    theme's stylesheets and scripts, and the repository files to copy beside the theme's."""

    css: tuple[str, ...] = ()
    js: tuple[str, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)  # "static/extra/<path>" -> repository file


def theme_extras(root: Path, theme: ThemeConfig, dirs: list[Path]) -> ThemeExtras:
    """Each extra file, from the user theme's static/ folder, else from the repository; one
    that is missing, a URL, or of the wrong kind is one line naming the key and the file."""
    files: dict[str, Path] = {}
    css = tuple(_extra(root, dirs, "extra_css", name, files) for name in theme.extra_css)
    js = tuple(_extra(root, dirs, "extra_js", name, files) for name in theme.extra_js)
    return ThemeExtras(css, js, files)


def _extra(root: Path, dirs: list[Path], key: str, name: str, files: dict[str, Path]) -> str:
    """The site path of one extra file (recording a repository file to copy in `files`)."""
    where, config = f"[theme] {key} {name!r}", root / CONFIG_NAME
    if "://" in name or name.startswith("//"):
        raise KnowrepoError(config, f"{where} is a URL: the site loads only its own files (copy it in)")
    suffix = ".css" if key == "extra_css" else ".js"
    if not name.endswith(suffix):
        raise KnowrepoError(config, f"{where} is not a {suffix} file")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or ".." in parts:
        raise KnowrepoError(
            config, f"{where} must be a relative path (in the theme's static/ or the repository)"
        )
    for folder in dirs[:-1]:  # the user's theme
        if (folder / "static" / name).is_file():
            return f"assets/{name}"
    path = root / name
    if not path.is_file():
        places = [str(folder / "static") for folder in dirs[:-1]] + [f"the repository ({root})"]
        raise KnowrepoError(config, f"{where}: no such file in {' or '.join(places)}")
    if (reason := outside_reason(root, path)) is not None:
        raise KnowrepoError(config, f"{where} {reason}")
    files[f"static/{EXTRA_FOLDER}/{name}"] = path
    return f"assets/{EXTRA_FOLDER}/{name}"


def link_extras(env: jinja2.Environment, extras: ThemeExtras | None) -> None:
    """What base.html links after the default theme's stylesheets and scripts, on every page."""
    extras = extras or ThemeExtras()
    env.globals.update(extra_css=extras.css, extra_js=extras.js)


def check_user_static(dirs: list[Path]) -> None:
    """A user theme's static file may not take the name of a default theme's script (pages
    would lose their chart drawers, copy buttons and contents, silently) nor of a file that
    knowrepo writes under assets/ (one would overwrite the other). style.css, print.css and
    favicon.svg may be replaced: a theme may restyle the whole site."""
    scripts = {path.name for path in (dirs[-1] / "static").glob("*.js")}
    for folder in dirs[:-1]:
        for rel, path in sorted(theme_files([folder]).items()):
            name = rel.removeprefix("static/")
            if not rel.startswith("static/"):
                continue
            if name in scripts:
                raise KnowrepoError(
                    path,
                    f"would replace the default theme's {name} (its charts, copy buttons and contents);"
                    f" name it otherwise and list it in [theme] extra_js, which runs after the default's",
                )
            if name in MADE_ASSETS or name.startswith(MADE_FOLDERS):
                raise KnowrepoError(path, f"knowrepo writes assets/{name} itself: name the file otherwise")


def make_environment(
    dirs: list[Path], registry: Registry, cache_dir: Path | None = None
) -> jinja2.Environment:
    """The theme's templates, with the filters and globals of knowrepo and its plugins."""
    import jinja2  # (jinja2: not for the no-op build)

    env = jinja2.Environment(
        loader=theme_loader(dirs),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir else None,
    )
    env.globals.update(registry.contexts())
    env.filters.update(registry.filters())
    return env


def check_templates(env: jinja2.Environment, files: dict[str, Path]) -> None:
    """Compile every template of the theme: a syntax error is one line naming the file and
    line (and stops the build before anything is published), never a jinja traceback."""
    import jinja2  # (jinja2: not for the no-op build)

    for rel, path in sorted(files.items()):
        if not rel.startswith("templates/"):
            continue
        try:
            env.get_template(rel.removeprefix("templates/"))
        except UnicodeDecodeError as exc:  # (jinja2 reads templates as UTF-8)
            raise KnowrepoError(path, f"theme template is {not_utf8(exc)}") from None
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or str(path)
            raise KnowrepoError(where, f"theme template error at line {exc.lineno}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise KnowrepoError(path, f"theme template error: {exc}") from None


def template_failure(exc: BaseException) -> str:
    """Where in which template a render failed, from the traceback jinja rewrites to point at
    template lines: 'theme template .../report.html line 12: 'x' is undefined'."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith((".html", ".xml")):
            where = f"theme template {name} line {tb.tb_lineno}: "
        tb = tb.tb_next
    return f"{where}{type(exc).__name__}: {exc}"
