"""pipeline/render/charts.py, its renderers: the chart an output holds, kept as the spec the
site's one copy of the library draws (plotly, vl-convert and bokeh are test dependencies). Each
renderer gets a real RenderContext whose asset store keeps what it writes in a dict."""

from __future__ import annotations

import json
from typing import Any

import bokeh

from knowrepo.pipeline.render.charts import (
    BOKEH_EXEC,
    BOKEH_LOAD,
    Chart,
    data_rows,
    is_bokeh_scaffold,
    placeholder,
    render_bokeh,
    render_html,
    render_plotly,
    render_vega,
)
from knowrepo.plugins import RenderContext

VEGA_LITE = {
    "mark": "bar",
    "data": {"values": [{"a": 1}, {"a": 2}]},
    "usermeta": {"embedOptions": {"ast": False}, "x": 1},
}


def output(data: dict[str, object], **metadata: object) -> dict[str, object]:
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def drawn(render: Any, mime: str, out: dict[str, Any], *args: Any) -> tuple[str | None, dict[str, Any]]:
    """What `render` shows for `out`'s `mime` data, and the assets it wrote (by suffix: the
    chart's spec parsed, an image's bytes)."""
    written: dict[str, Any] = {}

    def asset(data: bytes, suffix: str) -> str:
        written[suffix] = json.loads(data) if suffix.endswith(".json") else data
        return f"assets/img/x{suffix}"

    def image(mime: str, data: str) -> bytes | None:
        return data.encode()

    ctx = RenderContext("reports/c.ipynb", 1, out, True, 1 << 20, {}, asset, image, lambda line: None)
    return render(out["data"][mime], ctx, *args), written


def test_a_plotly_figure_keeps_its_data_and_layout_only():
    figure = {"data": [{"type": "bar", "y": [1]}], "layout": {"title": "t"}, "config": {"editable": True}}
    out = output({"application/vnd.plotly.v1+json": figure, "text/html": "<div>cdn</div>"})
    html, written = drawn(render_plotly, "application/vnd.plotly.v1+json", out)
    assert written == {".plotly.json": {"data": figure["data"], "layout": figure["layout"]}}
    assert 'data-figure="assets/img/x.plotly.json"' in html


def test_a_vega_mime_output_keeps_its_spec_without_embed_options_and_its_static_image():
    out = output({"application/vnd.vegalite.v5+json": VEGA_LITE, "image/png": "iVBOR"})
    html, written = drawn(render_vega, "application/vnd.vegalite.v5+json", out)
    spec = written[".vega.json"]
    assert spec["mode"] == "vega-lite"
    assert spec["spec"]["usermeta"] == {"x": 1}  # Vega-Embed options of the site's own only
    assert written[".png"] == b"iVBOR" and '<img src="assets/img/x.png"' in html
    vega = output({"application/vnd.vega.v6.json": {"marks": []}})
    _html, written = drawn(render_vega, "application/vnd.vega.v6.json", vega, "vega")
    assert written[".vega.json"]["mode"] == "vega"


def test_altair_s_html_gives_its_spec_and_mode():
    page = (
        '<div id="altair-viz-1"></div><script>(function(spec,'
        ' embedOpt){ vegaEmbed("#altair-viz-1", spec, embedOpt)'
        f'}})({json.dumps(VEGA_LITE)}, {{"mode": "vega-lite"}});</script>'
    )
    _html, written = drawn(render_html, "text/html", output({"text/html": page}))
    spec = written[".vega.json"]
    assert spec["spec"]["mark"] == "bar" and spec["mode"] == "vega-lite"
    plain = output({"text/html": "<div>vegaEmbed but no chart</div>"})
    assert drawn(render_html, "text/html", plain) == (None, {})  # shown as the HTML it is


def test_a_bokeh_show_keeps_its_documents_and_where_to_draw_only():
    docs = {"d1": {"version": bokeh.__version__, "roots": []}}
    items = [{"docid": "d1", "roots": {"p1": "el1"}, "root_ids": ["p1"], "elementid": "site-header"}]
    script = f"var docs_json = {json.dumps(docs)};\nvar render_items = {json.dumps(items)};"
    _html, written = drawn(
        render_bokeh, BOKEH_EXEC, output({"application/javascript": script, BOKEH_EXEC: ""})
    )
    assert written[".bokeh.json"] == {
        "docs_json": docs,
        "render_items": [{k: items[0][k] for k in ("docid", "roots", "root_ids")}],
    }
    old = script.replace(f'"{bokeh.__version__}"', '"2.4.3"')
    stale = output({"application/javascript": old, BOKEH_EXEC: ""})
    assert drawn(render_bokeh, BOKEH_EXEC, stale) == (None, {})  # BokehJS reads its own major only


def test_an_output_with_no_chart_is_none():
    assert drawn(render_html, "text/html", output({"text/html": "<p>1</p>"})) == (None, {})
    not_a_figure = output({"application/vnd.plotly.v1+json": "[1, 2]"})
    assert drawn(render_plotly, "application/vnd.plotly.v1+json", not_a_figure) == (None, {})


def test_bokeh_s_loaders_and_empty_roots_are_scaffolding():
    assert is_bokeh_scaffold(output({BOKEH_LOAD: {}, "text/html": "x"}))
    assert is_bokeh_scaffold(
        output({"text/html": '<div id="a1" data-root-id="p1" style="display: contents;"></div>'})
    )
    assert not is_bokeh_scaffold(output({"text/html": "<table></table>"}))


def test_data_rows_counts_values_datasets_and_sequences():
    spec = {
        "data": {"values": [1, 2, 3]},
        "datasets": {"a": [1, 2]},
        "layer": [{"data": {"sequence": {"start": 0, "stop": 10, "step": 0.5}}}],
    }
    assert data_rows(spec) == 3 + 2 + 20
    assert data_rows({"data": {"sequence": {"stop": "x"}}}) > 20_000


def test_the_placeholder_is_the_static_image_or_a_note_escaped():
    chart = Chart("vega", {})
    html = placeholder(chart, 'a"b.json', "img.svg")
    assert 'data-figure="a&quot;b.json"' in html and '<img src="img.svg" alt="Chart (a static view)">' in html
    assert "it shows in the browser, with JavaScript" in placeholder(chart, "x.json", None)
