"""Risk models: the scikit-learn estimator contract, and each registered model learns."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from phm.contract import DEFAULT_LTCS, QOF_REGISTERS
from phm.features import feature_spec
from phm.models import MODELS, build_model, model_notes
from phm.models.cambridge_multimorbidity import (
    CambridgeMultimorbidityScore,
    cms_conditions,
    cms_coverage,
)
from phm.models.condition_score import (
    SCORE_NAMES,
    ConditionScore,
    condition_score,
    further_cms_weights,
    scored_names,
)
from phm.models.ltc_count_lookup import LtcCountLookup
from phm.models.recalibrated import PlattRecalibrated
from phm.models.sampled import FitOnStratifiedSample, stratified_sample

REGISTERS_19 = QOF_REGISTERS  # what most real extracts carry


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
        CambridgeMultimorbidityScore(),
        CambridgeMultimorbidityScore(condition_columns=((1,),), weights=(50.0,), age_index=0),
        PlattRecalibrated(LtcCountLookup()),
        FitOnStratifiedSample(LtcCountLookup(), max_rows=20),
        ConditionScore(),
        ConditionScore(columns=(1,), weights=(2.0,)),
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


def test_the_cms_table_is_the_papers_37_conditions_with_their_admission_weights():
    """The unplanned-admission weights in phm/reference/cms_conditions.csv were transcribed
    once (from BNSSG's ICS-code-library) and NOT independently checked: this test pins the
    transcription, it cannot vouch for it."""
    conditions = cms_conditions()
    assert len(conditions) == 37 and len({c.code for c in conditions}) == 37
    weights = {c.code: c.weight for c in conditions}
    assert weights["DEM"] == 158.14 and weights["HYP"] == 11.29 and weights["THY"] == 1.24
    assert next(c for c in conditions if c.code == "ANX+DEP").columns == (
        "ltc_anxiety",
        "ltc_depression",
    )


def test_cms_counts_anxiety_or_depression_once_and_sums_the_weights():
    # columns: anxiety, depression, dementia
    model = CambridgeMultimorbidityScore(condition_columns=((0, 1), (2,)), weights=(44.33, 158.14))
    X = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1], [np.nan, 0, 1]])
    assert model.cms_score(X).tolist() == pytest.approx([0, 44.33, 44.33, 44.33, 202.47, 158.14])


def test_cms_coverage_names_the_conditions_an_extract_lacks():
    registers_only = feature_spec(REGISTERS_19)
    coverage = cms_coverage(registers_only.names)
    assert len(coverage.used) == 17 and len(coverage.missing) == 20
    note = model_notes("cms_age_sex", registers_only)
    assert note.startswith("20 of 37 CMS conditions not in the extract: Painful condition")
    assert "Anxiety or depression counted without ltc_anxiety" in note
    every = [col for c in cms_conditions() for col in c.columns]
    assert cms_coverage(every).describe() is None
    assert model_notes("logistic", registers_only) is None


def test_the_cms_baseline_fits_only_the_intercept_slope_age_and_sex():
    """Nine numbers: intercept, score slope, a 7-term age spline and male; no condition weight."""
    spec = feature_spec(REGISTERS_19)
    rng = np.random.default_rng(1)
    n = 20_000
    X = np.zeros((n, len(spec.names)))
    X[:, spec.names.index("age")] = rng.integers(0, 100, n)
    X[:, spec.names.index("male")] = rng.random(n) < 0.5
    for c in ("ltc_dementia", "ltc_copd", "ltc_hypertension"):
        X[:, spec.names.index(c)] = rng.random(n) < 0.2
    truth = CambridgeMultimorbidityScore(
        condition_columns=tuple((spec.names.index(c),) for c in ("ltc_dementia", "ltc_copd")),
        weights=(158.14, 129.18),
    ).cms_score(X)
    y = rng.random(n) < 1 / (1 + np.exp(-(-3 + 0.012 * truth)))
    model = build_model("cms_age_sex", spec, seed=0).fit(X, y)
    logit = model.estimator_.adjustment_.named_steps["logit"]
    assert logit.coef_.shape == (1, 1 + 7 + 1)
    assert logit.coef_[0, 0] > 0  # the score raises risk
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.6


def test_the_condition_score_replaces_flags_by_their_weighted_sum_and_count():
    X = np.array([[5.0, 1, 0, 1], [6.0, 0, 0, 0], [7.0, 1, 1, np.nan]])
    step = ConditionScore(columns=(1, 3), weights=(10.0, 2.5)).fit(X)
    out = step.transform(X)
    assert out.tolist() == [[5.0, 0.0, 12.5, 2.0], [6.0, 0.0, 0.0, 0.0], [7.0, 1.0, 10.0, 1.0]]
    assert np.array_equal(ConditionScore().fit(X).transform(X), X, equal_nan=True)


def test_the_further_cms_conditions_enter_the_fitted_models_as_a_score_and_a_count():
    """40 flags: the 21 non-register CMS conditions become two inputs (CMS weights, fixed);
    the 19 registers stay one column each. 19 flags: nothing changes."""
    spec = feature_spec(DEFAULT_LTCS)
    further = further_cms_weights(spec)
    assert len(further) == 21 and not set(further) & set(QOF_REGISTERS)
    assert further["ltc_anxiety"] == 44.33  # ANX+DEP's weight; depression stays a register
    names = scored_names(spec)
    assert len(names) == len(spec.names) - 21 + 2 and names[-2:] == list(SCORE_NAMES)
    assert set(QOF_REGISTERS) <= set(names) and not set(further) & set(names)
    step = condition_score(spec)
    assert [spec.names[i] for i in step.columns] == list(further)
    registers = feature_spec(REGISTERS_19)
    assert condition_score(registers).columns == () and scored_names(registers) == registers.names


@pytest.mark.parametrize("name", ["logistic", "gradient_boosting"])
def test_a_further_cms_condition_still_moves_a_fitted_models_risk(name):
    """The flag enters through the score, so a patient's reasons (phm.explain: each factor set
    to absent) can still name it."""
    spec = feature_spec(DEFAULT_LTCS)
    rng = np.random.default_rng(2)
    n = 6000
    X = np.zeros((n, len(spec.names)))
    X[:, spec.names.index("age")] = rng.integers(0, 100, n)
    pd_ = spec.names.index("ltc_parkinsons")
    X[:, pd_] = rng.random(n) < 0.3
    y = rng.random(n) < 1 / (1 + np.exp(-(-2.5 + 2.0 * X[:, pd_])))
    model = build_model(name, spec, seed=0).fit(X, y)
    with_pd = X[X[:, pd_] == 1][:200]
    without = with_pd.copy()
    without[:, pd_] = 0
    fall = model.predict_proba(with_pd)[:, 1] - model.predict_proba(without)[:, 1]
    assert fall.mean() > 0.1
