"""Runs people can rely on (issue 13): a deliberate rerun is what the site publishes, a code
edit keeps its overrides, and a failing variant is said by every build until it succeeds.
Real kernels, real builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo, write_notebook

TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
CODE = (
    "from IPython.display import display\nprint('month is', month)\n"
    "display({'application/vnd.knowrepo.metric+json': {'name': 'letters', 'value': len(month)}}, raw=True)\n"
    f"display({{'image/png': '{TINY_PNG}', 'text/plain': 'a figure'}}, raw=True)\n"
    "if fail: raise ValueError('asked to fail')"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reruns") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Reruns"\n')
    write_notebook(
        root / "reports/monthly.ipynb",
        [
            ("markdown", "# Monthly\n\nThe month."),
            ("code", 'month: str = "2026-10"\nfail = False', ["parameters"]),
            ("code", CODE),
        ],
        front="title: Monthly",
    )
    run_knowrepo("build", str(root))
    return root


def build_json(repo: Path, *args: str) -> tuple[dict, str, int]:
    proc = run_knowrepo("build", str(repo), "--json", *args, check=False)
    return json.loads(proc.stdout), proc.stderr, proc.returncode


def page(repo: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site" / path).read_text(), "html.parser")


def test_a_rerun_with_new_parameters_is_published_and_no_build_undoes_it(repo: Path):
    proc = run_knowrepo("run", "monthly", "-p", "month=2026-11", cwd=repo)
    assert "The site shows these runs after `knowrepo build` (or run with --build)" in proc.stderr
    for _ in range(2):
        result, _err, code = build_json(repo)
        assert code == 0 and result["executed"] == 0, result
        assert "2026-11" in page(repo, "monthly/index.html").select_one(".run-info").get_text()
    runs = sorted((repo / "runs/monthly/default").iterdir())
    assert len(runs) == 2
    history = page(repo, "monthly/runs/index.html")
    published = [row for row in history.select("tbody tr") if row.select_one(".published-badge")]
    assert len(published) == 1 and runs[1].name in str(published[0])
    old = page(repo, f"monthly/runs/{runs[0].name}/index.html").select_one(".run-notice")
    assert old is not None and runs[1].name in old.get_text() and "not the published run" in old.get_text()


def test_a_code_edit_reruns_with_the_overrides_of_the_published_run(repo: Path):
    source = repo / "reports/monthly.ipynb"
    nb = json.loads(source.read_text())
    nb["cells"][-1]["source"] = CODE + "\nprint('edited')"
    source.write_text(json.dumps(nb))
    proc = run_knowrepo("build", str(repo))
    err = proc.stderr
    assert "(1 executed," in err
    assert (
        "the code or inputs changed since run" in err
        and "rerunning it with its overrides (month=2026-11)" in err
    )
    newest = sorted((repo / "runs/monthly/default").iterdir())[-1]
    record = json.loads((newest / "run.json").read_text())
    assert record["params"]["month"] == "2026-11" and record["origin"]["overrides"] == ["month"]
    assert "edited" in page(repo, "monthly/index.html").select_one(".report-body").get_text()


def test_a_failed_latest_run_is_said_by_every_build_until_one_succeeds(repo: Path, tmp_path: Path):
    run_knowrepo("run", "monthly", "-p", "fail=true", cwd=repo, check=False)
    for _ in range(2):  # the second build has nothing to do, and still says so
        result, err, code = build_json(repo)  # (it failed nothing itself: exit 0, E244)
        assert code == 0 and len(result["failed_runs"]) == 1 and result["runs_failed"] == 0, result
        assert "reports/monthly.ipynb [default]: the latest run" in result["failed_runs"][0]
        assert "cell 4: ValueError: asked to fail" in result["failed_runs"][0]
    proc = run_knowrepo("build", str(repo), check=False)
    line = "1 variant's latest run failed (reports/monthly.ipynb [default]): knowrepo runs --failed shows why"
    assert proc.returncode == 0 and line in proc.stderr.splitlines()
    card = page(repo, "index.html").select_one("article.card")
    assert "Latest run failed" in card.get_text()
    assert (
        "2026-11" in page(repo, "monthly/index.html").select_one(".run-info").get_text()
    )  # the last good run
    proc = run_knowrepo("pdf", "monthly", "-o", str(tmp_path / "m.pdf"), cwd=repo, check=False)
    refused = "failed: cell 4: ValueError: asked to fail; --last-good uses its last successful run"
    assert proc.returncode == 1 and refused in proc.stderr
    run_knowrepo("pdf", "monthly", "--last-good", "-o", str(tmp_path / "m.pdf"), cwd=repo)
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    proc = run_knowrepo(
        "run", "monthly", "-p", "month=2026-12", "--build", cwd=repo
    )  # succeeds: the site says so
    assert "Site:" in proc.stdout
    result, _err, code = build_json(repo)
    assert code == 0 and result["failed_runs"] == [] and result["noop"]


def test_command_line_values_are_read_as_papermill_reads_them():
    from knowrepo.errors import KnowrepoError
    from knowrepo.pipeline.execute.params import Param, coerce

    cases = [
        (str, "yes", "yes"), (str, "2026-13-01", "2026-13-01"), (int, "08", 8), (float, "1e3", 1000.0),
        (bool, "no", False), (bool, "TRUE", True), (list, "[1, 2]", [1, 2]), (None, "True", True),
        (None, "None", None), (None, "08", 8), (None, "3.5", 3.5), (None, "2026-10-01", "2026-10-01"),
        (None, "yes", "yes"),
    ]  # fmt: skip
    for kind, text, expected in cases:
        assert coerce("r.ipynb", Param("p", kind, None, ""), text, True) == expected, (kind, text)
    with pytest.raises(KnowrepoError, match="parameter 'p' must be int, not 'x'"):
        coerce("r.ipynb", Param("p", int, 0, "0"), "x", True)


def test_the_page_shows_the_values_the_notebook_ran_with_and_runs_never_cuts_an_id(repo: Path):
    proc = run_knowrepo("run", "monthly", "-r", "month=08", "--build", cwd=repo)
    assert proc.returncode == 0
    body = page(repo, "monthly/index.html").select_one(".report-body")
    label = body.select_one(".injected-label")
    assert label is not None and 'month = "08"' in label.find_parent(class_="input").get_text()
    header, *listing = run_knowrepo("runs", "monthly", cwd=repo).stdout.splitlines()  # a pipe: aligned
    ids = sorted(p.name for p in (repo / "runs/monthly/default").iterdir())
    assert header.split()[:2] == ["RUN", "ID"] and sorted(line.split()[0] for line in listing) == ids


def test_stale_data_is_flagged_until_a_rerun(tmp_path: Path):
    import os

    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text("")
    (root / "reports/sales.csv").write_text("month,revenue\n10,1\n")
    write_notebook(
        root / "reports/sales.ipynb",
        [("markdown", "# Sales"), ("code", "print(open('sales.csv').read())")],
        front="title: Sales\ninputs: [sales.csv]\nmax_age: 35d",
    )
    run_knowrepo("build", str(root))
    assert not page(root, "sales/index.html").select(".run-stale")
    (root / "reports/sales.csv").write_text("month,revenue\n10,1\n11,2\n")
    run_knowrepo("build", str(root), "--execute", "never")
    notice = page(root, "sales/index.html").select_one(".run-stale").get_text()
    assert "inputs changed since this run (reports/sales.csv)" in notice
    assert "Stale: inputs changed" in page(root, "index.html").select_one("article.card").get_text()
    run_knowrepo("build", str(root))  # auto: the changed input reruns it
    assert not page(root, "sales/index.html").select(".run-stale")
    later = {**os.environ, "KNOWREPO_NOW": "2099-01-01T00:00:00"}
    import subprocess
    import sys

    command = [sys.executable, "-m", "knowrepo", "build", str(root), "--execute", "never"]
    subprocess.run(command, env=later, check=True, capture_output=True)
    notice = page(root, "sales/index.html").select_one(".run-stale").get_text()
    assert "days old (max_age 35d)" in notice


def test_schedules_run_what_fell_due_once_with_dates_in_their_parameters(tmp_path: Path):
    import os
    import subprocess
    import sys

    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text("")
    write_notebook(
        root / "reports/monthly.ipynb",
        [("code", 'month = "2000-01"\nfail = False', ["parameters"]), ("code", CODE)],
        front=(
            "title: Monthly\nparams: {month: '{{ run_date | previous_month }}'}\n"
            "variants: {eu: {}, bad: {fail: true}}\n"
            "schedule: {cron: '0 6 2 * *', timezone: Europe/Berlin, variants: {bad: '0 7 2 * *'}}"
        ),
    )

    def due(now: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "KNOWREPO_NOW": now}
        return subprocess.run([sys.executable, "-m", "knowrepo", "run", "--due"], cwd=root, env=env,
                              capture_output=True, text=True)  # fmt: skip

    def runs(variant: str) -> list[dict]:
        folder = root / "runs/monthly" / variant
        return (
            [json.loads(p.read_text()) for p in sorted(folder.glob("*/run.json"))] if folder.is_dir() else []
        )

    first = due("2026-11-05T12:00:00")
    assert first.returncode == 1  # the bad variant failed
    assert "reports/monthly.ipynb [eu]: due since 2026-11-02 05:00 UTC" in first.stderr  # 06:00 in Berlin
    assert [r["params"]["month"] for r in runs("eu")] == ["2026-10"]
    assert runs("eu")[0]["origin"] == {
        "by": "schedule",
        "due": "2026-11-02T05:00:00+00:00",
        "run_date": "2026-11-02",
    }
    again = due("2026-11-20T12:00:00")  # nothing new fell due; the failed one waits for its next time
    assert again.returncode == 0 and "Nothing is due." in again.stderr
    assert len(runs("eu")) == 1 and len(runs("bad")) == 1
    later = due("2027-02-10T12:00:00")  # three months of downtime: one run each, not three
    assert [r["params"]["month"] for r in runs("eu")] == ["2026-10", "2027-01"]
    assert len(runs("bad")) == 2 and later.returncode == 1
    build = run_knowrepo("build", str(root), "--json", "--allow-failed-runs")
    assert json.loads(build.stdout)["executed"] == 0  # a build never reruns because the month turned


def test_two_runs_side_by_side_from_the_history_page(repo: Path, browser):
    from conftest import serving

    history = page(repo, "monthly/runs/index.html")
    link = history.select_one("a[href*='compare/']")["href"]
    with serving(repo / "_site") as base:
        context = browser.new_context()  # under the site's own Content-Security-Policy
        tab = context.new_page()
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.goto(base + "monthly/runs/" + link)
        tab.locator(".compare-row").first.wait_for(timeout=15_000)
        params = tab.locator("#compare-params").inner_text()
        outputs = tab.locator("#compare-outputs").inner_text()
        metrics = tab.locator("#compare-metrics").inner_text()
        images = tab.locator("#compare-outputs img").count()
        align = "e => getComputedStyle(e).textAlign"
        figure_aligns = [
            tab.locator("#compare-metrics tr").nth(i).locator("td, th").nth(1).evaluate(align) for i in (0, 1)
        ]
        month_align = tab.locator("#compare-params tr", has_text="month").locator("td").first.evaluate(align)
        styled = tab.locator(".compare-side.report-body").count()
        context.close()
    assert figure_aligns == ["right", "right"] and month_align == "left"  # numbers (and headers) only
    assert styled >= 2  # outputs styled as on the runs' own pages
    assert problems == []
    assert "letters" in metrics
    assert images >= 2  # the figure of each run, side by side
    month_row = next(line for line in params.splitlines() if line.startswith("month"))
    assert len(set(month_row.split("\t")[1:])) == 2  # the two runs ran different months
    assert outputs.count("month is") == 2


def test_due_runs_are_built_and_emailed_in_one_cron_line(tmp_path: Path):
    import os
    import subprocess
    import sys

    from aiosmtpd.controller import Controller
    from test_pdf_email import Inbox, free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        root = tmp_path / "repo"
        (root / "reports").mkdir(parents=True)
        (root / "knowrepo.toml").write_text(
            f'[email]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n'
            'sender = "kr@example.com"\n'
        )
        write_notebook(
            root / "reports/weekly.ipynb",
            [("code", 'month = "x"\nfail = False', ["parameters"]), ("code", CODE)],
            front="title: Weekly\nparams: {month: '{{ run_date | iso }}'}\nschedule: '0 7 * * 1'\n"
            "email: {to: [lead@example.com]}",
        )
        env = {**os.environ, "KNOWREPO_NOW": "2026-11-04T09:00:00"}
        command = [sys.executable, "-m", "knowrepo", "run", "--due", "--build", "--email"]
        proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "Site:" in proc.stdout and (root / "_site/weekly/index.html").is_file()
        assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["lead@example.com"]
        import email
        from email import policy

        text = email.message_from_bytes(inbox.messages[0][1], policy=policy.default).get_body(("plain",))
        assert "Run of " in text.get_content() and "month=2026-11-02" in text.get_content()  # the due Monday
    finally:
        controller.stop()
