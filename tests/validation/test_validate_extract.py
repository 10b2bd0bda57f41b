"""Spec tests for validate_extract / check_extract: a valid extract passes; each broken rule is
reported naming file, column, rule and count, never a patient value."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from phm.errors import DataContractError
from phm.extract import read_extract
from phm.validation import ValidationReport, check_extract, validate_extract

from .builders import SNAPSHOT_DATES, valid_frames, write_extract
from .helpers import assert_no_patient_values, problem_re

FIRST = f"patients_{SNAPSHOT_DATES[0].isoformat()}"


def one_snapshot_extract(folder: Path, fmt: str = "parquet", **changes: pl.Expr) -> Path:
    """practices.csv and one snapshot, the snapshot's columns replaced by `changes` (each an
    expression over the valid frame): the smallest extract a value rule can break."""
    frames = valid_frames()
    frame = frames[FIRST].with_columns(**changes)
    return write_extract(folder, fmt, {"practices": frames["practices"], FIRST: frame})


def at(rows: list[int], value: object, column: str) -> pl.Expr:
    """`column` with `value` on the given 0-based rows."""
    return pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.lit(value)).otherwise(pl.col(column))


def assert_reported(report: ValidationReport, pattern: str, *values: object) -> None:
    with pytest.raises(DataContractError, match=pattern) as caught:
        report.raise_if_failed()
    assert_no_patient_values(str(caught.value), *values)


def test_a_valid_extract_passes_in_both_formats(tmp_path: Path) -> None:
    for fmt in ("parquet", "csv"):
        extract = read_extract(write_extract(tmp_path / fmt, fmt))
        report = validate_extract(extract)
        assert report.ok, report.problems
        report.raise_if_failed()  # does not raise
        assert [s.file for s in report.summaries] == list(extract.files.values())
        summary = report.summary(f"{FIRST}.{fmt}")
        assert summary is not None and summary.failed == 0 and summary.rows == 20
        assert summary.evaluated == summary.passed > 40
        # Two of the patients die after the first snapshot: no warning.
        assert report.warnings == ()


def test_unknown_practice_code(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path, practice_code=at([2, 5], "Z12345", "practice_code"))
    report = check_extract(folder)
    [problem] = report.problems
    assert problem.example_rows == (3, 6)
    assert_reported(
        report,
        problem_re(
            f"{FIRST}.parquet", "practice_code", "practice_code must exist in practices.csv", 2
        ),
        "Z12345",
    )


def test_duplicate_patient_id(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path, patient_id=at([7], "PAT00002", "patient_id"))
    report = check_extract(folder)
    assert_reported(report, problem_re(f"{FIRST}.parquet", "patient_id", "must be unique", 2))
    assert report.problems[0].example_rows == (2, 8)


def test_ltc_count_not_equal_to_the_sum_of_flags(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path, ltc_count=at([0], 13, "ltc_count"))
    assert_reported(
        check_extract(folder),
        problem_re(
            f"{FIRST}.parquet", "ltc_count", "ltc_count must equal the sum of the ltc_ flags", 1
        ),
    )


def test_age_out_of_range(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path, "csv", age=at([4, 9, 10], 187, "age"))
    report = check_extract(folder)
    assert_reported(report, problem_re(f"{FIRST}.csv", "age", "must be 0 to 115", 3), 187)
    assert report.problems[0].example_rows == (5, 10, 11)


def test_imd_decile_out_of_range(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path, imd_decile=at([1], 11, "imd_decile"))
    assert_reported(
        check_extract(folder), problem_re(f"{FIRST}.parquet", "imd_decile", "must be 1 to 10", 1)
    )


def test_a_custom_ltc_list_validates_with_its_own_table(tmp_path: Path) -> None:
    ltcs = ("ltc_asthma", "ltc_copd", "ltc_long_covid")
    frames = valid_frames(ltcs)
    del frames["deaths"]
    frames[FIRST] = frames[FIRST].with_columns(ltc_count=at([3], 4, "ltc_count"))
    report = check_extract(write_extract(tmp_path, "csv", frames, ltc_columns=ltcs), ltcs)
    # max of ltc_count is the length of the list: 4 breaks both the range and the sum.
    assert {(p.column, p.rule) for p in report.problems} == {
        ("ltc_count", "must be 0 to 3"),
        ("ltc_count", "ltc_count must equal the sum of the ltc_ flags"),
    }


def test_check_extract_reports_structural_and_value_problems_together(tmp_path: Path) -> None:
    frames = valid_frames()
    second = f"patients_{SNAPSHOT_DATES[1].isoformat()}"
    frames[second] = frames[second].drop("sex")
    frames[FIRST] = frames[FIRST].with_columns(age=at([0], -1, "age"))
    folder = write_extract(tmp_path, "parquet", frames)
    report = check_extract(folder)
    assert [(p.file, p.column, p.rule) for p in report.problems] == [
        (f"{second}.parquet", "sex", "required column is missing"),
        (f"{FIRST}.parquet", "age", "must be 0 to 115"),
    ]
    assert not report.ok
    with pytest.raises(DataContractError, match=r"2 problems"):
        report.raise_if_failed()


def test_check_extract_turns_a_missing_folder_into_a_report(tmp_path: Path) -> None:
    report = check_extract(tmp_path / "nowhere")
    assert not report.ok and report.summaries == ()
    assert "does not exist" in report.problems[0].rule


def test_data_docs_are_built_without_patient_values(tmp_path: Path) -> None:
    folder = one_snapshot_extract(tmp_path / "extract", age=at([0], 187, "age"))
    report = check_extract(folder, data_docs_dir=tmp_path / "docs")
    assert not report.ok
    pages = list((tmp_path / "docs").rglob("*.html"))
    assert any(p.name == "index.html" for p in pages)
    for page in pages:
        assert_no_patient_values(page.read_text(encoding="utf-8"))
