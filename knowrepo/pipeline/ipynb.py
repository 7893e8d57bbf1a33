"""An .ipynb file's JSON, parsed and checked: what every later stage touches is there, of the
type it expects; else one line naming the file and the cell."""

from __future__ import annotations

import json
from typing import Any

from knowrepo.errors import KnowrepoError

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


def notebook_problem(nb: Any) -> str | None:
    """What makes `nb` (parsed JSON) not a notebook knowrepo can read, naming the cell, or None.

    A structural check of what every later stage touches, by hand: nbformat's full schema
    validation would cost its import (and jsonschema's) in the build's own process, which a
    one-report rebuild cannot afford; papermill and nbconvert validate again in the workers."""
    if not isinstance(nb, dict):
        return "not a Jupyter notebook (the JSON is not an object)"
    major = nb.get("nbformat")
    if "worksheets" in nb or isinstance(major, int) and major < 4:
        return (
            f"an nbformat {major or 3} notebook: knowrepo reads nbformat 4; upgrade it with"
            " `jupyter nbconvert --to notebook --nbformat 4 --inplace FILE`"
        )
    if isinstance(major, int) and major > 4:
        return f"an nbformat {major} notebook: knowrepo reads nbformat 4"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "not a Jupyter notebook (no 'cells' list)"
    if not isinstance(nb.get("metadata", {}), dict):
        return "the notebook's 'metadata' is not an object"
    for number, cell in enumerate(cells, 1):
        if problem := _cell_problem(cell):
            return f"cell {number}: {problem}"
    return None


def _cell_problem(cell: Any) -> str | None:
    if not isinstance(cell, dict):
        return "is not an object"
    kind = cell.get("cell_type")
    if kind not in ("code", "markdown", "raw"):
        return f"unknown cell_type {kind!r} (code, markdown or raw)"
    if "source" not in cell:
        return "has no 'source'"
    source = cell["source"]
    if not isinstance(source, str) and not (
        isinstance(source, list) and all(isinstance(x, str) for x in source)
    ):
        return "'source' must be text or a list of lines"
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        return "'metadata' is not an object"
    tags = metadata.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return "'metadata.tags' must be a list of text"
    if not isinstance(cell.get("attachments", {}) or {}, dict):
        return "'attachments' is not an object"
    outputs = cell.get("outputs", []) if kind == "code" else []
    if not isinstance(outputs, list):
        return "'outputs' is not a list"
    for output in outputs:
        if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
            return "has an output that is not a stream, display_data, execute_result or error"
        if not isinstance(output.get("data", {}), dict) or not isinstance(output.get("metadata", {}), dict):
            return "has an output whose 'data' or 'metadata' is not an object"
    return None


def notebook_json(relpath: str, data: bytes) -> dict[str, Any]:
    """The notebook in `data`, parsed and checked; a one-line error naming `relpath` (a source,
    or a run's executed notebook) if it is not one."""
    try:
        notebook: dict[str, Any] = json.loads(data)  # (notebook_problem checks that it is one)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KnowrepoError(relpath, f"invalid notebook JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:  # (ValueError: a number of 5,000 digits)
        raise KnowrepoError(relpath, f"invalid notebook JSON: {str(exc)[:200]}") from None
    if problem := notebook_problem(notebook):
        raise KnowrepoError(relpath, problem)
    return notebook
