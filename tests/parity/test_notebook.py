"""The notebook in docs/ runs as an SDE analyst would run it, and agrees with polars."""

from __future__ import annotations

import runpy

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.config import REPO_ROOT
from phm.engines import score
from phm.profiles import pcn_profile, profile_inputs, profile_tables
from phm.tiering import patient_risk_table

from .conftest import collected, same_rows

pytestmark = pytest.mark.slow  # the suite's Spark session and a model fit

NOTEBOOK = REPO_ROOT / "docs" / "spark_notebook.py"


def test_the_notebook_runs_on_spark_and_publishes_what_polars_does(spark, two_ics, tmp_path):
    cells = runpy.run_path(
        str(NOTEBOOK),
        init_globals={"EXTRACT": two_ics.folder, "RESTRICTED": tmp_path, "spark": spark},
    )
    result = cells["notebook_result"]
    when, e = two_ics.newest, two_ics.extract
    on_polars = patient_risk_table(
        score(e.snapshots[when], when, two_ics.spec, result["model"]),
        {when: e.snapshots[when]},
        e.practices,
        model="logistic",
    )
    same_rows(
        pcn_profile(on_polars, e.practices, two_ics.policy),
        result["profile"],
        ["snapshot_date", "ics_code", "pcn_code"],
    )
    published = profile_tables(profile_inputs(on_polars, e), two_ics.policy)
    assert published.keys() == result["tables"].keys()
    for name, table in published.items():
        assert_frame_equal(table, result["tables"][name], check_dtypes=False)
    tiers = (
        collected(result["patient_risk"])
        .group_by("ics_code")
        .agg(pl.len().alias("n"), (pl.col("kaiser_tier") == 3).sum().alias("level3"))
    )
    assert tiers.height == 2
    assert all(abs(r["level3"] - 0.05 * r["n"]) <= 1 for r in tiers.iter_rows(named=True))
    assert sorted(p.name for p in (tmp_path / "patient_risk").iterdir() if p.is_dir()) == [
        "ics_code=SYN01",
        "ics_code=SYN02",
    ]
