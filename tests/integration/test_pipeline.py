"""The whole graph on a small synthetic extract: what lands in the two stores."""

from datetime import date

import duckdb
import polars as pl

from phm.warehouse import read_table
from phm.warehouse.tables import WAREHOUSE_TABLES


def test_every_declared_table_is_published_with_its_declared_columns(published, restricted_store):
    warehouse, _ = published
    for table in WAREHOUSE_TABLES:
        store = restricted_store if table.name.startswith("restricted.") else warehouse
        assert read_table(store, table.name).columns == table.column_names


def test_tier_shares_are_5_15_80_within_one_patient_per_scored_snapshot(restricted_store):
    risk = read_table(restricted_store, "restricted.patient_risk")
    snapshots = risk["snapshot_date"].unique().sort().to_list()
    assert snapshots == [date(2022, 4, 1), date(2023, 4, 1)]  # the first has no model yet
    for _, frame in risk.group_by("snapshot_date"):
        n = frame.height
        counts = frame["kaiser_tier"].value_counts()
        by = dict(zip(counts["kaiser_tier"], counts["count"], strict=True))
        assert abs(by[3] - 0.05 * n) <= 1
        assert abs(by[2] - 0.15 * n) <= 1
        assert abs(by[1] - 0.80 * n) <= 1


def test_level_3_is_the_highest_risk(restricted_store):
    risk = read_table(restricted_store, "restricted.patient_risk")
    for _, frame in risk.group_by("snapshot_date"):
        lowest_l3 = frame.filter(pl.col("kaiser_tier") == 3)["risk"].min()
        highest_l2 = frame.filter(pl.col("kaiser_tier") == 2)["risk"].max()
        assert lowest_l3 >= highest_l2


def test_pcn_profile_has_every_pcn_per_scored_snapshot(published):
    warehouse, _ = published
    profile = read_table(warehouse, "published.pcn_profile")
    assert profile.height == 25 * 2
    assert profile["pcn_code"].n_unique() == 25


def test_nothing_patient_level_is_in_published(published):
    warehouse, _ = published
    con = duckdb.connect(str(warehouse), read_only=True)
    schemas = con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()
    cols = con.execute("SELECT DISTINCT column_name FROM duckdb_columns()").fetchall()
    con.close()
    assert {s for (s,) in schemas} == {"published"}
    assert "patient_id" not in {c for (c,) in cols}


def test_model_evaluation_is_temporal_and_names_the_tiering_model(published):
    warehouse, _ = published
    evaluation = read_table(warehouse, "published.model_evaluation")
    assert set(evaluation["validation_design"]) == {"temporal"}
    assert evaluation.filter(pl.col("used_for_tiers")).height == 1
    assert (evaluation["train_snapshot"] < evaluation["evaluation_snapshot"]).all()
    # an honest model on this population beats chance and the LTC-count lookup
    auroc = dict(zip(evaluation["model"], evaluation["auroc"], strict=True))
    assert auroc["logistic"] > auroc["ltc_count_lookup"] > 0.6


def test_a_run_reports_its_stages(published):
    _, outcome = published
    stages = {s.stage for s in outcome.stages}
    assert {"patient_extract", "risk_model_evaluation", "warehouse"} <= stages
