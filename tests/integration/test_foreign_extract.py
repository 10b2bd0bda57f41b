"""An extract written by someone else to the contract runs with no code change: CSV with a
byte-order mark, CRLF line endings and 1/0 flags, only two snapshots, extra columns."""

from pathlib import Path

import polars as pl
import pytest

from phm.warehouse import read_table
from pipelines.runner import run_pipeline

pytestmark = pytest.mark.slow


def _write_like_a_bi_tool(frame: pl.DataFrame, path: Path) -> None:
    flags = [c for c, t in frame.schema.items() if t == pl.Boolean]
    text = frame.with_columns(pl.col(flags).cast(pl.Int8)).write_csv()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))


@pytest.fixture(scope="module")
def foreign_extract(small_extract, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("foreign")
    snapshots = sorted(small_extract.glob("patients_*.parquet"))[-2:]
    for path in snapshots:
        frame = pl.read_parquet(path).with_columns(pl.lit("x").alias("local_extra_column"))
        _write_like_a_bi_tool(frame, out / path.with_suffix(".csv").name)
    _write_like_a_bi_tool(pl.read_parquet(small_extract / "deaths.parquet"), out / "deaths.csv")
    (out / "practices.csv").write_bytes((small_extract / "practices.csv").read_bytes())
    return out


def test_a_two_snapshot_csv_extract_runs_and_says_how_it_was_validated(foreign_extract, tmp_path):
    warehouse = tmp_path / "foreign.duckdb"
    outcome = run_pipeline(
        extract=foreign_extract, warehouse=warehouse, outputs=tmp_path / "outputs"
    )
    assert outcome.success, outcome
    evaluation = read_table(warehouse, "published.model_evaluation")
    assert set(evaluation["validation_design"]) == {"held_out_patients"}
    assert "held-out patients" in outcome.metadata["risk_model_evaluation"]["validation_design"]
    profile = read_table(warehouse, "published.pcn_profile")
    assert profile["snapshot_date"].n_unique() == 1
    assert profile.height == 25
