"""The risk-model outputs of a whole run: model card, subgroup and decision-curve tables,
the case-finding list with reasons, the cost model and the Integrated Locality Teams cohort."""

from pathlib import Path

import polars as pl
import pytest

from phm.warehouse import read_table, restricted_store_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(published):
    """The integration suite's one full default run (tests/integration/conftest.py): its
    outputs folder is its own, so the card there is the one it wrote."""
    warehouse, outcome = published
    return warehouse.parent.parent, warehouse, outcome


def test_the_model_card_is_written_with_plots_and_the_oracle_gap(run):
    folder, _, outcome = run
    card = Path(outcome.metadata["model_card"]["path"])
    assert card == folder / "outputs" / "model_card" / "index.md"
    text = card.read_text()
    for plot in ("roc.png", "calibration.png", "decision_curve.png"):
        assert (card.parent / plot).stat().st_size > 1000
        assert plot in text
    assert "temporal validation" in text
    assert "Oracle (synthetic data)" in text and "below it" in text
    for model in ("cms_age_sex", "ltc_count_lookup", "logistic", "gradient_boosting"):
        assert f"`{model}`" in text


def test_the_card_states_the_gain_over_the_cms_baseline_and_oe_around_the_shift(run):
    folder, warehouse, outcome = run
    text = (folder / "outputs" / "model_card" / "index.md").read_text()
    evaluation = read_table(warehouse, "published.model_evaluation")
    cms = evaluation.filter(pl.col("model") == "cms_age_sex").row(0, named=True)
    best = evaluation.filter(pl.col("model") != "cms_age_sex").sort("auroc")[-1].row(0, named=True)
    gain = f"`{best['model']}` AUROC {best['auroc']:.3f} against {cms['auroc']:.3f}"
    assert "Gain over the published-score baseline" in text and gain in text
    assert f"{best['auroc'] - cms['auroc']:+.3f} (95% CI" in text
    assert outcome.metadata["risk_model_evaluation"]["gain_over_cms_baseline"].startswith(
        f"`{best['model']}`"
    )
    assert "| model | shift (log-odds) | O/E before | O/E after |" in text
    for r in evaluation.to_dicts():
        assert f"{r['observed_expected_before_shift']:.3f} | {r['observed_expected']:.3f} |" in text
        assert r["period_shift"] is not None and "period shift" in r["recalibration"]
    # the default extract carries all 40 conditions: the CMS baseline lacks none
    assert evaluation["inputs_missing"].is_null().all()


def test_evaluation_reports_the_oracle_and_every_share(run):
    _, warehouse, outcome = run
    evaluation = read_table(warehouse, "published.model_evaluation")
    assert evaluation["oracle_auroc"].n_unique() == 1
    gap = evaluation["oracle_auroc"] - evaluation["auroc"]
    assert (evaluation["auroc_gap_to_oracle"] - gap).abs().max() < 1e-12
    assert evaluation["ppv_top0_5pct"].is_not_null().all()
    assert outcome.metadata["risk_model_evaluation"]["oracle_auroc"] != "n/a (not synthetic)"


def test_subgroups_cover_every_dimension_and_withhold_small_ones(run):
    _, warehouse, _ = run
    sub = read_table(warehouse, "published.model_evaluation_subgroup")
    assert set(sub["dimension"]) == {"imd_quintile", "ethnicity", "sex", "age_band", "place", "pcn"}
    assert sub.filter(pl.col("dimension") == "pcn")["subgroup"].n_unique() == 25
    small = sub.filter(pl.col("events").is_null() | (pl.col("events") < 8))
    assert small["auroc"].is_null().all()


def test_case_finding_lists_level_3_with_reasons_in_clinical_words(run):
    folder, warehouse, _ = run
    store = restricted_store_path(folder / "outputs")
    listed = read_table(store, "restricted.case_finding")
    tiers = read_table(store, "restricted.patient_risk")
    newest = tiers["snapshot_date"].max()
    level3 = tiers.filter((pl.col("snapshot_date") == newest) & (pl.col("kaiser_tier") == 3))
    assert sorted(listed["patient_id"]) == sorted(level3["patient_id"])
    assert listed["reason_1"].is_not_null().mean() > 0.95
    reasons = pl.concat([listed[c].drop_nulls() for c in ("reason_1", "reason_2", "reason_3")])
    assert not reasons.str.contains("ltc_|_12m").any()
    assert listed["predicted_cost"].is_not_null().all()


def test_integrated_locality_cohort_follows_the_rule(run):
    folder, warehouse, _ = run
    cohort = read_table(
        restricted_store_path(folder / "outputs"), "restricted.integrated_locality_cohort"
    )
    assert cohort.height > 0
    assert (cohort["age"] >= 18).all()
    frail = (cohort["ltc_count"] >= 5) & (cohort["efi_score"].fill_null(0) > 0.24)
    assert (cohort["frail_multimorbid"] == frail).all()
    assert (cohort["frail_multimorbid"] | cohort["high_predicted_cost"]).all()
    cost = read_table(warehouse, "published.cost_model_evaluation")
    assert cost.height == 1 and 0.8 < cost["observed_predicted"][0] < 1.25
