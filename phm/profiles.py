"""Neighbourhood (PCN) profiles: patient rows in, disclosure-controlled aggregates out."""

from __future__ import annotations

import polars as pl

from phm.disclosure import DisclosurePolicy

LTC_BANDS = ("0", "1", "2", "3", "4", "5", "6", "7", "8plus")


def ltc_band(count: pl.Expr) -> pl.Expr:
    """0..7 as themselves, 8 or more as `8plus` (the LLR plan's table)."""
    return pl.when(count >= 8).then(pl.lit("8plus")).otherwise(count.cast(pl.String))


def pcn_profile(
    patient_risk: pl.DataFrame, practices: pl.DataFrame, policy: DisclosurePolicy
) -> pl.DataFrame:
    """One row per PCN per scored snapshot (see PCN_PROFILE in phm/warehouse/tables.py)."""
    pcns = practices.select("pcn_code", "pcn_name", "place_code", "place_name").unique("pcn_code")
    band = ltc_band(pl.col("ltc_count"))
    raw = (
        patient_risk.group_by("pcn_code", "snapshot_date")
        .agg(
            pl.len().alias("registered_population"),
            *((pl.col("kaiser_tier") == t).sum().alias(f"level{t}_patients") for t in (3, 2, 1)),
            pl.col("risk").sum().round().alias("expected_emergency_admissions"),
            *((band == b).sum().alias(f"ltc_{b}_patients") for b in LTC_BANDS),
        )
        .join(pcns, on="pcn_code", how="left")
    )
    counts = [c for c in raw.columns if c.endswith("_patients")] + [
        "registered_population",
        "expected_emergency_admissions",
    ]
    return raw.with_columns(policy.count(pl.col(c)).alias(c) for c in counts).sort(
        "snapshot_date", "pcn_code"
    )
