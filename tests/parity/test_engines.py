"""Parity: every ported transform gives the same answer on polars and on Spark."""

from __future__ import annotations

import polars as pl
import pytest

from phm.engines import score
from phm.outcomes import OUTCOME, label_snapshot
from phm.profiles import pcn_profile
from phm.tiering import patient_risk_table

from .conftest import collected, same_rows, spark_snapshot

pytestmark = pytest.mark.slow  # a Spark session and a model fit: about a minute


@pytest.fixture(scope="module")
def tiers(spark, two_ics):
    """restricted.patient_risk for the newest snapshot on both engines."""
    from phm.engines.spark import to_spark

    when, e = two_ics.newest, two_ics.extract
    on_polars = patient_risk_table(
        score(e.snapshots[when], when, two_ics.spec, two_ics.model),
        {when: e.snapshots[when]},
        e.practices,
        model="logistic",
    )
    snapshot = spark_snapshot(spark, two_ics, when)
    practices = to_spark(spark, e.practices)
    on_spark = patient_risk_table(
        score(snapshot, when, two_ics.spec, two_ics.model),
        {when: snapshot},
        practices,
        model="logistic",
    )
    return on_polars, on_spark, practices


def test_the_extract_holds_two_icss(two_ics):
    assert two_ics.extract.practices["ics_code"].n_unique() == 2


def test_every_patient_in_the_same_tier_with_the_same_risk(tiers):
    on_polars, on_spark, _ = tiers
    spark_rows = collected(on_spark)
    assert spark_rows.height == on_polars.height
    both = on_polars.join(spark_rows, on="patient_id", suffix="_spark")
    assert both.height == on_polars.height
    assert (both["risk"] - both["risk_spark"]).abs().max() <= 1e-6
    assert (both["kaiser_tier"] == both["kaiser_tier_spark"]).all()
    assert (both["risk_rank"] == both["risk_rank_spark"]).all()
    assert (both["ics_code"] == both["ics_code_spark"]).all()


def test_tier_shares_are_5_15_80_within_one_patient_in_each_ics(tiers):
    for rows in (tiers[0], collected(tiers[1])):
        per_ics = rows.group_by("ics_code").agg(
            pl.len().alias("n"),
            (pl.col("kaiser_tier") == 3).sum().alias("l3"),
            (pl.col("kaiser_tier") >= 2).sum().alias("l23"),
        )
        assert per_ics.height == 2
        for r in per_ics.iter_rows(named=True):
            assert abs(r["l3"] - 0.05 * r["n"]) <= 1
            assert abs(r["l23"] - 0.20 * r["n"]) <= 1


def test_pcn_scope_ranks_within_each_pcn_of_each_ics_alike(tiers):
    from phm.tiering import assign_kaiser_tiers

    on_polars, on_spark, _ = tiers
    cols = ["patient_id", "snapshot_date", "ics_code", "pcn_code", "risk"]
    polars_pcn = assign_kaiser_tiers(on_polars.select(cols), scope="pcn")
    spark_pcn = collected(assign_kaiser_tiers(on_spark.select(cols), scope="pcn"))
    same_rows(polars_pcn, spark_pcn.with_columns(pl.col("risk")), ["patient_id"])


def test_pcn_profile_is_equal(tiers, two_ics):
    on_polars, on_spark, practices = tiers
    published = pcn_profile(on_polars, two_ics.extract.practices, two_ics.policy)
    on_spark_published = collected(pcn_profile(on_spark, practices, two_ics.policy))
    assert published["ics_code"].n_unique() == 2
    same_rows(published, on_spark_published, ["snapshot_date", "ics_code", "pcn_code"])


def test_outcomes_are_equal(spark, two_ics):
    from phm.engines.spark import to_spark

    first, later = sorted(two_ics.extract.snapshots)[-2:]
    e = two_ics.extract
    on_polars = label_snapshot(e.snapshots[first], e.snapshots[later], e.deaths, first, later)
    on_spark = label_snapshot(
        spark_snapshot(spark, two_ics, first),
        spark_snapshot(spark, two_ics, later),
        to_spark(spark, e.deaths),
        first,
        later,
    )
    assert on_spark.unknown_outcome == on_polars.unknown_outcome > 0
    assert on_spark.outcome_rate == pytest.approx(on_polars.outcome_rate, abs=1e-12)
    keep = ["patient_id", OUTCOME]
    same_rows(on_polars.frame.select(keep), collected(on_spark.frame).select(keep), ["patient_id"])


def test_features_are_equal(spark, two_ics):
    when = two_ics.newest
    on_polars = two_ics.spec.frame(two_ics.extract.snapshots[when])
    on_spark = collected(two_ics.spec.frame(spark_snapshot(spark, two_ics, when)))
    assert on_spark.columns == two_ics.spec.names
    # no key among the features: compare every row after sorting on all of them
    from polars.testing import assert_frame_equal

    assert_frame_equal(
        on_polars.sort(on_polars.columns), on_spark.sort(on_spark.columns), abs_tol=1e-12
    )


@pytest.fixture(scope="module")
def profiles(spark, two_ics):
    """Every published profile table from the two newest snapshots, scored and tiered on
    each engine, with a predicted cost and an ILT cohort as the cost model would give them."""
    import dataclasses

    from phm.engines.spark import to_spark
    from phm.profiles import profile_inputs, profile_tables

    e, spec, model = two_ics.extract, two_ics.spec, two_ics.model
    dates = sorted(e.snapshots)[-2:]
    on_spark = dataclasses.replace(
        e,
        snapshots={d: spark_snapshot(spark, two_ics, d) for d in e.snapshots},
        deaths=to_spark(spark, e.deaths),
    )

    def tiered(extract, practices):
        parts = [
            patient_risk_table(
                score(extract.snapshots[d], d, spec, model),
                {d: extract.snapshots[d]},
                practices,
                model="logistic",
            )
            for d in dates
        ]
        return (
            parts[0].unionByName(parts[1]) if hasattr(parts[0], "unionByName") else pl.concat(parts)
        )

    risk = tiered(e, e.practices)
    newest = risk.filter(pl.col("snapshot_date") == dates[-1])
    cost = newest.select("patient_id", (pl.col("risk") * 5000).alias("predicted_cost"))
    cohort = cost.filter(pl.col("predicted_cost") > cost["predicted_cost"].quantile(0.9))
    extra = {"predicted_cost": cost, "ilt_cohort": cohort}
    return (
        profile_tables(profile_inputs(risk, e, **extra), two_ics.policy),
        profile_tables(
            profile_inputs(tiered(on_spark, to_spark(spark, e.practices)), on_spark, **extra),
            two_ics.policy,
        ),
    )


def test_every_profile_table_is_equal(profiles):
    """The profile aggregates are written once (phm/profiles.py): the same rows, columns and
    values on both engines, in the same order (the tables sort themselves once small)."""
    from polars.testing import assert_frame_equal

    from phm.profiles import PROFILE_TABLE_BUILDERS

    on_polars, on_spark = profiles
    assert on_polars.keys() == on_spark.keys() == PROFILE_TABLE_BUILDERS.keys()
    for name, table in on_polars.items():
        assert table.height > 0, name
        assert table["ics_code"].n_unique() == 2, name
        try:
            assert_frame_equal(table, on_spark[name], check_dtypes=False)
        except AssertionError as differs:
            raise AssertionError(f"{name}: {differs}") from None


def test_the_integrated_locality_cohort_is_equal(spark, two_ics):
    from phm.cohorts import integrated_locality_cohort

    when, e = two_ics.newest, two_ics.extract
    snapshot = e.snapshots[when]
    predicted = snapshot.select(
        "patient_id", (pl.col("ltc_count").cast(pl.Float64) * 400.0).alias("predicted_cost")
    )
    on_polars = integrated_locality_cohort(snapshot, when, predicted, e.practices)
    on_spark = integrated_locality_cohort(
        spark_snapshot(spark, two_ics, when), when, predicted, e.practices
    )
    assert on_polars["frail_multimorbid"].sum() > 0
    assert on_polars["high_predicted_cost"].sum() > 0
    same_rows(on_polars, collected(on_spark), ["patient_id"])


def test_a_snapshot_rewritten_on_spark_reads_back_as_written_now(spark, two_ics, tmp_path):
    """restricted.patient_risk on Spark is written per snapshot and read back by the next
    steps: an ICS that an earlier write of the same snapshot had must not come back."""
    from phm.engines.spark import read_partitioned, to_spark, write_snapshot
    from phm.warehouse.tables import PATIENT_RISK

    when, e = two_ics.newest, two_ics.extract
    both = patient_risk_table(
        score(e.snapshots[when], when, two_ics.spec, two_ics.model),
        {when: e.snapshots[when]},
        e.practices,
        model="logistic",
    )
    schema = PATIENT_RISK.polars_schema()
    folder = tmp_path / "patient_risk"
    write_snapshot(to_spark(spark, both), folder, when)
    one = both.filter(pl.col("ics_code") == "SYN01")
    write_snapshot(to_spark(spark, one), folder, when)  # the same snapshot, one ICS now
    back = collected(read_partitioned(spark, folder, schema, when))
    assert back.columns == list(schema)
    same_rows(one.select(list(schema)), back, ["patient_id"])


def test_the_sample_a_model_gets_from_spark_does_not_depend_on_how_spark_splits_it(spark, two_ics):
    """Above EVALUATION_ROWS the rows a model is fitted and evaluated on are a sample: the
    same whether the files are read as 2 partitions (local[2]) or as many (a cluster)."""
    from phm.engines import in_one_process

    snapshot = spark_snapshot(spark, two_ics, two_ics.newest)
    rows = two_ics.extract.snapshots[two_ics.newest].height
    wanted = rows // 4
    samples = [
        in_one_process(snapshot.repartition(n), wanted, seed=5)["patient_id"] for n in (2, 7)
    ]
    assert samples[0].to_list() == samples[1].to_list()
    assert abs(samples[0].len() - wanted) < 0.1 * wanted  # about as many as asked for
    assert samples[0].is_sorted()
    other_seed = in_one_process(snapshot, wanted, seed=6)["patient_id"]
    assert other_seed.to_list() != samples[0].to_list()
