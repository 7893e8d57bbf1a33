"""ipywidgets shown from the widget state a notebook saved: what the reader saw when it ran.

A widget output is only a model id; the models live in the notebook's metadata (Jupyter's
"Save widget state", and nbclient/papermill runs store it). Drawing them live needs the
@jupyter-widgets/html-manager JavaScript, which no Python package ships, so each widget
becomes static outputs: an Output widget (what `interact` draws into) its saved outputs, a
box its children in order, and a control its description and saved value. Written by hand:
no library turns saved widget state into static HTML.
"""

from __future__ import annotations

import copy
import html
from typing import TYPE_CHECKING, Any

from knowrepo.pipeline.render.nbtext import joined

if TYPE_CHECKING:
    from knowrepo.plugins import RenderContext

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_STATE = "application/vnd.jupyter.widget-state+json"
_BOXES = {"VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel", "StackModel"}
_CHOICES = {"DropdownModel", "RadioButtonsModel", "ToggleButtonsModel", "SelectModel", "SelectionSliderModel"}
_MULTI = {"SelectMultipleModel", "SelectionRangeSliderModel"}
_SILENT = {"LayoutModel", "DescriptionStyleModel", "SliderStyleModel", "ButtonStyleModel"}
_MAX_DEPTH = 20  # boxes in boxes
_MAX_STEPS = 1000  # models walked for one widget output


def saved_widgets(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """model id -> saved model ({model_name, state}), from the notebook's metadata."""
    widgets = (nb.get("metadata") or {}).get("widgets")
    saved = widgets.get(_STATE) if isinstance(widgets, dict) else None
    state = saved.get("state") if isinstance(saved, dict) else None
    return {k: v for k, v in state.items() if isinstance(v, dict)} if isinstance(state, dict) else {}


def render_widget(data: Any, ctx: RenderContext) -> list[dict[str, Any]] | None:
    """A widget output as the outputs of the widget state the notebook saved (None: no state
    saved for it; its note shows)."""
    return static_widget(dict(ctx.output), dict(ctx.widgets)) if ctx.widgets else None


def static_widget(output: dict[str, Any], models: dict[str, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The outputs that show a widget output as it was saved; None when its state is not saved
    (or is not a state knowrepo can read: then the widget's note shows, as without state)."""
    expansion = _Expansion(models)
    try:
        if not expansion.view(output):
            return None
    except (TypeError, ValueError, KeyError, AttributeError):  # a saved state of odd shape
        return None
    return _merge_controls(expansion.out)


def _child_ids(value: Any) -> list[str]:
    refs = value if isinstance(value, list) else []
    return [ref.removeprefix("IPY_MODEL_") for ref in refs if isinstance(ref, str)]


def _view_id(output: Any) -> str | None:
    data = output.get("data") if isinstance(output, dict) else None
    view = data.get(WIDGET_VIEW) if isinstance(data, dict) else None
    model_id = view.get("model_id") if isinstance(view, dict) else None
    return model_id if isinstance(model_id, str) else None


class _Expansion:
    """One widget output's static outputs, walking its models once each: a state that loops
    (a box or Output widget that holds itself) or sprawls stops at _MAX_STEPS models."""

    def __init__(self, models: dict[str, dict[str, Any]]) -> None:
        self.models, self.steps = models, 0
        self.out: list[dict[str, Any]] = []
        self.open: list[str] = []  # the models being shown, outermost first

    def view(self, output: Any) -> bool:
        model_id = _view_id(output)
        if model_id is None or model_id not in self.models:
            return False
        self.model(model_id)
        return True

    def model(self, model_id: str) -> None:
        self.steps += 1
        if model_id in self.open or self.steps > _MAX_STEPS or len(self.open) > _MAX_DEPTH:
            return
        model = self.models.get(model_id) or {}
        name = found if isinstance(found := model.get("model_name"), str) else ""
        state = given if isinstance(given := model.get("state"), dict) else {}
        self.open.append(model_id)
        try:
            self._show(name, state)
        finally:
            self.open.pop()

    def _show(self, name: str, state: dict[str, Any]) -> None:
        if name == "OutputModel":
            for shown in outputs if isinstance(outputs := state.get("outputs"), list) else []:
                if not self.view(shown) and (kept := _valid_output(shown)) is not None:
                    self.out.append(kept)
        elif name in _BOXES:
            for child in _child_ids(state.get("children")):
                self.model(child)
        elif name in ("HTMLModel", "HTMLMathModel") and state.get("value"):
            # (sanitized as any HTML output; in the row of controls it sits in, as tqdm's text)
            self.out.append(_display({"text/html": str(state["value"])}, control=True))
        elif (shown := _control(name, state)) is not None:
            self.out.append(_display({"text/html": shown}, control=True))
        elif name not in _SILENT:
            kind = name.removesuffix("Model") or "widget"
            note = f"Interactive widget ({html.escape(kind)}): it works in the running notebook."
            self.out.append(_display({"text/html": f'<p class="interactive-note">{note}</p>'}))


def _valid_output(output: Any) -> dict[str, Any] | None:
    """A copy of a saved output with the fields nbformat requires (a widget state's outputs are
    not validated by anyone: one without them would fail the whole page), or None."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        text = joined(output.get("text"))
        return {"output_type": "stream", "name": str(output.get("name") or "stdout"), "text": text}
    if kind in ("display_data", "execute_result") and isinstance(output.get("data"), dict):
        meta = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
        kept = {"output_type": kind, "data": copy.deepcopy(output["data"]), "metadata": copy.deepcopy(meta)}
        if kind == "execute_result":
            count = output.get("execution_count")
            kept["execution_count"] = count if isinstance(count, int) else None
        return kept
    if kind == "error":
        trace = found if isinstance(found := output.get("traceback"), list) else []
        ename, evalue = str(output.get("ename", "")), str(output.get("evalue", ""))
        return {
            "output_type": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": [str(t) for t in trace],
        }
    return None


def _display(data: dict[str, str], control: bool = False) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {"knowrepo_control": control}, "data": data}


def _labels(state: dict[str, Any]) -> list[str]:
    labels = state.get("_options_labels")
    return [str(label) for label in labels] if isinstance(labels, list) else []


def _picked(state: dict[str, Any]) -> list[str]:
    """The labels of a selection's saved index (one, or a list)."""
    labels, index = _labels(state), state.get("index")
    picks = index if isinstance(index, list) else [index]
    return [labels[i] for i in picks if isinstance(i, int) and 0 <= i < len(labels)]


def _number_text(name: str, state: dict[str, Any]) -> str | None:
    value = state.get("value")
    if name.endswith("ProgressModel") and isinstance(value, int | float):
        low, high = state.get("min", 0), state.get("max", 100)
        if isinstance(low, int | float) and isinstance(high, int | float) and high > low:
            return f"{(value - low) / (high - low):.0%}"
    if name == "DatePickerModel" and isinstance(value, dict):  # (its month counts from 0, as in JS)
        return f"{value.get('year', 0):04}-{int(value.get('month', 0)) + 1:02}-{value.get('date', 1):02}"
    if isinstance(value, list):
        return " – ".join(str(v) for v in value)
    return None if value is None else str(value)


def _value_text(name: str, state: dict[str, Any]) -> str | None:
    """A control's saved value as a reader reads it (None: not a control knowrepo knows)."""
    if name in _CHOICES:
        return (_picked(state) or ["—"])[0]
    if name in _MULTI:
        return (" – " if "Range" in name else ", ").join(_picked(state))
    if name in ("CheckboxModel", "ToggleButtonModel", "ValidModel"):
        return "yes" if state.get("value") else "no"
    if name == "ButtonModel":
        return ""
    known = (
        "SliderModel",
        "TextModel",
        "TextareaModel",
        "PlayModel",
        "LabelModel",
        "PickerModel",
        "ProgressModel",
    )
    if name.endswith(known):
        return _number_text(name, state) or ""
    return None


def _control(name: str, state: dict[str, Any]) -> str | None:
    value = _value_text(name, state)
    if value is None:
        return None
    plain = name.endswith("ProgressModel")  # (a bar's share says what it is: tqdm's bars)
    label = str(state.get("description") or ("" if plain else name.removesuffix("Model")))
    if name == "ButtonModel":
        return f'<span class="kr-widget kr-widget-button">{html.escape(label or "Button")}</span>'
    if name == "LabelModel":
        return f'<span class="kr-widget-label">{html.escape(value)}</span>'
    name_html = f'<span class="kr-widget-name">{html.escape(label)}</span> ' if label else ""
    value_html = f'<span class="kr-widget-value">{html.escape(value)}</span>'
    return f'<span class="kr-widget" title="As saved">{name_html}{value_html}</span>'


def _merge_controls(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Controls next to each other (interact's sliders, an HBox) as one row."""
    merged: list[dict[str, Any]] = []
    for output in outputs:
        control = (output.get("metadata") or {}).get("knowrepo_control")
        if control and merged and (merged[-1].get("metadata") or {}).get("knowrepo_control"):
            merged[-1]["data"]["text/html"] += " " + output["data"]["text/html"]
            continue
        merged.append(output)
    for output in merged:
        if (output.get("metadata") or {}).pop("knowrepo_control", False):
            output["data"]["text/html"] = f'<div class="kr-widgets">{output["data"]["text/html"]}</div>'
    return merged
