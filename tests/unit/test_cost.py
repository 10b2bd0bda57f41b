"""The cost target and the Integrated Locality Teams cohort rule."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from phm.cohorts import integrated_locality_cohort
from phm.cost import cost_metrics

D = date(2023, 4, 1)


def test_cohort_is_adults_with_5_ltcs_and_frailty_or_three_times_the_average_cost():
    snapshot = pl.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e", "f"],
            "practice_code": ["A00001"] * 6,
            "age": [80, 80, 80, 16, 40, 50],
            "ltc_count": [5, 5, 4, 6, 0, 1],
            "efi_score": [0.25, 0.24, 0.40, 0.40, None, 0.0],
        }
    )
    # average predicted cost 1,000: e is at 3x, f just under
    predicted = pl.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e", "f"],
            "predicted_cost": [600.0, 600.0, 600.0, 200.0, 3000.0, 1000.0],
        }
    )
    practices = pl.DataFrame({"practice_code": ["A00001"], "pcn_code": ["U00001"]})
    cohort = integrated_locality_cohort(snapshot, D, predicted, practices)
    # a: 5 LTCs, eFI > 0.24; b: eFI 0.24 is not > 0.24; c: 4 LTCs; d: a child; e: 3x cost
    assert cohort["patient_id"].to_list() == ["a", "e"]
    assert cohort["frail_multimorbid"].to_list() == [True, False]
    assert cohort["high_predicted_cost"].to_list() == [False, True]


def test_without_a_prediction_a_patient_qualifies_by_frailty_alone():
    snapshot = pl.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "practice_code": ["A00001"] * 3,
            "age": [80, 70, 60],
            "ltc_count": [6, 0, 5],
            "efi_score": [0.30, 0.0, 0.5],
        }
    )
    practices = pl.DataFrame({"practice_code": ["A00001"], "pcn_code": ["U00001"]})
    some = pl.DataFrame({"patient_id": ["b"], "predicted_cost": [900.0]})  # b: the average
    cohort = integrated_locality_cohort(snapshot, D, some, practices)
    assert cohort["patient_id"].to_list() == ["a", "c"]  # a and c had no prediction
    none = some.clear()
    cohort = integrated_locality_cohort(snapshot, D, none, practices)
    assert cohort["patient_id"].to_list() == ["a", "c"]
    assert cohort["high_predicted_cost"].to_list() == [False, False]


def test_cost_metrics():
    observed = np.array([0.0, 0.0, 100.0, 900.0])
    predicted = np.array([50.0, 50.0, 100.0, 800.0])
    m = cost_metrics(observed, predicted)
    assert m["observed_predicted"] == pytest.approx(1000 / 1000)
    assert m["mean_absolute_error"] == pytest.approx((50 + 50 + 0 + 100) / 4)
    assert m["cost_share_top5pct"] == pytest.approx(0.9)  # the top 1 of 4


def test_the_cost_model_sees_the_further_cms_conditions_as_a_score_and_a_count():
    from phm.contract import DEFAULT_LTCS, QOF_REGISTERS
    from phm.cost import cost_model
    from phm.features import feature_spec

    spec = feature_spec(DEFAULT_LTCS)
    model = cost_model(0, spec)
    assert len(model.named_steps["conditions"].columns) == 21
    rng = np.random.default_rng(0)
    X = (rng.random((20_000, len(spec.names))) < 0.05).astype(float)
    liver = spec.names.index("ltc_chronic_liver_disease")
    y = rng.poisson(200 + 800 * X[:, liver])
    fitted = model.fit(X, y)
    assert fitted[-1].n_features_in_ == len(spec.names) - 21 + 2
    assert (
        fitted.predict(X[X[:, liver] == 1]).mean() > 2 * fitted.predict(X[X[:, liver] == 0]).mean()
    )
    registers = cost_model(0, feature_spec(QOF_REGISTERS))
    assert registers.named_steps["conditions"].columns == ()  # 19 registers: as before


def test_only_the_two_snapshot_pairs_the_model_uses_come_to_one_process(monkeypatch):
    """On Spark each pair brought here is up to two million rows: a run with many annual
    snapshots must not bring them all (the fits and the evaluation use the last two)."""
    import phm.cost
    from phm.contract import DEFAULT_LTCS
    from phm.cost import predict_cost
    from phm.features import feature_spec
    from tests.unit.test_features import _snapshot

    brought = []
    monkeypatch.setattr(phm.cost, "in_one_process", lambda f, rows, seed: brought.append(f) or f)
    snapshots = {date(2020 + i, 4, 1): _snapshot(rows=400, seed=i) for i in range(4)}
    result = predict_cost(snapshots, feature_spec(DEFAULT_LTCS), seed=1)
    assert len(brought) == 2
    assert (result.train_snapshot, result.evaluation_snapshot) == (
        date(2021, 4, 1),
        date(2022, 4, 1),
    )
    assert result.predicted.height == 400
