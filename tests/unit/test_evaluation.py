import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from phm.evaluation import (
    auroc_interval,
    calibration_bins,
    calibration_slope_intercept,
    evaluate_scores,
    log_odds_shift,
    net_benefit,
    roc_points,
    shift_log_odds,
    subgroup_metrics,
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


def test_subgroup_auroc_and_oe_match_the_whole_population_formulas():
    rng = np.random.default_rng(4)
    n = 6000
    p = rng.beta(1, 6, n)
    y = (rng.random(n) < p).astype(int)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    out = subgroup_metrics(y, p, {"g": group})
    for name in ("a", "b"):
        row = out.filter(out["subgroup"] == name).row(0, named=True)
        mask = group == name
        assert row["auroc"] == pytest.approx(roc_auc_score(y[mask], p[mask]), abs=1e-9)
        assert row["observed_expected"] == pytest.approx(y[mask].sum() / p[mask].sum())
        assert row["patients"] == mask.sum()


def test_subgroup_metrics_are_withheld_below_eight_events():
    y = np.array([1] * 7 + [0] * 100 + [1] * 20 + [0] * 100)
    p = np.linspace(0.01, 0.5, len(y))
    group = np.array(["small"] * 107 + ["big"] * 120)
    out = subgroup_metrics(y, p, {"g": group})
    small = out.filter(out["subgroup"] == "small").row(0, named=True)
    big = out.filter(out["subgroup"] == "big").row(0, named=True)
    assert small["events"] == 7 and small["auroc"] is None and small["observed_expected"] is None
    assert big["auroc"] is not None


def test_net_benefit_by_hand():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.3, 0.3, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])
    curve = net_benefit(y, p, thresholds=(0.2, 0.5))
    # at 0.2: 3 flagged, 2 TP, 1 FP -> 2/10 - 1/10 * 0.25; at 0.5: 1 TP
    assert curve["net_benefit"].to_list() == pytest.approx([0.2 - 0.025, 0.1])
    assert curve["net_benefit_treat_all"].to_list() == pytest.approx([0.2 - 0.8 * 0.25, 0.2 - 0.8])


def test_a_log_odds_shift_keeps_the_order_and_hits_the_rate():
    rng = np.random.default_rng(5)
    p = rng.beta(1, 9, 10_000)
    delta = log_odds_shift(p, 0.05)
    q = shift_log_odds(p, delta)
    assert delta < 0 and q.mean() == pytest.approx(0.05, abs=1e-8)
    assert (np.argsort(p, kind="stable") == np.argsort(q, kind="stable")).all()
    assert shift_log_odds(p, 0.0) is p


def test_a_period_shift_carried_forward_keeps_a_change_in_case_mix():
    """The shift is estimated once where outcomes are known, then applied unchanged: a sicker
    population scored later keeps its higher mean risk (forcing the mean to the old rate,
    as the step once did, would erase it)."""
    rng = np.random.default_rng(6)
    earlier, later = rng.beta(1, 12, 50_000), rng.beta(2, 12, 50_000)  # later: sicker
    observed = earlier.mean()  # the earlier period's event rate, known
    delta = log_odds_shift(shift_log_odds(earlier, -0.2), observed)  # a model low in its period
    assert delta == pytest.approx(0.2, abs=0.05)
    carried = shift_log_odds(shift_log_odds(later, -0.2), delta)
    assert carried.mean() == pytest.approx(later.mean(), rel=0.03)
    assert carried.mean() > 1.5 * observed  # the sicker case mix stays in the scores


def test_subgroup_ppv_is_withheld_where_1_to_7_flagged_patients_had_the_outcome():
    # 1,000 patients; the top 5% (50) are all in group "a", of whom 5 had the outcome
    n = 1000
    p = np.linspace(0.9, 0.01, n)
    y = np.zeros(n, dtype=int)
    y[:5] = 1
    y[100:140] = 1
    group = np.array(["a"] * 50 + ["b"] * 950)
    group[100:110] = "a"
    out = subgroup_metrics(y, p, {"g": group}).filter(pl.col("subgroup") == "a").row(0, named=True)
    assert out["auroc"] is not None  # 15 events, 45 non-events: shown
    assert out["ppv_top5pct"] is None and out["sensitivity_top5pct"] is None  # 5 of 50 flagged
    assert out["ppv_top1pct"] is None  # 5 of 10 flagged
    assert out["ppv_top20pct"] == pytest.approx(15 / 60)  # 15 of 60 flagged: shown


def test_auroc_difference_matches_sklearn_and_its_interval_covers_the_truth():
    from phm.evaluation import auroc_difference

    rng = np.random.default_rng(7)

    def two_scores(n):  # correlated scores, the first ranking events higher
        y = rng.random(n) < 0.15
        shared = rng.normal(size=n)
        better = shared + 1.0 * y + rng.normal(size=n) * 0.5
        return y, better, shared + 0.7 * y + rng.normal(size=n) * 0.5

    truth, _, _ = auroc_difference(*two_scores(400_000))
    assert truth > 0.03
    y, better, worse = two_scores(3000)
    diff, _, _ = auroc_difference(y, better, worse)
    assert diff == pytest.approx(roc_auc_score(y, better) - roc_auc_score(y, worse), abs=1e-12)
    covered = 0
    for _ in range(200):
        _, lo, hi = auroc_difference(*two_scores(3000))
        covered += lo <= truth <= hi
    assert 0.90 <= covered / 200 <= 0.99


def test_the_model_cards_curves_are_a_few_hundred_rows_and_keep_their_ends():
    rng = np.random.default_rng(4)
    p = rng.beta(1, 9, 100_000)
    y = (rng.random(p.size) < p).astype(int)
    roc = roc_points(y, p)
    assert roc.height <= 400
    assert roc.row(0) == (0.0, 0.0) and roc.row(-1) == (1.0, 1.0)
    assert roc["fpr"].is_sorted() and roc["tpr"].is_sorted()
    # the area under the kept points is the AUROC, to the resolution of 400 points
    area = np.trapezoid(roc["tpr"].to_numpy(), roc["fpr"].to_numpy())
    assert area == pytest.approx(roc_auc_score(y, p), abs=0.002)
    bins = calibration_bins(y, p)
    assert bins["bin"].to_list() == list(range(1, 21))
    assert bins["risk"].is_sorted()  # twentieths of risk, lowest first
    assert bins["risk"].mean() == pytest.approx(p.mean(), abs=1e-4)  # equal-sized, to a patient
    assert bins["outcome"].mean() == pytest.approx(y.mean(), abs=1e-3)
