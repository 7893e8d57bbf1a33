"""knowrepo.toml: find the repository, read and validate its settings."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError, unknown_key_error
from knowrepo.support.caches import Caches
from knowrepo.support.text import read_text

CONFIG_NAME = "knowrepo.toml"
CODE_MODES = ("show", "fold", "hide")
EXECUTE_MODES = ("never", "auto", "always")


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Knowledge Repository"
    description: str = ""
    base_url: str = "/"
    theme: str = "default"  # the older spelling of [theme] name, still read
    code: str = "show"
    output: str = "_site"
    language: str = "en"
    sanitize: bool = True  # report HTML cannot run script; a strict Content-Security-Policy
    max_output_kb: int = 1024  # a larger text or HTML output is cut (images: 16 times this)
    index_code: bool = False
    search_part_size: int = 5000  # more indexed pages than this: index parts side by side
    notebook_downloads: str = "lean"  # lean: without the images the pages publish | whole

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
    name: str = "default"  # a folder in themes/ (its templates extend or replace the default's)
    # Files of the theme's static/ folder or the repository, linked after the default ones.
    extra_css: tuple[str, ...] = ()
    extra_js: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecuteConfig:
    mode: str = "auto"
    workers: int = 0  # 0: one per core
    timeout: int = 600
    kernel: str = "python3"  # for notebooks whose metadata names no kernelspec
    allow_errors: bool = False
    max_variants: int = 50  # a report with more variants is refused before any kernel starts
    executor: str = "local"  # local (processes here) | dask (a distributed cluster)
    scheduler: str = ""  # the Dask scheduler's address; "": Dask's config, else a LocalCluster
    retries: int = 1  # times a run whose worker died is submitted again (never a failed cell)
    threads: int = 0  # BLAS/OpenMP threads per run; 0: cores / workers here, 1 on Dask


@dataclass(frozen=True)
class PdfConfig:
    enabled: bool = False
    paper: str = "A4"


@dataclass(frozen=True)
class EmailConfig:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password_env: str = ""
    sender: str = ""
    verify: bool = True


@dataclass(frozen=True)
class BuildConfig:
    # Seconds a warm render server waits for the next small build before it exits (0: none).
    render_server_idle: int = 900


SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "theme": ThemeConfig,
    "build": BuildConfig,
    "execute": ExecuteConfig,
    "pdf": PdfConfig,
    "email": EmailConfig,
}

CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("site", "code"): CODE_MODES,
    ("site", "notebook_downloads"): ("lean", "whole"),
    ("execute", "mode"): EXECUTE_MODES,
    ("execute", "executor"): ("local", "dask"),
    ("pdf", "paper"): ("A4", "Letter"),
    ("email", "security"): ("starttls", "ssl", "none"),
}


# The smallest value each number may take (workers and render_server_idle: 0 means "none/auto").
MINIMUM: dict[tuple[str, str], int] = {
    ("site", "search_part_size"): 1,
    ("site", "max_output_kb"): 1,
    ("execute", "timeout"): 1,
    ("execute", "workers"): 0,
    ("execute", "max_variants"): 1,
    ("execute", "retries"): 0,
    ("execute", "threads"): 0,
    ("build", "render_server_idle"): 0,
    ("email", "port"): 1,
}


@dataclass(frozen=True)
class Config:
    root: Path
    site: SiteConfig = field(default_factory=SiteConfig)
    theme: ThemeConfig = field(default_factory=ThemeConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    execute: ExecuteConfig = field(default_factory=ExecuteConfig)
    pdf: PdfConfig = field(default_factory=PdfConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
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


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds knowrepo.toml (as git finds .git)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise KnowrepoError(start, f"no {CONFIG_NAME} here or in any parent folder (see `knowrepo init`)")


def _check_type(path: Path, section: str, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, tuple):  # a list in TOML, of strings
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise KnowrepoError(path, f"[{section}] {key} must be a list of strings, not {value!r}")
        return tuple(value)
    expected = type(default)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise KnowrepoError(
            path, f"[{section}] {key} must be {expected.__name__}, not {type(value).__name__}"
        )
    minimum = MINIMUM.get((section, key))
    if minimum is not None and value < minimum:
        raise KnowrepoError(path, f"[{section}] {key} must be at least {minimum}, not {value}")
    choices = CHOICES.get((section, key))
    if choices and value not in choices:
        raise KnowrepoError(path, f"[{section}] {key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def parse_config(root: Path, text: str, path: Path | None = None) -> Config:
    """Validate the TOML text of knowrepo.toml into a Config (pure)."""
    path = path or root / CONFIG_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowrepoError(path, f"invalid TOML: {exc}") from None
    sections: dict[str, Any] = {}
    for name, body in data.items():
        if name not in SECTIONS:
            raise unknown_key_error(path, "section", name, set(SECTIONS))
        if not isinstance(body, dict):
            raise KnowrepoError(path, f"'{name}' must be a [{name}] table")
        cls = SECTIONS[name]
        defaults = {f.name: f.default for f in fields(cls)}
        checked = {}
        for key, value in body.items():
            if key not in defaults:
                raise unknown_key_error(path, f"key in [{name}]", key, set(defaults))
            checked[key] = _check_type(path, name, key, value, defaults[key])
        sections[name] = cls(**checked)
    _check_sender(path, sections.get("email"))
    sections["theme"] = _theme_name(path, data, sections.get("theme", ThemeConfig()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Config(root=root, digest=digest, **sections)


def _theme_name(path: Path, data: dict[str, Any], theme: ThemeConfig) -> ThemeConfig:
    """[theme] name, or [site] theme where a knowrepo.toml still says it there (not both)."""
    old, new = data.get("site", {}).get("theme"), data.get("theme", {}).get("name")
    if old is not None and new is not None and old != new:
        raise KnowrepoError(
            path, f"[site] theme {old!r} and [theme] name {new!r} disagree (keep [theme] name)"
        )
    return replace(theme, name=old) if old is not None else theme


def _check_sender(path: Path, email: EmailConfig | None) -> None:
    """[email] sender is a From header and the SMTP envelope's sender: one real address."""
    from knowrepo.support.addresses import address_problem, shown

    if email is not None and email.sender and (problem := address_problem(email.sender)):
        raise KnowrepoError(path, f"[email] sender {shown(email.sender)} {problem}")


def load_config(root: Path) -> Config:
    """Read knowrepo.toml at `root`."""
    path = root / CONFIG_NAME
    return parse_config(root, read_text(path), path)
