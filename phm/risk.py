"""Fit, evaluate honestly, and score: the 12-month emergency-admission risk.

The validation design follows the data contract. With outcomes known for two or more
snapshots (three or more snapshots a year apart), every candidate model is fitted on the
older labelled snapshot and evaluated on the newer one, whose patients and outcomes it never
saw (temporal validation). With one labelled snapshot, patients are split 70/30 by a hash of
their pseudonym instead, and every output says so.

Each snapshot is scored by the tiering model fitted on the latest snapshot whose outcomes
were known by then: what the ICS could have published on that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import polars as pl
from sklearn.base import clone

from phm.disclosure import DisclosurePolicy
from phm.errors import DataContractError, Problem
from phm.evaluation import evaluate_scores
from phm.features import FeatureSpec
from phm.models import build_model
from phm.outcomes import OUTCOME, LabelledSnapshot

Design = Literal["temporal", "held_out_patients"]
HELD_OUT_SHARE = 0.3


@dataclass(frozen=True)
class ValidationPlan:
    design: Design
    train_snapshot: date
    evaluation_snapshot: date

    def describe(self) -> str:
        if self.design == "temporal":
            return (
                f"temporal validation: fitted on the {self.train_snapshot} snapshot, evaluated "
                f"on the {self.evaluation_snapshot} snapshot (patients and outcomes unseen)"
            )
        return (
            f"held-out patients: only one snapshot ({self.train_snapshot}) has known outcomes, "
            f"so {HELD_OUT_SHARE:.0%} of its patients (by pseudonym hash) were held out for "
            "evaluation; temporal validation needs three annual snapshots"
        )


@dataclass(frozen=True)
class RiskEvaluation:
    plan: ValidationPlan
    metrics: pl.DataFrame  # one row per candidate model
    predictions: pl.DataFrame  # evaluation patients: patient_id, model, risk, outcome


def plan_validation(labelled: list[LabelledSnapshot]) -> ValidationPlan:
    if not labelled:
        raise DataContractError(
            [
                Problem(
                    file="patients_<YYYY-MM-DD> files",
                    column=None,
                    rule="a risk model needs two snapshots 12 months apart (the later one gives "
                    "the earlier one's outcomes)",
                    count=0,
                )
            ]
        )
    if len(labelled) >= 2:
        return ValidationPlan("temporal", labelled[-2].snapshot_date, labelled[-1].snapshot_date)
    only = labelled[-1].snapshot_date
    return ValidationPlan("held_out_patients", only, only)


def held_out(patient_ids: pl.Series, seed: int) -> np.ndarray:
    """A stable pseudo-random 30% of patients: the same patient is always on the same side."""
    # polars' hash is stable for a pinned polars version, which the lock file guarantees.
    hashed = patient_ids.hash(seed=seed).to_numpy()
    return (hashed % 1000) < HELD_OUT_SHARE * 1000


def _xy(spec: FeatureSpec, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return spec.matrix(frame), frame[OUTCOME].cast(pl.Int64).to_numpy()


def evaluate_models(
    labelled: list[LabelledSnapshot], spec: FeatureSpec, candidates: list[str], seed: int
) -> RiskEvaluation:
    """Fit each candidate on the training side and measure it on the evaluation side."""
    plan = plan_validation(labelled)
    by_date = {ls.snapshot_date: ls.frame for ls in labelled}
    train = by_date[plan.train_snapshot]
    test = by_date[plan.evaluation_snapshot]
    if plan.design == "held_out_patients":
        mask = held_out(train["patient_id"], seed)
        train, test = train.filter(~pl.Series(mask)), test.filter(pl.Series(mask))
    X_train, y_train = _xy(spec, train)
    X_test, y_test = _xy(spec, test)
    rows, predictions = [], []
    for name in candidates:
        model = build_model(name, spec, seed).fit(X_train, y_train)
        risk = model.predict_proba(X_test)[:, 1]
        rows.append({"model": name, **evaluate_scores(y_test, risk)})
        predictions.append(
            pl.DataFrame(
                {
                    "patient_id": test["patient_id"],
                    "model": name,
                    "risk": risk,
                    "outcome": y_test.astype(bool),
                }
            )
        )
    return RiskEvaluation(plan, pl.DataFrame(rows), pl.concat(predictions))


def score_snapshots(
    snapshots: dict[date, pl.DataFrame],
    labelled: list[LabelledSnapshot],
    spec: FeatureSpec,
    model_name: str,
    seed: int,
) -> pl.DataFrame:
    """Score every snapshot that has an earlier labelled snapshot to learn from.

    Returns patient_id, snapshot_date, practice_code, risk and model_trained_on.
    """
    prototype = build_model(model_name, spec, seed)
    fitted: dict[date, object] = {}
    scored = []
    for snapshot_date, frame in sorted(snapshots.items()):
        known = [ls for ls in labelled if ls.outcome_date <= snapshot_date]
        if not known:
            continue
        source = known[-1]
        if source.snapshot_date not in fitted:
            fitted[source.snapshot_date] = clone(prototype).fit(*_xy(spec, source.frame))
        risk = fitted[source.snapshot_date].predict_proba(spec.matrix(frame))[:, 1]
        scored.append(
            frame.select("patient_id", "practice_code").with_columns(
                pl.lit(snapshot_date).alias("snapshot_date"),
                pl.Series("risk", risk),
                pl.lit(source.snapshot_date).alias("model_trained_on"),
            )
        )
    return pl.concat(scored)


def evaluation_table(
    evaluation: RiskEvaluation, tiering_model: str, policy: DisclosurePolicy
) -> pl.DataFrame:
    """published.model_evaluation: one row per candidate, counts disclosure-controlled."""
    plan = evaluation.plan
    return evaluation.metrics.with_columns(
        (pl.col("model") == tiering_model).alias("used_for_tiers"),
        pl.lit(plan.design).alias("validation_design"),
        pl.lit(plan.train_snapshot).alias("train_snapshot"),
        pl.lit(plan.evaluation_snapshot).alias("evaluation_snapshot"),
        policy.count(pl.col("patients")).alias("patients"),
        policy.count(pl.col("events")).alias("events"),
    )
