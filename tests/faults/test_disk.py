"""A full disk, a read-only filesystem, a folder the run may not write: at whichever stage it
strikes, the live publication stays byte for byte what it was, nothing temporary is left,
and `phm run` says the cause with the path, in one line."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.faults.harness import (
    assert_untouched,
    finished,
    phm_run,
    state,
    temporaries,
    the_message,
)
from tests.ops.conftest import copy_warehouse

pytestmark = pytest.mark.slow

# Each stage that writes, and a path only it writes (tests/faults/inject fails the first
# write-open of a path containing it).
WRITING_STAGES = [
    ("patient_extract_extract_meets_contract", "data_docs"),  # Great Expectations' Data Docs
    ("model_card", "model_card"),
    ("warehouse", ".building"),  # the copy of the published file a publish writes into
]


@pytest.mark.parametrize(("stage", "path_part"), WRITING_STAGES)
def test_a_full_disk_at_any_stage_publishes_nothing_and_says_no_space(
    stage, path_part, published_a, extract_b, quick_config, tmp_path
):
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    before = state(warehouse)
    code, stderr = finished(
        phm_run(quick_config, extract_b, warehouse, fault=f"ENOSPC:{path_part}")
    )
    message = the_message(stderr)
    assert code == 1
    assert message.startswith("phm run: no space left on the disk at ")
    assert path_part in message and f"in stage {stage};" in message
    assert "nothing was published" in message and "Free space under " in message
    assert_untouched(warehouse, before)


def _fill(disk, leave_bytes: int) -> None:
    """Fill a filesystem until `leave_bytes` are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "ballast", "wb") as handle:
        handle.truncate(0)
        remaining = free - leave_bytes
        block = b"\0" * (1 << 20)
        while remaining > 0:
            handle.write(block[: min(len(block), remaining)])
            remaining -= len(block)


@pytest.mark.parametrize("leave", ["nothing", "less than a copy of the warehouse"])
def test_a_really_full_filesystem_keeps_the_publication_then_a_run_with_space_succeeds(
    leave, published_a, extract_b, quick_config, small_disk
):
    disk = small_disk(64)
    warehouse = copy_warehouse(published_a, disk / "publication")
    before = state(warehouse)
    _fill(disk, 0 if leave == "nothing" else warehouse.stat().st_size // 2)

    code, stderr = finished(phm_run(quick_config, extract_b, warehouse))
    message = the_message(stderr)
    assert code == 1
    assert message.startswith(f"phm run: no space left on the disk at {disk}")
    assert f"Free space under {disk}" in message and "nothing was published" in message
    assert_untouched(warehouse, before)

    (disk / "ballast").unlink()
    code, stderr = finished(phm_run(quick_config, extract_b, warehouse))
    assert code == 0, stderr
    assert state(warehouse)["contents"] != before["contents"]
    assert temporaries(disk) == []


def test_a_read_only_filesystem_publishes_nothing_and_says_so(
    published_a, extract_b, quick_config, small_disk
):
    disk = small_disk(64)
    warehouse = copy_warehouse(published_a, disk / "publication")
    before = state(warehouse)
    remount = ["mount", "-o", "remount,ro", str(disk)]
    if subprocess.run(remount, capture_output=True).returncode != 0:
        pytest.skip("cannot remount the small filesystem read-only here")

    code, stderr = finished(phm_run(quick_config, extract_b, warehouse))
    message = the_message(stderr)
    assert code == 1
    assert message.startswith(f"phm run: read-only filesystem at {disk}")
    assert "--outputs and --warehouse on a writable disk" in message
    assert_untouched(warehouse, before)


def test_a_folder_the_account_may_not_write_publishes_nothing_and_says_so(
    published_a, extract_b, quick_config, tmp_path
):
    """Tests run as root, whom file modes do not stop: the refusal is injected (EACCES), at
    the publish, the last moment it could come."""
    warehouse = copy_warehouse(published_a, tmp_path / "publication")
    before = state(warehouse)
    code, stderr = finished(phm_run(quick_config, extract_b, warehouse, fault="EACCES:.building"))
    message = the_message(stderr)
    assert code == 1
    assert message.startswith(f"phm run: permission denied at {warehouse.parent}")
    assert "in stage warehouse" in message and "write access" in message
    assert_untouched(warehouse, before)
