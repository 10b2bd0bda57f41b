"""The command line a BI analyst uses: synth, validate (every problem), run with a custom
LTC list from configuration."""

import shutil
from pathlib import Path

import polars as pl
import pytest

from phm.warehouse import read_table, restricted_store_path
from pipelines.cli import main


def test_synth_then_validate_a_fresh_extract(tmp_path: Path, capsys):
    out = tmp_path / "extract"
    assert main(["synth", "--out", str(out), "--scale", "0.003", "--seed", "3"]) == 0
    assert sorted(p.name for p in out.glob("patients_*.parquet")) == [
        "patients_2021-04-01.parquet",
        "patients_2022-04-01.parquet",
        "patients_2023-04-01.parquet",
    ]
    assert main(["validate", str(out)]) == 0
    assert "meets the data contract" in capsys.readouterr().out


def test_validate_lists_every_problem_not_just_the_first(small_extract, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(small_extract, bad)
    snapshot = bad / "patients_2022-04-01.parquet"
    frame = pl.read_parquet(snapshot)
    frame.with_columns(pl.lit(11).alias("imd_decile"), pl.lit("Q").alias("sex")).write_parquet(
        snapshot
    )
    (bad / "patients_2023-04-01.parquet").write_bytes(b"PAR1 not really")

    assert main(["validate", str(bad)]) == 1
    said = capsys.readouterr().out
    assert "patients_2022-04-01.parquet, column imd_decile: must be 1 to 10" in said
    assert "patients_2022-04-01.parquet, column sex: must be one of" in said
    assert "patients_2023-04-01.parquet" in said and "unreadable" in said


@pytest.mark.slow
def test_a_different_ltc_list_is_configuration_not_code(small_extract, tmp_path, capsys):
    kept = ["ltc_diabetes", "ltc_copd", "ltc_heart_failure"]
    extract = tmp_path / "three_ltcs"
    extract.mkdir()
    shutil.copy(small_extract / "practices.csv", extract)
    shutil.copy(small_extract / "deaths.parquet", extract)
    for path in small_extract.glob("patients_*.parquet"):
        frame = pl.read_parquet(path)
        dropped = [c for c in frame.columns if c.startswith("ltc_") and c not in kept]
        frame.drop(dropped).with_columns(
            pl.sum_horizontal(pl.col(kept).cast(pl.Int64)).alias("ltc_count")
        ).write_parquet(extract / path.name)
    config = tmp_path / "three.yaml"
    config.write_text(
        "ltc_columns: [" + ", ".join(kept) + "]\n"
        f"warehouse:\n  path: {tmp_path / 'w.duckdb'}\n"
        f"outputs:\n  dir: {tmp_path / 'outputs'}\n  html_profiles: false\n"
        "validation:\n  data_docs: false\n"  # pages and Data Docs are not what this tests
    )
    assert main(["run", "--config", str(config), "--extract", str(extract)]) == 0
    risk = read_table(restricted_store_path(tmp_path / "outputs"), "restricted.patient_risk")
    assert risk["ltc_count"].max() <= 3
