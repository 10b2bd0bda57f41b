"""The Kaiser triangle: level 3 the 5% at highest risk, level 2 the next 15%, level 1 the rest.

Ranking is by predicted risk, highest first, ties broken by patient_id so a run is
deterministic. Tier sizes are rounded shares of the scope's population (the whole ICS, or
each PCN), so shares are exact to within one patient per tier.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Scope = Literal["ics", "pcn"]


def assign_kaiser_tiers(
    scored: pl.DataFrame,
    *,
    scope: Scope = "ics",
    level3_share: float = 0.05,
    level2_share: float = 0.15,
    risk: str = "risk",
) -> pl.DataFrame:
    """Add `kaiser_tier` (1, 2, 3) and `risk_rank` (1 = highest risk within the scope)."""
    by = ["snapshot_date"] + (["pcn_code"] if scope == "pcn" else [])
    ranked = scored.sort([*by, risk, "patient_id"], descending=[False] * len(by) + [True, False])
    rank = pl.int_range(1, pl.len() + 1).over(by)
    n = pl.len().over(by)
    n3 = (n * level3_share).round()
    n23 = (n * (level3_share + level2_share)).round()
    tier = (
        pl.when(pl.col("risk_rank") <= n3)
        .then(3)
        .when(pl.col("risk_rank") <= n23)
        .then(2)
        .otherwise(1)
        .cast(pl.Int8)
    )
    return ranked.with_columns(rank.cast(pl.Int64).alias("risk_rank")).with_columns(
        tier.alias("kaiser_tier")
    )


def patient_risk_table(
    scored: pl.DataFrame,
    snapshots: dict,
    practices: pl.DataFrame,
    *,
    model: str,
    scope: Scope = "ics",
    level3_share: float = 0.05,
    level2_share: float = 0.15,
) -> pl.DataFrame:
    """restricted.patient_risk: scores with PCN, LTC count and Kaiser tier, per snapshot."""
    ltc_counts = pl.concat(
        frame.select("patient_id", "ltc_count").with_columns(pl.lit(d).alias("snapshot_date"))
        for d, frame in snapshots.items()
    )
    enriched = scored.join(
        practices.select("practice_code", "pcn_code"), on="practice_code", how="left"
    ).join(ltc_counts, on=["patient_id", "snapshot_date"], how="left")
    tiered = assign_kaiser_tiers(
        enriched, scope=scope, level3_share=level3_share, level2_share=level2_share
    )
    return tiered.with_columns(pl.lit(model).alias("model"))
