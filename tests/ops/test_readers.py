"""Readers are never blocked and never see half a run; re-runs are deterministic.

One fixture publishes extract A, starts a reader process (tests/ops/reader.py) that opens
the published warehouse read-only in a loop, alone as a BI tool does and paired with the
restricted store, then publishes B and A again while it reads. After
each run the test records what the warehouse holds. Determinism is judged on the tables'
contents (every table's rows, sorted, written as CSV bytes), not on the DuckDB file's
bytes: a publish copies the previous file and replaces tables in it, so the file's block
layout (and size: 1.3 MB or 2.4 MB here) depends on what was there before, while its
contents do not.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from phm.warehouse.publish import TWIN_WAIT_S, fingerprints, open_publication
from phm.warehouse.tables import RESTRICTED_PUBLICATION
from tests.ops.conftest import contents, copy_warehouse, publish, store_of

pytestmark = pytest.mark.slow

READER = Path(__file__).with_name("reader.py")


@pytest.fixture(scope="module")
def runs_while_reading(published_a, extract_a, extract_b, quick_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reading")
    warehouse = copy_warehouse(published_a, folder / "warehouse")
    answers, stop = folder / "answers.jsonl", folder / "stop"
    states = [contents(warehouse)]
    reader = subprocess.Popen(
        [sys.executable, str(READER), str(warehouse), str(store_of(warehouse)), str(answers)]
        + [str(stop)]
    )
    try:
        for extract in (extract_b, extract_a):
            publish(quick_config, extract, warehouse)
            states.append(contents(warehouse))
    finally:
        stop.touch()
        reader.wait(timeout=30)
    records = [json.loads(line) for line in answers.read_text().splitlines()]
    return states, records


def test_a_reader_is_never_blocked_and_always_sees_one_complete_version(runs_while_reading):
    states, records = runs_while_reading
    errors = [r[half]["error"] for r in records for half in ("bi", "paired") if not r[half]["ok"]]
    assert errors == []
    known = {s["fingerprint"][0]: s for s in states}
    assert len(known) == 2  # A and B
    seen = set()
    for r in records:
        bi, paired = r["bi"], r["paired"]
        [fingerprint] = bi["fingerprints"]  # one publication, never a mix
        state = known[fingerprint]
        assert bi["counted"] == bi["declared"]  # the tables it read are that publication's
        for table, rows in bi["declared"].items():
            assert state[table][0] == rows
        assert bi["schemas"] == ["published"]  # a BI tool never reaches a patient row
        # the restricted twin it was given is the same run's, complete
        [fingerprint] = paired["fingerprints"]
        assert paired["restricted_fingerprints"] == [fingerprint]
        assert paired["counted"] == paired["declared"]
        assert (
            paired["counted"]["restricted.patient_risk"]
            == (known[fingerprint]["restricted.patient_risk"][0])
        )
        seen.add(fingerprint)
    assert seen == set(known)  # it read throughout: before, between and after the runs
    print(f"\nreader: {len(records)} answers, {len(errors)} errors")


def test_rerunning_gives_identical_rows_and_published_tables(runs_while_reading):
    states, _ = runs_while_reading
    a_first, b, a_again = states
    assert a_again == a_first  # A re-run (after B): identical counts and bytes, table by table
    assert b != a_first  # the comparison can fail: B differs


def _refingerprint(warehouse: Path, fingerprint: str) -> None:
    for store, table in ((warehouse, "published"), (store_of(warehouse), "restricted")):
        with duckdb.connect(str(store)) as con:
            con.execute(f"UPDATE {table}.publication SET fingerprint = ?", [fingerprint])


def test_a_reader_arriving_between_the_two_renames_waits_for_the_pair(published_a, tmp_path):
    """The window between renaming the published file and the restricted store: a reader
    that opens there (unlocked: a BI account that may not create the swap lock) sees two
    different runs, and must look again rather than fail or read half of a publication."""
    live = copy_warehouse(published_a, tmp_path / "live")
    new = copy_warehouse(published_a, tmp_path / "new")
    _refingerprint(new, "the new run")
    os.replace(new, live)  # the published file renamed into place; the restricted not yet
    seen = {}

    def read():
        with open_publication(live, store_of(live)) as (published, restricted):
            seen["published"] = fingerprints(published)
            seen["restricted"] = fingerprints(restricted, RESTRICTED_PUBLICATION)

    reader = threading.Thread(target=read)
    with mock.patch("phm.warehouse.publish._no_swap_while_opening", _unlocked):
        reader.start()
        time.sleep(3 * TWIN_WAIT_S)
        os.replace(store_of(new), store_of(live))  # the second rename
        reader.join(timeout=60)
    assert seen == {"published": {"the new run"}, "restricted": {"the new run"}}


@contextlib.contextmanager
def _unlocked(path):
    yield


def test_a_reader_makes_the_swap_lock_of_a_copied_publication(published_a, tmp_path):
    live = copy_warehouse(published_a, tmp_path / "live")
    lock = live.with_name(f".{live.name}.swap.lock")
    assert not lock.exists()
    with open_publication(live, store_of(live)):
        assert lock.exists()
