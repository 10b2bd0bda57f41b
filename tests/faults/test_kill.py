"""SIGKILL at each stage, publishing included: the live publication is untouched, `phm run`
names the stage it reached, nothing temporary is left, and the next run just works."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

from phm.warehouse.publish import building_path
from tests.faults.harness import assert_untouched, finished, phm_run, state, the_message
from tests.ops.conftest import copy_warehouse, publish, store_of

pytestmark = pytest.mark.slow

# Long enough stages that the kill lands inside them, from first to last.
STAGES = [
    "patient_extract_extract_meets_contract",
    "risk_model_evaluation",
    "tiering_model",
    "model_card",
    "warehouse",
]


def _status(tmpdir: Path) -> list[dict]:
    notes = []
    for file in tmpdir.glob("phm-run-*/status.jsonl"):
        for line in file.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line being written
                notes.append(json.loads(line))
    return notes


def _stage(tmpdir: Path) -> str | None:
    stages = [n["stage"] for n in _status(tmpdir) if "stage" in n]
    return stages[-1] if stages else None


def _child_of(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _wait_for(condition, run, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"the run never reached {what}"
        time.sleep(0.002)


# Stages that write files a killed run could leave half-made (Data Docs, the model card, the
# stores): after a kill there, the next run is tried. The modelling stages write only what
# every stage writes (the supervisor's status line, in a folder each run makes afresh) and
# Dagster's in-memory state, so a next run after them would repeat what the writing stages
# already show (and each costs a whole run of the suite's time).
WRITING = {"patient_extract_extract_meets_contract", "model_card", "warehouse", "mid-publish"}


def _next_run_succeeds(quick_config, extract, warehouse, before) -> None:
    publish(quick_config, extract, warehouse)
    assert state(warehouse)["contents"] != before["contents"]


@pytest.mark.parametrize("stage", [*STAGES, "mid-publish"])
def test_sigkill_at_any_stage_keeps_the_publication_and_the_next_run_succeeds(
    stage, published_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    before = state(warehouse)
    tmpdir = tmp_path / "tmp"
    run = phm_run(quick_config, extract_b, warehouse, tmpdir=tmpdir)
    if stage == "mid-publish":  # its copies of both stores being written
        building = (building_path(warehouse), building_path(store_of(warehouse)))
        _wait_for(lambda: any(b.exists() for b in building), run, "publishing")
    else:
        _wait_for(lambda: _stage(tmpdir) == stage, run, stage)
    os.kill(_child_of(run.pid), signal.SIGKILL)
    code, stderr = finished(run)

    message = the_message(stderr)
    reached = "warehouse" if stage == "mid-publish" else stage
    assert code == 1
    assert message.startswith(f"phm run: stopped by SIGKILL in stage {reached} (peak ")
    assert "nothing was published" in message and "needs no clean-up" in message
    assert_untouched(warehouse, before)  # the parent swept what the child left
    if stage in WRITING:
        _next_run_succeeds(quick_config, extract_b, warehouse, before)


def test_killing_phm_run_itself_takes_its_child_with_it(
    published_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    before = state(warehouse)
    tmpdir = tmp_path / "tmp"
    run = phm_run(quick_config, extract_b, warehouse, tmpdir=tmpdir)
    _wait_for(lambda: _stage(tmpdir) == "risk_model_evaluation", run, "modelling")
    child = _child_of(run.pid)
    run.kill()
    finished(run)
    deadline = time.monotonic() + 30
    while _alive(child):  # the child must not go on to publish on its own
        assert time.monotonic() < deadline, "the child outlived phm run"
        time.sleep(0.05)
    assert state(warehouse) == before
    _next_run_succeeds(quick_config, extract_b, warehouse, before)


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] not in ("Z", "X")  # a zombie is dead, only not yet reaped
