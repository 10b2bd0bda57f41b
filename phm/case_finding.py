"""restricted.case_finding, written once: the level-3 patients of the newest scored snapshot,
the factors that add most to each one's risk (phm/explain.py), their predicted cost and
whether they are in the Integrated Locality Teams cohort.

With Narwhals: polars frames or Spark DataFrames in, the same kind out. The reasons are a
fitted model asked again, a Python function over rows: on Spark they run in Arrow batches
(phm.engines.per_batch), for the level-3 patients only (5% of the population).

Patient-level: for the care teams only, never published.
"""

from __future__ import annotations

import narwhals as nw
import polars as pl

from phm.columns import beside
from phm.engines import per_batch
from phm.explain import REASONS, risk_reasons
from phm.features import FeatureSpec

LISTED = ("patient_id", "snapshot_date", "practice_code", "pcn_code", "risk", "risk_rank")


def case_finding_list(
    tiers,
    snapshot,
    estimator,
    spec: FeatureSpec,
    *,
    predicted_cost=None,
    ilt_cohort=None,
):
    """The level-3 patients of `tiers` (restricted.patient_risk at one snapshot) with the
    reasons `estimator` (the model that scored `snapshot`) gives for their risk, in rank order.
    `predicted_cost` (patient_id, predicted_cost) and `ilt_cohort` (patient_id): the cost
    model's, or None where it did not run (no cost, no one in the cohort)."""
    level3 = nw.from_native(tiers).filter(nw.col("kaiser_tier") == 3).select(*LISTED)
    rows = nw.from_native(snapshot).join(level3.select("patient_id"), on="patient_id", how="semi")
    reasons = per_batch(rows.to_native(), lambda r: risk_reasons(estimator, spec, r), REASONS)
    listed = beside(level3.to_native(), reasons, "patient_id")
    if predicted_cost is not None:
        cost = nw.from_native(predicted_cost).select("patient_id", "predicted_cost")
        listed = beside(listed, cost.to_native(), "patient_id")
    else:
        no_cost = nw.lit(None, nw.Float64).alias("predicted_cost")
        listed = nw.from_native(listed).with_columns(no_cost).to_native()
    cohort = pl.DataFrame(schema={"patient_id": pl.String}) if ilt_cohort is None else ilt_cohort
    flag = nw.from_native(cohort).select("patient_id").unique()
    flag = flag.with_columns(nw.lit(True).alias("integrated_locality_team"))
    listed = nw.from_native(beside(listed, flag.to_native(), "patient_id"))
    return (
        listed.with_columns(nw.col("integrated_locality_team").fill_null(False))
        .sort("risk_rank")
        .to_native()
    )
