"""Bounded memory in fitting and scoring: a model is fitted on a capped, seeded sample whose
matrix alone is built, and scores a snapshot batch by batch with the same result."""

from datetime import date

import numpy as np
import polars as pl

import phm.features
import phm.risk
from phm.contract import DEFAULT_LTCS
from phm.features import feature_spec
from phm.outcomes import OUTCOME, LabelledSnapshot
from phm.risk import evaluate_models, fit_model, training_xy
from tests.unit.test_features import _snapshot


def _labelled(rows: int, seed: int = 11) -> pl.DataFrame:
    frame = _snapshot(rows=rows, seed=seed)
    risk = 1 / (1 + np.exp(-(frame["age"].to_numpy() / 25 - 3)))
    outcome = np.random.default_rng(5).random(rows) < risk
    return frame.with_columns(pl.Series(OUTCOME, outcome))


def test_the_training_matrix_is_built_for_the_sampled_rows_only(monkeypatch):
    monkeypatch.setattr(phm.risk, "TRAINING_ROWS", 400)
    spec, frame = feature_spec(DEFAULT_LTCS), _labelled(1000)
    X, y = training_xy(spec, frame, seed=3)
    assert X.shape == (400, len(spec.names))
    assert abs(y.mean() - frame[OUTCOME].mean()) < 0.01  # the event rate is kept
    # the rows are the snapshot's own: each sampled row's features are one patient's
    full = spec.matrix(frame)
    assert all((full == row).all(axis=1).any() for row in X[:20])
    Xp, _ = training_xy(spec, frame, seed=3, recalibrate=True)
    assert len(Xp) == 500  # the Platt step holds out a fifth: the model still sees 400
    assert np.array_equal(training_xy(spec, frame, seed=3)[0], X)  # fixed by the seed


def test_a_snapshot_scored_in_batches_scores_as_one_matrix(monkeypatch):
    spec, frame = feature_spec(DEFAULT_LTCS), _labelled(900)
    model = fit_model("logistic", spec, frame, date(2022, 4, 1), seed=1)
    whole = model.predict_matrix(spec.matrix(frame))
    monkeypatch.setattr(phm.features, "BATCH_ROWS", 250)  # four batches, the last short
    np.testing.assert_allclose(model.predict(spec, frame), whole, rtol=0, atol=1e-12)


def _shuffled(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=7)


def test_the_sample_and_the_fit_do_not_depend_on_the_order_of_the_rows(monkeypatch):
    # the same extract written in another order (or read by Spark, whose rows have no order)
    # must give the same model: the sample is drawn from the rows in patient_id order
    monkeypatch.setattr(phm.risk, "TRAINING_ROWS", 400)
    spec, frame = feature_spec(DEFAULT_LTCS), _labelled(1000)
    X, y = training_xy(spec, frame, seed=3, recalibrate=True)
    Xs, ys = training_xy(spec, _shuffled(frame), seed=3, recalibrate=True)
    assert np.array_equal(X, Xs, equal_nan=True) and np.array_equal(y, ys)
    fits = [
        fit_model("gradient_boosting", spec, f, date(2022, 4, 1), seed=3, recalibrate=True)
        for f in (frame, _shuffled(frame))
    ]
    assert np.array_equal(fits[0].predict(spec, frame), fits[1].predict(spec, frame))


def test_the_evaluation_does_not_depend_on_the_order_of_the_rows(monkeypatch):
    monkeypatch.setattr(phm.risk, "TRAINING_ROWS", 400)
    spec = feature_spec(DEFAULT_LTCS)
    frames = [
        _labelled(900, seed).with_columns(pl.lit("C82001").alias("practice_code"))
        for seed in (11, 12)
    ]

    def evaluated(train: pl.DataFrame, test: pl.DataFrame) -> pl.DataFrame:
        labelled = [
            LabelledSnapshot(date(2021 + i, 4, 1), date(2022 + i, 4, 1), rows, 0)
            for i, rows in enumerate((train, test))
        ]
        # a lookup model's risks tie within each LTC count: its top 5% must not follow the
        # order the tied patients came in
        return evaluate_models(labelled, spec, ["ltc_count_lookup", "logistic"], seed=3).metrics

    as_written = evaluated(*frames)
    assert as_written.equals(evaluated(*(_shuffled(f) for f in frames)))
