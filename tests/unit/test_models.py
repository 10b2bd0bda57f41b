"""Risk models: the scikit-learn estimator contract, and each registered model learns."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from phm.contract import DEFAULT_LTCS
from phm.features import feature_spec
from phm.models import MODELS, build_model
from phm.models.ltc_count_lookup import LtcCountLookup
from phm.models.recalibrated import PlattRecalibrated
from phm.models.sampled import FitOnStratifiedSample, stratified_sample


def _contract_checks(estimators):
    """parametrize_with_checks, less the array-API check (it needs SCIPY_ARRAY_API and an
    array library we do not use, and would only ever skip)."""
    mark = parametrize_with_checks(estimators)
    names, params = mark.args
    kept = [p for p in params if "array_api" not in repr(p)]
    return pytest.mark.parametrize(names, kept)


@_contract_checks(
    [
        LtcCountLookup(),
        PlattRecalibrated(LtcCountLookup()),
        FitOnStratifiedSample(LtcCountLookup(), max_rows=20),
    ]
)
def test_custom_estimators_follow_the_sklearn_contract(estimator, check):
    check(estimator)


def test_lookup_learns_the_band_rates():
    X = np.array([[0], [0], [0], [0], [9], [9], [8], [8]], dtype=float)
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    model = LtcCountLookup(prior_strength=0.0).fit(X, y)
    assert model.predict_proba([[0], [12]])[:, 1].tolist() == [0.25, 0.75]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_learns_a_signal(name):
    spec = feature_spec(DEFAULT_LTCS)
    rng = np.random.default_rng(0)
    n = 4000
    X = rng.normal(size=(n, len(spec.names)))
    ltc = spec.names.index("ltc_count")
    X[:, ltc] = rng.integers(0, 9, n)
    logit = -2 + 0.5 * X[:, ltc] + X[:, spec.names.index("age")]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    model = build_model(name, spec, seed=0).fit(X[:3000], y[:3000])
    auc = roc_auc_score(y[3000:], model.predict_proba(X[3000:])[:, 1])
    assert auc > 0.7


def test_the_platt_step_undoes_overconfident_log_odds():
    """A model whose log-odds are twice too steep comes back with slope ~1 after the step."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    from phm.evaluation import calibration_slope_intercept

    class Overconfident(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-2 * X[:, 0]))
            return np.column_stack([1 - p, p])

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200_000, 1)) - 1.5
    y = (rng.random(200_000) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    raw_slope, _ = calibration_slope_intercept(y, Overconfident().fit(X, y).predict_proba(X)[:, 1])
    fixed = PlattRecalibrated(Overconfident(), random_state=0).fit(X, y)
    slope, intercept = calibration_slope_intercept(y, fixed.predict_proba(X)[:, 1])
    assert raw_slope == pytest.approx(0.5, abs=0.05)
    assert slope == pytest.approx(1.0, abs=0.05)
    assert intercept == pytest.approx(0.0, abs=0.05)


def test_build_model_wraps_when_asked_and_names_unknown_models():
    from phm.errors import ConfigError

    spec = feature_spec(DEFAULT_LTCS)
    assert isinstance(build_model("logistic", spec, 0, recalibrate=True), PlattRecalibrated)
    with pytest.raises(ConfigError, match="Unknown model 'nope'.*known models: .*logistic"):
        build_model("nope", spec, 0)


def test_a_stratified_sample_keeps_the_event_rate_and_is_fixed_by_the_seed():
    y = np.array([1] * 100 + [0] * 900)
    rows = stratified_sample(y, 200, seed=7)
    assert len(rows) == 200 and y[rows].sum() == 20
    assert np.array_equal(rows, np.sort(rows)) and len(np.unique(rows)) == 200
    assert np.array_equal(rows, stratified_sample(y, 200, seed=7))
    assert not np.array_equal(rows, stratified_sample(y, 200, seed=8))
    assert np.array_equal(stratified_sample(y, 5000, seed=7), np.arange(1000))  # small: all


def test_fit_on_a_sample_fits_the_wrapped_model_on_that_many_rows():
    X = np.arange(1000, dtype=float).reshape(-1, 1) % 9
    y = (np.arange(1000) % 10 == 0).astype(int)
    model = FitOnStratifiedSample(LtcCountLookup(), max_rows=200, random_state=0).fit(X, y)
    assert model.n_rows_fitted_ == 200
    assert model.predict_proba(X).shape == (1000, 2)
