"""The second trust pass, small defects (E150-E158 of docs/errors.md): list fields written as
one string, `inputs:` globs that match nothing, text files that are not UTF-8 (or start with
a byte-order mark), build records and caches of the wrong shape, `--execute always` and
`--force` over a site damaged by hand, and what drafts and unlisted reports show elsewhere.

Markdown reports wherever a kernel is not needed; one built repository per group of tests.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import orjson
import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo, write_notebook
from knowrepo.pipeline.frontmatter import parse_meta
from knowrepo.support.hashing import content_hash


def md(front: str, body: str = "Some prose.\n") -> str:
    return f"---\n{front.strip()}\n---\n\n{body}"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def lines(stderr: str, kind: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{kind}:")]


def assert_one_error(stderr: str, *fragments: str) -> str:
    """Exactly one error line, holding every fragment, and no crash."""
    errors = lines(stderr, "error")
    assert len(errors) == 1, stderr[-3000:]
    assert "unexpectedly" not in stderr and "Traceback" not in stderr, stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


def site_files(repo: Path) -> dict[str, bytes]:
    site = (repo / "_site").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


# ---- one Markdown repository, built once with --drafts -----------------------------------------


@pytest.fixture(scope="module")
def authored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("authored") / "repo"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Authored"\n')
    front = 'title: Alpha\ntags: "churn, q3"\nauthors: "Ana Lima, Bo Chen"\ninputs: [data/*.csv, notes.txt]'
    write(repo / "reports/a.md", md(front))
    write(repo / "reports/notes.txt", "read by a.md\n")
    write(repo / "reports/b.md", md("title: Beta draft\ntags: [churn, drafty]\nauthors: [Dee]\ndraft: true"))
    write(repo / "reports/u.md", md("title: Hidden\ntags: [hidden-tag]\nauthors: [Una]\nunlisted: true"))
    write(repo / "reports/c.md", md('title: Gamma\ntags: "machine learning"'))
    proc = run_knowrepo("build", "--drafts", str(repo))
    return repo, proc.stderr


def test_E150_a_list_field_written_as_one_string_is_split_at_commas():
    meta = parse_meta("r.md", 'tags: "a,b"\nauthors: "Ana, Bo"\nprivate_params: "token, pin"')
    assert (meta.tags, meta.authors, meta.private_params) == (("a", "b"), ("Ana", "Bo"), ("token", "pin"))
    assert parse_meta("r.md", 'categories: "x, y,"').tags == ("x", "y")  # Quarto's name for tags
    assert parse_meta("r.md", 'author: "Ana, Bo"').authors == ("Ana", "Bo")  # Quarto's name for authors
    assert parse_meta("r.md", 'tags: "machine learning"').tags == (
        "machine learning",
    )  # a space is no separator
    assert parse_meta("r.md", "tags: [a, b]").tags == ("a", "b")
    assert parse_meta("r.md", "tags: [a, a, b]").tags == ("a", "b")  # one tag page, one link each
    assert parse_meta("r.md", 'inputs: "data/a,b.csv"').inputs == ("data/a,b.csv",)  # a path may hold a comma


def test_E150_comma_separated_tags_and_authors_get_a_page_each(authored):
    repo, _stderr = authored
    site = repo / "_site"
    for path in ("tags/churn", "tags/q3", "authors/ana-lima", "authors/bo-chen", "tags/machine-learning"):
        assert (site / path / "index.html").is_file(), path
    assert not (site / "tags/churn-q3").exists() and not (site / "authors/ana-lima-bo-chen").exists()
    links = [a.get_text() for a in soup(site / "a/index.html").select(".report-header a.tag, a.tag")]
    assert "churn" in links and "q3" in links


def test_E151_an_inputs_glob_that_matches_nothing_is_a_warning_in_build(authored):
    _repo, stderr = authored
    warned = [line for line in lines(stderr, "warning") if "inputs glob" in line]
    assert warned == ["warning: reports/a.md: inputs glob 'data/*.csv' matches no file"], stderr


def test_E157_drafts_and_unlisted_reports_are_not_counted_in_search_filters(authored):
    repo, _stderr = authored
    site = repo / "_site"
    page = soup(site / "search/index.html")
    options = {
        s["name"]: [o.get_text() for o in s.select("option")[1:]] for s in page.select("select[data-filter]")
    }
    assert "churn (1)" in options["tag"], options  # a.md; b.md is a draft: built, not searchable
    assert not any(o.startswith(("drafty", "hidden-tag")) for o in options["tag"]), options
    assert not any(o.startswith(("Dee", "Una")) for o in options["author"]), options
    assert options["type"] == ["markdown (2)"], options  # a.md and c.md: what search can find
    entry = json.loads((site / "pagefind/pagefind-entry.json").read_text())
    assert sum(lang["page_count"] for lang in entry["languages"].values()) == 2


def test_E157_an_unlisted_report_is_in_no_listing_and_links_to_no_missing_page(authored):
    repo, _stderr = authored
    site = repo / "_site"
    for shared in ("index.html", "feed.xml", "sitemap.xml", "tags/index.html", "authors/index.html"):
        text = (site / shared).read_text()
        assert "Hidden" not in text and "hidden-tag" not in text and "Una" not in text, shared
    page = site / "u/index.html"
    for a in soup(page).select("a[href]"):
        href = a["href"].split("#")[0]
        if href and not href.startswith(("http:", "https:", "mailto:", "/")):
            target = (page.parent / href).resolve()
            assert (target / "index.html" if href.endswith("/") else target).exists(), href


# ---- text files that are not UTF-8, or that start with a byte-order mark ---------------------


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    repo = tmp_path / "small"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Small"\n')
    write(repo / "reports/a.md", md("title: Alpha", "First.\n"))
    write(repo / "reports/b.md", md("title: Beta", "Second.\n"))
    run_knowrepo("build", str(repo))
    return repo


def test_E152_a_config_theme_or_parameters_file_that_is_not_utf8_is_one_line(small: Path, tmp_path: Path):
    before = site_files(small)
    config = small / "knowrepo.toml"
    write(config, b'[site]\ntitle = "Caf\xe9"\n')
    for command in (["build"], ["check"], ["run", "--all"], ["pdf", "a"]):
        proc = run_knowrepo("-C", str(small), *command, check=False)
        assert proc.returncode == 1
        assert_one_error(proc.stderr, "knowrepo.toml: not UTF-8 text", "at byte 19")
    write(config, '[site]\ntitle = "Small"\ntheme = "mine"\n')
    template = write(small / "themes/mine/templates/tag.html", b'{% extends "base.html" %}caf\xe9')
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    assert_one_error(proc.stderr, f"{template}: theme template is not UTF-8 text")
    template.unlink()
    write(small / "themes/mine/static/print.css", b'body { content: "caf\xe9" }')
    proc = run_knowrepo("-C", str(small), "pdf", "a", check=False)
    assert proc.returncode == 1
    assert_one_error(proc.stderr, "print.css: not UTF-8 text")
    assert site_files(small) == before
    values = write(tmp_path / "values.yaml", b"region: caf\xe9\n")
    proc = run_knowrepo("-C", str(small), "run", "a", "--params-file", str(values), check=False)
    assert_one_error(proc.stderr, f"{values}: not UTF-8 text")


def test_E153_a_byte_order_mark_is_read_as_utf8(tmp_path: Path):
    """Windows editors start UTF-8 files with a BOM: the config must load, and the front
    matter must be read, not published as text."""
    repo = tmp_path / "bom"
    write(repo / "knowrepo.toml", b'\xef\xbb\xbf[site]\ntitle = "Bom"\n')
    write(repo / "reports/a.md", b"\xef\xbb\xbf" + md("title: With a mark\ntags: [bom]", "Body.\n").encode())
    run_knowrepo("build", str(repo))
    page = soup(repo / "_site/a/index.html")
    assert page.select_one("h1").get_text() == "With a mark"
    assert "title:" not in page.select_one(".report-body").get_text()
    assert (repo / "_site/tags/bom/index.html").is_file()
    proc = run_knowrepo("-C", str(repo), "check", check=False)
    assert proc.returncode == 0, proc.stderr


def test_E158_the_pdf_command_names_a_broken_print_template_on_one_line(small: Path):
    write(small / "knowrepo.toml", '[site]\ntitle = "Small"\ntheme = "mine"\n')
    template = write(small / "themes/mine/templates/print.html", "{% if %}")
    proc = run_knowrepo("-C", str(small), "pdf", "a", check=False)
    assert proc.returncode == 1
    assert_one_error(proc.stderr, f"{template}: theme template error at line 1")
    write(template, b"caf\xe9")
    proc = run_knowrepo("-C", str(small), "pdf", "a", check=False)
    assert_one_error(proc.stderr, f"{template}: theme template is not UTF-8 text")
    write(template, "{{ meta.title }} {{ meta.nothing_here.x }}")  # fails on the report's data
    proc = run_knowrepo("-C", str(small), "pdf", "a", check=False)
    assert proc.returncode == 1
    assert_one_error(proc.stderr, "reports/a.md: PDF: theme template", "print.html line 1", "UndefinedError")


# ---- build records and caches of the wrong shape -------------------------------------------------


def rewrite_manifest(repo: Path, edit) -> None:
    """Change the last build's record and give it a checksum that holds."""
    path = next((repo / ".knowrepo").glob("manifest-*.json"))
    header, _, payload = path.read_bytes().partition(b"\n")
    data = orjson.loads(payload)
    edit(data)
    payload = orjson.dumps(data)
    head = {**orjson.loads(header), "sha256": content_hash(payload), "bytes": len(payload)}
    path.write_bytes(orjson.dumps(head) + b"\n" + payload)


WRONG_SHAPES = {
    "reports as a list": lambda d: d.update(reports=[]),
    "files as text": lambda d: d["reports"]["a"].update(files="a/index.html"),
    "a card field unknown here": lambda d: d["reports"]["a"]["card"].update(colour="red"),
    "a stat of text": lambda d: d["sources"]["reports/a.md"].update(stat="now"),
    "a version record of the wrong fields": lambda d: d.update(this_version={"folder": "x"}),
    "a file list holding a number": lambda d: d["this_version"].update(files=[1]),
    "input stats as a list": lambda d: d["snapshot"].update(sources=[]),
}


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
def test_E154_a_build_record_of_the_wrong_shape_means_a_full_rebuild(small: Path, shape: str):
    rewrite_manifest(small, WRONG_SHAPES[shape])
    write(small / "reports/c.md", md("title: Gamma"))
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the last build's record is not used (it is not of the shape this version writes)" in proc.stderr
    assert {"a/index.html", "b/index.html", "c/index.html"} <= set(site_files(small))
    assert "Nothing changed" in run_knowrepo("build", str(small)).stderr


def test_E154_front_matter_of_the_wrong_shape_in_the_record_is_read_again(small: Path):
    rewrite_manifest(small, lambda d: d["sources"]["reports/a.md"]["meta"].update(tags=5, title=["x"]))
    write(small / "reports/c.md", md("title: Gamma"))
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 0 and "unexpectedly" not in proc.stderr, proc.stderr[-2000:]
    assert soup(small / "_site/a/index.html").select_one("h1").get_text() == "Alpha"


def test_E154_caches_of_the_wrong_shape_are_made_again(tmp_path: Path):
    """Rendered bodies, notebook facts, text notebooks and the search scratch folder's list:
    valid JSON of another shape is a cache miss, never a crash."""
    repo = tmp_path / "caches"
    write(repo / "knowrepo.toml", "")
    write(repo / "reports/a.md", md("title: Alpha", "First.\n"))
    outputs = {0: [{"output_type": "stream", "name": "stdout", "text": "stored 42\n"}]}
    write_notebook(repo / "reports/n.ipynb", [("code", "print('stored', 42)")], "title: Stored", outputs)
    write(
        repo / "reports/s.py",
        '# ---\n# title: Script\n# ---\n\n# %% tags=["parameters"]\nx = 1\n\n# %%\nprint(x)\n',
    )
    run_knowrepo("build", "--execute", "never", str(repo))
    cache = repo / ".knowrepo/cache"
    damaged = {
        "render": b'{"body": 5, "toc": "none", "excerpt": [], "images": {}, "thumbnail": 1, "deps": []}',
        "facts": b'{"params": [], "has_outputs": "yes", "code": 1, "kernel": 2}',
        "text-notebooks": b"[1, 2, 3]",
    }
    for folder, data in damaged.items():
        files = list((cache / folder).glob("*"))
        assert files, folder
        for path in files:
            path.write_bytes(data)
    for listing in (repo / ".knowrepo").glob("search-*/part-*/pages.json"):
        listing.write_bytes(b"5")
    next((repo / ".knowrepo").glob("manifest-*.json")).unlink()
    proc = run_knowrepo("build", "--execute", "never", str(repo), check=False)
    assert proc.returncode == 0 and "unexpectedly" not in proc.stderr, proc.stderr[-2000:]
    assert "stored 42" in (repo / "_site/n/index.html").read_text()
    assert "First." in (repo / "_site/a/index.html").read_text()
    assert (repo / "_site/s/index.html").is_file()


# ---- --force and --execute always over a site damaged by hand ---------------------------------


def test_E156_force_makes_every_file_of_the_site_anew(small: Path):
    site = small / "_site"
    fragments = sorted((site / "pagefind/fragment").iterdir())
    assert fragments
    whole = site_files(small)
    fragments[0].unlink()  # a search index file removed by hand
    (site / "a/index.html").write_text("damaged by hand")  # a page
    (site / "assets/site.css").write_text("damaged by hand")  # a theme file
    proc = run_knowrepo("build", "--force", str(small))
    assert "unexpectedly" not in proc.stderr
    again = site_files(small)
    # (Pagefind's .pf_meta, and the entry naming it, may list pages in another order)
    same = [p for p in whole if not p.endswith(".pf_meta") and p != "pagefind/pagefind-entry.json"]
    assert {p: again.get(p) for p in same} == {p: whole[p] for p in same}
    assert len(again) == len(whole)


@pytest.fixture(scope="module")
def kernel_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook that declares an input no file matches, beside a Markdown report with an
    image (what the build links in from the published site)."""
    repo = tmp_path_factory.mktemp("kernel") / "repo"
    write(repo / "knowrepo.toml", "")
    write_notebook(repo / "reports/n.ipynb", [("code", "print('ran')")], "title: N\ninputs: [missing/*.csv]")
    write(repo / "reports/img/plot.png", (PROJECT / "reports/notes/img/effort.png").read_bytes())
    write(repo / "reports/a.md", "# A\n\n![Effort](img/plot.png)\n")
    return repo


def runs_of(repo: Path) -> int:
    return len(list((repo / "runs").rglob("run.json")))


def test_E151_an_inputs_glob_that_matches_nothing_is_a_warning_in_run(kernel_repo: Path):
    proc = run_knowrepo("-C", str(kernel_repo), "run", "n")
    assert "warning: reports/n.ipynb: inputs glob 'missing/*.csv' matches no file" in proc.stderr
    assert runs_of(kernel_repo) == 1


def test_E155_execute_always_over_an_emptied_site_runs_each_notebook_once(kernel_repo: Path):
    run_knowrepo("build", "--execute", "always", str(kernel_repo))
    ran = runs_of(kernel_repo)
    site = kernel_repo / "_site"
    for entry in list(site.iterdir()):  # rm -rf _site/*
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    proc = run_knowrepo("build", "--execute", "always", str(kernel_repo))
    assert "building it whole" in proc.stderr
    assert runs_of(kernel_repo) == ran + 1, proc.stderr
    assert re.search(r"\(1 executed,", proc.stderr), proc.stderr
    assert (site / "n/index.html").is_file() and "ran" in (site / "n/index.html").read_text()
