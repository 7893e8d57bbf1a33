"""pipeline/render/widgets.py: ipywidgets shown from the state a notebook saved (E70 of
docs/errors.md for the legacy state)."""

from __future__ import annotations

from typing import Any

from knowrepo.pipeline.render.widgets import WIDGET_VIEW, saved_widgets, static_widget

STATE = "application/vnd.jupyter.widget-state+json"


def view(model_id: str) -> dict[str, Any]:
    return {"output_type": "display_data", "data": {WIDGET_VIEW: {"model_id": model_id}}, "metadata": {}}


def model(name: str, **state: Any) -> dict[str, Any]:
    return {"model_name": name, "state": state}


def html_of(outputs: list[dict[str, Any]]) -> list[str]:
    return [o["data"]["text/html"] if "data" in o else o["text"] for o in outputs]


def test_saved_models_come_from_the_notebook_s_metadata():
    nb = {"metadata": {"widgets": {STATE: {"state": {"a": model("IntSliderModel"), "b": "junk"}}}}}
    assert saved_widgets(nb) == {"a": model("IntSliderModel")}
    assert saved_widgets({"metadata": {"widgets": {"state": {}, "version": "1"}}}) == {}  # (legacy, E70)
    assert saved_widgets({}) == {}


def test_interact_shows_its_controls_in_a_row_then_its_outputs():
    models = {
        "box": model("VBoxModel", children=["IPY_MODEL_s", "IPY_MODEL_d", "IPY_MODEL_out"]),
        "s": model("IntSliderModel", description="n", value=3),
        "d": model("DropdownModel", description="region", _options_labels=["EU", "US"], index=1),
        "out": model(
            "OutputModel", outputs=[{"output_type": "stream", "name": "stdout", "text": ["n=", "3\n"]}]
        ),
    }
    assert html_of(static_widget(view("box"), models)) == [
        '<div class="kr-widgets"><span class="kr-widget" title="As saved"><span'
        ' class="kr-widget-name">n</span>'
        ' <span class="kr-widget-value">3</span></span> <span class="kr-widget" title="As saved">'
        '<span class="kr-widget-name">region</span> <span class="kr-widget-value">US</span></span></div>',
        "n=3\n",
    ]


def test_controls_read_as_a_reader_reads_them():
    models = {
        "p": model("FloatProgressModel", value=30, min=0, max=60),
        "c": model("CheckboxModel", description="<b>on</b>", value=True),
        "x": model("FileUploadModel", value=[]),
    }
    assert "50%" in html_of(static_widget(view("p"), models))[0]
    checkbox = html_of(static_widget(view("c"), models))[0]
    assert "&lt;b&gt;on&lt;/b&gt;" in checkbox and ">yes<" in checkbox
    assert (
        "Interactive widget (FileUpload): it works in the running notebook."
        in html_of(static_widget(view("x"), models))[0]
    )


def test_a_state_that_holds_itself_or_is_missing_ends():
    models = {
        "loop": model("VBoxModel", children=["IPY_MODEL_loop", "IPY_MODEL_t"]),
        "t": model("LabelModel", value="x"),
    }
    assert html_of(static_widget(view("loop"), models)) == [
        '<div class="kr-widgets"><span class="kr-widget-label">x</span></div>'
    ]
    assert static_widget(view("absent"), models) is None
    assert static_widget({"output_type": "display_data", "data": {}}, models) is None


def test_saved_outputs_of_odd_shape_are_left_out_not_fatal():
    models = {
        "out": model(
            "OutputModel",
            outputs=[{"output_type": "nope"}, "x", {"output_type": "error", "ename": "E", "traceback": "t"}],
        )
    }
    assert static_widget(view("out"), models) == [
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": []}
    ]


def test_saved_display_outputs_keep_their_data_and_get_the_fields_nbformat_requires():
    plot = {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {"width": 3}}
    result = {"output_type": "execute_result", "data": {"text/plain": "1"}, "execution_count": "x"}
    kept = static_widget(view("out"), {"out": model("OutputModel", outputs=[plot, result])})
    assert kept == [plot, {**result, "metadata": {}, "execution_count": None}]
    assert kept[0] is not plot  # (a copy: the notebook's own state is never edited)
