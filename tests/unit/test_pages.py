"""pipeline/assemble/pages.py, history.py and sparkline.py, their pure parts: what a page shows of a run
(E141, E147 of docs/errors.md)."""

from __future__ import annotations

import re

from knowrepo.model import Run
from knowrepo.pipeline.assemble.history import script_json
from knowrepo.pipeline.assemble.pages import format_date, rerun_command
from knowrepo.pipeline.assemble.sparkline import sampled, sparkline


def test_E141_the_rerun_command_is_quoted_for_a_shell():
    run = Run(folder=None, id="20261102T090000.000Z-abcdef", slug="p", variant="v", source="s", status="ok")
    assert rerun_command(run) == "knowrepo run --from 20261102T090000.000Z-abcdef"
    odd = Run(folder=None, id="$(touch z)", slug="p", variant="v", source="s", status="ok")
    assert rerun_command(odd) == "knowrepo run --from '$(touch z)'"


def test_dates_are_written_for_people():
    assert format_date("2026-11-02") == "2 Nov 2026"
    assert format_date("2026-11-02T09:00:00Z") == "2 Nov 2026"
    assert format_date("someday") == "someday"


def test_json_in_a_script_element_cannot_end_it():
    assert str(script_json({"a": "</script><b>"})) == '{"a": "\\u003c/script>\\u003cb>"}'


def test_E147_a_sparkline_of_many_runs_draws_a_point_a_pixel():
    svg = sparkline([float(v) for v in range(3000)])
    assert len(re.search(r'points="([^"]*)"', svg).group(1).split()) == 114  # 120 pixels less the padding
    assert 'aria-label="trend of 3000 runs, from 0 to 2999"' in svg
    assert sampled([1, 2, 3, 4, 5], 3) == [1, 3, 5] and sampled([1, 2], 5) == [1, 2]


def test_a_sparkline_of_one_value_is_a_flat_line_and_of_none_nothing():
    assert 'points="3.0,25.0 117.0,25.0"' in sparkline([4.0]) and sparkline([]) == ""
