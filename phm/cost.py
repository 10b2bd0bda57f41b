"""A second target: next-year secondary-care cost (its cohort: phm/cohorts.py).

The outcome for a patient in snapshot s is `secondary_care_cost_12m` in the snapshot a year
later (patients absent then, including those who died, have no known cost and are left out).
Validation follows the risk models: fit on s-2 (costs known by s-1), evaluate on s-1 (costs
known by s), then refit on the latest pair to predict the newest snapshot; with one pair,
a 70/30 split of patients by pseudonym hash.

The model is a Poisson-loss gradient boosting regressor: it predicts the mean (which sums to
a budget), copes with the many zero-cost patients, and needs no log back-transform. On a
large population it is fitted on a stable 20% sample of patients (at most about 250,000: a
region's millions would add time and memory, not accuracy) with 40 rounds at learning rate
0.2: on the synthetic LLR population (temporal validation, 1.1M patients) R^2 0.265,
observed/predicted 0.999 and the top 5%'s cost share 0.449, against 0.284, 0.991 and 0.454 for
80 rounds at 0.1 on 40%, at half the time (both fits and predictions: 19.7 -> ~9 s wall on a
quiet 2-core machine). Leaves stay at 1,000 patients: at 300 a few extreme costs made R^2
negative. As in the risk models, the 21 further CMS conditions enter as their CMS-weighted
score and count (phm/models/condition_score.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

from phm.columns import aligned
from phm.disclosure import DisclosurePolicy
from phm.features import FeatureSpec
from phm.models.condition_score import condition_score
from phm.outcomes import one_year_after
from phm.risk import held_out

COST_MODEL = "gradient_boosting_poisson"
NEXT_COST = "secondary_care_cost_next_12m"


TRAINING_SAMPLE = 0.2  # share of patients (by pseudonym hash) the cost model is fitted on
TRAINING_ROWS = 250_000  # ... but no more than about this many (a region's list is millions)


def _in_sample(patient_ids: pl.Series, seed: int) -> np.ndarray:
    n = patient_ids.len()
    if n < 100_000:
        return np.ones(n, dtype=bool)  # small populations: every patient
    per_thousand = max(1, round(min(TRAINING_SAMPLE, TRAINING_ROWS / n) * 1000))
    return (patient_ids.hash(seed=seed + 1).to_numpy() % 1000) < per_thousand


def _predict(
    model: Pipeline, spec: FeatureSpec, frame: pl.DataFrame, where: pl.Series | None = None
) -> np.ndarray:
    """The model's prediction for every row (`where`: those rows only), one batch of feature
    rows at a time."""
    return np.concatenate([model.predict(X) for X in spec.batches(frame, where=where)])


def cost_model(seed: int, spec: FeatureSpec | None = None) -> Pipeline:
    """The cost regressor; with `spec`, the further CMS conditions enter as their score and
    count (phm/models/condition_score.py), as in the risk models."""
    conditions = [("conditions", condition_score(spec))] if spec is not None else []
    return Pipeline(
        [
            *conditions,
            (
                "regressor",
                HistGradientBoostingRegressor(
                    loss="poisson",
                    max_iter=40,
                    learning_rate=0.2,
                    max_leaf_nodes=15,
                    min_samples_leaf=1000,
                    max_bins=63,
                    early_stopping=False,
                    random_state=seed,
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class CostPrediction:
    design: str
    train_snapshot: date
    evaluation_snapshot: date
    metrics: dict[str, float]  # on the evaluation patients
    scored_snapshot: date | None
    predicted: pl.DataFrame  # newest snapshot: patient_id, predicted_cost


def cost_pairs(
    snapshots: dict[date, pl.DataFrame], spec: FeatureSpec
) -> list[tuple[date, pl.DataFrame]]:
    """Each snapshot with a snapshot a year later, with that later snapshot's last-year cost
    beside its own columns as NEXT_COST (null where the patient is absent later: unknown).
    The snapshot's columns are shared, not copied (phm/columns.py)."""
    out = []
    for d in sorted(snapshots):
        later = one_year_after(d)
        if later in snapshots:
            cost = snapshots[later].select(
                "patient_id", pl.col("secondary_care_cost_12m").alias(NEXT_COST)
            )
            frame = snapshots[d]
            out.append((d, frame.with_columns(aligned(frame, cost, "patient_id"))))
    return out


def cost_metrics(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    n = len(observed)
    top = np.argsort(-predicted, kind="stable")[: max(1, int(round(0.05 * n)))]
    total = observed.sum()
    return {
        "patients": float(n),
        "mean_observed_cost": float(observed.mean()),
        "mean_predicted_cost": float(predicted.mean()),
        "observed_predicted": float(total / predicted.sum()),
        "mean_absolute_error": float(np.abs(observed - predicted).mean()),
        "r_squared": float(
            1 - ((observed - predicted) ** 2).sum() / ((observed - observed.mean()) ** 2).sum()
        ),
        "cost_share_top5pct": float(observed[top].sum() / total) if total else float("nan"),
    }


def predict_cost(
    snapshots: dict[date, pl.DataFrame], spec: FeatureSpec, seed: int
) -> CostPrediction | None:
    """Evaluate the cost model honestly and predict the newest snapshot's next-year cost."""
    pairs = cost_pairs(snapshots, spec)
    if not pairs:
        return None
    newest = max(snapshots)

    def fit(frame: pl.DataFrame, rows: pl.Series | None):
        # a stable sample of the patients whose cost is known (of `rows`, if given) keeps two
        # fits on a million rows within the time budget; only the sample's rows are copied
        known = frame[NEXT_COST].is_not_null() & (rows if rows is not None else True)
        picked = np.flatnonzero(known.to_numpy())
        sample = frame[picked[_in_sample(frame["patient_id"].filter(known), seed)]]
        return cost_model(seed, spec).fit(spec.matrix(sample), sample[NEXT_COST].to_numpy())

    if len(pairs) >= 2:
        (train_date, train), (eval_date, test) = pairs[-2], pairs[-1]
        train_rows = test_rows = None
        design = "temporal"
    else:
        ((train_date, train),) = pairs
        test, eval_date, design = train, train_date, "held_out_patients"
        test_rows = pl.Series(held_out(train["patient_id"], seed))
        train_rows = ~test_rows
    evaluated = fit(train, train_rows)
    known = test[NEXT_COST].is_not_null() & (test_rows if test_rows is not None else True)
    predicted_eval = _predict(evaluated, spec, test, where=known)
    metrics = cost_metrics(test[NEXT_COST].filter(known).to_numpy(), predicted_eval)
    latest = fit(pairs[-1][1], None)  # the latest pair, all patients
    scored = snapshots[newest]
    predicted = scored.select("patient_id").with_columns(
        pl.Series("predicted_cost", np.maximum(_predict(latest, spec, scored), 0.0))
    )
    return CostPrediction(design, train_date, eval_date, metrics, newest, predicted)


def cost_evaluation_table(result: CostPrediction, policy: DisclosurePolicy) -> pl.DataFrame:
    """published.cost_model_evaluation: one row, the count disclosure-controlled."""
    return pl.DataFrame(
        [
            {
                "model": COST_MODEL,
                "validation_design": result.design,
                "train_snapshot": result.train_snapshot,
                "evaluation_snapshot": result.evaluation_snapshot,
                **result.metrics,
            }
        ]
    ).with_columns(policy.count(pl.col("patients")).alias("patients"))
