"""The notebook in docs/ runs as an SDE analyst would run it, and agrees with polars: the same
evaluation, the same tiering model, the same tiers and published tables as the pipeline's
embedded route on the same extract."""

from __future__ import annotations

import runpy
from types import SimpleNamespace

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.case_finding import case_finding_list
from phm.cohorts import integrated_locality_cohort
from phm.config import REPO_ROOT, load_config
from phm.cost import cost_evaluation_table, predict_cost
from phm.engines import score
from phm.outcomes import label_extract
from phm.profiles import pcn_profile, profile_inputs, profile_tables
from phm.risk import evaluate_models, evaluation_table, tiering_models
from phm.tiering import patient_risk_table

from .conftest import collected, same_rows

pytestmark = pytest.mark.slow  # the suite's Spark session and the candidate models' fits

NOTEBOOK = REPO_ROOT / "docs" / "spark_notebook.py"


@pytest.fixture(scope="module")
def notebook(spark, two_ics, tmp_path_factory):
    restricted = tmp_path_factory.mktemp("notebook_restricted")
    cells = runpy.run_path(
        str(NOTEBOOK),
        init_globals={"EXTRACT": two_ics.folder, "RESTRICTED": restricted, "spark": spark},
    )
    return cells["notebook_result"], restricted


@pytest.fixture(scope="module")
def pipeline(two_ics):
    """What the pipeline's polars route makes of the same extract: the evaluation, the
    newest snapshot's tiers by the configured tiering model, the cost model's evaluation and
    predictions, the ILT cohort, the case-finding list and the profile tables."""
    m, e, when = load_config().model, two_ics.extract, two_ics.newest
    features = label_extract(e, two_ics.spec)
    evaluation = evaluate_models(
        features.labelled,
        two_ics.spec,
        list(m.candidates),
        m.seed,
        practices=e.practices,
        recalibrate=m.recalibrate,
        period_shift=m.period_shift,
    )
    model = tiering_models(
        [when],
        features.labelled,
        two_ics.spec,
        m.tiering_model,
        m.seed,
        evaluated=evaluation.fitted,
        recalibrate=m.tiering_model in m.recalibrate,
        period_shift=m.period_shift,
    )[when]
    snapshot = e.snapshots[when]
    scored = score(snapshot, when, two_ics.spec, model)
    tiers = patient_risk_table(scored, {when: snapshot}, e.practices, model=m.tiering_model)
    cost = predict_cost(e.snapshots, two_ics.spec, m.seed)
    cohort = integrated_locality_cohort(snapshot, when, cost.predicted, e.practices)
    inputs = profile_inputs(tiers, e, predicted_cost=cost.predicted, ilt_cohort=cohort)
    return SimpleNamespace(
        evaluation=evaluation_table(evaluation, m.tiering_model, two_ics.policy),
        model=model,
        tiers=tiers,
        cost=cost,
        cost_evaluation=cost_evaluation_table(cost, two_ics.policy),
        cohort=cohort,
        case_finding=case_finding_list(
            tiers,
            snapshot,
            model.estimator,
            two_ics.spec,
            predicted_cost=cost.predicted,
            ilt_cohort=cohort,
        ),
        tables=profile_tables(inputs, two_ics.policy),
    )


def test_the_notebook_evaluates_the_models_as_the_pipeline_does(notebook, pipeline):
    result, _ = notebook
    assert pipeline.evaluation.height == len(load_config().model.candidates)
    assert result["model"].trained_on == pipeline.model.trained_on  # the latest labelled one
    same_rows(pipeline.evaluation, result["evaluation"], ["model"], atol=1e-6)


def test_the_notebook_tiers_every_patient_as_the_pipeline_does(notebook, pipeline):
    result, _ = notebook
    tiers = pipeline.tiers
    on_spark = collected(result["patient_risk"]).select(tiers.columns)
    joined = tiers.join(on_spark, on="patient_id", suffix="_spark")
    assert joined.height == tiers.height == on_spark.height
    assert (joined["risk"] - joined["risk_spark"]).abs().max() < 1e-6
    assert (joined["kaiser_tier"] == joined["kaiser_tier_spark"]).all()


def test_the_notebook_predicts_cost_and_lists_patients_as_the_pipeline_does(notebook, pipeline):
    result, _ = notebook
    assert pipeline.cost.design == "temporal"
    same_rows(pipeline.cost_evaluation, result["cost_evaluation"], ["model"], atol=1e-6)
    predicted = pipeline.cost.predicted.join(
        collected(result["predicted_cost"]), on="patient_id", suffix="_spark"
    )
    assert predicted.height == pipeline.cost.predicted.height
    assert (predicted["predicted_cost"] - predicted["predicted_cost_spark"]).abs().max() < 1e-6
    same_rows(pipeline.cohort, collected(result["ilt_cohort"]), ["patient_id"], atol=1e-6)
    assert pipeline.cohort["high_predicted_cost"].any()  # the cost criterion is exercised
    listed = collected(result["case_finding"])
    same_rows(pipeline.case_finding, listed, ["patient_id"], atol=1e-6)
    assert listed["risk_rank"].is_sorted()  # in rank order, as the care teams read it
    assert listed["reason_1"].null_count() < listed.height


def test_the_notebook_publishes_what_polars_does(notebook, pipeline, two_ics):
    result, restricted = notebook
    e = two_ics.extract
    same_rows(
        pcn_profile(pipeline.tiers, e.practices, two_ics.policy),
        result["profile"],
        ["snapshot_date", "ics_code", "pcn_code"],
    )
    assert pipeline.tables.keys() == result["tables"].keys()
    for name, table in pipeline.tables.items():
        assert_frame_equal(table, result["tables"][name], check_dtypes=False)
    by_ics = (
        collected(result["patient_risk"])
        .group_by("ics_code")
        .agg(pl.len().alias("n"), (pl.col("kaiser_tier") == 3).sum().alias("level3"))
    )
    assert by_ics.height == 2
    assert all(abs(r["level3"] - 0.05 * r["n"]) <= 1 for r in by_ics.iter_rows(named=True))
    assert sorted(p.name for p in (restricted / "patient_risk").iterdir() if p.is_dir()) == [
        "ics_code=SYN01",
        "ics_code=SYN02",
    ]
