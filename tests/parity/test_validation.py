"""The contract check on Spark tables finds what it finds in the files on polars.

An SDE holds the extract as tables: `check_tables` runs the same structural check, the same
Great Expectations suite (GX's Spark engine) and the same cross-table rules on them. Each
problem must match the polars read of the same files in file, column, rule and count; only
the example row numbers differ (a Spark table's rows have no order, so it names none).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from phm.engines.spark import read_snapshot, to_spark
from phm.extract import read_extract
from phm.validation import check_extract, check_tables
from pipelines.cli import main
from tests.validation.builders import SNAPSHOT_DATES, snapshot_frame, write_extract

pytestmark = pytest.mark.slow  # GX on Spark: about a minute for the suite's two checks

DEATHS = "deaths.parquet"


def _on_spark(spark, folder: Path):
    """The extract folder as an SDE holds it: tables (the practices are a small table)."""
    practices = read_extract(folder, snapshots=()).practices
    snapshots = {
        date.fromisoformat(p.stem.removeprefix("patients_")): read_snapshot(spark, p)
        for p in sorted(folder.glob("patients_*.parquet"))
    }
    return to_spark(spark, practices), snapshots, read_snapshot(spark, folder / DEATHS)


def _said(problems) -> list[tuple[str, str | None, str, int]]:
    """What a problem says, without the example rows; a file named by its table."""
    return sorted((p.file.removesuffix(".parquet"), p.column, p.rule, p.count) for p in problems)


def _copy_with(folder: Path, to: Path, newest: str, change) -> Path:
    to.mkdir()
    for p in folder.iterdir():
        if p.is_file():
            shutil.copy(p, to / p.name)
    frame = pl.read_parquet(folder / newest)
    change(frame).write_parquet(to / newest)
    return to


def test_a_valid_extract_passes_on_spark_as_on_polars(spark, two_ics) -> None:
    on_polars = check_extract(two_ics.folder, two_ics.extract.ltc_columns)
    report, extract = check_tables(*_on_spark(spark, two_ics.folder), name="sde.two_ics")
    assert on_polars.ok and report.ok, report.problems
    assert [(s.rows, s.evaluated, s.passed) for s in report.summaries] == [
        (s.rows, s.evaluated, s.passed) for s in on_polars.summaries
    ]
    assert _said(report.warnings) == _said(on_polars.warnings)
    assert extract is not None and extract.snapshots.keys() == two_ics.extract.snapshots.keys()
    assert extract.practices.equals(two_ics.extract.practices)


def test_every_kind_of_bad_value_is_counted_alike_on_spark(
    spark, two_ics, tmp_path, monkeypatch, capsys
) -> None:
    newest = f"patients_{two_ics.newest.isoformat()}.parquet"
    row = pl.int_range(pl.len())

    def spoil(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.when(row == 1)
            .then(pl.col("patient_id").first())
            .otherwise("patient_id")
            .alias("patient_id"),
            pl.when(row.is_in([2, 3, 4])).then(130).otherwise("age").alias("age"),
            pl.when(row.is_in([5, 6]))
            .then(pl.lit("Z99999"))
            .otherwise("practice_code")
            .alias("practice_code"),
            pl.when(row.is_in([7, 8, 9, 10]))
            .then(pl.col("ltc_count") + 1)
            .otherwise("ltc_count")
            .alias("ltc_count"),
            pl.when(row.is_in([11, 12]))
            .then(float("nan"))
            .otherwise("efi_score")
            .alias("efi_score"),
            pl.when(row == 13)
            .then(pl.lit("Q"))
            .when(row == 14)
            .then(None)
            .otherwise("sex")
            .alias("sex"),
            pl.when(row == 16)
            .then(-5.0)
            .otherwise("secondary_care_cost_12m")
            .alias("secondary_care_cost_12m"),
        )

    folder = _copy_with(two_ics.folder, tmp_path / "bad", newest, spoil)
    on_polars = check_extract(folder, two_ics.extract.ltc_columns)
    report = check_extract(folder, two_ics.extract.ltc_columns, spark=spark)  # phm validate's
    found = _said(report.problems)
    assert found == _said(on_polars.problems)
    assert {p.file for p in report.problems} == {newest}  # the file, as on polars
    rules = {(column, rule.split(" ")[0]) for _, column, rule, _ in found}
    assert {c for c, _ in rules} >= {
        "patient_id",  # unique
        "age",  # range (GX)
        "practice_code",  # exists in practices.csv
        "ltc_count",  # the sum of the flags
        "efi_score",  # finite
        "sex",  # in the set, and not null
        "secondary_care_cost_12m",  # range (GX)
    }
    assert all(p.example_rows == () for p in report.problems)
    # phm validate --engine spark says the same, on the session the configuration starts
    monkeypatch.setattr("phm.engines.spark.spark_session", lambda *a, **k: spark)
    capsys.readouterr()
    said = _cli_says(["validate", str(folder), "--engine", "spark"], capsys)
    assert f"({len(found)} problems)" in said[-len(found) - 1]
    assert all(line.startswith(f"  - {newest}, column ") for line in said[-len(found) :])
    assert not any("data rows" in line for line in said)  # Spark's problems name no rows


def test_a_table_of_the_wrong_shape_is_said_alike_on_spark(spark, two_ics, tmp_path) -> None:
    newest = f"patients_{two_ics.newest.isoformat()}.parquet"

    def reshape(frame: pl.DataFrame) -> pl.DataFrame:
        half = pl.when(pl.int_range(pl.len()) < 3).then(0.5).otherwise(0.0)
        return frame.drop("care_home").with_columns(
            pl.col("imd_decile").cast(pl.Float64) + half,  # 3 values not whole numbers
            pl.col("efi_score").cast(pl.Date, strict=False),  # a date where a number is declared
        )

    folder = _copy_with(two_ics.folder, tmp_path / "shape", newest, reshape)
    on_polars = check_extract(folder, two_ics.extract.ltc_columns)
    report, _ = check_tables(*_on_spark(spark, folder), name="sde.shape")
    assert _said(report.problems) == _said(on_polars.problems)
    assert {p.column for p in report.problems} == {"care_home", "imd_decile", "efi_score"}


def _cli_says(args, capsys) -> list[str]:
    assert main(args) == 1
    return capsys.readouterr().out.splitlines()


def test_on_spark_every_snapshot_that_can_be_read_is_checked(spark, tmp_path) -> None:
    """An ambiguous snapshot and a CSV one are said, and the Parquet one is still checked."""
    folder = write_extract(tmp_path / "x", "parquet")
    ambiguous, csv = (f"patients_{d.isoformat()}" for d in SNAPSHOT_DATES)
    checked = "patients_2025-04-01"
    snapshot_frame(date(2025, 4, 1)).write_parquet(folder / f"{checked}.parquet")
    shutil.copy(folder / "deaths.parquet", folder / "deaths.csv")  # ambiguous too
    pl.read_parquet(folder / f"{ambiguous}.parquet").write_csv(folder / f"{ambiguous}.csv")
    pl.read_parquet(folder / f"{csv}.parquet").write_csv(folder / f"{csv}.csv")
    (folder / f"{csv}.parquet").unlink()
    report = check_extract(folder, spark=spark)
    said = {(p.file, p.rule.split(":")[0]) for p in report.problems}
    assert (f"{ambiguous}.parquet and {ambiguous}.csv", "ambiguous") in said
    assert ("deaths.parquet and deaths.csv", "ambiguous") in said
    assert any(p.file == f"{csv}.csv" and "Parquet for Spark" in p.rule for p in report.problems)
    assert [s.file for s in report.summaries if s.file.startswith("patients_")] == [
        f"{checked}.parquet"
    ]


def test_on_spark_a_truncated_snapshot_is_named_and_the_others_checked(spark, tmp_path) -> None:
    """Spark reads a Parquet footer when told to read the file: a truncated one is a problem
    naming that file, as on polars, never Spark's error (its text can quote the bytes)."""
    folder = write_extract(tmp_path / "x", "parquet")
    broken, whole = (f"patients_{d.isoformat()}.parquet" for d in SNAPSHOT_DATES)
    data = (folder / broken).read_bytes()
    (folder / broken).write_bytes(data[: len(data) // 2])
    report = check_extract(folder, spark=spark)
    assert [(p.file, p.rule) for p in report.problems] == [
        (broken, "unreadable Parquet file (truncated or corrupt)")
    ]
    assert whole in {s.file for s in report.summaries}
