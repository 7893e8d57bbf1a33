"""Rendering details through real builds: cell tags, code display, fallbacks for outputs that
need a kernel or a CDN, legacy notebook metadata, attachments, titles from headings."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo, write_notebook

PNG = (PROJECT / "reports/notes/img/effort.png").read_bytes()


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def build(repo: Path, config: str = "") -> None:
    (repo / "knowrepo.toml").write_text(config)
    run_knowrepo("build", str(repo))


def page(repo: Path, slug: str) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site" / slug / "index.html").read_text(), "html.parser")


def test_cell_tags(tmp_path: Path):
    write_notebook(
        tmp_path / "reports/tagged.ipynb",
        [
            ("markdown", "# Tagged cells\n\nIntro."),
            ("code", "secret_cell = 1", ["remove-cell"]),
            ("code", "hidden_input = 2", ["remove-input"]),
            ("code", "no_output = 3", ["remove-output"]),
            ("code", "folded_input = 4", ["hide-input"]),
            ("code", "plain_input = 5"),
        ],
        outputs={
            1: [stream("removed cell output\n")],
            2: [stream("output of hidden input\n")],
            3: [stream("output that is removed\n")],
            4: [stream("output of folded input\n")],
            5: [stream("plain output\n")],
        },
    )
    build(tmp_path)
    body = page(tmp_path, "tagged").select_one(".report-body")
    text = body.get_text()
    assert "secret_cell" not in text and "removed cell output" not in text
    assert "hidden_input" not in text and "output of hidden input" in text
    assert "no_output" in text and "output that is removed" not in text
    fold = body.select_one("details.code-fold")
    assert "folded_input" in fold.get_text() and fold.get("open") is None
    assert "plain_input" in text and "plain output" in text
    assert page(tmp_path, "tagged").select_one("h1#report-title").get_text() == "Tagged cells"  # from heading


def test_code_hide_site_wide_and_fold_per_report(tmp_path: Path):
    write_notebook(
        tmp_path / "reports/a.ipynb",
        [("code", "visible_code = 1")],
        front="title: A",
        outputs={0: [stream("result A\n")]},
    )
    write_notebook(
        tmp_path / "reports/b.ipynb",
        [("code", "folded_code = 1")],
        front="title: B\ncode: fold",
        outputs={0: [stream("result B\n")]},
    )
    build(tmp_path, '[site]\ncode = "hide"\n')
    a = page(tmp_path, "a").select_one(".report-body")
    assert "visible_code" not in a.get_text() and "result A" in a.get_text()
    b = page(tmp_path, "b").select_one(".report-body")
    assert "folded_code" in b.select_one("details.code-fold").get_text() and "result B" in b.get_text()


def test_outputs_that_need_a_kernel_or_cdn_fall_back_to_static(tmp_path: Path):
    png = base64.b64encode(PNG).decode()
    widget = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.jupyter.widget-view+json": {
                "model_id": "abc",
                "version_major": 2,
                "version_minor": 0,
            },
            "text/plain": "IntSlider(value=3)",
        },
    }
    plotly = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "text/html": '<div id="p"></div><script src="https://cdn.plot.ly/plotly.min.js"></script>',
            "image/png": png,
            "text/plain": "<Figure>",
        },
    }
    only_script = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": '<script src="https://cdn.example.com/chart.js"></script><div id="c"></div>'},
    }
    javascript = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/javascript": "alert(1)",
            "text/plain": "<IPython.core.display.Javascript object>",
        },
    }
    path = write_notebook(
        tmp_path / "reports/live.ipynb",
        [("markdown", "# Live outputs"), ("code", "w"), ("code", "fig"), ("code", "chart"), ("code", "js")],
        outputs={1: [widget], 2: [plotly], 3: [only_script], 4: [javascript]},
    )
    nb = json.loads(path.read_text())
    nb["metadata"]["widgets"] = {"state": {}, "version": "1.1.2"}  # ipywidgets 5/6 era metadata
    path.write_text(json.dumps(nb))
    build(tmp_path)
    html = (tmp_path / "_site/live/index.html").read_text()
    body = BeautifulSoup(html, "html.parser").select_one(".report-body")
    notes = [note.get_text() for note in body.select(".interactive-note")]
    assert "IntSlider(value=3)" not in body.get_text() and "Javascript object" not in body.get_text()
    assert "cdn." not in html and "<script" not in str(body)
    assert body.select_one(".output_png img")["src"].startswith("../assets/img/")
    assert notes == [
        "Interactive widget (IntSlider): it works in the running notebook.",
        "Interactive output: open the notebook to see it.",  # the chart that needs a CDN script
        "Interactive output: open the notebook to see it.",  # the JavaScript
    ]


def test_markdown_attachments_and_report_links(tmp_path: Path):
    path = write_notebook(
        tmp_path / "reports/att.ipynb",
        [("markdown", "# Attached\n\n![chart](attachment:chart.png)\n\nSee [the note](note.md#details).")],
    )
    nb = json.loads(path.read_text())
    nb["cells"][0]["attachments"] = {"chart.png": {"image/png": base64.b64encode(PNG).decode()}}
    path.write_text(json.dumps(nb))
    (tmp_path / "reports/note.md").write_text("# Note\n\n## Details\n\nText.\n")
    build(tmp_path)
    body = page(tmp_path, "att").select_one(".report-body")
    src = body.select_one("img")["src"]
    assert src.startswith("../assets/img/") and (tmp_path / "_site/att" / src).resolve().is_file()
    assert body.select_one("a[href^='../note/']")["href"] == "../note/#details"
