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

Recalibration, where configured, uses training data only: a Platt step fitted on held-out
training rows (`model.recalibrate`), and a period shift (`model.period_shift`): the log-odds
constant that makes the model's mean risk equal the observed event rate on the snapshot it
was trained on, where the outcome is known, carried forward unchanged to every snapshot it
scores. A change in case mix that the features capture (an older, sicker population) thus
stays in the scores; an earlier version instead forced each scored snapshot's mean risk to
the latest observed rate, and on an extract whose population grew sicker it under-predicted
by 5-25%. What the features cannot see (a change in admission practice after the training
year) is not knowable on the scoring date; the evaluation's observed/expected measures it.
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
from phm.evaluation import (
    auroc_difference,
    calibration_bins,
    evaluate_scores,
    log_odds_shift,
    net_benefit,
    roc_points,
    shift_log_odds,
    subgroup_metrics,
)
from phm.features import FeatureSpec
from phm.models import build_model, model_notes
from phm.models.recalibrated import CALIBRATION_SHARE
from phm.models.sampled import TRAINING_ROWS, stratified_sample
from phm.outcomes import OUTCOME, LabelledSnapshot

Design = Literal["temporal", "held_out_patients"]
HELD_OUT_SHARE = 0.3
BASELINE_MODEL = "cms_age_sex"  # the published score a commissioner could use without ours
SHIFT_ROWS = 300_000  # training rows (class shares kept) the period shift is estimated on
# On Spark, the most rows of each labelled snapshot collected to one process to fit and
# evaluate on (a seeded sample beyond it): a region's or England's evaluation snapshot has
# millions, and two million pin an AUROC to about +/-0.002 (DeLong) at a 5% event rate.
EVALUATION_ROWS = 2_000_000
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
    period_shift: float | None  # log-odds added to every score; None: the step is off

    def predict(self, spec: FeatureSpec, frame: pl.DataFrame) -> np.ndarray:
        """Risk for every row of `frame`, one batch of feature rows at a time."""
        return np.concatenate([self.predict_matrix(X) for X in spec.batches(frame)])

    def predict_matrix(self, X: np.ndarray, *, shifted: bool = True) -> np.ndarray:
        """Risk for a feature matrix already built (one matrix shared by every candidate);
        `shifted=False`: before the period shift (for the card's before/after)."""
        risk = self.estimator.predict_proba(X)[:, 1]
        if shifted and self.period_shift is not None:
            risk = shift_log_odds(risk, self.period_shift)
        return risk

    def describe(self) -> str:
        steps = []
        if self.recalibrated:
            steps.append("Platt step on 20% of the training snapshot held out")
        if self.period_shift is not None:
            steps.append(
                f"period shift {self.period_shift:+.4f} log-odds (mean risk = observed rate on "
                f"the {self.trained_on} snapshot), carried forward"
            )
        return "; ".join(steps) or "none"


@dataclass(frozen=True)
class RiskEvaluation:
    plan: ValidationPlan
    metrics: pl.DataFrame  # one row per candidate model
    # what the model card draws, per model: a few hundred rows, not a row per evaluation
    # patient (those are let go when the evaluation step ends; at ten times LLR they were
    # about 60 MB a model, held to the end of the run)
    roc: pl.DataFrame  # model, fpr, tpr
    calibration: pl.DataFrame  # model, bin (twentieths of risk), risk, outcome
    patients: int  # evaluation patients with a known outcome
    subgroups: pl.DataFrame = field(default_factory=pl.DataFrame)  # model, dimension, subgroup..
    decision_curve: pl.DataFrame = field(default_factory=pl.DataFrame)  # model, threshold, ..
    fitted: dict[str, FittedModel] = field(default_factory=dict)  # as evaluated
    oracle_auroc: float | None = None  # synthetic data only: the generator's true risk
    baseline_gain: BaselineGain | None = None  # the best model against the CMS baseline


@dataclass(frozen=True)
class BaselineGain:
    """How much the best fitted model adds over the published-score baseline, in AUROC."""

    best_model: str
    baseline_model: str
    best_auroc: float
    baseline_auroc: float
    difference: float
    ci_low: float  # DeLong, paired on the same evaluation patients
    ci_high: float

    def describe(self) -> str:
        return (
            f"`{self.best_model}` AUROC {self.best_auroc:.3f} against {self.baseline_auroc:.3f} "
            f"for `{self.baseline_model}`: {self.difference:+.3f} "
            f"(95% CI {self.ci_low:+.3f} to {self.ci_high:+.3f}, DeLong, same patients)"
        )


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


def training_xy(
    spec: FeatureSpec, frame: pl.DataFrame, seed: int, *, recalibrate: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Features and outcomes of the seeded, class-stratified sample of labelled rows (those
    whose OUTCOME is not null) a model is fitted on: the matrix is built for those rows
    only, so its size does not grow with the population. A model with a Platt step gets a
    fifth more rows, so that the part it is itself fitted on is still `TRAINING_ROWS`."""
    # a labelled snapshot's rows whose outcome is known (null is unknown), in patient_id
    # order: the sample and the fit then do not depend on the order of the extract's rows
    # (nor on the engine that read it: Spark's rows have no order)
    known = frame[OUTCOME].is_not_null()
    order = in_patient_order(frame, known)
    y = frame[OUTCOME].gather(order).cast(pl.Int8).to_numpy()
    cap = round(TRAINING_ROWS / (1 - CALIBRATION_SHARE)) if recalibrate else TRAINING_ROWS
    rows = stratified_sample(y, cap, seed)
    return spec.matrix(frame[order[rows]]), y[rows].astype(np.int64)


def patient_order(frame: pl.DataFrame, where: pl.Series) -> np.ndarray:
    """The rows where `where` holds, put in patient_id order: indices into those rows."""
    return frame["patient_id"].filter(where).arg_sort().to_numpy()


def in_patient_order(frame: pl.DataFrame, where: pl.Series) -> np.ndarray:
    """The positions in `frame` of its rows where `where` holds, in patient_id order."""
    return np.flatnonzero(where.to_numpy())[patient_order(frame, where)]


def fit_model(
    name: str,
    spec: FeatureSpec,
    frame: pl.DataFrame,
    trained_on: date,
    seed: int,
    *,
    recalibrate: bool = False,
    period_shift: bool = True,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> FittedModel:
    """Fit one registered model on labelled rows (`xy`: their features and outcomes, if
    already built), and its period shift on those rows where asked."""
    X, y = xy if xy is not None else training_xy(spec, frame, seed, recalibrate=recalibrate)
    estimator = build_model(name, spec, seed, recalibrate=recalibrate).fit(X, y)
    shift = estimate_period_shift(estimator, X, y, seed) if period_shift else None
    return FittedModel(name, estimator, trained_on, float(y.mean()), recalibrate, shift)


def estimate_period_shift(estimator, X: np.ndarray, y: np.ndarray, seed: int) -> float:
    """The log-odds shift that makes the fitted model's mean risk equal the observed event
    rate on its own (labelled) snapshot, on a class-stratified sample of its rows (the
    sample keeps the event rate exactly; 300,000 rows pin the shift to ~0.002).

    In-sample on purpose: the snapshot's own outcomes carry no sampling noise here. Estimating
    it instead on 20% of the snapshot held out from the fit was tried (scale 0.2 and the
    sicker foreign extract): shifts off by up to 0.013 log-odds from outcome noise, against up
    to 0.011 from fitting; final O/E within 1.6% either way."""
    if len(y) == 0 or y.min() == y.max():
        return 0.0
    rows = stratified_sample(y, SHIFT_ROWS, seed)
    return log_odds_shift(estimator.predict_proba(X[rows])[:, 1], float(y[rows].mean()))


SUBGROUP_INPUTS = ("imd_decile", "ethnicity", "sex", "age", "practice_code")


def subgroup_keys(frame: pl.DataFrame, practices: pl.DataFrame | None) -> dict[str, pl.Series]:
    """Each evaluation patient's IMD quintile, ethnic group, sex, age band, place and PCN."""
    age = pl.col("age")
    band = pl.lit(None, dtype=pl.String)
    for lo, hi, label in reversed(AGE_BANDS):
        band = pl.when((age >= lo) & (age <= hi)).then(pl.lit(label)).otherwise(band)
    # Categorical, not text: 4 bytes a patient each, where a string took 16 or more (a
    # region's evaluation snapshot has ten million patients); the labels read the same
    keys = frame.select(
        (((pl.col("imd_decile") + 1) // 2).cast(pl.String))
        .fill_null("unknown")
        .cast(pl.Categorical)
        .alias("imd_quintile"),
        pl.col("ethnicity").cast(pl.Categorical),
        pl.col("sex").cast(pl.Categorical),
        band.cast(pl.Categorical).alias("age_band"),
        pl.col("practice_code"),
    )
    if practices is not None:
        keys = keys.join(
            practices.select(
                "practice_code",
                pl.col("place_name").cast(pl.Categorical).alias("place"),
                pl.col("pcn_code").cast(pl.Categorical).alias("pcn"),
            ),
            on="practice_code",
            how="left",
            maintain_order="left",
        )
    else:
        keys = keys.with_columns(
            pl.lit(None, pl.Categorical).alias("place"), pl.lit(None, pl.Categorical).alias("pcn")
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
    period_shift: bool = True,
    truth: pl.DataFrame | pl.LazyFrame | None = None,
) -> RiskEvaluation:
    """Fit each candidate on the training side and measure it on the evaluation side.

    `truth` (synthetic data only: patient_id, snapshot_date, true_risk; a scan of the file is
    best, as only the evaluation snapshot's rows are read) gives the oracle AUROC on the same
    evaluation patients; it is never seen by a model.
    """
    plan = plan_validation(labelled)
    # every row of the labelled snapshots, the unknown outcomes (null) among them: the rows
    # a step uses are picked out where it uses them, so no whole snapshot is copied here
    by_date = {ls.snapshot_date: ls.rows for ls in labelled}
    train = by_date[plan.train_snapshot]
    test = by_date[plan.evaluation_snapshot]
    if plan.design == "held_out_patients":
        mask = held_out(train["patient_id"], seed)
        train, test = train.filter(~pl.Series(mask)), test.filter(pl.Series(mask))
    known = test[OUTCOME].is_not_null()
    # the evaluation patients in patient_id order, so that ties in risk (a lookup model has
    # many) fall the same way whatever the order of the extract's rows or the engine's
    order = patient_order(test, known)
    y_test = test[OUTCOME].filter(known).cast(pl.Int64).to_numpy()[order]
    keys = subgroup_keys(test.select(SUBGROUP_INPUTS).filter(known), practices)
    groups = {dimension: key.gather(order) for dimension, key in keys.items()}
    fitted = _fit_candidates(
        train, plan.train_snapshot, spec, candidates, seed, recalibrate, period_shift
    )
    unshifted = {
        name: risk[order] for name, risk in _predict_unshifted(fitted, spec, test, known).items()
    }
    rows, predictions, subgroups, curves, roc, calibration = [], [], [], [], [], []
    for name, model in fitted.items():
        raw = unshifted[name]
        risk = shift_log_odds(raw, model.period_shift or 0.0)
        rows.append(
            {
                "model": name,
                "recalibration": model.describe(),
                **evaluate_scores(y_test, risk),
                "observed_expected_before_shift": float(y_test.sum() / raw.sum()),
                "period_shift": model.period_shift,
                "inputs_missing": model_notes(name, spec),
            }
        )
        subgroups.append(
            subgroup_metrics(y_test, risk, groups).insert_column(0, pl.lit(name).alias("model"))
        )
        curves.append(net_benefit(y_test, risk).insert_column(0, pl.lit(name).alias("model")))
        roc.append(roc_points(y_test, risk).insert_column(0, pl.lit(name).alias("model")))
        calibration.append(
            calibration_bins(y_test, risk).insert_column(0, pl.lit(name).alias("model"))
        )
        predictions.append(
            pl.DataFrame({"risk": risk, "outcome": y_test.astype(bool)}).select(
                pl.lit(name, dtype=pl.Enum(list(fitted))).alias("model"), "risk", "outcome"
            )
        )
    oracle = (
        oracle_auroc(
            truth, test.select("patient_id", OUTCOME).filter(known), plan.evaluation_snapshot
        )
        if truth is not None
        else None
    )
    metrics = pl.DataFrame(rows).with_columns(
        pl.col("period_shift").cast(pl.Float64), pl.col("inputs_missing").cast(pl.String)
    )
    return RiskEvaluation(
        plan,
        metrics,
        roc=pl.concat(roc),
        calibration=pl.concat(calibration),
        patients=len(y_test),
        subgroups=pl.concat(subgroups),
        decision_curve=pl.concat(curves),
        # a held-out-patients model saw 70% of the rows: it is not reused for scoring
        fitted=fitted if plan.design == "temporal" else {},
        oracle_auroc=oracle,
        baseline_gain=baseline_gain(metrics, predictions, y_test),
    )


def _fit_candidates(
    train: pl.DataFrame,
    trained_on: date,
    spec: FeatureSpec,
    candidates: list[str],
    seed: int,
    recalibrate: tuple[str, ...],
    period_shift: bool,
) -> dict[str, FittedModel]:
    """Every candidate fitted on the training side; the sample's matrix is built once for the
    candidates without a Platt step and once for those with one (they take more rows)."""
    samples: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
    fitted = {}
    for name in candidates:
        platt = name in recalibrate
        if platt not in samples:
            samples[platt] = training_xy(spec, train, seed, recalibrate=platt)
        fitted[name] = fit_model(
            name,
            spec,
            train,
            trained_on,
            seed,
            recalibrate=platt,
            period_shift=period_shift,
            xy=samples[platt],
        )
    return fitted


def _predict_unshifted(
    fitted: dict[str, FittedModel], spec: FeatureSpec, test: pl.DataFrame, known: pl.Series
) -> dict[str, np.ndarray]:
    """Each candidate's risk before its period shift on every evaluation row whose outcome is
    `known`, one batch of feature rows at a time (each batch's matrix shared by every
    candidate; only a batch's rows are picked out, never the whole snapshot's)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in fitted}
    for X in spec.batches(test, where=known):
        for name, model in fitted.items():
            parts[name].append(model.predict_matrix(X, shifted=False))
    return {name: np.concatenate(p) for name, p in parts.items()}


def baseline_gain(
    metrics: pl.DataFrame, predictions: list[pl.DataFrame], y: np.ndarray
) -> BaselineGain | None:
    """The best candidate's AUROC gain over the CMS baseline (None if it is not a candidate,
    or is the only one). `predictions`: one frame per candidate, same patients, same order."""
    names = metrics["model"].to_list()
    if BASELINE_MODEL not in names or len(names) < 2:
        return None
    best = metrics.filter(pl.col("model") != BASELINE_MODEL).sort("auroc", descending=True)
    best_name = best["model"][0]
    risk = {p["model"][0]: p["risk"].to_numpy() for p in predictions}
    diff, lo, hi = auroc_difference(y, risk[best_name], risk[BASELINE_MODEL])
    baseline = metrics.filter(pl.col("model") == BASELINE_MODEL)["auroc"][0]
    return BaselineGain(best_name, BASELINE_MODEL, best["auroc"][0], baseline, diff, lo, hi)


def oracle_auroc(
    truth: pl.DataFrame | pl.LazyFrame, test: pl.DataFrame, snapshot: date
) -> float | None:
    """AUROC of the generator's true risk on the evaluation patients: the ceiling."""
    from sklearn.metrics import roc_auc_score

    joined = test.select("patient_id", OUTCOME).join(
        truth.lazy()
        .filter(pl.col("snapshot_date") == snapshot)
        .select("patient_id", "true_risk")
        .collect(),
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
    period_shift: bool = True,
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
                    source.rows,
                    source.snapshot_date,
                    seed,
                    recalibrate=recalibrate,
                    period_shift=period_shift,
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


SCORES = {  # score_snapshot's columns
    "patient_id": pl.String,
    "practice_code": pl.String,
    "snapshot_date": pl.Date,
    "risk": pl.Float64,
    "model_trained_on": pl.Date,
}


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
    return evaluation.decision_curve.with_columns(
        pl.lit(evaluation.plan.evaluation_snapshot).alias("evaluation_snapshot"),
        policy.count(pl.lit(evaluation.patients)).alias("patients"),
    )
