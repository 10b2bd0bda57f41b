"""Data contract, "Numbers": a NaN or an infinity in a float column is a contract violation,
reported like the others (file, column, rule, count, example rows), in either file format;
never kept, and never read as a null first."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from phm.extract import read_extract
from phm.validation import check_extract
from phm.validation.expectations import FINITE_RULE

from .builders import SNAPSHOT_DATES
from .helpers import problem_re
from .test_validate_extract import FIRST, assert_reported, at, one_snapshot_extract

NOT_FINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


@pytest.mark.parametrize("column", ["efi_score", "secondary_care_cost_12m"])
@pytest.mark.parametrize("value", NOT_FINITE, ids=list(NOT_FINITE))
def test_a_value_that_is_not_a_finite_number_is_a_violation(
    tmp_path: Path, fmt: str, column: str, value: str
) -> None:
    changed = at([1, 4], NOT_FINITE[value], column).cast(pl.Float64)
    folder = one_snapshot_extract(tmp_path, fmt, **{column: changed})
    report = check_extract(folder)
    found = [p for p in report.problems if p.rule == FINITE_RULE]
    assert [(p.file, p.column, p.count, p.example_rows) for p in found] == [
        (f"{FIRST}.{fmt}", column, 2, (2, 5))
    ]
    assert_reported(report, problem_re(f"{FIRST}.{fmt}", column, FINITE_RULE, 2))


def test_the_reader_keeps_nan_as_nan_so_that_the_rule_can_see_it(tmp_path: Path, fmt: str):
    folder = one_snapshot_extract(
        tmp_path, fmt, secondary_care_cost_12m=at([3], float("nan"), "secondary_care_cost_12m")
    )
    frame = read_extract(folder).snapshots[SNAPSHOT_DATES[0]]
    cost = frame["secondary_care_cost_12m"]
    assert cost.is_nan().sum() == 1 and cost.null_count() == 0


def test_a_null_in_a_nullable_float_column_is_still_allowed(tmp_path: Path, fmt: str) -> None:
    folder = one_snapshot_extract(tmp_path, fmt, efi_score=at([0, 2], None, "efi_score"))
    assert check_extract(folder).ok
