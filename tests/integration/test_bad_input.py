"""Bad input through the whole pipeline (`phm run`): a plain error naming file, column, rule
and count; exit status 1; no traceback; no patient value; the published warehouse untouched.

Each rule is tested case by case at the validation layer (tests/validation); here a
representative of each kind of failure goes end to end: a structural problem (read), and,
in one extract, rules checked in polars (unique), by GX (a range) and across files (a known
practice): one run must name all three, so an analyst fixes the extract once, not thrice.
"""

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main

pytestmark = pytest.mark.slow

SNAPSHOT = "patients_2023-04-01.parquet"


def _drop_age(folder: Path) -> None:
    path = folder / SNAPSHOT
    pl.read_parquet(path).drop("age").write_parquet(path)


def _duplicate_patient(folder: Path) -> None:
    path = folder / SNAPSHOT
    frame = pl.read_parquet(path)
    pl.concat([frame, frame.head(3)]).write_parquet(path)


def _unknown_practice(folder: Path) -> None:
    path = folder / SNAPSHOT
    frame = pl.read_parquet(path)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 4)
        .then(pl.lit("Z99999"))
        .otherwise(pl.col("practice_code"))
        .alias("practice_code")
    ).write_parquet(path)


def _age_out_of_range(folder: Path) -> None:
    path = folder / SNAPSHOT
    frame = pl.read_parquet(path)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(130).otherwise(pl.col("age")).alias("age")
    ).write_parquet(path)


def _truncate(folder: Path) -> None:
    path = folder / SNAPSHOT
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _no_snapshots(folder: Path) -> None:
    for path in folder.glob("patients_*"):
        path.unlink()


def _three_rules_broken(folder: Path) -> None:
    _age_out_of_range(folder)  # rows 1-2
    _unknown_practice(folder)  # rows 1-4
    _duplicate_patient(folder)  # the first three rows again, at the end
    # so: 6 rows share a patient_id, 4 + 3 have an unknown practice, 2 + 2 an age of 130


CASES = {
    "missing column": (_drop_age, [SNAPSHOT, "age", "missing"]),
    "duplicate patient, unknown practice, age out of range": (
        _three_rules_broken,
        [SNAPSHOT, "column patient_id: must be unique: 6 rows"]
        + ["column practice_code: practice_code must exist in practices.csv: 7 rows"]
        + ["column age: must be 0 to 115: 4 rows"],
    ),
    "truncated parquet": (_truncate, [SNAPSHOT, "truncated"]),
    "no snapshot": (_no_snapshots, ["patients_<YYYY-MM-DD>"]),
}


@pytest.fixture(scope="module")
def earlier_warehouse(published, tmp_path_factory) -> Path:
    """A copy of a good run's warehouse: bad runs publish over it and must change nothing."""
    warehouse, _ = published
    copy = tmp_path_factory.mktemp("earlier") / "llr.duckdb"
    shutil.copyfile(warehouse, copy)
    return copy


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_rejected_plainly_and_publishes_nothing(
    case, small_extract, earlier_warehouse, tmp_path, capsys
):
    breaks, expected = CASES[case]
    bad = tmp_path / "extract"
    shutil.copytree(small_extract, bad)
    breaks(bad)
    before = earlier_warehouse.read_bytes()
    patient_ids = pl.read_parquet(small_extract / SNAPSHOT)["patient_id"].head(50).to_list()

    status = main(
        ["run", "--extract", str(bad), "--warehouse", str(earlier_warehouse)]
        + ["--outputs", str(tmp_path / "outputs")]
    )

    out = capsys.readouterr()
    said = out.out + out.err
    assert status == 1
    for words in expected:
        assert words in said, f"{words!r} not in:\n{said}"
    assert "Traceback" not in said
    assert not any(pid in said for pid in patient_ids)
    assert earlier_warehouse.read_bytes() == before
