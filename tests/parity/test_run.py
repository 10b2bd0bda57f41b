"""Parity of the whole run: `--engine polars` and `--engine spark` publish the same tables."""

from __future__ import annotations

import stat

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.config import DEFAULT_CONFIG
from phm.warehouse.publish import restricted_store_path
from pipelines.runner import run_pipeline

pytestmark = pytest.mark.slow  # two runs of the graph, one of them on Spark: about 3 minutes

NOT_COMPARED = {"publication"}  # when and from what each run published: differs by design


@pytest.fixture(scope="module")
def runs(spark, two_ics, tmp_path_factory):
    """Both engines over the two-ICS extract; profiles' HTML and Data Docs off (not engine
    work). `spark` is the suite's session: the run in this process reuses it."""
    root = tmp_path_factory.mktemp("runs")
    config = root / "config.yaml"
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    config.write_text(
        text.replace("html_profiles: true", "html_profiles: false").replace(
            "data_docs: true", "data_docs: false"
        ),
        encoding="utf-8",
    )
    outcomes = {}
    for engine in ("polars", "spark"):
        outputs = root / engine
        outcome = run_pipeline(
            config_path=config, extract=two_ics.folder, outputs=outputs, engine=engine
        )
        assert outcome.success, outcome
        outcomes[engine] = outputs
    return outcomes


def _tables(path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.sql(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('published', 'restricted') order by all"
        ).fetchall()
        return {
            f"{s}.{t}": con.sql(f'select * from {s}."{t}"').pl()
            for s, t in names
            if t not in NOT_COMPARED
        }


@pytest.mark.parametrize("store", ["published", "restricted"])
def test_every_table_is_equal_on_both_engines(runs, store):
    def path(outputs):
        warehouse = outputs / "warehouse" / "llr_phm.duckdb"
        return warehouse if store == "published" else restricted_store_path(outputs)

    on_polars, on_spark = _tables(path(runs["polars"])), _tables(path(runs["spark"]))
    assert on_polars.keys() == on_spark.keys()
    assert len(on_polars) >= (15 if store == "published" else 3)
    for name, left in on_polars.items():
        right = on_spark[name]
        assert_frame_equal(left.sort(left.columns), right.sort(right.columns), abs_tol=1e-6)


def test_spark_writes_patient_rows_partitioned_by_ics_and_snapshot(runs):
    folder = runs["spark"] / "restricted" / "spark" / "patient_risk"
    parts = sorted(p.relative_to(folder).as_posix() for p in folder.glob("ics_code=*/*"))
    assert {p.split("/")[0] for p in parts} == {"ics_code=SYN01", "ics_code=SYN02"}
    assert all(p.split("/")[1].startswith("snapshot_date=") for p in parts)


def test_every_restricted_path_of_the_spark_run_is_owner_only(runs):
    """Spark's own partitioned write keeps the restricted store's rule (tests/integration/
    test_restricted_outputs.py checks a polars run)."""
    restricted = runs["spark"] / "restricted"
    paths = [restricted, *restricted.rglob("*")]
    assert any(p.suffix == ".parquet" and "patient_risk" in p.parts for p in paths)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
