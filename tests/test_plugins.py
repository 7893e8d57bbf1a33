"""The plugin registry (knowrepo/plugins.py): a real plugin distribution, its wheel installed
by pip into a temporary virtualenv, seen on built pages; and the registry's rules, in-process.

The plugin is the README's own example ("Extending knowrepo"), read from the README, so the
documented plugin is the tested one."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT, write_notebook
from knowrepo import builtins
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry
from knowrepo.plugins import BUILTIN, Owner, Registry, load_plugin

GREETING = "application/vnd.example.greeting+json"


def readme_example() -> dict[str, str]:
    """The example plugin's files, from the README's code blocks that name them."""
    text = (PROJECT / "README.md").read_text()
    section = text[text.index("## Extending knowrepo") :]
    blocks = re.findall(r"```(?:toml|python)\n# (\S+)\n(.*?)```", section, re.S)
    return {name: body for name, body in blocks}


def plugin_project(folder: Path, version: str = "1.0", name: str = "knowrepo-greeting") -> Path:
    """The README's plugin as a project folder, at `version` (and under another name, to clash)."""
    files = readme_example()
    folder.mkdir(parents=True)
    module = name.replace("-", "_")
    pyproject = files["pyproject.toml"].replace('version = "1.0"', f'version = "{version}"')
    pyproject = pyproject.replace("knowrepo-greeting", name).replace("knowrepo_greeting", module)
    (folder / "pyproject.toml").write_text(pyproject)
    (folder / f"{module}.py").write_text(files["knowrepo_greeting.py"].replace("knowrepo-greeting", name))
    return folder


def wheel_of(project: Path, out: Path) -> Path:
    """The project's wheel, made from its pyproject.toml (its name, version, modules and entry
    points). By hand: the test venv has setuptools without bdist_wheel, and no build backend
    may be downloaded while the tests run; pip installs the wheel as any other."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    name, version = meta["name"], meta["version"]
    stem = f"{name.replace('-', '_')}-{version}"
    groups = meta.get("entry-points", {})
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
        for group, points in groups.items()
    )
    files = {f"{module}.py": (project / f"{module}.py").read_bytes() for module in _modules(project)}
    files[f"{stem}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{stem}.dist-info/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{stem}.dist-info/entry_points.txt"] = entry_points.encode()
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{stem}.dist-info/RECORD"] = ("\n".join([*record, f"{stem}.dist-info/RECORD,,"]) + "\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _modules(project: Path) -> list[str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["tool"]["setuptools"]["py-modules"]


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def plugin_venv(folder: Path) -> Path:
    """A virtualenv that sees this interpreter's packages (knowrepo's dependencies) through a
    .pth file, as --system-site-packages would for a system Python; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    own = subprocess.run(
        [python, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True
    ).stdout.strip()
    (Path(own) / "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def pip_install(project: Path, python: Path) -> None:
    """The project's wheel installed by pip into the virtualenv of `python` (a newer version
    replaces the installed one, as an upgrade does)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel_of(project, project / "dist"))],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def build(repo: Path, python: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`knowrepo build --json` with the virtualenv's python (this checkout's knowrepo first;
    nbconvert's templates where this interpreter's prefix holds them)."""
    jupyter = os.path.join(sys.prefix, "share", "jupyter")
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "JUPYTER_PATH": jupyter}
    proc = subprocess.run(
        [python, "-m", "knowrepo", "build", str(repo), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def greeting_repo(repo: Path) -> Path:
    """A notebook whose output holds the plugin's type (and its plain text fallback)."""
    data = {GREETING: {"name": "Ada <i>L.</i>"}, "text/plain": "<Greeting Ada>"}
    write_notebook(
        repo / "reports/hello.ipynb",
        [("markdown", "# Hello\n\nA greeting :wave: (written `:wave:`)."), ("code", "greet('Ada')")],
        outputs={1: [{"output_type": "display_data", "metadata": {}, "data": data}]},
    )
    (repo / "knowrepo.toml").write_text("")
    return repo


def page(repo: Path) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site/hello/index.html").read_text(), "html.parser")


@pytest.fixture(scope="module")
def greeting(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the README's plugin 1.0 installed; its python."""
    base = tmp_path_factory.mktemp("greeting")
    python = plugin_venv(base / "venv")
    pip_install(plugin_project(base / "project"), python)
    return python


def test_an_installed_plugin_renders_its_output_type_and_passes_over_the_body(tmp_path: Path, greeting: Path):
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(greeting), "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {"name": "knowrepo-greeting", "version": "1.0"} in json.loads(listed.stdout)  # a real distribution
    repo = greeting_repo(tmp_path / "repo")
    build(repo, greeting)
    body = page(repo).select_one(".report-body")
    shown = body.select_one("p.greeting")
    assert shown is not None and shown.b.get_text() == "Ada <i>L.</i>"  # the plugin's HTML, escaped by it
    assert "<Greeting Ada>" not in body.get_text()  # (not the plain text fallback)
    signed = body.select("p.signed")
    assert [p.get_text() for p in signed] == ["Greeted by knowrepo-greeting 1.0."]
    assert body.find_all("p")[-1] == signed[0]  # the body pass's line ends the body
    assert "A greeting \N{WAVING HAND SIGN} (written :wave:)." in body.get_text()  # its Markdown syntax
    assert json.loads(build(repo, greeting).stdout)["noop"] is True  # with the plugin: still a no-op


def test_upgrading_a_plugin_renders_its_pages_again(tmp_path: Path):
    python = plugin_venv(tmp_path / "venv")
    pip_install(plugin_project(tmp_path / "v1"), python)
    repo = greeting_repo(tmp_path / "repo")
    build(repo, python)
    assert page(repo).select_one("p.signed").get_text() == "Greeted by knowrepo-greeting 1.0."
    pip_install(plugin_project(tmp_path / "v2", version="2.0"), python)  # only its version changed
    result = json.loads(build(repo, python).stdout)
    assert result["noop"] is False and result["rendered"] == 1 and result["cached"] == 0
    assert page(repo).select_one("p.signed").get_text() == "Greeted by knowrepo-greeting 2.0."


def test_two_plugins_that_claim_one_output_type_stop_the_build_naming_both(tmp_path: Path):
    python = plugin_venv(tmp_path / "venv")
    pip_install(plugin_project(tmp_path / "greeting"), python)
    pip_install(plugin_project(tmp_path / "clash", version="0.3", name="knowrepo-clash"), python)
    repo = greeting_repo(tmp_path / "repo")
    proc = build(repo, python, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: plugin 'greeting' (knowrepo-greeting 1.0) registers renderer"
        f" '{GREETING}', which 'greeting' (knowrepo-clash 0.3) registered"
    ]
    assert not (repo / "_site").exists()


# ---- the registry, in-process ----------------------------------------------------------------


def noop_pass(body: str, ctx: object) -> str:
    return body


def test_a_second_registration_of_a_name_names_both_owners():
    registry = Registry()
    with registry.owned_by(Owner("a", "dist-a", "1.0")):
        registry.add_renderer("text/csv", str)
    with registry.owned_by(Owner("b", "dist-b", "2.0")), pytest.raises(KnowrepoError) as caught:
        registry.add_renderer("text/csv", repr)
    assert (
        str(caught.value)
        == "plugin 'b' (dist-b 2.0) registers renderer 'text/csv', which 'a' (dist-a 1.0) registered"
    )
    builtins.setup(fresh := Registry())
    with fresh.owned_by(Owner("p", "dist-p", "0.1")), pytest.raises(KnowrepoError) as caught:
        fresh.add_body_pass("tables", noop_pass)
    assert "registers body pass 'tables', which 'builtins' (knowrepo " in str(caught.value)


def test_every_built_in_part_is_registered_by_knowrepo_through_the_registry():
    registry = load_registry()
    assert registry.names("executor") == ["local", "dask"]
    assert [p.name for p in registry.body_passes()] == [
        "repair", "images", "floats", "crossrefs", "citations", "headings", "equations", "tables",
        "diagrams", "sanitize",
    ]  # fmt: skip
    assert [p.name for p in registry.page_passes()] == ["links", "root"]
    assert [p.name for p in registry.build_steps("render")] == ["pdf"]
    assert {"text/html", "application/vnd.plotly.v1+json", "application/vnd.vegalite.v5+json"} <= set(
        registry.names("renderer")
    )
    assert {"figure", "clip"} <= set(registry.filters()) and "tag_slug" in registry.contexts()
    syntax = registry.names("markdown")
    assert syntax[:2] == ["math", "tables"] and syntax.index("mermaid") == syntax.index("highlight") + 1
    assert syntax[-4:] == ["github-alerts", "mkdocs-admonitions", "myst-callouts", "quarto-callouts"]
    assert "myst_figure" in syntax
    assert all(owner is BUILTIN for _mime, _renderer, owner in registry.renderers_for({"text/html": ""}))


def test_passes_run_in_registration_order_moved_by_before_and_after_and_before_sanitize():
    registry = Registry()
    for name in ("repair", "headings", "tables", "sanitize"):
        registry.add_body_pass(name, noop_pass)
    with registry.owned_by(Owner("p", "dist-p", "0.1")):
        registry.add_body_pass("late", noop_pass, after="sanitize")
        registry.add_body_pass("plain", noop_pass)
        registry.add_body_pass("early", noop_pass, before="headings")
        registry.add_body_pass("after-late", noop_pass, after="late")
        registry.add_body_pass("after-tables", noop_pass, after="tables")
    assert [p.name for p in registry.body_passes()] == [
        "repair", "early", "headings", "tables", "plain", "after-tables", "sanitize", "late", "after-late",
    ]  # fmt: skip


def test_a_pass_placed_by_an_unknown_name_or_in_a_loop_is_one_line_naming_its_plugin():
    registry = Registry()
    registry.add_body_pass("tables", noop_pass)
    with registry.owned_by(Owner("p", "dist-p", "0.1")):
        registry.add_body_pass("mine", noop_pass, after="tabels")
    with pytest.raises(KnowrepoError) as caught:
        registry.check()
    assert str(caught.value) == (
        "plugin 'p' (dist-p 0.1): body pass 'mine' is placed by 'tabels', which no plugin registers"
        " (did you mean 'tables'?)"
    )
    looped = Registry()
    looped.add_page_pass("a", noop_pass, after="b")
    looped.add_page_pass("b", noop_pass, after="a")
    with pytest.raises(KnowrepoError, match="page passes placed before and after each other: 'a'"):
        looped.check()


def test_an_unknown_executor_or_stage_is_one_line_listing_the_registered_ones():
    with pytest.raises(KnowrepoError) as caught:
        load_registry().executor("dusk")
    assert str(caught.value) == "unknown executor 'dusk' (did you mean 'dask'?); registered: local, dask"
    registry = Registry()
    with registry.owned_by(Owner("p", "dist-p", "0.1")), pytest.raises(KnowrepoError) as caught:
        registry.add_build_step("mail", noop_pass, after="publish")
    assert "build step 'mail' runs after 'publish', which is no stage; stages: discover, execute" in str(
        caught.value
    )


def test_a_renderer_takes_the_context_when_it_has_a_second_parameter():
    registry = Registry()
    registry.add_renderer("a/one", lambda data: f"<p>{data}</p>")
    registry.add_renderer("a/two", lambda data, ctx: f"<p>{data} {ctx}</p>")
    found = registry.renderers_for({"a/two": "y", "a/one": "x", "text/plain": "z"})
    assert [(mime, renderer("d", "ctx")) for mime, renderer, _owner in found] == [  # type: ignore[arg-type]
        ("a/one", "<p>d</p>"),
        ("a/two", "<p>d ctx</p>"),
    ]


def test_a_plugin_that_fails_to_load_is_one_line_naming_it():
    from importlib.metadata import EntryPoint

    broken = EntryPoint("broken", "knowrepo.builtins:no_such_setup", "knowrepo.plugins")
    with pytest.raises(KnowrepoError) as caught:
        load_plugin(Registry(), broken)
    assert str(caught.value).startswith("plugin 'broken' (? ?) failed to load: AttributeError: ")


def test_a_plugins_html_is_report_html_and_a_built_in_ones_is_not_cleaned(tmp_path: Path):
    """In-process: a plugin's renderer output goes through the sanitizer; the metric tile (a
    built-in renderer) shows as knowrepo made it."""
    from knowrepo.pipeline.render.assets import AssetStore
    from knowrepo.pipeline.render.prepare import NotebookPreparer

    registry = Registry()
    builtins.setup(registry)
    with registry.owned_by(Owner("p", "dist-p", "0.1")):
        registry.add_renderer(GREETING, lambda data: f'<p class="hi">{data["name"]}<script>x()</script></p>')
    outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {GREETING: {"name": "Ada"}}},
        {"output_type": "display_data", "metadata": {}, "data": {"application/vnd.knowrepo.metric+json":
            {"name": "rows", "value": 3}, "text/plain": "rows: 3"}},
    ]  # fmt: skip
    nb = {"metadata": {}, "cells": [{"cell_type": "code", "source": "x", "metadata": {}, "outputs": outputs}]}
    preparer = NotebookPreparer(AssetStore(tmp_path), "img/", "show", "T", registry=registry)
    prepared, _images = preparer.prepare(nb)
    shown = [o["data"]["text/html"] for o in prepared["cells"][0]["outputs"]]
    assert shown[0] == '<p class="hi">Ada</p>'
    assert shown[1].startswith('<div class="kr-metric">')


def test_a_markdown_plugin_is_applied_with_md_use_after_knowrepo_s_own():
    from knowrepo.pipeline.render.markdown import markdown_syntax, render_markdown

    def shout(md, *, word: str) -> None:
        md.core.ruler.push("shout", lambda state: [
            setattr(child, "content", child.content.replace(word, word.upper()))
            for token in state.tokens for child in token.children or [] if child.type == "text"
        ])  # fmt: skip

    registry = Registry()
    builtins.setup(registry)
    with registry.owned_by(Owner("p", "dist-p", "0.1")):
        registry.add_markdown("shout", shout, {"word": "hey"})
        with pytest.raises(KnowrepoError) as caught:
            registry.add_markdown("broken", "pymdownx.magiclink")  # (a Python-Markdown name: no more)
    assert (
        str(caught.value)
        == "plugin 'p' (dist-p 0.1) registers markdown plugin 'broken' as a str, not a function"
    )
    with markdown_syntax(registry):
        assert render_markdown("hey `hey` ~~hey~~ $hey$").startswith(
            "<p>HEY <code>hey</code> <del>HEY</del> <math"
        )
