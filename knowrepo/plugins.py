"""The plugin registry: every part of knowrepo that varies, by name, for the core and for plugins.

Executors, output renderers (by MIME type), Markdown syntax, passes over a rendered body and
over a page's body, build steps, exports, template filters and template globals are registered
here; the core looks them up here and nowhere else. knowrepo registers its own parts first
(knowrepo.builtins.setup, through the same `add_*` calls a plugin makes); then each entry point
of the group `knowrepo.plugins` of an installed distribution, a callable `setup(registry)`
(knowrepo.loader.load_registry does both, once per process).
A name registered twice is an error that names both owners (as Lektor's add_publisher), so two
plugins never silently claim one MIME type. The README's "Extending knowrepo" lists every
extension point with its arguments.

This module sits low in the layers: it holds callables and imports no part of knowrepo. The
parts get the loaded registry from whoever calls them (a LoadRegistry, or the Registry itself):
only the commands, knowrepo's process entries, import the loader.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from knowrepo import __version__
from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.model import TocEntry
from knowrepo.support.distributions import entry_points_of

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "knowrepo.plugins"
# The build's stages a build step may run after (publishing comes after all of them).
STAGES = ("discover", "execute", "render", "assemble", "index")
# The body pass that runs last unless a pass asks to run after it: what a plugin's pass adds
# is then cleaned like report HTML when [site] sanitize is on.
LAST_PASS = "sanitize"


@dataclass(frozen=True)
class Owner:
    """Who registered a part: a plugin (entry point name) of a distribution, at a version."""

    plugin: str
    dist: str
    version: str

    def __str__(self) -> str:
        return f"'{self.plugin}' ({self.dist} {self.version})"

    @property
    def builtin(self) -> bool:
        """knowrepo's own part: its HTML is knowrepo's markup, not report content."""
        return self.dist == "knowrepo"


BUILTIN = Owner("builtins", "knowrepo", __version__)


# ---- what parts get besides their main argument --------------------------------------------


@dataclass(frozen=True)
class RenderContext:
    """The second argument of a renderer that takes two: the output around its data, the
    report's settings, and a way to write files that the page links to."""

    source: str  # the report, as a path in the repository ("reports/sales.ipynb")
    cell: int  # the code cell's number, from 1
    output: Mapping[str, Any]  # the whole nbformat output: "data" (every MIME type) and "metadata"
    sanitize: bool  # [site] sanitize
    max_output: int  # bytes of an output a page shows ([site] max_output_kb)
    widgets: Mapping[str, Any]  # the notebook's saved ipywidgets models, by model id
    asset: Callable[[bytes, str], str]  # asset(data, ".json"): stored by content; its URL on the page
    image: Callable[[str, str], bytes | None]  # image(mime, data): a valid image's bytes, or None
    warn: Callable[[str], None]  # a one-line warning: "reports/x.ipynb: cell 3: what"


@dataclass
class BodyContext:
    """The second argument of a body pass: the report whose rendered body it edits."""

    source: str  # the report, as a path in the repository
    root: str  # the repository's folder
    title: str  # the report's title
    sanitize: bool  # [site] sanitize
    asset_prefix: str  # how the URLs of the page's assets start (a pass leaves them alone)
    asset: Callable[[bytes, str], str]  # asset(data, ".png"): stored by content; its URL
    read: Callable[[str], bytes]  # read(path in the repository): a change to it re-renders the body
    warn: Callable[[str], None]  # a one-line warning, "reports/x.md: what"
    toc: list[TocEntry] = field(default_factory=list)  # the page's contents, set by the 'headings' pass


@dataclass(frozen=True)
class PageContext:
    """The second argument of a page pass: the page a rendered body goes on."""

    source: str  # the report, as a path in the repository
    page: str  # the page's path in the site ("sales/index.html")
    root: str  # the relative path from the page to the site's root ("../")
    slug_by_source: Mapping[str, str]  # every published report's slug, by its source path


# How a part gets the loaded registry without importing the loader (which imports every part):
# knowrepo.loader.load_registry, handed down by the command that started the process. A
# function, not the registry: a no-op build never calls it, and a worker process gets it by
# reference (pickled by name) and loads the registry there once.
LoadRegistry = Callable[[], "Registry"]


class Executor(Protocol):
    """What an executor's factory makes: where `knowrepo run` and `build` execute notebooks."""

    def check(self) -> None:
        """Raise KnowrepoError (one line) for what stops it, before anything is planned."""

    def threads_per_run(self, workers: int) -> int:
        """BLAS/OpenMP threads each run may use when `workers` run at once."""
        ...

    def run(
        self, requests: list[Any], workers: int, done: Callable[[Any], None], warn: Callable[[str], None]
    ) -> None:
        """Execute each RunRequest and call `done(run)` with its Run as each ends."""


# ---- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One registered part: its name (a MIME type for a renderer), what it is, who added it."""

    name: str
    value: Any
    owner: Owner
    before: str | None = None  # (passes) the pass it runs before
    after: str | None = None  # (passes) the pass it runs after; (build steps) the stage

    def __call__(self, *args: Any) -> Any:
        return self.value(*args)


@dataclass(frozen=True)
class Renderer:
    """An output renderer: `render(data)` or `render(data, ctx)`."""

    render: Callable[..., Any]
    takes_context: bool

    def __call__(self, data: Any, ctx: RenderContext) -> Any:
        return self.render(data, ctx) if self.takes_context else self.render(data)


KINDS = (
    "executor",
    "renderer",
    "markdown",
    "body_pass",
    "page_pass",
    "build_step",
    "export",
    "filter",
    "context",
)


class Registry:
    """Every registered part, by kind and name, in the order of registration."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, Part]] = {kind: {} for kind in KINDS}
        self._owner = BUILTIN
        self.plugins: list[Owner] = []  # the plugins loaded from entry points, in order
        self._orders: dict[str, list[Part]] = {}

    # -- what knowrepo and plugins call ----------------------------------------------------

    def add_executor(self, name: str, factory: Callable[[Any], Executor]) -> None:
        """`factory(choice)` -> an Executor; choice has .scheduler, .retries, .threads."""
        self._add("executor", name, self._callable("executor", name, factory))

    def add_renderer(self, mime_type: str, render: Callable[..., Any]) -> None:
        """`render(data)` -> HTML for outputs that hold `mime_type` (data as nbformat stores it:
        a dict for JSON types, else a string); `render(data, ctx)` gets a RenderContext too."""
        render = self._callable("renderer", mime_type, render)
        self._add("renderer", mime_type, Renderer(render, _takes_two(render)))

    def add_markdown(
        self, name: str, plugin: Callable[..., None], config: Mapping[str, Any] | None = None
    ) -> None:
        """A markdown-it-py plugin, `plugin(md, **config)` (mdit-py-plugins' convention), applied
        with `md.use(plugin, **config)` after those registered before it."""
        self._add("markdown", name, (self._callable("markdown plugin", name, plugin), dict(config or {})))

    def add_body_pass(
        self, name: str, apply: Callable[[str, BodyContext], str], *, before: str | None = None,
        after: str | None = None,
    ) -> None:  # fmt: skip
        """`apply(html, ctx)` -> html over every rendered body (cached with it)."""
        self._add("body_pass", name, self._callable("body pass", name, apply), before=before, after=after)

    def add_page_pass(
        self, name: str, apply: Callable[[str, PageContext], str], *, before: str | None = None,
        after: str | None = None,
    ) -> None:  # fmt: skip
        """`apply(html, ctx)` -> html over a body as it goes on one page (and into its PDF)."""
        self._add("page_pass", name, self._callable("page pass", name, apply), before=before, after=after)

    def add_build_step(self, name: str, step: Callable[[Any], None], *, after: str) -> None:
        """`step(state)` runs in every build that does anything, after the stage `after`."""
        if after not in STAGES:
            raise KnowrepoError(
                None,
                f"plugin {self._owner}: build step '{name}' runs after '{after}', which is no stage"
                f"{did_you_mean(after, STAGES)}; stages: {', '.join(STAGES)}",
            )
        self._add("build_step", name, self._callable("build step", name, step), after=after)

    def add_export(self, name: str, export: Callable[..., bytes]) -> None:
        """`export(root, config, item)` -> the file's bytes (`knowrepo pdf` calls 'pdf')."""
        self._add("export", name, self._callable("export", name, export))

    def add_filter(self, name: str, fn: Callable[..., Any]) -> None:
        """A jinja2 filter of the theme's templates: `{{ value | name }}`."""
        self._add("filter", name, self._callable("filter", name, fn))

    def add_context(self, name: str, value: Any) -> None:
        """A global of the theme's templates: a value, or a function they call with page data."""
        self._add("context", name, value)

    # -- what the core looks up ------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        return list(self._parts[kind])

    def executor(self, name: str) -> Callable[[Any], Executor]:
        """The factory of the executor `name`; an unknown one is a one-line error listing them."""
        if name not in self._parts["executor"]:
            known = self.names("executor")
            raise KnowrepoError(
                None, f"unknown executor '{name}'{did_you_mean(name, known)}; registered: {', '.join(known)}"
            )
        factory: Callable[[Any], Executor] = self._parts["executor"][name].value
        return factory

    def renderers_for(self, data: Mapping[str, Any]) -> list[tuple[str, Renderer, Owner]]:
        """The renderers of the MIME types `data` holds, the one registered first first."""
        renderers = self._parts["renderer"]
        found = [mime for mime in data if mime in renderers]
        if len(found) > 1:
            rank = {mime: index for index, mime in enumerate(renderers)}
            found.sort(key=rank.__getitem__)
        return [(mime, renderers[mime].value, renderers[mime].owner) for mime in found]

    def markdown_plugins(self) -> list[tuple[Callable[..., None], dict[str, Any]]]:
        """(plugin, config) of each markdown-it-py plugin, in order of registration."""
        return [part.value for part in self._parts["markdown"].values()]

    def body_passes(self) -> list[Part]:
        return self._ordered("body_pass")

    def page_passes(self) -> list[Part]:
        return self._ordered("page_pass")

    def build_steps(self, after: str) -> list[Part]:
        return [part for part in self._parts["build_step"].values() if part.after == after]

    def export(self, name: str) -> Callable[..., bytes]:
        if name not in self._parts["export"]:
            raise KnowrepoError(None, f"no export '{name}'; registered: {', '.join(self.names('export'))}")
        export: Callable[..., bytes] = self._parts["export"][name].value
        return export

    def filters(self) -> dict[str, Any]:
        return {name: part.value for name, part in self._parts["filter"].items()}

    def contexts(self) -> dict[str, Any]:
        return {name: part.value for name, part in self._parts["context"].items()}

    def fingerprint(self) -> str:
        """The plugins' names and versions: it enters the render cache key, so upgrading a
        plugin re-renders what it drew (knowrepo's own version and code are keyed apart)."""
        return ";".join(f"{o.plugin}={o.dist}=={o.version}" for o in sorted(self.plugins, key=str))

    # -- loading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def owned_by(self, owner: Owner) -> Iterator[None]:
        """What is registered inside belongs to `owner` (named by errors and the fingerprint)."""
        before, self._owner = self._owner, owner
        try:
            yield
        finally:
            self._owner = before

    def check(self) -> None:
        """Order the passes now, so that a pass placed after a name nobody registers, or a loop
        of before/after, stops the command at once rather than every render."""
        self._orders = {
            kind: _order(list(self._parts[kind].values()), kind) for kind in ("body_pass", "page_pass")
        }

    def _add(
        self, kind: str, name: str, value: Any, before: str | None = None, after: str | None = None
    ) -> None:
        if not isinstance(name, str) or not name:
            raise KnowrepoError(None, f"plugin {self._owner} registers a {kind} without a name")
        held = self._parts[kind].get(name)
        if held is not None:
            raise KnowrepoError(
                None, f"plugin {self._owner} registers {_label(kind)} '{name}', which {held.owner} registered"
            )
        self._parts[kind][name] = Part(name, value, self._owner, before, after)
        self._orders.pop(kind, None)

    def _callable(self, what: str, name: str, value: Any) -> Any:
        if not callable(value):
            raise KnowrepoError(
                None,
                f"plugin {self._owner} registers {what} '{name}' as a {type(value).__name__}, not a function",
            )
        return value

    def _ordered(self, kind: str) -> list[Part]:
        if kind not in self._orders:
            self._orders[kind] = _order(list(self._parts[kind].values()), kind)
        return self._orders[kind]


def _label(kind: str) -> str:
    return kind.replace("_", " ")


def _takes_two(fn: Callable[..., Any]) -> bool:
    """Whether a renderer takes (data, ctx) rather than (data): read from a plain function's
    code (inspect.signature costs 0.1 ms a call, every process registers 40 renderers)."""
    target = fn.func if isinstance(fn, functools.partial) and not fn.args else fn
    code = getattr(target, "__code__", None)
    if code is not None and not getattr(target, "__self__", None):
        positional = code.co_argcount
        return positional >= 2 or bool(code.co_flags & inspect.CO_VARARGS)
    try:
        inspect.signature(fn).bind(None, None)
    except (TypeError, ValueError):  # (ValueError: no signature to read, as of a builtin)
        return False
    return True


def _order(parts: list[Part], kind: str) -> list[Part]:
    """Passes in registration order, each moved as its before=/after= says (no later than it
    must); a body pass runs before LAST_PASS unless it follows it. Raises KnowrepoError on a
    name nobody registers, or on a loop."""
    by_name = {part.name: part for part in parts}
    follows = _placements(parts, kind, by_name)
    if kind == "body_pass" and LAST_PASS in by_name:
        after_last = {name for name in follows if _follows(name, LAST_PASS, follows, set())}
        for part in parts:
            if part.name != LAST_PASS and part.name not in after_last:
                follows[LAST_PASS].append(part.name)
    ordered: dict[str, Part] = {}
    for part in parts:
        _visit(part.name, by_name, follows, ordered, [], kind)
    return list(ordered.values())


def _placements(parts: list[Part], kind: str, by_name: dict[str, Part]) -> dict[str, list[str]]:
    """name -> the names that must run before it, as before=/after= place them."""
    follows: dict[str, list[str]] = {part.name: [] for part in parts}
    for part in parts:
        for other in (part.before, part.after):
            if other is not None and other not in by_name:
                raise KnowrepoError(
                    None,
                    f"plugin {part.owner}: {_label(kind)} '{part.name}' is placed by '{other}',"
                    f" which no plugin registers{did_you_mean(other, list(by_name))}",
                )
        if part.after is not None:
            follows[part.name].append(part.after)
        if part.before is not None:
            follows[part.before].append(part.name)
    return follows


def _follows(name: str, target: str, follows: dict[str, list[str]], seen: set[str]) -> bool:
    """Whether `name` must run after `target`."""
    if name in seen:
        return False
    seen.add(name)
    return any(first == target or _follows(first, target, follows, seen) for first in follows[name])


def _visit(
    name: str, by_name: dict[str, Part], follows: dict[str, list[str]], ordered: dict[str, Part],
    open_: list[str], kind: str,
) -> None:  # fmt: skip
    """Add `name` to `ordered` after what it follows (a depth-first topological sort)."""
    if name in ordered:
        return
    if name in open_:
        loop = " -> ".join(f"'{n}' ({by_name[n].owner})" for n in [*open_[open_.index(name) :], name])
        raise KnowrepoError(None, f"{_label(kind)}es placed before and after each other: {loop}")
    open_.append(name)
    for first in sorted(follows[name], key=list(by_name).index):
        _visit(first, by_name, follows, ordered, open_, kind)
    open_.pop()
    ordered[name] = by_name[name]


def apply_passes(parts: list[Part], html: str, ctx: BodyContext | PageContext) -> str:
    """`html` through each pass, in order."""
    for part in parts:
        html = part.value(html, ctx)
    return html


# ---- loading the registry ------------------------------------------------------------------


def _owner_of(entry_point: EntryPoint) -> Owner:
    dist = entry_point.dist
    return Owner(entry_point.name, dist.name if dist else "?", dist.version if dist else "?")


def load_plugin(registry: Registry, entry_point: EntryPoint) -> None:
    """Run one plugin's setup(registry); whatever goes wrong is one line naming the plugin."""
    owner = _owner_of(entry_point)
    with registry.owned_by(owner):
        try:
            setup = entry_point.load()
            setup(registry)
        except KnowrepoError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's own failure, named, never a traceback
            raise KnowrepoError(
                None, f"plugin {owner} failed to load: {type(exc).__name__}: {' '.join(str(exc).split())}"
            ) from None
    registry.plugins.append(owner)


def load_plugins(registry: Registry) -> None:
    """Every installed plugin's setup(registry), in load order (knowrepo.loader.load_registry
    calls it after registering knowrepo's own parts)."""
    for entry_point in entry_points_of(GROUP):
        load_plugin(registry, entry_point)
