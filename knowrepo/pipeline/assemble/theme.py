"""Themes: jinja2 templates and static files; a user theme falls back to the default."""

from __future__ import annotations

import hashlib
from pathlib import Path

import knowrepo
from knowrepo.errors import KnowrepoError
from knowrepo.plugins import load_registry


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
        raise KnowrepoError(root / "knowrepo.toml", f"theme '{name}' not found: no folder {user}")
    return [user, default]


def theme_files(dirs: list[Path]) -> dict[str, Path]:
    """Every theme file by its path inside the theme; the first theme that has it wins."""
    files: dict[str, Path] = {}
    for folder in reversed(dirs):
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                files[path.relative_to(folder).as_posix()] = path
    return files


def theme_digest(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for rel, path in sorted(files.items()):
        digest.update(rel.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def make_environment(dirs: list[Path], cache_dir: Path | None = None):  # -> jinja2.Environment
    import jinja2

    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d / "templates")) for d in dirs])
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir else None,
    )
    registry = load_registry()  # the filters and globals of knowrepo and its plugins
    env.globals.update(registry.contexts())
    env.filters.update(registry.filters())
    return env


def check_templates(env, files: dict[str, Path]) -> None:  # env: jinja2.Environment
    """Compile every template of the theme: a syntax error is one line naming the file and
    line (and stops the build before anything is published), never a jinja traceback."""
    import jinja2

    from knowrepo.support.text import not_utf8

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
