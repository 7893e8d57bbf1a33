"""exports/outbox.py, its record checks: a delivery record read back is trusted only when every
field is what this module writes (E160 of docs/errors.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowrepo.exports.outbox import (
    DamagedRecord,
    message_id,
    read_record,
    record_path,
    record_problem,
    write_record,
)
from knowrepo.model import Run
from knowrepo.pipeline.execute.runstore import new_run_id

RUN_ID = "20261102T090000.000Z-abcdef"
RUN = Run(
    folder=Path("/r/runs/p/default") / RUN_ID, id=RUN_ID, slug="p", variant="default", source="s", status="ok"
)
MESSAGE_ID = message_id(RUN, ["ana@example.com"], [])
SENDING = {
    "run": RUN_ID,
    "state": "sending",
    "to": ["ana@example.com"],
    "cc": [],
    "subject": "Monthly",
    "date": "Mon, 02 Nov 2026 09:00:00 -0000",
    "message_id": MESSAGE_ID,
}


def test_a_record_as_written_is_valid_in_each_state():
    assert record_problem(RUN_ID, SENDING) is None
    assert record_problem(RUN_ID, {**SENDING, "state": "sent", "sent": "2026-11-02T09:00:01Z"}) is None
    assert (
        record_problem(RUN_ID, {"run": RUN_ID, "state": "dropped", "dropped": "2026-11-02T09:00:01Z"}) is None
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"message_id": "<x>\r\nBcc: e@x.com"},
            f"'message_id' must be a Message-ID like <{RUN_ID}.…@knowrepo>, not '<x>\\r\\nBcc: e@x.com'",
        ),
        (
            {"to": ["not an address"]},
            "'to' must be a list of one or more email addresses, not \"['not an address']\"",
        ),
        ({"to": []}, "'to' must be a list of one or more email addresses, not '[]'"),
        ({"subject": "a\nb"}, "'subject' must be one line of text, not 'a\\nb'"),
        (
            {"date": "yesterday"},
            "'date' must be a date as an email's Date header says it (Mon, 02 Nov 2026 09:00:00 -0000),"
            " not 'yesterday'",
        ),
        ({"state": "sent"}, "'sent' is missing"),
        ({"state": "lost"}, "'state' must be one of sending, sent, dropped, not 'lost'"),
        ({"bcc": ["e@x.com"]}, "it has the unknown field 'bcc'"),
        ({"run": "other"}, f"'run' must be {RUN_ID} (the run it is named after), not 'other'"),
    ],
)
def test_E160_a_record_edited_by_hand_is_named_by_its_field(change: dict[str, Any], problem: str):
    assert record_problem(RUN_ID, {**SENDING, **change}) == problem


def test_a_record_that_is_no_object_is_named():
    assert record_problem(RUN_ID, ["sending"]) == "it must be a JSON object"


def test_the_message_id_is_the_same_for_the_same_readers():
    assert message_id(RUN, ["ana@example.com"], []) == MESSAGE_ID
    assert message_id(RUN, ["ana@example.com"], ["bo@example.com"]) != MESSAGE_ID
    assert MESSAGE_ID.startswith(f"<{RUN_ID}.") and MESSAGE_ID.endswith("@knowrepo>")


def test_a_record_is_written_whole_and_read_back_checked(tmp_path: Path):
    run_id = new_run_id()
    run = Run(
        folder=tmp_path / "runs/p/default" / run_id,
        id=run_id,
        slug="p",
        variant="default",
        source="s",
        status="ok",
    )
    run.folder.mkdir(parents=True)
    assert read_record(run) == {}
    record = {**SENDING, "message_id": message_id(run, ["ana@example.com"], [])}
    del record["run"]
    write_record(run, record)
    assert record_path(run) == tmp_path / "runs/p/default/.outbox" / f"{run_id}.json"
    assert read_record(run) == {"run": run_id, **record}
    record_path(run).write_text(json.dumps({"run": run_id, **record, "to": ["x"]}))
    with pytest.raises(DamagedRecord) as raised:
        read_record(run)
    assert str(raised.value) == (
        f"{record_path(run)}: invalid delivery record: 'to' must be a list of one or more email addresses,"
        " not \"['x']\""
    )
    record_path(run).write_text("{")
    with pytest.raises(DamagedRecord, match="invalid delivery record: not JSON"):
        read_record(run)
