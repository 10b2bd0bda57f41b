"""Fit, evaluate honestly, and score: the 12-month emergency-admission risk.

The validation design follows the data contract. With outcomes known for two or more
snapshots (three or more snapshots a year apart), every candidate model is fitted on the
older labelled snapshot (s-2, outcomes observed by s-1) and evaluated on the newer one (s-1,
outcomes observed by s), whose patients and outcomes it never saw (temporal validation).
With one labelled snapshot, patients are split 70/30 by a hash of their pseudonym instead,
and every output says so.

Each snapshot is scored by the tiering model fitted on the latest snapshot whose outcomes
were known by then: what the ICS could have published on that date. The model evaluated on
s-1 *is* the model that scores s-1 (one fit, reused); the newest snapshot is scored by a
refit on the latest labelled pair.

Recalibration, where configured, uses training data and unlabelled features only: a Platt
step fitted on held-out training rows (`model.recalibrate`), and a shift of each scored
snapshot's log-odds so that its mean risk equals the latest observed event rate
(`model.recalibrate_to_latest_rate`): the event rate the ICS knew on the scoring date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import polars as pl

from phm.disclosure import DisclosurePolicy
from phm.errors import DataContractError, Problem
from phm.evaluation import evaluate_scores, net_benefit, recalibrate_to_rate, subgroup_metrics
from phm.features import FeatureSpec
from phm.models import build_model
from phm.outcomes import OUTCOME, LabelledSnapshot

Design = Literal["temporal", "held_out_patients"]
HELD_OUT_SHARE = 0.3
AGE_BANDS = (
    (0, 17, "0-17"),
    (18, 39, "18-39"),
    (40, 64, "40-64"),
    (65, 74, "65-74"),
    (75, 84, "75-84"),
    (85, 200, "85+"),
)
SUBGROUP_DIMENSIONS = ("imd_quintile", "ethnicity", "sex", "age_band", "place", "pcn")


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
class FittedModel:
    """A candidate fitted on one labelled snapshot, with what it needs to score another."""

    name: str
    estimator: object
    trained_on: date
    training_event_rate: float
    recalibrated: bool
    rate_anchored: bool

    def predict(self, spec: FeatureSpec, frame: pl.DataFrame) -> np.ndarray:
        return self.predict_matrix(spec.matrix(frame))

    def predict_matrix(self, X: np.ndarray) -> np.ndarray:
        """Risk for a feature matrix already built (one matrix shared by every candidate)."""
        risk = self.estimator.predict_proba(X)[:, 1]
        if self.rate_anchored and len(risk):
            risk = recalibrate_to_rate(risk, self.training_event_rate)
        return risk

    def describe(self) -> str:
        steps = []
        if self.recalibrated:
            steps.append("Platt step on 20% of the training snapshot held out")
        if self.rate_anchored:
            steps.append("mean risk set to the latest observed event rate")
        return "; ".join(steps) or "none"


@dataclass(frozen=True)
class RiskEvaluation:
    plan: ValidationPlan
    metrics: pl.DataFrame  # one row per candidate model
    predictions: pl.DataFrame  # evaluation patients: patient_id, model, risk, outcome
    subgroups: pl.DataFrame = field(default_factory=pl.DataFrame)  # model, dimension, subgroup..
    decision_curve: pl.DataFrame = field(default_factory=pl.DataFrame)  # model, threshold, ..
    fitted: dict[str, FittedModel] = field(default_factory=dict)  # as evaluated
    oracle_auroc: float | None = None  # synthetic data only: the generator's true risk


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


def fit_model(
    name: str,
    spec: FeatureSpec,
    frame: pl.DataFrame,
    trained_on: date,
    seed: int,
    *,
    recalibrate: bool = False,
    anchor_rate: bool = True,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> FittedModel:
    """Fit one registered model on labelled rows (`xy`: their features and outcomes, if
    already built)."""
    X, y = xy if xy is not None else _xy(spec, frame)
    estimator = build_model(name, spec, seed, recalibrate=recalibrate).fit(X, y)
    return FittedModel(name, estimator, trained_on, float(y.mean()), recalibrate, anchor_rate)


def subgroup_keys(frame: pl.DataFrame, practices: pl.DataFrame | None) -> dict[str, pl.Series]:
    """Each evaluation patient's IMD quintile, ethnic group, sex, age band, place and PCN."""
    age = pl.col("age")
    band = pl.lit(None, dtype=pl.String)
    for lo, hi, label in reversed(AGE_BANDS):
        band = pl.when((age >= lo) & (age <= hi)).then(pl.lit(label)).otherwise(band)
    keys = frame.select(
        (((pl.col("imd_decile") + 1) // 2).cast(pl.String))
        .fill_null("unknown")
        .alias("imd_quintile"),
        pl.col("ethnicity"),
        pl.col("sex"),
        band.alias("age_band"),
        pl.col("practice_code"),
    )
    if practices is not None:
        keys = keys.join(
            practices.select(
                "practice_code",
                pl.col("place_name").alias("place"),
                pl.col("pcn_code").alias("pcn"),
            ),
            on="practice_code",
            how="left",
            maintain_order="left",
        )
    else:
        keys = keys.with_columns(
            pl.lit(None, pl.String).alias("place"), pl.lit(None, pl.String).alias("pcn")
        )
    return {d: keys[d] for d in SUBGROUP_DIMENSIONS}


def evaluate_models(
    labelled: list[LabelledSnapshot],
    spec: FeatureSpec,
    candidates: list[str],
    seed: int,
    *,
    practices: pl.DataFrame | None = None,
    recalibrate: tuple[str, ...] = (),
    recalibrate_to_latest_rate: bool = True,
    truth: pl.DataFrame | None = None,
) -> RiskEvaluation:
    """Fit each candidate on the training side and measure it on the evaluation side.

    `truth` (synthetic data only: patient_id, snapshot_date, true_risk) gives the oracle
    AUROC on the same evaluation patients; it is never seen by a model.
    """
    plan = plan_validation(labelled)
    by_date = {ls.snapshot_date: ls.frame for ls in labelled}
    train = by_date[plan.train_snapshot]
    test = by_date[plan.evaluation_snapshot]
    if plan.design == "held_out_patients":
        mask = held_out(train["patient_id"], seed)
        train, test = train.filter(~pl.Series(mask)), test.filter(pl.Series(mask))
    y_test = test[OUTCOME].cast(pl.Int64).to_numpy()
    groups = subgroup_keys(test, practices)
    rows, predictions, subgroups, curves, fitted = [], [], [], [], {}
    train_xy, x_test = _xy(spec, train), spec.matrix(test)  # once, not once per candidate
    for name in candidates:
        model = fit_model(
            name,
            spec,
            train,
            plan.train_snapshot,
            seed,
            recalibrate=name in recalibrate,
            anchor_rate=recalibrate_to_latest_rate,
            xy=train_xy,
        )
        fitted[name] = model
        risk = model.predict_matrix(x_test)
        rows.append(
            {"model": name, "recalibration": model.describe(), **evaluate_scores(y_test, risk)}
        )
        subgroups.append(
            subgroup_metrics(y_test, risk, groups).insert_column(0, pl.lit(name).alias("model"))
        )
        curves.append(net_benefit(y_test, risk).insert_column(0, pl.lit(name).alias("model")))
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
    oracle = oracle_auroc(truth, test, plan.evaluation_snapshot) if truth is not None else None
    return RiskEvaluation(
        plan,
        pl.DataFrame(rows),
        pl.concat(predictions),
        subgroups=pl.concat(subgroups),
        decision_curve=pl.concat(curves),
        # a held-out-patients model saw 70% of the rows: it is not reused for scoring
        fitted=fitted if plan.design == "temporal" else {},
        oracle_auroc=oracle,
    )


def oracle_auroc(truth: pl.DataFrame, test: pl.DataFrame, snapshot: date) -> float | None:
    """AUROC of the generator's true risk on the evaluation patients: the ceiling."""
    from sklearn.metrics import roc_auc_score

    joined = test.select("patient_id", OUTCOME).join(
        truth.filter(pl.col("snapshot_date") == snapshot).select("patient_id", "true_risk"),
        on="patient_id",
        how="inner",
    )
    if joined.height < test.height * 0.99 or joined[OUTCOME].n_unique() < 2:
        return None  # not this extract's truth
    return float(roc_auc_score(joined[OUTCOME].cast(pl.Int64), joined["true_risk"]))


def tiering_models(
    snapshot_dates: Iterable[date],
    labelled: list[LabelledSnapshot],
    spec: FeatureSpec,
    model_name: str,
    seed: int,
    *,
    evaluated: dict[str, FittedModel] | None = None,
    recalibrate: bool = False,
    recalibrate_to_latest_rate: bool = True,
) -> dict[date, FittedModel | None]:
    """For each snapshot, the model that scores it: fitted on the latest snapshot whose
    outcomes were known by then (None where there is none: the oldest snapshot). A fit
    already made for evaluation is reused."""
    reusable = (evaluated or {}).get(model_name)
    by_source: dict[date, FittedModel] = {}
    chosen: dict[date, FittedModel | None] = {}
    for snapshot_date in sorted(snapshot_dates):
        source = outcome_source(snapshot_date, labelled)
        if source is None:
            chosen[snapshot_date] = None
            continue
        if source.snapshot_date not in by_source:
            if reusable is not None and reusable.trained_on == source.snapshot_date:
                by_source[source.snapshot_date] = reusable
            else:
                by_source[source.snapshot_date] = fit_model(
                    model_name,
                    spec,
                    source.frame,
                    source.snapshot_date,
                    seed,
                    recalibrate=recalibrate,
                    anchor_rate=recalibrate_to_latest_rate,
                )
        chosen[snapshot_date] = by_source[source.snapshot_date]
    return chosen


def outcome_source(
    snapshot_date: date, labelled: list[LabelledSnapshot]
) -> LabelledSnapshot | None:
    """The labelled snapshot a model scoring `snapshot_date` learns from: the latest one whose
    12-month outcomes had been observed by that date (the later snapshot supplies them)."""
    known = [ls for ls in labelled if ls.outcome_date <= snapshot_date]
    return known[-1] if known else None


def score_snapshot(
    frame: pl.DataFrame, snapshot_date: date, spec: FeatureSpec, model: FittedModel
) -> pl.DataFrame:
    """patient_id, practice_code, snapshot_date, risk and model_trained_on for one snapshot."""
    return frame.select("patient_id", "practice_code").with_columns(
        pl.lit(snapshot_date).alias("snapshot_date"),
        pl.Series("risk", model.predict(spec, frame)),
        pl.lit(model.trained_on).alias("model_trained_on"),
    )


def evaluation_table(
    evaluation: RiskEvaluation, tiering_model: str, policy: DisclosurePolicy
) -> pl.DataFrame:
    """published.model_evaluation: one row per candidate, counts disclosure-controlled."""
    plan = evaluation.plan
    oracle = evaluation.oracle_auroc
    return evaluation.metrics.with_columns(
        (pl.col("model") == tiering_model).alias("used_for_tiers"),
        pl.lit(plan.design).alias("validation_design"),
        pl.lit(plan.train_snapshot).alias("train_snapshot"),
        pl.lit(plan.evaluation_snapshot).alias("evaluation_snapshot"),
        policy.count(pl.col("patients")).alias("patients"),
        policy.count(pl.col("events")).alias("events"),
        pl.lit(oracle, dtype=pl.Float64).alias("oracle_auroc"),
        (pl.lit(oracle, dtype=pl.Float64) - pl.col("auroc")).alias("auroc_gap_to_oracle"),
    )


def subgroup_table(evaluation: RiskEvaluation, policy: DisclosurePolicy) -> pl.DataFrame:
    """published.model_evaluation_subgroup: metrics per subgroup, counts disclosure-controlled
    (metrics were already withheld where patients, events or non-events were under 8)."""
    plan = evaluation.plan
    return evaluation.subgroups.with_columns(
        pl.lit(plan.design).alias("validation_design"),
        pl.lit(plan.evaluation_snapshot).alias("evaluation_snapshot"),
        policy.count(pl.col("patients")).alias("patients"),
        policy.count(pl.col("events")).alias("events"),
    )


def decision_curve_table(evaluation: RiskEvaluation, policy: DisclosurePolicy) -> pl.DataFrame:
    """published.decision_curve: net benefit by threshold, per model."""
    patients = evaluation.predictions.filter(
        pl.col("model") == evaluation.predictions["model"][0]
    ).height
    return evaluation.decision_curve.with_columns(
        pl.lit(evaluation.plan.evaluation_snapshot).alias("evaluation_snapshot"),
        policy.count(pl.lit(patients)).alias("patients"),
    )
