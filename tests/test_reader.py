"""What readers see, built for real: numeric columns, quiet builds."""

from __future__ import annotations

import json
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo
from knowrepo.pipeline.render.tables import align_numeric_columns


def test_only_numeric_columns_are_right_aligned_and_markdown_alignment_is_kept(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "T"\n')
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/t.md").write_text(
        "# Tables\n\n| Region | Revenue | Note | Centre |\n|---|---|---|:---:|\n"
        "| EU | 1,200.5 | up 3 % | a |\n| US | (42) | flat | b |\n| APAC | n/a | — | c |\n"
    )
    run_knowrepo("build", str(tmp_path))
    page = BeautifulSoup((tmp_path / "_site/t/index.html").read_text(), "html.parser")
    rows = [[("num" in (c.get("class") or []), c.get("style") or "") for c in tr.find_all(["td", "th"])]
            for tr in page.select(".report-body table tr")]  # fmt: skip
    assert [num for num, _style in rows[1]] == [False, True, False, False]  # Revenue only
    assert rows[0][1][0] is True  # its header too
    assert all("text-align: center" in style for _num, style in (row[3] for row in rows))


def test_dataframe_index_header_has_text_and_only_numbers_align_right():
    import pandas as pd

    html = pd.DataFrame({"plan": ["basic", "pro"], "tenure": [12, 8]}).to_html()
    table = BeautifulSoup(align_numeric_columns(html), "html.parser")
    head = table.select("thead th")
    assert head[0].get_text() == "Row" and "visually-hidden" in str(head[0])
    assert head[0].select_one("[data-pagefind-ignore]") is not None  # (not in search excerpts)
    assert [("num" in (td.get("class") or [])) for td in table.select("tbody tr")[0].find_all("td")] == [
        False,
        True,
    ]
    # pandas right-aligns every header ("plan" over left-aligned text): they follow their columns
    assert not table.select("thead tr[style]") and [
        h.get_text() for h in head if "num" in h.get("class", [])
    ] == ["tenure"]


def test_library_warnings_only_with_v_and_each_once(tmp_path: Path):
    """A theme whose print stylesheet WeasyPrint cannot read: quiet by default; with -v, each
    warning once, however many PDFs and worker processes met it."""
    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "Q"\ntheme = "mine"\n[pdf]\nenabled = true\n')
    (tmp_path / "reports").mkdir()
    for name in "abcd":
        (tmp_path / f"reports/{name}.md").write_text(f"# Report {name}\n\nText.\n")
    static = tmp_path / "themes/mine/static"
    static.mkdir(parents=True)
    css = (PROJECT / "themes/default/static/print.css").read_text()
    (static / "print.css").write_text(css + "\n.x { clip: rect(0 0 0 0); }\n")
    quiet = run_knowrepo("build", str(tmp_path), "-j", "2")
    assert "weasyprint" not in quiet.stderr.lower() and "clip" not in quiet.stderr
    (static / "print.css").write_text(css + "\n.x { clip: rect(1px 0 0 0); }\n")  # new PDFs
    verbose = run_knowrepo("build", str(tmp_path), "-j", "2", "-v")
    said = [line for line in verbose.stderr.splitlines() if "clip" in line]
    assert len(said) == 1 and "weasyprint: Ignored `clip: rect(1px 0 0 0)`" in said[0]


def test_long_outputs_fold_colours_stay_and_failed_runs_lose_papermills_headings(tmp_path: Path):
    from conftest import write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "O"\n[pdf]\nenabled = true\n')
    write_notebook(
        tmp_path / "reports/long.ipynb",
        [
            ("code", 'print("\\x1b[31mRED-TEXT\\x1b[0m")'),
            ("code", "for i in range(100):\n    print(f'line {i}')"),
        ],
        front="title: Long output",
    )
    write_notebook(
        tmp_path / "reports/fails.ipynb",
        [("markdown", "# Fails\n\nProse before."), ("code", "raise ValueError('boom')")],
        front="title: Fails\nsummary: It fails.",
    )
    run_knowrepo("build", str(tmp_path), "--allow-failed-runs")
    page = BeautifulSoup((tmp_path / "_site/long/index.html").read_text(), "html.parser")
    assert page.select_one(".ansi-red-fg").get_text() == "RED-TEXT"
    fold = page.select_one("details.output-fold")
    assert fold.summary.get_text() == "Show all 100 lines" and "line 99" in fold.get_text()
    shown = fold.find_previous_sibling("pre").get_text()
    assert "line 29" in shown and "line 30" not in shown
    import subprocess

    pdf = next((tmp_path / "_site/long").glob("*.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "70 more lines in the executed notebook" in text and "line 99" not in text
    failed = (tmp_path / "_site/fails/index.html").read_text()
    assert "An Exception was encountered" not in failed and "papermill encountered" not in failed
    assert "title: Fails" not in failed and "The latest run failed" in failed


def test_a_real_traceback_is_coloured_by_the_theme_with_enough_contrast(tmp_path: Path, browser):
    """IPython colours a traceback with 256-colour codes, which nbconvert writes as inline rgb()
    (green keywords at 4.1:1): the theme's ANSI classes instead, light and dark."""
    from test_browser import serious_violations

    from conftest import serving, write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "T"\n')
    cell = "def load(path):\n    return open(path).read()\n\nload('missing.csv')"
    write_notebook(tmp_path / "reports/fails.ipynb", [("code", cell)], front="title: Fails")
    run_knowrepo("build", str(tmp_path), "--allow-failed-runs")
    page = BeautifulSoup((tmp_path / "_site/fails/index.html").read_text(), "html.parser")
    error = page.select_one(".output_error")
    assert "FileNotFoundError" in error.get_text() and "style=" not in str(error)
    assert error.select("[class*=ansi-][class*=-fg]")  # coloured still
    with serving(tmp_path / "_site") as base:
        for scheme in ("light", "dark"):
            context = browser.new_context(color_scheme=scheme)
            tab = context.new_page()
            tab.goto(base + "fails/")
            assert serious_violations(tab) == [], scheme
            context.close()


INTERACT = (
    "import matplotlib.pyplot as plt\n"
    "@ipywidgets.interact(n=(1, 10), kind=['line', 'bar'])\n"
    "def chart(n=4, kind='bar'):\n"
    "    plt.figure(figsize=(3, 2))\n    plt.bar(range(n), range(n))\n    plt.show()"
)


def test_widgets_show_their_saved_state_and_bare_object_reprs_give_way_to_richer_types(tmp_path: Path):
    from conftest import write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "O"\n')
    thing = (
        "class Thing:\n    def _repr_markdown_(self):\n        return '**rich** view'\n"
        "    def __repr__(self):\n        return f'<mylib.Thing object at {hex(id(self))}>'\nThing()"
    )
    write_notebook(
        tmp_path / "reports/outputs.ipynb",
        [
            ("code", "import ipywidgets\nipywidgets.IntSlider(value=7)"),
            ("code", "from IPython.display import JSON\nJSON({'region': 'EU', 'count': [1, 2]})"),
            ("code", "JSON(['EU', 'US'])"),
            (
                "code",
                "from IPython.display import display\ndisplay({'application/x.kr+json': {'m': 1}}, raw=True)",
            ),
            ("code", thing),
            ("code", INTERACT),
            ("code", "ipywidgets.HBox([ipywidgets.Checkbox(True, description='On'), ipywidgets.Play()])"),
        ],
        front="title: Outputs",
    )
    run_knowrepo("build", str(tmp_path), "--execute", "always")
    page = BeautifulSoup((tmp_path / "_site/outputs/index.html").read_text(), "html.parser")
    # (each output once, and none for the +json output, which shows nothing, as scrapbook's values)
    outputs = [
        o for o in dict.fromkeys(o.get_text(" ", strip=True) for o in page.select(".output_area")) if o
    ]
    # Widgets as the run saved them (papermill stores the widget state): each control's value,
    # and what interact drew in its Output widget.
    assert outputs[0] == "IntSlider 7"
    assert outputs[4] == "n 4 kind bar" and outputs[5] == "On yes Play 0"
    (figure,) = {img["src"] for img in page.select(".output_area img")}  # what interact drew
    assert figure.startswith("../assets/img/") and figure.endswith(".png")
    assert '"region": "EU"' in outputs[1] and "IPython" not in outputs[1]
    assert outputs[2].split() == ["[", '"EU",', '"US"', "]"]  # a JSON list is data, not lines
    assert outputs[3] == "rich view" and page.select_one(".output_area strong").get_text() == "rich"
    assert len(outputs) == 6 and not any("IntSlider(" in o for o in outputs)


def test_markdown_reads_as_jupyter_reads_it(tmp_path: Path):
    import struct
    import zlib

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "M"\n')
    reports = tmp_path / "reports"
    reports.mkdir()
    raw = b"\x00\xff\x00\x00"  # one red pixel
    png = b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in [(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)),
                           (b"IDAT", zlib.compress(raw)), (b"IEND", b"")]
    )  # fmt: skip
    (reports / "fig.png").write_bytes(png)
    (reports / "Q3 review.md").write_text("# Q3 review\n\nThe quarter.\n")
    (reports / "story.md").write_text(
        "# The `churn` model's *story*\n\nSee https://example.com/docs and [Q3](Q3%20review.md).\n\n"
        "- top\n  - two spaces\n    - four more\n\n1. first\n   - three spaces\n\n"
        "Inner spaces: $ x^2 $ and a price of \\$5.\n\n<img src='fig.png' alt='fig'>\n\n"
        "Steps:\n\n1. Install:\n   ```bash\n   pip install churn  # $5\n   ```\n2. Run\n\n"
        "````markdown\n- a fence shown as text:\n  ```\n  kept\n  ```\n````\n"
    )
    run_knowrepo("build", str(tmp_path))
    page = BeautifulSoup((tmp_path / "_site/story/index.html").read_text(), "html.parser")
    body = page.select_one(".report-body")
    assert page.title.get_text().startswith("The churn model's story ·")
    assert page.select_one("#report-title").get_text() == "The churn model's story"
    assert not body.find("h1")  # the heading is the title: not shown twice
    assert body.find("a", href="https://example.com/docs")
    assert body.find("a", string="Q3")["href"] == "../q3-review/"
    assert body.select("ul > li > ul > li > ul > li")[0].get_text(strip=True) == "four more"
    assert body.select_one("ol > li > ul > li").get_text(strip=True) == "three spaces"
    assert body.find("math", alttext="x^2") and "price of $5." in body.get_text()
    assert body.find("img", alt="fig")["src"].startswith("../assets/")
    steps = body.select("ol")[-1].find_all("li", recursive=False)  # a fence inside a list item is code
    assert steps[0].select_one(".highlight code").get_text() == "pip install churn  # $5\n"
    assert [li.get_text(strip=True) for li in steps][1] == "Run"
    assert "```\n  kept\n  ```" in body.select(".highlight")[-1].get_text()
    listing = BeautifulSoup((tmp_path / "_site/index.html").read_text(), "html.parser")
    assert "The churn model's story" in [a.get_text(strip=True) for a in listing.select(".card-title a")]


def test_plotly_figures_stay_interactive_offline_from_one_shared_bundle(tmp_path: Path, browser):
    from test_browser import serious_violations

    from conftest import serving, write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "P"\n')
    for name in ("one", "two"):
        write_notebook(
            tmp_path / f"reports/{name}.ipynb",
            [("code", f"import plotly.express as px\npx.bar(x=['a', 'b'], y=[3, 4], title='{name} chart')")],
            front=f"title: Chart {name}",
        )
    run_knowrepo("build", str(tmp_path))
    site = tmp_path / "_site"
    bundles = [p.relative_to(site).as_posix() for p in site.rglob("*.js") if "plotly" in p.name]
    assert bundles == ["assets/plotly.min.js"]  # once for the site, never per page or chart
    for name in ("one", "two"):
        figure = BeautifulSoup((site / f"{name}/index.html").read_text(), "html.parser").select_one(
            ".kr-plotly"
        )
        assert (site / name / figure["data-figure"]).resolve().is_file()
    context = browser.new_context()  # the pages' own Content-Security-Policy applies
    page = context.new_page()
    outside, errors = [], []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with serving(site) as base:
        page.goto(base + "two/")
        page.wait_for_selector(".kr-plotly.drawn .main-svg")
        assert "two chart" in page.locator(".kr-plotly").inner_text()
        assert serious_violations(page) == []
    context.close()
    assert outside == [] and errors == []


VEGA_CELL = (
    "import altair as alt, pandas as pd\n"
    "frame = pd.DataFrame({'x': [1, 2, 3], 'y': [3, 1, 2]})\n"
    "alt.Chart(frame, title='Altair line').mark_line().encode(x='x', y='y')"
)
BOKEH_CELLS = [
    (
        "code",
        "from bokeh.io import output_notebook, show\nfrom bokeh.plotting import figure\noutput_notebook()",
    ),
    (
        "code",
        "from bokeh.layouts import column\nfrom bokeh.models import Div, HoverTool\n"
        "from bokeh.models import ColumnDataSource, DataTable, TableColumn\n"
        "tip = HoverTool(tooltips='<i onclick=\"alert(1)\">@y</i>')\n"
        "chart = figure(width=320, height=200, title='Bokeh', tools=[tip])\n"
        "chart.line([1, 2, 3], [3, 1, 2])\n"
        "table = DataTable(source=ColumnDataSource({'y': [3, 1, 2]}), columns=[TableColumn(field='y')],"
        " width=200, height=120, reorderable=False)\n"
        "note = Div(text='<b onclick=\"alert(2)\">Bokeh note</b><script>alert(3)</script>')\n"
        "show(column(note, chart, table))",
    ),
]


def _stored_vegalite_output() -> dict:
    """What JupyterLab saves for an Altair chart: the Vega-Lite spec, a PNG and the repr."""
    import base64

    png = (PROJECT / "reports/notes/img/effort.png").read_bytes()
    axes = {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}
    spec = {"mark": "bar", "data": {"values": [{"k": "a", "v": 2}, {"k": "b", "v": 5}]}, "encoding": axes}
    data = {"application/vnd.vegalite.v5+json": spec, "image/png": base64.b64encode(png).decode()}
    return {"output_type": "display_data", "metadata": {}, "data": {**data, "text/plain": "alt.Chart(...)"}}


def test_charts_too_big_for_a_static_view_or_from_another_bokeh_keep_to_what_is_safe(tmp_path: Path):
    from conftest import write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "C"\n')
    spec = {  # 100,000 points from 60 bytes: a static SVG of 23 MB, so none is drawn
        "data": {"sequence": {"start": 0, "stop": 100000, "as": "x"}},
        "mark": "point",
        "encoding": {"x": {"field": "x", "type": "quantitative"}},
        "usermeta": {"embedOptions": {"ast": False, "actions": {"editor": True}}, "team": "ops"},
    }
    vega = {"output_type": "display_data", "metadata": {}, "data": {"application/vnd.vegalite.v5+json": spec}}
    old = 'var docs_json = {"d1": {"version": "2.4.3", "roots": {"references": [], "root_ids": ["1"]}}};'
    old += ' var render_items = [{"docid": "d1", "root_ids": ["1"], "roots": {"1": "e1"}}];'
    metadata = {"application/vnd.bokehjs_exec.v0+json": {"id": "1"}}
    data = {"application/javascript": old, "application/vnd.bokehjs_exec.v0+json": ""}
    bokeh2 = {"output_type": "display_data", "metadata": metadata, "data": data}
    write_notebook(
        tmp_path / "reports/c.ipynb", [("code", "v"), ("code", "b")], outputs={0: [vega], 1: [bokeh2]}
    )
    run_knowrepo("build", str(tmp_path))
    body = BeautifulSoup((tmp_path / "_site/c/index.html").read_text(), "html.parser").select_one(
        ".report-body"
    )
    chart = body.select_one(".kr-vega")
    assert not chart.select("img") and "Interactive chart" in chart.get_text()
    drawn = json.loads((tmp_path / "_site/c" / chart["data-figure"]).resolve().read_text())
    assert drawn["spec"]["usermeta"] == {"team": "ops"}  # never options over site.js's own
    # BokehJS 3 cannot read a Bokeh 2 document: the note, not a placeholder that never draws
    assert len(body.select(".kr-chart")) == 1
    assert (
        body.select(".interactive-note")[-1].get_text() == "Interactive output: open the notebook to see it."
    )


def test_altair_and_bokeh_charts_are_drawn_offline_else_their_static_view(tmp_path: Path, browser):
    import os
    import subprocess

    from test_browser import serious_violations

    from conftest import KNOWREPO, serving, write_notebook

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "C"\n')
    write_notebook(tmp_path / "reports/run.ipynb", [("code", VEGA_CELL), *BOKEH_CELLS], front="title: Ran")
    stored = {0: [_stored_vegalite_output()]}
    write_notebook(
        tmp_path / "reports/saved.ipynb", [("code", "chart")], front="title: Saved", outputs=stored
    )
    run_knowrepo("build", str(tmp_path))
    site = tmp_path / "_site"
    libraries = sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.js") if "vega" in p.name or "bokeh" in p.parts
    )
    bokeh = [f"assets/bokeh/bokeh{part}.min.js" for part in ("-gl", "-tables", "-widgets", "")]
    assert libraries == [*bokeh, "assets/vega.js"]  # once for the site
    body = BeautifulSoup((site / "run/index.html").read_text(), "html.parser").select_one(".report-body")
    assert "BokehJS" not in body.get_text() and "cdn." not in str(body)
    (spec,) = [p.read_text() for p in site.rglob("*.bokeh.json")]  # E99: its HTML as any output's
    assert "<b>Bokeh note</b>" in spec and "<i>@y</i>" in spec
    assert "onclick" not in spec and "<script" not in spec
    static = body.select_one(".kr-vega img")  # drawn by vl-convert: what a PDF and a reader without JS see
    assert b"<svg" in (svg := (site / "run" / static["src"]).resolve().read_bytes()) and b"Altair line" in svg
    context = browser.new_context()  # the pages' own Content-Security-Policy applies
    page = context.new_page()
    outside, errors = [], []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    with serving(site) as base:
        page.goto(base + "run/")
        page.wait_for_selector(".kr-vega.drawn .vega-embed canvas, .kr-vega.drawn .vega-embed svg")
        page.wait_for_selector(".kr-bokeh.drawn [id^=kr-bokeh-]")
        assert page.locator(".kr-bokeh.drawn [id^=kr-bokeh-]").bounding_box()["height"] >= 150
        page.locator(".kr-bokeh b", has_text="Bokeh note").wait_for()  # the Div, in its shadow DOM
        # a Bokeh table beside a Vega chart (Vega's bundle once leaked a global `$` that
        # SlickGrid took for jQuery: the table threw and stayed empty)
        page.locator(".kr-bokeh .slick-cell", has_text="3").first.wait_for()
        assert page.locator(".kr-bokeh [onclick], .kr-bokeh script").count() == 0
        assert page.locator(".kr-chart img, .kr-chart .interactive-note").count() == 0  # drawn over
        assert serious_violations(page) == []  # (axe-core on the drawn charts)
        page.goto(base + "saved/")
        page.wait_for_selector(".kr-vega.drawn .vega-embed")
    context.close()
    assert outside == [] and errors == []
    # Without bokeh and vl-convert (hidden from the build): the chart's own PNG, else a note.
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nsys.modules.update(dict.fromkeys(['bokeh', 'vl_convert']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(hide)}
    subprocess.run([*KNOWREPO, "build", str(tmp_path)], env=env, check=True, capture_output=True, timeout=600)
    assert not (site / "assets/vega.js").exists() and not (site / "assets/bokeh").exists()
    ran = BeautifulSoup((site / "run/index.html").read_text(), "html.parser").select_one(".report-body")
    assert [n.get_text() for n in ran.select(".interactive-note")] == [
        "Interactive output: open the notebook to see it."
    ] * 2
    assert "BokehJS" not in ran.get_text() and not ran.select(".kr-chart")
    saved = BeautifulSoup((site / "saved/index.html").read_text(), "html.parser").select_one(".report-body")
    assert saved.select_one(".output_png img") and not saved.select(".kr-chart, .interactive-note")


def _lean_notebook(path: Path) -> bytes:
    """A notebook with two plots, one as Jupyter writes base64 and one wrapped at 76 columns
    (older nbformat), non-ASCII prose and a byte-order mark: its exact bytes."""
    import base64
    import json
    import random

    from PIL import Image

    rng, plots = random.Random(7), []
    for size in (300, 200):
        image = Image.frombytes(
            "RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3))
        )
        path.with_suffix(".png").unlink(missing_ok=True)
        image.save(path.with_suffix(".png"))
        plots.append(base64.b64encode(path.with_suffix(".png").read_bytes()).decode())
    wrapped = "\n".join(plots[1][i : i + 76] for i in range(0, len(plots[1]), 76))
    outputs = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": data, "text/plain": ["<Figure>"]},
        }
        for data in (plots[0] + "\n", wrapped)
    ]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Données: größe 数据\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["plot()"], "outputs": outputs},
    ]
    text = json.dumps(
        {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, ensure_ascii=False
    )
    return b"\xef\xbb\xbf" + text.encode()


def test_notebook_downloads_hold_no_published_image_twice_and_save_byte_for_byte(
    tmp_path: Path, browser, example_repo: Path, site_server: str
):
    from conftest import serving

    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "N"\n')
    (tmp_path / "reports").mkdir()
    source = tmp_path / "reports/plots.ipynb"
    source.write_bytes(original := _lean_notebook(tmp_path / "plot"))
    run_knowrepo("build", str(tmp_path))
    assert not (tmp_path / "_site/plots/plots.ipynb").exists()  # never markers under a .ipynb name
    published = (tmp_path / "_site/plots/plots.ipynb.lean.json").read_bytes()
    assert len(published) < len(original) / 20 and published.count(b"@@knowrepo-image:") == 2
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    with serving(tmp_path / "_site") as base:
        page.goto(base + "plots/")
        with page.expect_download() as download:
            page.click("a:has-text('Source notebook')")
        assert download.value.suggested_filename == "plots.ipynb"
        assert Path(download.value.path()).read_bytes() == original
    # The example's executed notebooks (a run's page): the same, from the run store's file.
    page.goto(site_server + "sales/monthly-revenue/")
    link = page.locator("a:has-text('Executed notebook')")
    run_id = link.get_attribute("href").split("/")[-2]
    lean = example_repo / "_site/sales/monthly-revenue/runs" / run_id / "notebook.ipynb.lean.json"
    assert b"@@knowrepo-image:" in lean.read_bytes()
    (stored,) = (example_repo / "runs").rglob(f"{run_id}/notebook.ipynb")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{run_id}.ipynb"
    assert Path(download.value.path()).read_bytes() == stored.read_bytes()
    page.goto(site_server + "sales/monthly-revenue/runs/")  # the run history's links, middle-clicked
    with page.expect_download() as download:
        page.locator(f"a[data-name='{run_id}.ipynb']").click(button="middle")
    assert Path(download.value.path()).read_bytes() == stored.read_bytes()
    context.close()
    # [site] notebook_downloads = "whole": plain copies, for teams that fetch them with curl
    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "N"\nnotebook_downloads = "whole"\n')
    run_knowrepo("build", str(tmp_path))
    assert (tmp_path / "_site/plots/plots.ipynb").read_bytes() == original
    assert not (tmp_path / "_site/plots/plots.ipynb.lean.json").exists()
    link = BeautifulSoup((tmp_path / "_site/plots/index.html").read_text(), "html.parser").find(
        "a", string="Source notebook"
    )
    assert link["download"] == "plots.ipynb" and not link.has_attr("data-assemble")


def test_saved_widget_state_of_any_shape_never_fails_the_page(tmp_path: Path):
    from conftest import write_notebook

    def model(name: str, **state) -> dict:
        return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state}

    view = "application/vnd.jupyter.widget-view+json"

    def shown(model_id: str) -> dict:
        return {"output_type": "display_data", "metadata": {}, "data": {view: {"model_id": model_id}}}

    state = {
        "loop": model("OutputModel", outputs=[shown("loop"), {"output_type": "execute_result", "data": {}}]),
        "fan": model("VBoxModel", children=["IPY_MODEL_fan"] * 3),  # 3^21 walks, were it followed
        "odd": {"model_name": ["not", "a", "name"], "state": [1, 2]},
        "labels": model("DropdownModel", _options_labels=7, index="x", description="Pick"),
        "bar": model("HBoxModel", children=["IPY_MODEL_pct", "IPY_MODEL_prog", "IPY_MODEL_rate"]),
        "pct": model("HTMLModel", value="80%"),
        "prog": model("FloatProgressModel", value=8, min=0, max=10),
        "rate": model("HTMLModel", value="8/10 [00:02&lt;00:00]"),
        "day": model("DatePickerModel", value={"year": 2026, "month": 0, "date": 5}, description="From"),
    }
    shown_ones = ["loop", "fan", "odd", "labels", "bar", "day"]
    outputs = {i: [shown(name)] for i, name in enumerate(shown_ones)}
    cells = [("code", f"w{i}") for i in range(len(shown_ones))]
    path = write_notebook(tmp_path / "reports/w.ipynb", cells, outputs=outputs)
    nb = json.loads(path.read_text())
    nb["metadata"]["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": state, "version_major": 2}
    }
    path.write_text(json.dumps(nb))
    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "W"\n')
    run_knowrepo("build", str(tmp_path))
    page = BeautifulSoup((tmp_path / "_site/w/index.html").read_text(), "html.parser")
    areas = [a.get_text(" ", strip=True) for a in page.select(".report-body .output_wrapper")]
    # (the loop's Output: its one output has no data; the fan: nothing; odd: the note)
    assert areas[1] == "Interactive widget (widget): it works in the running notebook."
    assert areas[2:] == ["Pick —", "80% 80% 8/10 [00:02<00:00]", "From 2026-01-05"]  # (month from 0)
