"""A run killed with SIGKILL while publishing leaves the previous version intact and
readable, and the next run completes normally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest

from phm.warehouse.publish import building_path
from tests.ops.conftest import copy_warehouse, outputs_of, publish

pytestmark = pytest.mark.slow

PHM = Path(sys.executable).with_name("phm")


def _publication(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT * FROM published.publication ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_sigkill_during_publish_keeps_the_previous_version_then_a_rerun_succeeds(
    published_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "warehouse")
    before_bytes = warehouse.read_bytes()
    before = _publication(warehouse)
    building = building_path(warehouse)

    run = subprocess.Popen(
        [
            str(PHM),
            "run",
            "--config",
            str(quick_config),
            "--extract",
            str(extract_b),
            "--warehouse",
            str(warehouse),
            "--outputs",
            str(outputs_of(warehouse)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not building.exists():  # the run has started writing its copy: kill it there
        assert run.poll() is None, "the run finished before it was seen publishing"
        assert time.monotonic() < deadline, "the run never reached publishing"
        time.sleep(0.001)
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=30) == -signal.SIGKILL

    assert warehouse.read_bytes() == before_bytes  # the live file was never touched
    assert _publication(warehouse) == before  # and opens read-only with its old contents

    outcome = publish(quick_config, extract_b, warehouse)
    assert not building.exists()  # the half-built copy was swept away
    # the extract check links its Great Expectations Data Docs, built in the run's outputs
    docs = Path(urlparse(outcome.metadata["extract_meets_contract"]["data_docs"]).path)
    assert docs.is_file() and docs.name == "index.html"
    assert docs.is_relative_to(outputs_of(warehouse) / "validation" / "data_docs")
    after = _publication(warehouse)
    assert after != before and {f for f, _, _ in after} != {f for f, _, _ in before}
    assert _publication(warehouse.with_name(warehouse.name + ".previous")) == before
