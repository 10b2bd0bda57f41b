"""Cross-column and cross-file rules that a per-column Great Expectations suite cannot say.

Each rule takes conformed polars frames and returns `Problem`s (counts and 1-based row numbers,
never a value). They are vectorised: no Python loop over rows.

`column_rule_failed` also evaluates three kinds of the per-column expectations derived from
the declarations (not null, unique, one of a set) for phm/validation/expectations.py, which
routes them here: they are one vectorised pass each in polars, but cost GX a pandas copy of the
whole frame and a full-frame filter per expectation (on 3 x 1.17M rows: GX 8.6 s for these 35
expectations per snapshot, polars 0.2 s in all). The rules still come from the one declaration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from phm.errors import Problem

EXAMPLE_ROWS = 5

# Data contract, "Numbers": every float column holds finite values; a null is the one way to
# say unknown. GX has no such expectation (its pandas frames cannot tell NaN from null), so the
# rule is ours, evaluated here, for every float column.
FINITE = "ExpectColumnValuesToBeFinite"

# The GX expectation kinds evaluated here, with the same meaning GX gives them: a null is never
# "not unique" or "not in the set" (nulls are the not-null expectation's business).
POLARS_KINDS = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToBeInSet",
        FINITE,
    }
)


def column_rule_failed(
    column: str, kind: str, kwargs: dict[str, object], dtype: pl.DataType
) -> pl.Expr:
    """True on the rows that break one declared column rule (a kind in POLARS_KINDS)."""
    values = pl.col(column)
    if kind == "ExpectColumnValuesToNotBeNull":
        return values.is_null()
    if kind == "ExpectColumnValuesToBeUnique":
        return values.is_duplicated() & values.is_not_null()  # every copy counts, as in GX
    if kind == "ExpectColumnValuesToBeInSet":
        allowed = pl.Series(list(kwargs["value_set"]), dtype=dtype)
        return values.is_not_null() & ~values.is_in(allowed.implode())
    if kind == FINITE:  # NaN, inf and -inf; a null is not a number at all, so it passes
        return values.is_not_null() & ~values.is_finite()
    raise ValueError(f"{kind} is not a rule evaluated in polars")


def _problem(file: str, column: str | None, rule: str, failed: pl.Series) -> Problem | None:
    """A Problem for the rows where the boolean series `failed` is true; None if none is."""
    failed = failed.fill_null(False)
    count = int(failed.sum())
    if count == 0:
        return None
    rows = failed.arg_true().head(EXAMPLE_ROWS) + 1
    return Problem(file, column, rule, count, tuple(int(r) for r in rows))


def practice_codes_exist(
    patients: pl.DataFrame, practices: pl.DataFrame, file: str
) -> list[Problem]:
    """Every patient's practice_code is a practice_code of practices.csv."""
    known = practices.get_column("practice_code").drop_nulls().unique()
    codes = patients.get_column("practice_code")
    failed = codes.is_not_null() & ~codes.is_in(known.implode())
    p = _problem(file, "practice_code", "practice_code must exist in practices.csv", failed)
    return [p] if p else []


def ltc_count_matches_flags(
    patients: pl.DataFrame, ltc_columns: Sequence[str], file: str
) -> list[Problem]:
    """ltc_count equals the number of true ltc_ flags (rows with a null on either side are
    left to the not-null expectation)."""
    flags = pl.sum_horizontal([pl.col(c).cast(pl.Int64) for c in ltc_columns])
    if not ltc_columns:
        flags = pl.lit(0, dtype=pl.Int64)
    any_null = pl.any_horizontal([pl.col(c).is_null() for c in [*ltc_columns, "ltc_count"]])
    failed = patients.select(
        ((pl.col("ltc_count") != flags) & ~any_null).alias("failed")
    ).get_column("failed")
    p = _problem(file, "ltc_count", "ltc_count must equal the sum of the ltc_ flags", failed)
    return [p] if p else []


def deaths_before_snapshot(
    patients: pl.DataFrame, snapshot: date, deaths: pl.DataFrame, file: str
) -> list[Problem]:
    """A patient still registered in a snapshot cannot have died before the snapshot date.

    Reported as a problem like the others; a BI team may see it when death registrations and
    list cleaning lag each other, and should fix the extract or the death date.
    """
    died = deaths.filter(pl.col("date_of_death") < snapshot).get_column("patient_id")
    if died.is_empty():
        return []
    failed = patients.get_column("patient_id").is_in(died.implode())
    p = _problem(
        file,
        "patient_id",
        "a patient in the snapshot has a death recorded before the snapshot date (warning)",
        failed,
    )
    return [p] if p else []
