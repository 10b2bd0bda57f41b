"""Two runs publishing at the same moment, and a reader holding both stores open for a whole
run: every run completes, every version is whole, and a restore that meets the reader's
lock names the file and the process holding it."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from phm.warehouse.publish import fingerprints, open_publication, previous_path
from phm.warehouse.tables import RESTRICTED_PUBLICATION
from tests.faults.harness import finished, phm, phm_run, state, temporaries, the_message
from tests.ops.conftest import copy_warehouse, outputs_of, store_of

pytestmark = pytest.mark.slow

# A BI user's read-write session (DBeaver's default): it holds DuckDB's lock on both files
# until told to stop, and says which publication it saw at the start and at the end.
HOLDER = """\
import sys, time, pathlib, duckdb
published, restricted, stop = sys.argv[1:4]
cons = [duckdb.connect(published), duckdb.connect(restricted)]
def seen():
    return [sorted(r[0] for r in c.execute(f"SELECT DISTINCT fingerprint FROM {s}.publication")
            .fetchall()) for c, s in zip(cons, ("published", "restricted"))]
first = seen()
print("holding", flush=True)
while not pathlib.Path(stop).exists():
    time.sleep(0.05)
print(first == seen() and first[0] == first[1], first[0][0], flush=True)
"""


def _twins(warehouse) -> str:
    with open_publication(warehouse, store_of(warehouse)) as (published, _):
        (fingerprint,) = fingerprints(published)
    return fingerprint


def test_two_runs_publishing_at_once_both_complete_one_after_the_other(
    published_a, extract_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    fingerprint_a = _twins(warehouse)
    runs = [phm_run(quick_config, e, warehouse) for e in (extract_b, extract_a)]
    for run in runs:
        code, stderr = finished(run)
        assert code == 0, stderr
    live = _twins(warehouse)
    previous = previous_path(warehouse)
    with open_publication(previous, previous_path(store_of(warehouse))) as (published, rest):
        (before_last,) = fingerprints(published)
        assert fingerprints(rest, RESTRICTED_PUBLICATION) == {before_last}
    assert live != before_last and fingerprint_a in (live, before_last)
    assert temporaries(warehouse.parent) == []


def test_a_reader_holding_the_stores_open_neither_blocks_a_run_nor_sees_half_of_it(
    published_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    old = _twins(warehouse)
    stop = tmp_path / "stop"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(store_of(warehouse)), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        code, stderr = finished(phm_run(quick_config, extract_b, warehouse))
        assert code == 0, stderr
        assert _twins(warehouse) != old  # the run published, the reader's lock regardless

        # The reader still holds the version now kept as .previous: a restore says who.
        restore = ["restore", "--warehouse", str(warehouse), "--outputs"]
        code, stderr = finished(phm([*restore, str(outputs_of(warehouse))]))
        message = the_message(stderr, "restore")
        assert code == 1
        assert message.startswith("phm restore: a file is held by another process at ")
        assert f"PID {holder.pid})" in message and "read-only" in message
        assert "the live warehouse and its previous version are unchanged" in message
    finally:
        stop.touch()
        said, _ = holder.communicate(timeout=30)
    assert said.split() == ["True", old]  # it saw one whole version throughout
    time.sleep(0.1)
    code, stderr = finished(phm([*restore, str(outputs_of(warehouse))]))
    assert code == 0, stderr
    assert _twins(warehouse) == old
    assert state(warehouse)["contents"]["fingerprint"] == [old]
