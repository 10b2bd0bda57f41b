"""Publishing: atomic replacement, other tables kept, a failed publish changes nothing."""

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.schema import Column, Table
from phm.warehouse import publish_warehouse, read_table
from phm.warehouse.publish import building_path, previous_path

A = Table("published.a", "row", "Table a.", (Column("n", "integer", "A count."),))
B = Table("restricted.b", "row", "Table b.", (Column("s", "string", "A string."),))


def test_publish_then_republish_replaces_only_the_given_tables(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    publish_warehouse(
        path, {A: pl.DataFrame({"n": [1, 2]}), B: pl.DataFrame({"s": ["x"]})}, restricted=store
    )
    publish_warehouse(path, {A: pl.DataFrame({"n": [3]})}, restricted=store)
    assert read_table(path, "published.a")["n"].to_list() == [3]
    assert read_table(store, "restricted.b")["s"].to_list() == ["x"]
    assert not building_path(path).exists() and not building_path(store).exists()


def test_restricted_tables_go_to_the_restricted_store_only(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    publish_warehouse(
        path,
        {A: pl.DataFrame({"n": [1]}), B: pl.DataFrame({"s": ["x"]})},
        restricted=store,
        fingerprint="f" * 64,
    )
    assert _schemas(path) == {"published"}
    assert _schemas(store) == {"restricted"}
    assert read_table(store, "restricted.publication")["fingerprint"].to_list() == ["f" * 64]
    with pytest.raises(ValueError, match="restricted store"):
        publish_warehouse(path, {B: pl.DataFrame({"s": ["y"]})})


def test_a_published_file_from_before_the_two_stores_loses_its_restricted_schema(
    tmp_path: Path,
):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA restricted; CREATE TABLE restricted.b (patient_id VARCHAR)")
    con.close()
    publish_warehouse(path, {A: pl.DataFrame({"n": [1]})})
    assert _schemas(path) == {"published"}
    assert not previous_path(path).exists()  # the old file is not kept beside it either
    publish_warehouse(path, {A: pl.DataFrame({"n": [2]})})
    assert _schemas(previous_path(path)) == {"published"}  # from now on, as usual


def _schemas(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_a_failed_publish_leaves_the_previous_version_intact(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    publish_warehouse(path, {A: pl.DataFrame({"n": [1, 2]})})
    before = path.read_bytes()
    with pytest.raises(Exception, match="n"):
        # a frame missing the declared column fails mid-publish
        publish_warehouse(path, {A: pl.DataFrame({"wrong": [9]})})
    assert path.read_bytes() == before
    assert_frame_equal(read_table(path, "published.a"), pl.DataFrame({"n": [1, 2]}))


def test_tables_carry_their_declared_descriptions(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    publish_warehouse(path, {A: pl.DataFrame({"n": [1]})})
    con = duckdb.connect(str(path), read_only=True)
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'a' AND column_name = 'n'"
    ).fetchone()[0]
    con.close()
    assert comment == "A count."


def test_a_spark_runs_patient_rows_are_read_from_its_partitions_only(tmp_path):
    """The restricted store reads a Spark run's restricted.patient_risk from the Parquet it
    wrote; what a killed write left in Spark's hidden staging folders is not read twice."""
    from datetime import date

    from phm.engines import scan_partitioned
    from phm.warehouse.tables import PATIENT_RISK

    schema = PATIENT_RISK.polars_schema()
    rows = pl.DataFrame(
        {c: pl.Series([None, None], dtype=t) for c, t in schema.items()}
    ).with_columns(pl.Series("patient_id", ["P1", "P2"]))
    on_disk = rows.drop("ics_code", "snapshot_date")
    part = "ics_code=E54000015/snapshot_date=2024-04-01"
    for folder in (part, f".spark-staging-7/{part}", f"_temporary/0/{part}"):
        (tmp_path / folder).mkdir(parents=True)
        on_disk.write_parquet(tmp_path / folder / "part-00000.snappy.parquet")
    read = scan_partitioned(tmp_path, schema, [date(2024, 4, 1)]).collect()
    assert read.columns == list(schema) and read.height == 2
    assert read["ics_code"].to_list() == ["E54000015"] * 2  # text, as declared
    assert read["snapshot_date"].to_list() == [date(2024, 4, 1)] * 2
    assert scan_partitioned(tmp_path, schema, [date(2023, 4, 1)]).collect().height == 0
