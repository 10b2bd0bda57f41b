import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from phm.evaluation import (
    auroc_interval,
    calibration_slope_intercept,
    evaluate_scores,
    top_share_ppv_sensitivity,
)


def test_a_calibrated_score_has_slope_one_and_oe_one():
    rng = np.random.default_rng(0)
    p = rng.beta(1, 9, 200_000)
    y = (rng.random(p.size) < p).astype(int)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.05)
    assert intercept == pytest.approx(0.0, abs=0.05)
    assert evaluate_scores(y, p)["observed_expected"] == pytest.approx(1.0, abs=0.02)


def test_overconfident_scores_have_slope_below_one():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 9, 100_000)
    y = (rng.random(p.size) < p).astype(int)
    logit = np.log(p / (1 - p))
    extreme = 1 / (1 + np.exp(-2 * (logit - logit.mean()) - logit.mean()))
    slope, _ = calibration_slope_intercept(y, extreme)
    assert slope == pytest.approx(0.5, abs=0.05)


def test_ppv_and_sensitivity_in_the_top_share():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    ppv, sens = top_share_ppv_sensitivity(y, p, 0.2)
    assert (ppv, sens) == (1.0, pytest.approx(2 / 3))


def test_auroc_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(200):
        y = rng.random(2000) < 0.1
        score = rng.normal(size=2000) + 1.2 * y  # true AUROC = Phi(1.2 / sqrt 2) = 0.8023
        lo, hi = auroc_interval(roc_auc_score(y, score), int(y.sum()), int((~y).sum()))
        covered += lo <= 0.8023 <= hi
    assert 0.90 <= covered / 200 <= 0.99
