"""`phm restore` asked for a previous publication that is missing, damaged, or on a disk it
may not write: it says so in one line and leaves the live publication exactly as it was.
And `phm synth` and `phm validate` name a machine's failure the same way."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from phm.warehouse.publish import previous_path
from tests.faults.harness import finished, phm, state, temporaries, the_message
from tests.ops.conftest import copy_warehouse, outputs_of, publish, store_of


@pytest.fixture(scope="module")
def two_publications(published_a, extract_b, quick_config, tmp_path_factory):
    """A publication of extract B whose previous version (both stores) is extract A's."""
    warehouse = copy_warehouse(published_a, tmp_path_factory.mktemp("restore") / "pub")
    publish(quick_config, extract_b, warehouse)
    return warehouse


def _copy(publication, folder):
    shutil.copytree(publication.parent, folder)
    return folder / publication.name


def _restore(warehouse):
    command = ["restore", "--warehouse", str(warehouse), "--outputs", str(outputs_of(warehouse))]
    return finished(phm(command))


@pytest.mark.parametrize("store", ["published", "restricted"])
def test_a_missing_previous_version_is_named_and_nothing_changes(store, two_publications, tmp_path):
    warehouse = _copy(two_publications, tmp_path / "pub")
    gone = previous_path(warehouse if store == "published" else store_of(warehouse))
    gone.unlink()
    before = state(warehouse)
    code, stderr = _restore(warehouse)
    message = the_message(stderr, "restore")
    assert code == 1
    assert message == (
        f"phm restore: There is no previous version of {gone.with_suffix('')} to restore "
        f"({gone.name} does not exist)."
    )
    assert state(warehouse) == before


@pytest.mark.parametrize("damage", ["overwritten", "truncated"])
@pytest.mark.parametrize("store", ["published", "restricted"])
def test_a_damaged_previous_version_is_refused_not_made_live(
    damage, store, two_publications, tmp_path
):
    warehouse = _copy(two_publications, tmp_path / "pub")
    damaged = previous_path(warehouse if store == "published" else store_of(warehouse))
    data = bytearray(damaged.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 3]
    else:  # a stretch of every table's blocks, past the headers
        data[len(data) // 4 : len(data) // 4 + 256 * 1024] = b"\x5a" * (256 * 1024)
    damaged.write_bytes(bytes(data))
    before = state(warehouse)

    code, stderr = _restore(warehouse)
    message = the_message(stderr, "restore")
    assert code == 1
    assert message.startswith(f"phm restore: The previous version {damaged} is damaged")
    assert "nothing was restored, the live version is unchanged" in message
    assert state(warehouse) == before and damaged.read_bytes() == bytes(data)
    assert temporaries(warehouse.parent) == []


def test_after_the_faults_a_good_previous_version_restores(two_publications, tmp_path):
    warehouse = _copy(two_publications, tmp_path / "pub")
    before = state(warehouse)
    code, stderr = _restore(warehouse)
    assert code == 0, stderr
    after = state(warehouse)
    assert after["contents"]["fingerprint"] != before["contents"]["fingerprint"]
    code, stderr = _restore(warehouse)  # and back
    assert code == 0, stderr
    assert state(warehouse) == before


def test_a_restore_on_a_read_only_filesystem_says_so(two_publications, small_disk):
    disk = small_disk(64)
    warehouse = _copy(two_publications, disk / "pub")
    before = state(warehouse)
    if subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode != 0:
        pytest.skip("cannot remount the small filesystem read-only here")
    code, stderr = _restore(warehouse)
    message = the_message(stderr, "restore")
    assert code == 1
    assert message.startswith(f"phm restore: read-only filesystem at {disk}")
    assert "the live warehouse and its previous version are unchanged" in message
    assert state(warehouse) == before


def test_synth_on_a_full_disk_says_no_space_with_the_path(small_disk):
    disk = small_disk(1)
    code, stderr = finished(phm(["synth", "--out", str(disk / "x"), "--scale", "0.02"]))
    message = the_message(stderr, "synth")
    assert code == 1
    assert message.startswith(f"phm synth: no space left on the disk at {disk}")
    assert "the extract written so far is incomplete" in message


def test_validate_out_of_memory_says_so(extract_a):
    fault = "MemoryError:phm.validation.expectations:imports"  # validating: Python reads no file
    code, stderr = finished(phm(["validate", str(extract_a)], fault=fault, anywhere=True))
    message = the_message(stderr, "validate")
    assert code == 1
    assert message.startswith("phm validate: out of memory; the extract was not fully checked.")
