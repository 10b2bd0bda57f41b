"""The notebook in docs/ runs as an SDE analyst would run it, and agrees with polars: the same
evaluation, the same tiering model, the same tiers and published tables as the pipeline's
embedded route on the same extract."""

from __future__ import annotations

import runpy

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.config import REPO_ROOT, load_config
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
    """What the pipeline's polars route makes of the same extract: the evaluation, and the
    newest snapshot's tiers by the configured tiering model."""
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
    scored = score(e.snapshots[when], when, two_ics.spec, model)
    tiers = patient_risk_table(
        scored, {when: e.snapshots[when]}, e.practices, model=m.tiering_model
    )
    return evaluation_table(evaluation, m.tiering_model, two_ics.policy), model, tiers


def test_the_notebook_evaluates_the_models_as_the_pipeline_does(notebook, pipeline):
    result, _ = notebook
    evaluation, model, _ = pipeline
    assert evaluation.height == len(load_config().model.candidates)
    assert result["model"].trained_on == model.trained_on  # the latest labelled snapshot
    same_rows(evaluation, result["evaluation"], ["model"], atol=1e-6)


def test_the_notebook_tiers_every_patient_as_the_pipeline_does(notebook, pipeline):
    result, _ = notebook
    _, _, tiers = pipeline
    on_spark = collected(result["patient_risk"]).select(tiers.columns)
    joined = tiers.join(on_spark, on="patient_id", suffix="_spark")
    assert joined.height == tiers.height == on_spark.height
    assert (joined["risk"] - joined["risk_spark"]).abs().max() < 1e-6
    assert (joined["kaiser_tier"] == joined["kaiser_tier_spark"]).all()


def test_the_notebook_publishes_what_polars_does(notebook, pipeline, two_ics):
    result, restricted = notebook
    _, _, tiers = pipeline
    e = two_ics.extract
    same_rows(
        pcn_profile(tiers, e.practices, two_ics.policy),
        result["profile"],
        ["snapshot_date", "ics_code", "pcn_code"],
    )
    published = profile_tables(profile_inputs(tiers, e), two_ics.policy)
    assert published.keys() == result["tables"].keys()
    for name, table in published.items():
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
