"""Unit tests for the cross-file rules (on polars here; on Spark in tests/parity)."""

from __future__ import annotations

from datetime import date

import narwhals as nw
import polars as pl

from phm.errors import Problem
from phm.validation import rules

from .builders import (
    PRACTICE_CODES,
    SNAPSHOT_DATES,
    deaths_frame,
    practices_frame,
    snapshot_frame,
)

FILE = "patients_2023-04-01.parquet"


def test_practice_codes_exist() -> None:
    patients = snapshot_frame(SNAPSHOT_DATES[0])
    assert rules.practice_codes_exist(patients, practices_frame(), FILE) == []
    bad = patients.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([3, 4, 11]))
        .then(pl.lit("Z99999"))
        .otherwise(pl.col("practice_code"))
        .alias("practice_code")
    )
    assert rules.practice_codes_exist(bad, practices_frame(), FILE) == [
        Problem(FILE, "practice_code", "practice_code must exist in practices.csv", 3, (4, 5, 12))
    ]


def test_a_blank_practice_code_in_practices_is_no_practice() -> None:
    """The not-null rule reports the blank; here it must not stop the check."""
    patients = snapshot_frame(SNAPSHOT_DATES[0])
    practices = practices_frame()
    blank = practices.with_columns(
        pl.when(pl.col("practice_code") == PRACTICE_CODES[0])
        .then(None)
        .otherwise("practice_code")
        .alias("practice_code")
    )
    [p] = rules.practice_codes_exist(patients, blank, FILE)
    assert (p.column, p.count) == ("practice_code", 7)  # the patients of the blanked practice


def test_ltc_count_matches_flags() -> None:
    ltcs = ("ltc_asthma", "ltc_copd", "ltc_obesity")
    patients = snapshot_frame(SNAPSHOT_DATES[0], ltcs)
    assert rules.ltc_count_matches_flags(patients, ltcs, FILE) == []
    bad = patients.with_columns(
        pl.when(pl.int_range(pl.len()) == 8)
        .then(pl.col("ltc_count") + 1)
        .otherwise(pl.col("ltc_count"))
        .alias("ltc_count")
    )
    assert rules.ltc_count_matches_flags(bad, ltcs, FILE) == [
        Problem(FILE, "ltc_count", "ltc_count must equal the sum of the ltc_ flags", 1, (9,))
    ]


def test_ltc_count_leaves_nulls_to_the_not_null_expectation() -> None:
    ltcs = ("ltc_asthma",)
    patients = snapshot_frame(SNAPSHOT_DATES[0], ltcs).with_columns(
        pl.lit(None, pl.Int64).alias("ltc_count")
    )
    assert rules.ltc_count_matches_flags(patients, ltcs, FILE) == []


def test_example_rows_are_the_first_five() -> None:
    patients = snapshot_frame(SNAPSHOT_DATES[0]).with_columns(
        pl.lit("Z99999").alias("practice_code")
    )
    [p] = rules.practice_codes_exist(patients, practices_frame(), FILE)
    assert (p.count, p.example_rows) == (20, (1, 2, 3, 4, 5))


def test_deaths_before_snapshot_is_found() -> None:
    patients = snapshot_frame(SNAPSHOT_DATES[1])
    [p] = rules.deaths_before_snapshot(patients, SNAPSHOT_DATES[1], deaths_frame(), FILE)
    assert (p.column, p.count, p.example_rows) == ("patient_id", 2, (19, 20))
    assert rules.deaths_before_snapshot(patients, date(2023, 4, 1), deaths_frame(), FILE) == []


def test_counted_column_rules_leave_nulls_to_not_null() -> None:
    """As in GX: a null is neither a duplicate nor outside the allowed set."""
    frame = pl.DataFrame({"code": ["A", None, "A", None, "B"], "kind": ["a", None, "x", "b", None]})

    def failed(column: str, kind: str, **kwargs: object) -> list[bool]:
        rule = rules.column_rule_failed(column, kind, kwargs)
        return nw.from_native(frame).select(rule.alias("failed"))["failed"].to_list()

    assert failed("code", "ExpectColumnValuesToBeUnique") == [True, False, True, False, False]
    assert failed("kind", "ExpectColumnValuesToBeInSet", value_set=("a", "b")) == [
        False,
        False,
        True,
        False,
        False,
    ]
    assert failed("code", "ExpectColumnValuesToNotBeNull") == [False, True, False, True, False]
