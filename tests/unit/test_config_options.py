"""knowrepo/config.py: each option is declared once, and its validation, the commands' flags,
the README's table and the render cache key are made from that declaration (issue 25)."""

from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from knowrepo.commands.group import LazyChoice, main
from knowrepo.config import (
    INVALIDATES,
    Config,
    Option,
    Value,
    declared_options,
    option,
    options_table,
    parse_config,
    toml_value,
)
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry
from knowrepo.model import Meta, Report
from knowrepo.pipeline.render.views import report_views

README = Path(__file__).resolve().parents[2] / "README.md"
OPTIONS = declared_options()
IDS = [o.key for o in OPTIONS]


def other_value(declared: Option) -> Value:
    """A valid value of the option other than its default."""
    default = declared.default
    if choices := declared.allowed():
        return next(choice for choice in choices if choice != default)
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, tuple):
        return ("other",)
    return "other@example.com"  # (a string that every str option takes: [email] sender is an address)


def config_with(declared: Option, value: Value, root: Path = Path("/repo")) -> Config:
    return parse_config(root, f"[{declared.section}]\n{declared.name} = {toml_value(value)}\n")


def error_of(text: str) -> str:
    with pytest.raises(KnowrepoError) as raised:
        parse_config(Path("/repo"), text)
    return raised.value.message


@pytest.mark.parametrize("declared", OPTIONS, ids=IDS)
def test_every_option_is_read_and_checked_by_its_declaration(declared: Option):
    value = other_value(declared)
    assert config_with(declared, value).value(declared) == value
    assert Config(Path("/repo")).value(declared) == declared.default
    section = f"[{declared.section}]\n{declared.name}"
    wrong = {str: "1", int: '"1"', bool: '"yes"', tuple: '"a.css"'}[type(declared.default)]
    wrong_type = {str: "int", int: "str", bool: "str", tuple: "str"}[type(declared.default)]
    expected = ("a " if isinstance(declared.default, tuple) else "") + declared.type_name()
    assert error_of(f"{section} = {wrong}\n") == f"{declared.key} must be {expected}, not {wrong_type}"
    if declared.minimum is not None:
        low = declared.minimum - 1
        assert (
            error_of(f"{section} = {low}\n")
            == f"{declared.key} must be at least {declared.minimum}, not {low}"
        )
    if choices := declared.allowed():
        assert (
            error_of(f'{section} = "zzz"\n')
            == f"{declared.key} must be one of {', '.join(choices)}, not 'zzz'"
        )


def test_a_number_is_not_a_bool_nor_a_bool_a_number():
    assert error_of("[execute]\ntimeout = true\n") == "[execute] timeout must be int, not bool"
    assert error_of("[site]\nsanitize = 1\n") == "[site] sanitize must be bool, not int"


def test_each_declaration_is_whole():
    """Help and kind for every option; a front-matter override names a real front-matter field."""
    meta_fields = {f.name for f in dataclasses.fields(Meta)}
    for declared in OPTIONS:
        assert declared.help.endswith(".") and declared.invalidates in INVALIDATES, declared.key
        assert not declared.front_matter or declared.front_matter in meta_fields, declared.key
        assert declared.minimum is None or type(declared.default) is int, declared.key


def test_a_section_field_without_a_declaration_is_refused():
    from knowrepo.config import _declared_in

    @dataclasses.dataclass(frozen=True)
    class Half:
        declared: int = option(1, "Declared.", "none")
        bare: int = 2

    with pytest.raises(TypeError, match=r"Half.bare is not declared with option\(\)"):
        _declared_in("half", Half)


def test_a_list_option_takes_a_list_of_strings_as_a_tuple():
    """The kind [theme] extra_css will be."""
    declared = dataclasses.replace(Option((), "Stylesheets.", "pages"), section="theme", name="extra_css")
    assert declared.read(Path("k.toml"), ["a.css", "b.css"]) == ("a.css", "b.css")
    assert declared.problem("a.css") == "[theme] extra_css must be a list of str, not str"
    assert declared.problem(["a.css", 2]) == "[theme] extra_css must be a list of str, not a list holding int"
    assert toml_value(("a.css",)) == '["a.css"]' and declared.type_name() == "list of str"


def test_choices_given_lazily_are_asked_for_when_needed_only():
    """A registry can supply an option's choices (executors from plugins) without being loaded
    when the config module or the commands are."""
    asked = []

    def supply() -> tuple[str, ...]:
        asked.append(1)
        return ("local", "dask", "k8s")

    declared = dataclasses.replace(
        Option("local", "Executor.", "none", choices=supply), section="x", name="y"
    )
    flag = LazyChoice(supply)
    assert asked == []
    assert declared.problem("k8s") is None and asked
    assert declared.problem("ray") == "[x] y must be one of local, dask, k8s, not 'ray'"

    @click.command()
    @click.option("--executor", type=flag)
    def command(executor: str) -> None:
        click.echo(f"ran on {executor}")

    assert CliRunner().invoke(command, ["--executor", "k8s"]).output == "ran on k8s\n"
    refused = CliRunner().invoke(command, ["--executor", "ray"])
    assert refused.exit_code == 2 and "'ray' is not one of 'local', 'dask', 'k8s'" in refused.output
    assert "[local|dask|k8s]" in CliRunner().invoke(command, ["--help"]).output


@pytest.mark.parametrize(
    ("command", "flag", "section", "name"),
    [
        ("build", "execute", "execute", "mode"),
        ("run", "executor", "execute", "executor"),
        ("run", "timeout", "execute", "timeout"),
        ("run", "retries", "execute", "retries"),
    ],
)
def test_flags_that_set_an_option_take_what_its_declaration_takes(command, flag, section, name):
    param = next(p for p in main.commands[command].params if p.name == flag)
    declared = next(o for o in OPTIONS if (o.section, o.name) == (section, name))
    if declared.choices or declared.registered:  # (registered: the executors, the registry's names)
        assert isinstance(param.type, click.Choice)
        assert param.type.choices == declared.allowed(load_registry)
    else:
        assert isinstance(param.type, click.IntRange) and param.type.min == declared.minimum


@pytest.mark.filterwarnings("ignore:'knowrepo.config' found in sys.modules")  # (runpy: as -m runs it)
def test_the_readme_holds_the_options_table_as_printed(capsys: pytest.CaptureFixture[str]):
    """`python -m knowrepo.config` prints the table; the README holds exactly that."""
    runpy.run_module("knowrepo.config", run_name="__main__")
    printed = capsys.readouterr().out
    assert printed == options_table()
    readme = README.read_text(encoding="utf-8")
    held = readme.split("<!-- options table: begin -->\n", 1)[1].split("<!-- options table: end -->", 1)[0]
    assert held == printed, "README.md's options table is stale: replace it by `python -m knowrepo.config`"
    for declared in OPTIONS:
        assert f"| `{declared.key}` |" in printed


def _views(config: Config, meta: Meta, tmp_path: Path):
    report = Report("a", "reports/a.md", "markdown", meta, "source-hash", "2026-01-01")
    return report_views(tmp_path, config, report, None, "fingerprint", tmp_path / "assets")["source"]


@pytest.mark.parametrize("declared", OPTIONS, ids=IDS)
def test_the_render_key_changes_when_and_only_when_a_render_option_does(declared: Option, tmp_path: Path):
    """And a body's job changes only with its key: every option the renderer reads is declared
    `render` (else an edit of it would show a stale body)."""
    meta = Meta(title="A")
    before = _views(Config(tmp_path), meta, tmp_path)
    after = _views(config_with(declared, other_value(declared), tmp_path), meta, tmp_path)
    assert (after.key != before.key) == (declared.invalidates == "render")
    assert after.job == before.job or after.key != before.key


def test_a_reports_own_code_enters_its_render_key_as_the_option_would(tmp_path: Path):
    site_fold = parse_config(tmp_path, '[site]\ncode = "fold"\n')
    plain = _views(Config(tmp_path), Meta(title="A"), tmp_path)
    own_fold = _views(Config(tmp_path), Meta(title="A", code="fold"), tmp_path)
    assert own_fold.key != plain.key and own_fold.job != plain.job
    assert own_fold.key == _views(site_fold, Meta(title="A"), tmp_path).key  # the value shown decides
    assert _views(site_fold, Meta(title="A", code="show"), tmp_path).key == plain.key
