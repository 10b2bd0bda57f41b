"""The generated extract meets the data contract exactly."""

from __future__ import annotations

import polars as pl
import pytest

from phm.contract import DEATHS, DEFAULT_LTCS, PRACTICES, patients_table


@pytest.fixture(scope="module")
def snapshots(sample) -> dict[str, pl.DataFrame]:
    return {
        d.isoformat(): pl.read_parquet(sample.out_dir / f"patients_{d.isoformat()}.parquet")
        for d in sample.snapshot_dates
    }


def test_files_written(sample):
    names = sorted(p.name for p in sample.out_dir.iterdir())
    assert names == [
        "deaths.parquet",
        "patients_2021-04-01.parquet",
        "patients_2022-04-01.parquet",
        "patients_2023-04-01.parquet",
        "practices.csv",
    ]


def test_truth_file_is_outside_the_extract(sample):
    assert sample.truth_path.exists()
    assert not sample.truth_path.resolve().is_relative_to(sample.out_dir.resolve())


def test_practices_meet_the_contract(sample):
    practices = pl.read_csv(sample.out_dir / "practices.csv")
    assert practices.height == 133
    for column in PRACTICES.columns:
        values = practices[column.name]
        assert values.null_count() == 0
        if column.pattern:
            assert values.str.contains(column.pattern).all(), column.name
    assert practices["practice_code"].is_unique().all()


def test_snapshot_schema_is_the_declared_one(snapshots):
    for frame in snapshots.values():
        assert frame.schema == patients_table(DEFAULT_LTCS).polars_schema()


def test_deaths_schema_is_the_declared_one(sample):
    deaths = pl.read_parquet(sample.out_dir / "deaths.parquet")
    assert deaths.schema == DEATHS.polars_schema()
    assert deaths["patient_id"].is_unique().all()
    assert deaths.height > 0


def test_snapshot_rules(snapshots, sample):
    table = patients_table(DEFAULT_LTCS)
    codes = set(pl.read_csv(sample.out_dir / "practices.csv")["practice_code"])
    for frame in snapshots.values():
        assert frame["patient_id"].is_unique().all()
        assert frame["patient_id"].str.len_chars().eq(10).all()
        assert set(frame["practice_code"].unique()) <= codes
        for column in table.columns:
            values = frame[column.name]
            if not column.nullable:
                assert values.null_count() == 0, column.name
            if column.allowed:
                assert set(values.drop_nulls().unique()) <= set(column.allowed), column.name
            if column.min is not None:
                assert values.drop_nulls().min() >= column.min, column.name
            if column.max is not None:
                assert values.drop_nulls().max() <= column.max, column.name
        assert (
            frame["ltc_count"] == frame.select(pl.sum_horizontal(DEFAULT_LTCS)).to_series()
        ).all()


def test_efi_recorded_only_from_65(snapshots):
    frame = snapshots["2021-04-01"]
    assert (
        frame.filter(pl.col("age") < 65)["efi_score"].null_count()
        == frame.filter(pl.col("age") < 65).height
    )
    assert frame.filter(pl.col("age") >= 65)["efi_score"].null_count() == 0


def test_a_few_deprivation_deciles_are_unknown(snapshots):
    share = snapshots["2021-04-01"]["imd_decile"].null_count() / snapshots["2021-04-01"].height
    assert 0.002 < share < 0.01


def test_cohort_is_followed_and_refreshed(snapshots, sample):
    first, second = snapshots["2021-04-01"], snapshots["2022-04-01"]
    both = first.join(second, on="patient_id", suffix="_next")
    assert 0.8 < both.height / first.height < 0.95  # deaths and leavers, replaced by joiners
    assert (both["age_next"] - both["age"]).is_in([0, 1]).all()
    assert (both["age_next"] == both["age"] + 1).mean() > 0.99
    # conditions, once on a register, are kept
    for ltc in DEFAULT_LTCS:
        assert not (both[ltc] & ~both[f"{ltc}_next"]).any(), ltc
    deaths = pl.read_parquet(sample.out_dir / "deaths.parquet").filter(
        pl.col("date_of_death") <= sample.snapshot_dates[1]
    )
    assert deaths.height > 0
    assert deaths.join(second, on="patient_id").height == 0  # the dead do not come back
    assert deaths.join(first, on="patient_id").height == deaths.height
    assert abs(second.height - first.height) / first.height < 0.01  # list sizes stable


def test_patient_ids_are_not_nhs_numbers(snapshots):
    ids = snapshots["2021-04-01"]["patient_id"]
    assert ids.str.contains(r"^[a-d][0-9a-f]{9}$").all()  # a letter first: never all digits
