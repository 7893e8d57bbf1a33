"""Second trust pass (issue 24): private values never leave the kernel, and schedules and their
templates never take a run down. Rows E130-E139 of docs/errors.md."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import subprocess
from pathlib import Path

import pytest
from test_trust import assert_one_line_for, md, write

from conftest import run_knowrepo, write_notebook
from knowrepo.support.secrets import secrets_of

# ---- private values ------------------------------------------------------------------------------

# Each private value, by where it is set; each has a core no other text holds.
SECRETS = {
    "front": "s3cr3t-front-Ä&<x>",  # front matter params (escaped differently in JSON, HTML, URLs)
    "variant": "s3cr3t-variant-42",  # one variant's parameter set
    "cli": "s3cr3t-cli-π/?",  # -p on the command line
    "dated": "{{ run_date | iso }}-s3cr3t-dated",  # a date template
    "markdown": "s3cr3t-markdown",  # a Markdown report's front matter
    "script": "s3cr3t-script",  # a jupytext percent script's header
    "post": "s3cr3t-knowledge-post",  # a knowledge-repo post
    "unused": "s3cr3t-never-run",  # a variant that only a build runs (a block scalar)
}
CORES = ["s3cr3t-front", "s3cr3t-variant", "s3cr3t-cli", "s3cr3t-dated", "s3cr3t-markdown",
         "s3cr3t-script", "s3cr3t-knowledge", "s3cr3t-never"]  # fmt: skip


def _forms() -> list[str]:
    """Every form of every secret (as it is, repr'd, JSON-, HTML-escaped, URL-quoted), and the
    core of each (what a template's value or a partial echo would show)."""
    values = {f"v{n}": value for n, value in enumerate(SECRETS.values())}
    return sorted({*secrets_of(values, tuple(values)), *CORES})


def _secret_repo(base: Path) -> Path:
    repo = base / "repo"
    write(repo / "knowrepo.toml", '[site]\nbase_url = "https://kb.example.com/kr/"\n')
    front = f"""
title: Leaky
summary: Parameters that are private.
private_params: [token, stamp]
params: {{token: {json.dumps(SECRETS["front"])}, stamp: "{SECRETS["dated"]}"}}
variants:
  eu: {{region: EU}}
  us: {{region: US, token: {SECRETS["variant"]}}}
  apac:
    region: APAC
    token: |
      {SECRETS["unused"]}
"""
    write_notebook(
        repo / "reports/leak.ipynb",
        [
            ("code", 'token = "x"\nregion = "EU"\nstamp = ""', ["parameters"]),
            ("code", "print(len(token), region, len(stamp))"),
        ],
        front=front,
    )
    write(
        repo / "reports/notes.md",
        md(  # (private_params as one string of names: a short value is masked by its place too)
            f"title: Notes\nprivate_params: ' pin, token'\n"
            f"params:\n  token: {SECRETS['markdown']}\n  pin: '007'",
            "Prose.\n",
        ),
    )
    write(
        repo / "reports/script.py",
        "# ---\n# title: Script\n# private_params: [token]\n"
        f"# params: {{token: {SECRETS['script']}}}\n# ---\n\n"
        '# %% tags=["parameters"]\ntoken = "x"\n\n# %%\nprint(len(token))\n',
    )
    write(
        repo / "reports/post.kp/knowledge.md",
        md(f"title: Post\nprivate_params: [key]\nparams: {{key: {SECRETS['post']}}}", "A post.\n"),
    )
    return repo


def _texts_of(path: Path) -> list[str]:
    """What a file holds as text: itself, and what it holds compressed (the search index's
    gzip files, a PDF's text, an email's parts and attachments)."""
    data = path.read_bytes()
    texts = [data.decode(errors="replace")]
    if data[:2] == b"\x1f\x8b":
        texts.append(gzip.decompress(data).decode(errors="replace"))
    if data[:5] == b"%PDF-":
        texts.append(_pdf_text(data))
    if path.suffix == ".eml":
        message = email.message_from_bytes(data, policy=email.policy.default)
        for part in message.walk():
            payload = part.get_payload(decode=True) or b""
            texts.append(_pdf_text(payload) if payload[:5] == b"%PDF-" else payload.decode())
    return texts


def _pdf_text(data: bytes) -> str:
    proc = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return proc.stdout.decode()


def _leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    forms = _forms()
    return [(where, form) for where, text in texts.items() for form in forms if form in text]


def test_E130_no_private_value_in_any_byte_written_or_printed(tmp_path: Path):
    """E130 of docs/errors.md: private values set in front matter params, a variant, a date
    template, -p, in Markdown, a percent script and a knowledge-repo post reach no file knowrepo
    writes (site, downloads, search index, feed, PDFs, emails, run records, .knowrepo/) and no
    byte it prints."""
    repo = _secret_repo(tmp_path)
    printed: dict[str, str] = {}

    def knowrepo(*args: str, check: bool = True) -> None:
        proc = run_knowrepo(*args, cwd=repo, check=check)
        printed[" ".join(args)] = proc.stdout + proc.stderr

    knowrepo("run", "leak", "--variant", "eu", "--variant", "us", "-p", f"token={SECRETS['cli']}", "--json")
    knowrepo("run", "leak", "--variant", "us", "--force", "-v", "--json")
    knowrepo("run", "script", "--json")
    knowrepo("build", "--pdf", "--json")
    knowrepo("build", "--pdf", "-v")
    knowrepo("runs", "--json")
    knowrepo("runs")
    knowrepo("check", "--json", check=False)
    knowrepo("email", "leak", "--to", "a@example.com", "--dry-run", "-o", str(tmp_path / "mail"))
    written = {
        f"{path} ({n})": text
        for folder in (repo, tmp_path / "mail")
        for path in folder.rglob("*")
        if path.is_file() and "reports" not in path.relative_to(folder).parts
        for n, text in enumerate(_texts_of(path))
    }
    assert [p for p in written if ".pf_fragment (1)" in p] and [p for p in written if ".pdf (1)" in p]
    assert [p for p in written if "/leak/leak.ipynb" in p] and [p for p in written if ".eml (" in p]
    assert _leaks(printed) == []
    leaked = sorted({f"{where}: {form}" for where, form in _leaks(written)})
    assert leaked == [], "\n".join(leaked)
    # What is published in their place: each download still says which values are private.
    download = next(p for p in (repo / "_site/leak").iterdir() if p.name.startswith("leak.ipynb"))
    front = json.loads(download.read_text())["cells"][0]["source"]
    assert "token: '***'" in "".join(front) or 'token: "***"' in "".join(front)
    assert "region: US" in "".join(front) and "title: Leaky" in "".join(front)
    notes = (repo / "_site/notes/notes.md").read_text()
    assert 'token: "***"' in notes and 'pin: "***"' in notes and "007" not in notes


def test_E131_E132_bad_private_values_are_named_never_shown(tmp_path: Path):
    """E131: a private value that fails (a template that cannot be evaluated, a key that is not
    text, the wrong type in front matter or a --params-file) is named without its value. E132: a
    private parameter in a variants matrix (its values would name the variants, in URLs) is
    refused in one line."""
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    cells = [("code", 'token = "x"\npin = 1234\ncreds = {}', ["parameters"]), ("code", "print(pin)")]
    fronts = {
        "template": 'private_params: [token]\nparams: {token: "{{ run_date | nosuch }}-s3cr3t-tmpl"}',
        "syntax": 'private_params: [token]\nparams: {token: "{{ run_date }}-s3cr3t-syntax {% if %}"}',
        "keyed": "private_params: [creds]\nparams: {creds: {98765432: s3cr3t-keyed}}",
        "typed": "private_params: [pin]\nparams: {pin: s3cr3t-typed}",
        "matrix": "private_params: [token]\nvariants: {matrix: {token: [s3cr3t-matrix, other-one]}}",
        # the same, private_params written as one string of names
        "template2": 'private_params: "pin, token"\nparams: {token: "{{ run_date | nosuch }}-s3cr3t-tmpl2"}',
        "matrix2": "private_params: 'token '\nvariants: {matrix: {token: [s3cr3t-matrix2, other-one]}}",
    }
    for name, front in fronts.items():
        write_notebook(repo / f"reports/{name}.ipynb", cells, front=front)
    write_notebook(repo / "reports/fine.ipynb", cells, front="private_params: [pin]")
    values = write(tmp_path / "values.yaml", "pin: s3cr3t-file\n")
    printed = {}
    for args in (("check",), ("build",), ("run", "--all"), ("run", "fine", "--params-file", str(values))):
        proc = run_knowrepo(*args, cwd=repo, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        printed[" ".join(args)] = proc.stdout + proc.stderr
    lines = [line for text in printed.values() for line in text.splitlines()]
    assert [line for line in lines if "s3cr3t" in line or "98765432" in line] == []
    build = printed["build"]
    private = "the value is private: not shown"
    assert_one_line_for(
        build, "reports/template.ipynb", "parameter 'token'", "unknown filter or test", private
    )
    assert_one_line_for(build, "reports/syntax.ipynb", "parameter 'token'", "a syntax error", private)
    assert_one_line_for(build, "reports/keyed.ipynb", "'params.creds' has the key ***")
    assert_one_line_for(build, "reports/typed.ipynb", "parameter 'pin' must be int (the value is private")
    for name in ("matrix", "matrix2"):
        assert_one_line_for(
            build,
            f"reports/{name}.ipynb",
            "the private parameter 'token' cannot be a key of the variants matrix",
        )
    assert_one_line_for(build, "reports/template2.ipynb", "parameter 'token'", private)
    assert f"parameter 'pin' must be int ({private})" in printed[f"run fine --params-file {values}"]
    check = printed["check"]
    for name in fronts:
        assert f"reports/{name}.ipynb:" in check


# ---- schedules and their templates ---------------------------------------------------------------

PARAMS_CELL = [("code", 'month = "x"', ["parameters"]), ("code", "print(month)")]


def _knowrepo_limited(repo: Path, *args: str, now: str = "2026-11-15T12:00") -> subprocess.CompletedProcess:
    """knowrepo with KNOWREPO_NOW and at most 3 GB of memory (a template that asks for 4 GB
    fails at once instead of swapping the machine), within 5 minutes."""
    import os
    import resource
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    env = {**os.environ, "KNOWREPO_NOW": now}
    return subprocess.run([sys.executable, "-m", "knowrepo", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=limit)  # fmt: skip


def _schedule_repo(base: Path, bad: dict[str, str]) -> Path:
    """A repository of one good scheduled report and the `bad` ones (name -> front matter)."""
    repo = base / "repo"
    write(repo / "knowrepo.toml", "")
    good = "schedule: '0 6 * * *'\nparams: {month: '{{ run_date | month }}'}"
    for name, front in {"good": good, **bad}.items():
        write_notebook(repo / f"reports/{name}.ipynb", PARAMS_CELL, front=front)
    return repo


def _assert_each_named(proc: subprocess.CompletedProcess, expected: dict[str, str]) -> None:
    assert "Traceback" not in proc.stderr and "unexpectedly" not in proc.stderr, proc.stderr[-2000:]
    for name, fragment in expected.items():
        assert_one_line_for(proc.stderr, f"reports/{name}.ipynb", fragment)


def test_E133_a_cron_line_that_never_fires_is_refused(tmp_path: Path):
    """E133 of docs/errors.md: `0 0 30 2 *` (and a variant's `0 0 31 4 *`) is a valid cron line
    that never fires: refused when the front matter is read, in one line; check lists both."""
    repo = _schedule_repo(tmp_path, {
        "february": "schedule: '0 0 30 2 *'",
        "april": "variants: {eu: {}, us: {}}\nschedule: {cron: '0 6 * * *', variants: {us: '0 0 31 4 *'}}",
        # a time zone that names a folder of zones, or a name longer than a file name may be
        "folder": "schedule: {cron: '0 6 * * *', timezone: Europe}",
        "longzone": f"schedule: {{cron: '0 6 * * *', timezone: {'a' * 5000}}}",
    })  # fmt: skip
    check = _knowrepo_limited(repo, "check")
    assert check.returncode == 1 and "Traceback" not in check.stderr
    assert "reports/february.ipynb:2: schedule '0 0 30 2 *' never fires" in check.stdout
    assert "reports/april.ipynb:3: schedule '0 0 31 4 *' never fires" in check.stdout
    due = _knowrepo_limited(repo, "run", "--due")
    assert due.returncode == 1
    zone = "schedule timezone"
    _assert_each_named(
        due, {"february": "never fires", "april": "never fires", "folder": zone, "longzone": zone}
    )
    assert (repo / "runs/good/default").is_dir()  # the good report ran all the same


BAD_TEMPLATES = {
    "zero": "{{ 1//0 }}",
    "huge": "{{ 'x' * 4000000000 }}",
    "power": "{{ 2 ** 100000000 }}",
    "loops": "{% for a in 'x'*9999 %}{% for b in 'x'*9999 %}{% for c in 'x'*99 %}{% endfor %}"
    "{% endfor %}{% endfor %}",
    "padded": "{{ 'x'.center(4000000000) }}",
    "long": "{{ run_date | month }}" + " " * 5000,
    # nested lists share their items: each is short, comparing them is 10^12 steps
    "nested": "{{ [[[1]*9999]*9999]*9999 == [[[1]*9999]*9999]*9999 }}",
    "nested-text": "{{ [['x'*9999]*9999]*9999 }}",
}


def test_E134_templates_are_bounded_and_one_bad_report_stops_no_other(tmp_path: Path):
    """E134 of docs/errors.md: a parameter template that divides by zero, builds 4 GB of text,
    a 100-million-bit integer, loops a billion times, pads to 4 GB or is 5 kB long is one line
    each, in a second: check lists every one, build and `run --due` run the good report."""
    fronts = {
        name: f"schedule: '0 6 * * *'\nparams: {{month: {json.dumps(template)}}}"
        for name, template in BAD_TEMPLATES.items()
    }
    repo = _schedule_repo(tmp_path, fronts)
    check = _knowrepo_limited(repo, "check")
    assert check.returncode == 1 and "Traceback" not in check.stderr and "unexpectedly" not in check.stderr
    for name in BAD_TEMPLATES:
        assert f"reports/{name}.ipynb: parameter 'month': cannot evaluate" in check.stdout, check.stdout
    due = _knowrepo_limited(repo, "run", "--due")
    assert due.returncode == 1
    _assert_each_named(due, dict.fromkeys(BAD_TEMPLATES, "parameter 'month': cannot evaluate"))
    assert (repo / "runs/good/default").is_dir()
    assert "it builds a text or list of more than 10,000 items" in due.stderr  # what was refused
    assert "it uses {% for %}" in due.stderr and "ZeroDivisionError" in due.stderr
    assert "it writes a list, tuple or mapping" in due.stderr


THIRTY_FIRST = {
    "thirty-first": "schedule: '0 6 * * *'\nparams: {month: '{{ run_date.replace(day=31) | iso }}'}"
}


def test_E135_a_clock_at_the_ends_of_the_calendar_fails_each_scheduled_report(tmp_path: Path):
    """E135 of docs/errors.md: KNOWREPO_NOW at the ends of the calendar (0001-01-01,
    9999-12-31) is one line per scheduled report (no due time can be found), never a crash."""
    repo = _schedule_repo(tmp_path, THIRTY_FIRST)
    write_notebook(repo / "reports/plain.ipynb", PARAMS_CELL)
    for now in ("0001-01-01", "9999-12-31T23:59:59"):
        for command in (("run", "--due"), ("check",)):
            proc = _knowrepo_limited(repo, *command, now=now)
            assert proc.returncode == 1 and "Traceback" not in proc.stderr, (now, proc.stderr)
            assert "unexpectedly" not in proc.stderr, (now, proc.stderr)
            output = proc.stdout + proc.stderr
            for name in ("good", "thirty-first"):
                assert f"reports/{name}.ipynb:" in output, (now, command, output)
            assert "reports/plain.ipynb" not in output
    assert not (repo / "runs").exists()


def test_E136_a_date_that_fails_at_run_time_stops_only_its_report(tmp_path: Path):
    """E136 of docs/errors.md: a template that passes validation but fails for the date of the
    run (the 31st of November) fails its own report in `run --due` and `run --all`; the other
    reports run, and the command exits 1."""
    repo = _schedule_repo(tmp_path, THIRTY_FIRST)
    write_notebook(repo / "reports/plain.ipynb", PARAMS_CELL)
    due = _knowrepo_limited(repo, "run", "--due", now="2026-11-15T12:00")  # November has 30 days
    assert due.returncode == 1
    _assert_each_named(due, {"thirty-first": "day is out of range for month"})
    assert (repo / "runs/good/default").is_dir()
    every = _knowrepo_limited(repo, "run", "--all", now="2026-11-15T12:00")
    assert every.returncode == 1
    _assert_each_named(every, {"thirty-first": "day is out of range for month"})
    assert (repo / "runs/plain/default").is_dir()


def test_E137_a_max_age_of_five_thousand_digits_is_one_line(tmp_path: Path):
    """E137 of docs/errors.md: `max_age: 999...9d` (5,000 digits: more than Python turns into
    an integer) is one line naming the field, without the digits; the other reports build."""
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    write(repo / "reports/aged.md", md("title: Aged\nmax_age: " + "9" * 5000 + "d"))
    write(repo / "reports/fine.md", md("title: Fine"))
    for command in ("check", "build"):
        proc = run_knowrepo(command, cwd=repo, check=False)
        assert proc.returncode == 1 and "unexpectedly" not in proc.stderr, proc.stderr
        output = proc.stdout + proc.stderr
        assert "reports/aged.md" in output and "front matter 'max_age' must be like 35d" in output
        assert "9" * 100 not in output
    assert (repo / "_site/fine/index.html").is_file()


@pytest.mark.parametrize(
    ("key", "value"),
    [("run_date", "garbage"), ("due", 20261102), ("started", "not-a-time"), ("run_date", "0000-01-01")],
)
def test_E138_a_run_record_whose_dates_are_no_dates_is_one_line(tmp_path: Path, key: str, value: object):
    """E138 of docs/errors.md: a run.json whose `started`, `origin.run_date` or `origin.due` is
    no date (edited by hand, written by another tool) is one line naming the record in build (an
    error) and `run --due` (a warning: that run is left out, the variant's due run goes on); the
    other reports build and run."""
    repo = _schedule_repo(tmp_path, {})
    write(repo / "reports/fine.md", md("title: Fine"))
    write(
        repo / "reports/good.ipynb",
        (repo / "reports/good.ipynb").read_text().replace("schedule", "max_age: 3d\\nschedule"),
    )
    assert _knowrepo_limited(repo, "run", "--due").returncode == 0
    record = next((repo / "runs/good/default").glob("*/run.json"))
    data = json.loads(record.read_text())
    (data if key == "started" else data["origin"])[key] = value
    record.write_text(json.dumps(data))
    for command, code in ((("build",), 1), (("run", "--due"), 0)):
        proc = _knowrepo_limited(repo, *command, now="2026-12-20T12:00")
        assert proc.returncode == code and "unexpectedly" not in proc.stderr, proc.stderr
        if code:
            assert_one_line_for(proc.stderr, str(record), "invalid run record", key)
        else:
            (line,) = [line for line in proc.stderr.splitlines() if str(record) in line]
            assert line.startswith("warning: ") and "invalid run record" in line and key in line
    assert (repo / "_site/fine/index.html").is_file()
