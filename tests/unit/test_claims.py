"""support/claims.py: one process, of all that share a folder, does one job (E159 of
docs/errors.md)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from knowrepo.support.claims import CLAIM_AGE, HOST, alive, claimed

NEVER_A_PID = 2**22 + 1  # above the kernel's largest pid (pid_max): no process has it


def claim_file(job: Path, number: int, **made: object) -> Path:
    path = job.parent / f"{job.name}.claim.{number}"
    path.write_text(json.dumps(made))
    return path


def claims(job: Path) -> list[str]:
    return sorted(p.name for p in job.parent.glob(f"{job.name}.claim.*"))


def test_a_free_job_is_claimed_for_the_block_and_released(tmp_path: Path):
    job = tmp_path / "outbox" / "run-1"
    with claimed(job) as holder:
        assert holder is None
        assert claims(job) == ["run-1.claim.1"]
        made = json.loads((job.parent / "run-1.claim.1").read_text())
        assert (made["host"], made["pid"]) == (HOST, os.getpid())
    assert claims(job) == []


def test_a_live_holder_keeps_its_job(tmp_path: Path):
    job = tmp_path / "run-1"
    claim_file(job, 1, host=HOST, name="here", pid=1, since="2026-11-02 09:00:00")  # pid 1 always runs
    with claimed(job) as holder:
        assert str(holder) == "pid 1 on here (since 2026-11-02 09:00:00)"
    assert claims(job) == ["run-1.claim.1"]  # not ours: left alone


def test_a_dead_holder_s_claim_is_taken_over_and_both_go(tmp_path: Path):
    job = tmp_path / "run-1"
    claim_file(job, 1, host=HOST, name="here", pid=NEVER_A_PID, since="x")
    with claimed(job) as holder:
        assert holder is None and claims(job) == ["run-1.claim.1", "run-1.claim.2"]
    assert claims(job) == []


def test_another_machine_s_claim_holds_for_an_hour(tmp_path: Path):
    job = tmp_path / "run-1"
    path = claim_file(job, 3, host="0badf00d", name="other", pid=NEVER_A_PID, since="x")
    with claimed(job) as holder:
        assert holder is not None and holder.pid == NEVER_A_PID and holder.name == "other"
    stale = time.time() - CLAIM_AGE - 60
    os.utime(path, (stale, stale))
    with claimed(job) as holder:
        assert holder is None and claims(job) == ["run-1.claim.3", "run-1.claim.4"]


def test_alive_asks_after_a_pid_of_this_machine():
    assert alive(os.getpid()) and not alive(NEVER_A_PID)


def test_a_claim_being_written_is_live(tmp_path: Path):
    job = tmp_path / "run-1"
    (tmp_path / "run-1.claim.1").write_text("")
    with claimed(job) as holder:
        assert str(holder) == "another process"
