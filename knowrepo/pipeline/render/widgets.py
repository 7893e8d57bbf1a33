"""ipywidgets shown from the widget state a notebook saved: what the reader saw when it ran.

A widget output is only a model id; the models live in the notebook's metadata (Jupyter's
"Save widget state", and nbclient/papermill runs store it). Drawing them live needs the
@jupyter-widgets/html-manager JavaScript, which no Python package ships, so each widget
becomes static outputs: an Output widget (what `interact` draws into) its saved outputs, a
box its children in order, and a control its description and saved value. Written by hand:
no library turns saved widget state into static HTML.
"""

from __future__ import annotations

import html
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_STATE = "application/vnd.jupyter.widget-state+json"
_BOXES = {"VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel", "StackModel"}
_CHOICES = {"DropdownModel", "RadioButtonsModel", "ToggleButtonsModel", "SelectModel", "SelectionSliderModel"}
_MULTI = {"SelectMultipleModel", "SelectionRangeSliderModel"}
_SILENT = {"LayoutModel", "DescriptionStyleModel", "SliderStyleModel", "ButtonStyleModel"}
_MAX_DEPTH = 20  # boxes in boxes: a saved state that loops is cut here


def saved_widgets(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """model id -> saved model ({model_name, state}), from the notebook's metadata."""
    widgets = (nb.get("metadata") or {}).get("widgets")
    saved = widgets.get(_STATE) if isinstance(widgets, dict) else None
    state = saved.get("state") if isinstance(saved, dict) else None
    return {k: v for k, v in state.items() if isinstance(v, dict)} if isinstance(state, dict) else {}


def static_widget(output: dict[str, Any], models: dict[str, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The outputs that show a widget output as it was saved; None when its state is not saved."""
    data = output.get("data")
    view = data.get(WIDGET_VIEW) if isinstance(data, dict) else None
    model_id = view.get("model_id") if isinstance(view, dict) else None
    if not isinstance(model_id, str) or model_id not in models:
        return None
    outputs: list[dict[str, Any]] = []
    _expand(model_id, models, outputs, 0)
    return _merge_controls(outputs)


def _child_ids(value: Any) -> list[str]:
    refs = value if isinstance(value, list) else []
    return [ref.removeprefix("IPY_MODEL_") for ref in refs if isinstance(ref, str)]


def _expand(model_id: str, models: dict[str, dict[str, Any]], out: list[dict[str, Any]], depth: int) -> None:
    model = models.get(model_id)
    if model is None or depth > _MAX_DEPTH:
        return
    name, state = model.get("model_name", ""), model.get("state") or {}
    if name == "OutputModel":
        for shown in state.get("outputs") or []:
            inner = static_widget(shown, models) if isinstance(shown, dict) and depth < _MAX_DEPTH else None
            out.extend(inner if inner is not None else [shown] if isinstance(shown, dict) else [])
    elif name in _BOXES:
        for child in _child_ids(state.get("children")):
            _expand(child, models, out, depth + 1)
    elif name in ("HTMLModel", "HTMLMathModel") and state.get("value"):
        out.append(_display({"text/html": str(state["value"])}))  # (sanitized as any HTML output)
    elif (shown := _control(name, state)) is not None:
        out.append(_display({"text/html": shown}, control=True))
    elif name not in _SILENT:
        kind = name.removesuffix("Model") or "widget"
        note = f"Interactive widget ({html.escape(kind)}): it works in the running notebook."
        out.append(_display({"text/html": f'<p class="interactive-note">{note}</p>'}))


def _display(data: dict[str, str], control: bool = False) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {"knowrepo_control": control}, "data": data}


def _value_text(name: str, state: dict[str, Any]) -> str | None:
    """A control's saved value as a reader reads it (None: not a control knowrepo knows)."""
    labels = state.get("_options_labels") or []
    if name in _CHOICES:
        index = state.get("index")
        return str(labels[index]) if isinstance(index, int) and 0 <= index < len(labels) else "—"
    if name in _MULTI:
        picked = state.get("index") or []
        return ", ".join(str(labels[i]) for i in picked if isinstance(i, int) and 0 <= i < len(labels))
    if name in ("CheckboxModel", "ToggleButtonModel", "ValidModel"):
        return "yes" if state.get("value") else "no"
    if name == "ButtonModel":
        return ""
    if name.endswith(("SliderModel", "TextModel", "TextareaModel", "PlayModel", "LabelModel", "PickerModel")):
        value = state.get("value")
        if isinstance(value, list):
            return " – ".join(str(v) for v in value)
        return "" if value is None else str(value)
    return None


def _control(name: str, state: dict[str, Any]) -> str | None:
    value = _value_text(name, state)
    if value is None:
        return None
    label = str(state.get("description") or name.removesuffix("Model"))
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
