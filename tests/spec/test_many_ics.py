"""Spec: an extract may hold many ICSs (practices.csv's optional ics_code and ics_name)."""

from pathlib import Path

import polars as pl

from phm.contract import SINGLE_ICS
from phm.extract import practice_areas, read_extract
from phm.validation import check_extract
from tests.validation.builders import valid_frames, write_extract


def _with_ics(codes: list[str | None], names: list[str | None] | None) -> dict:
    frames = valid_frames()
    practices = frames["practices"].with_columns(pl.Series("ics_code", codes, pl.String))
    if names is not None:
        practices = practices.with_columns(pl.Series("ics_name", names, pl.String))
    frames["practices"] = practices
    return frames


def test_without_ics_columns_the_extract_is_one_ics(tmp_path: Path):
    extract = read_extract(write_extract(tmp_path / "x"))
    areas = practice_areas(extract.practices)
    assert set(areas["ics_code"]) == {SINGLE_ICS[0]}
    assert set(areas["ics_name"]) == {SINGLE_ICS[1]}


def test_ics_columns_are_read_and_kept(tmp_path: Path):
    frames = _with_ics(["QK1", "QK1", "QJM"], ["LLR", "LLR", "Derby"])
    extract = read_extract(write_extract(tmp_path / "x", frames=frames))
    areas = practice_areas(extract.practices)
    assert areas["ics_code"].to_list() == ["QK1", "QK1", "QJM"]
    assert check_extract(tmp_path / "x").ok


def test_ics_code_without_ics_name_is_a_missing_column(tmp_path: Path):
    report = check_extract(write_extract(tmp_path / "x", frames=_with_ics(["QK1"] * 3, None)))
    assert [(p.file, p.column, p.rule) for p in report.problems] == [
        ("practices.csv", "ics_name", "required column is missing")
    ]


def test_an_empty_ics_name_where_ics_code_is_given_is_a_problem(tmp_path: Path):
    frames = _with_ics(["QK1", "QK1", "QJM"], ["LLR", None, "Derby"])
    report = check_extract(write_extract(tmp_path / "x", frames=frames))
    assert [(p.file, p.column, p.count) for p in report.problems] == [
        ("practices.csv", "ics_name", 1)
    ]


def test_scale_past_one_is_copies_of_llr_under_synthetic_ics_codes():
    from phm.synth.geography import synthetic_icss

    assert synthetic_icss(1.0) == [] and synthetic_icss(0.05) == []
    assert [c.code for c in synthetic_icss(10)] == [f"SYN{k:02d}" for k in range(1, 11)]
    assert len(synthetic_icss(2.5)) == 3
    assert all("Synthetic" in c.name for c in synthetic_icss(3))


def test_a_two_ics_synthetic_extract_meets_the_contract(tmp_path: Path):
    from phm.synth import generate_extract

    out = tmp_path / "extract"
    generate_extract(out, scale=0.004, seed=3, ics_copies=2, n_snapshots=2)
    assert check_extract(out).ok
    extract = read_extract(out)
    areas = practice_areas(extract.practices)
    assert areas["ics_code"].unique().sort().to_list() == ["SYN01", "SYN02"]
    assert areas["practice_code"].is_unique().all()
    assert areas.group_by("pcn_code").agg(pl.col("ics_code").n_unique())["ics_code"].max() == 1
    newest = extract.snapshots[max(extract.snapshots)]
    assert newest["patient_id"].is_unique().all()
    per_ics = newest.join(areas, on="practice_code").group_by("ics_code").len()
    assert per_ics.height == 2 and per_ics["len"].min() > 0


def test_engine_spark_says_what_it_needs_when_it_is_missing(monkeypatch):
    import shutil

    import pytest

    from phm.engines import require_spark
    from phm.errors import ConfigError

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match=r"engine: spark needs .*Java 17"):
        require_spark()
