"""The Integrated Locality Teams (ILT) cohort, defined once (LPT Clinical Strategy s.8).

Adults who are frail and multimorbid (5+ long-term conditions and an eFI above 0.24,
moderate or severe frailty), or whose predicted next-year secondary-care cost is at least
three times the average. The profiles count the first criterion alone when the cost model
did not run (and say so); restricted.integrated_locality_cohort lists both.

Written once with Narwhals: a snapshot of either engine in, the same kind out.
"""

from __future__ import annotations

from datetime import date

import narwhals as nw
import polars as pl

from phm.columns import beside
from phm.engines import value
from phm.features import EFI_MODERATE

ILT_MIN_AGE = 18
ILT_MIN_LTCS = 5
ILT_COST_MULTIPLE = 3.0


def adult() -> nw.Expr:
    return nw.col("age") >= ILT_MIN_AGE


def frail_multimorbid() -> nw.Expr:
    """5+ LTCs and moderate or severe frailty (a missing eFI counts as not frail)."""
    return (nw.col("ltc_count") >= ILT_MIN_LTCS) & (
        nw.col("efi_score").fill_null(0.0) > EFI_MODERATE
    )


def integrated_locality_cohort(
    snapshot,
    snapshot_date: date,
    predicted,
    practices: pl.DataFrame,
):
    """The cohort's patients at `snapshot_date`, with which criterion each meets, their
    practice and PCN. The snapshot and `predicted` (patient_id, predicted_cost: the cost
    model's) are polars frames or Spark DataFrames, of one engine or `predicted` a polars
    frame. A patient the cost model gave no prediction can still qualify by frailty, never
    by cost."""
    average = value(predicted, nw.col("predicted_cost").mean())
    rows = nw.from_native(snapshot).select(
        "patient_id", "practice_code", "age", "ltc_count", "efi_score"
    )
    rows = beside(rows.to_native(), predicted, "patient_id")
    rows = beside(rows, practices.select("practice_code", "pcn_code"), "practice_code")
    high_cost = (
        (nw.col("predicted_cost") >= ILT_COST_MULTIPLE * average).fill_null(False)
        if average is not None  # no prediction at all: no one is high-cost
        else nw.lit(False)
    )
    flagged = nw.from_native(rows).with_columns(
        frail_multimorbid().alias("frail_multimorbid"),
        high_cost.alias("high_predicted_cost"),
        nw.lit(snapshot_date, nw.Date).alias("snapshot_date"),
    )
    cohort = flagged.filter(adult() & (nw.col("frail_multimorbid") | nw.col("high_predicted_cost")))
    return cohort.sort("patient_id").to_native()
