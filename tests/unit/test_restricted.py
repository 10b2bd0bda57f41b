"""Restricted output is owner-only whatever the umask, and a folder others can open is
refused; the published warehouse keeps ordinary permissions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from phm.config import PipelineConfig
from phm.errors import PhmError
from phm.reports.case_finding import write_case_finding_csvs
from phm.restricted import ExposedRestrictedFolder, private_folder
from phm.schema import Column, Table
from phm.warehouse import publish_warehouse, restricted_store_path
from phm.warehouse.publish import prepare_stores, previous_path

A = Table("published.a", "row", "Table a.", (Column("n", "integer", "A count."),))
R = Table("restricted.r", "row", "R.", (Column("patient_id", "string", "P."),))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0: anything not made owner-only on purpose would be world-readable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_restricted_folder_is_owner_only(tmp_path: Path, permissive_umask) -> None:
    folder = private_folder(tmp_path / "outputs" / "restricted")
    assert mode(folder) == 0o700
    assert mode(private_folder(folder)) == 0o700  # an existing private folder is fine


@pytest.mark.parametrize("exposed", [0o755, 0o750, 0o701, 0o770])
def test_a_folder_others_can_open_is_refused_and_the_message_says_how_to_fix_it(
    tmp_path: Path, exposed: int
) -> None:
    folder = tmp_path / "restricted"
    folder.mkdir()
    os.chmod(folder, exposed)
    with pytest.raises(ExposedRestrictedFolder, match=rf"chmod 700 {folder}.*--outputs"):
        private_folder(folder)
    assert mode(folder) == exposed  # refused, not quietly changed


def test_case_finding_csvs_are_owner_only(tmp_path: Path, permissive_umask) -> None:
    rows = pl.DataFrame(
        {"pcn_code": ["U1", "U1", "U2"], "practice_name": ["=A", "B", "C"], "risk_rank": [2, 1, 1]}
    )
    folder = tmp_path / "restricted" / "case_finding"
    written = write_case_finding_csvs(rows, folder)
    assert sorted(written) == ["U1", "U2"]
    assert mode(folder) == 0o700
    assert {mode(p) for p in folder.iterdir()} == {0o600}


def test_the_restricted_store_and_its_previous_version_are_owner_only(
    tmp_path: Path, permissive_umask
) -> None:
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    for n in (1, 2):
        publish_warehouse(
            path,
            {A: pl.DataFrame({"n": [n]}), R: pl.DataFrame({"patient_id": [f"P{n}"]})},
            restricted=store,
            fingerprint=str(n) * 64,
        )
    assert mode(store.parent) == 0o700
    restricted_files = list(store.parent.iterdir())
    assert previous_path(store) in restricted_files
    assert {mode(p) for p in restricted_files} == {0o600}
    # the published file is for sharing: ordinary permissions (here, umask 0: 0666)
    assert mode(path) == 0o666 and mode(previous_path(path)) == 0o666


def test_the_published_file_cannot_be_the_restricted_store(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    config = PipelineConfig().with_overrides(
        outputs__dir=outputs, warehouse__path=restricted_store_path(outputs)
    )
    with pytest.raises(PhmError, match="another file"):
        prepare_stores(config)
    fine = config.with_overrides(warehouse__path=tmp_path / "bi" / "w.duckdb")
    assert prepare_stores(fine) == restricted_store_path(outputs)
    assert mode(outputs / "restricted") == 0o700
