"""Provenance, its pure parts: the command a run by hand records (private values masked, E251),
the question asked of a kernel and its answer, the checks on the new record fields (E250), and
what a page says of a run recorded before them (E252, E253)."""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from knowrepo.model import Run
from knowrepo.pipeline.assemble.provenance import (
    due_text,
    origin_choices,
    origin_kind,
    provenance,
    run_linker,
)
from knowrepo.pipeline.execute.imported import (
    AFTER_SOURCE,
    BEFORE_SOURCE,
    IMPORTED_KEY,
    answer_of,
    expression,
    kernel_version,
    packages_of,
    without_answer,
)
from knowrepo.pipeline.execute.origin import typed_command
from knowrepo.pipeline.execute.runstore import new_run_id, record_problem

TEMPLATES = Path(__file__).resolve().parents[2] / "themes" / "default" / "templates"


def run(**fields: Any) -> Run:
    return Run(None, "20261126T082831.655Z-0cc365", "p", "default", "reports/p.ipynb", "ok", **fields)


@pytest.mark.parametrize(
    ("argv", "typed"),
    [
        (["run", "p", "-p", "month=2026-11"], "knowrepo run p -p month=2026-11"),
        (["run", "p", "-p", "token=ab"], "knowrepo run p -p 'token=***'"),  # (too short to scrub)
        (["run", "p", "-ptoken=ab", "-r", "token = x y"], "knowrepo run p '-ptoken=***' -r 'token =***'"),
        (
            ["run", "p", "--param=token=ab", "--raw=token=cd"],
            "knowrepo run p '--param=token=***' '--raw=token=***'",
        ),
        (["run", "p", "-p", "note=the long-secret-text"], "knowrepo run p -p 'note=the ***'"),
        (["run", "p", "--params-file", "token=x.yaml"], "knowrepo run p --params-file token=x.yaml"),
    ],
)
def test_E251_a_command_typed_by_hand_is_recorded_with_private_values_masked(argv: list[str], typed: str):
    assert typed_command(argv, ("token",), ["long-secret-text"]) == typed


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"packages": ["pandas"]}, "'packages' must be an object of text"),
        ({"packages": {"pandas": 3}}, "'packages' must be an object of text"),
        ({"origin": {"by": "run", "command": ["knowrepo"]}}, "'origin.command' must be text"),
    ],
)
def test_E250_the_provenance_fields_of_a_run_record_are_checked(fields: dict[str, Any], problem: str):
    run_id = new_run_id()
    record = {**Run(None, run_id, "p", "default", "reports/p.ipynb", "ok").to_json(), **fields}
    assert record_problem(record, run_id) == problem
    assert record_problem({**record, **{key: {} for key in fields}}, run_id) is None


def test_each_origin_has_its_kind_and_a_scheduled_run_its_due_time_in_utc():
    assert origin_kind({"by": "schedule", "due": "2026-11-02T07:00:00+01:00"}) == "schedule"
    assert origin_kind({"by": "run"}) == "hand"
    assert origin_kind({"by": "run", "from": "20261126T082831.655Z-0cc365"}) == "rerun"
    assert origin_kind({"by": "build"}) == "build"
    assert origin_kind({"by": "scratch"}) == "scratch" and origin_kind({}) == ""
    assert due_text({"due": "2026-11-02T07:00:00+01:00"}) == "2026-11-02 06:00 UTC"
    assert due_text({"due": "soon"}) == due_text({}) == ""
    runs = [
        run(origin={"by": "run"}),
        run(origin={"by": "schedule"}),
        run(origin={}),
        run(origin={"by": "x"}),
    ]
    assert [c["label"] for c in origin_choices(runs)] == ["schedule", "by hand", "x"]


def test_E253_a_rerun_of_a_pruned_run_names_it_without_a_link():
    href_of = run_linker("p/runs/a/index.html", "p", frozenset({"20261101T000000.000Z-aaaaaa"}))
    kept = provenance(run(origin={"by": "run", "from": "20261101T000000.000Z-aaaaaa"}), href_of)
    gone = provenance(run(origin={"by": "run", "from": "20261001T000000.000Z-bbbbbb"}), href_of)
    assert kept["from"] == {"id": "20261101T000000.000Z-aaaaaa", "href": "../20261101T000000.000Z-aaaaaa/"}
    assert gone["from"] == {"id": "20261001T000000.000Z-bbbbbb", "href": ""}


def test_E252_a_run_recorded_before_provenance_shows_a_dash_for_each_fact():
    from jinja2 import Environment, FileSystemLoader  # (the theme's own engine)

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    macros = env.get_template("provenance.html").module
    old = Run.from_json(None, {"id": "20261126T082831.655Z-0cc365", "status": "ok"})
    facts = str(macros.provenance_list(provenance(old, lambda _id: "")))  # type: ignore[attr-defined]
    assert facts.count('<span class="muted">—</span>') == 4, facts
    new = run(
        origin={"by": "run", "command": "knowrepo run p -p 'x=<b>'"},
        git={"commit": "0123456789abcdef", "dirty": True},
        kernel="python3",
        versions={"kernel": "python 3.11.7"},
        packages={"pandas": "3.1.1", "Babel": "2.17.0"},
    )
    facts = str(macros.provenance_list(provenance(new, lambda _id: "")))  # type: ignore[attr-defined]
    assert "—" not in facts and "<code>0123456</code>" in facts and "uncommitted changes" in facts
    assert "x=&lt;b&gt;" in facts and "python3 · python 3.11.7" in facts
    assert facts.index("Babel") < facts.index("pandas")  # (by name, whatever the case)


def test_the_kernel_s_answer_is_read_and_kept_out_of_the_stored_notebook():
    nb = {
        "metadata": {
            IMPORTED_KEY: {"pandas": "3.1.1"},
            "language_info": {"name": "python", "version": "3.11.7"},
        }
    }
    assert packages_of(nb) == {"pandas": "3.1.1"} and packages_of({"metadata": {IMPORTED_KEY: "x"}}) == {}
    assert IMPORTED_KEY not in without_answer(nb)["metadata"] and IMPORTED_KEY in nb["metadata"]
    assert kernel_version(nb) == {"kernel": "python 3.11.7"} and kernel_version({}) == {}
    reply = {
        "content": {"user_expressions": {"out": {"status": "ok", "data": {"text/plain": repr('{"a": "1"}')}}}}
    }
    assert answer_of(reply) == {"a": "1"}
    assert answer_of({"content": {"user_expressions": {"out": {"status": "error"}}}}) is None
    assert answer_of(None) is None


def test_the_question_names_the_packages_imported_since_it_was_first_asked_and_no_stdlib():
    """The two questions, asked of this interpreter as a kernel would be. The first answer is
    taken without three packages this process holds, as if the notebook imported them after:
    each is named with its distribution's version (found by its own name, by top_level.txt, or
    by its file list), and no standard module is."""
    imported = {"yaml": "PyYAML", "dateutil": "python-dateutil", "markdown_it": "markdown-it-py"}
    for module in imported:
        importlib.import_module(module)
    namespace: dict[str, Any] = {}
    before = json.loads(eval(expression(BEFORE_SOURCE), namespace))  # noqa: S307 - the kernel's question
    assert {"sys", "yaml", "markdown_it"} <= set(before)
    since = [top for top in before if top not in imported and top not in {"json", "os"}]
    answer = json.loads(eval(expression(AFTER_SOURCE, BEFORE=since, LIMIT=200), namespace))  # noqa: S307
    for dist in imported.values():
        assert answer[dist] == metadata.version(dist), (dist, answer)
    assert not {"json", "os"} & {name.lower() for name in answer}
    assert namespace.keys() <= {"__builtins__"}  # (nothing left in the notebook's namespace)
