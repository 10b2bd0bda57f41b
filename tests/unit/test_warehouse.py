"""Publishing: atomic replacement, other tables kept, a failed publish changes nothing."""

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.schema import Column, Table
from phm.warehouse import publish_warehouse, read_table
from phm.warehouse.publish import building_path

A = Table("published.a", "row", "Table a.", (Column("n", "integer", "A count."),))
B = Table("restricted.b", "row", "Table b.", (Column("s", "string", "A string."),))


def test_publish_then_republish_replaces_only_the_given_tables(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    publish_warehouse(path, {A: pl.DataFrame({"n": [1, 2]}), B: pl.DataFrame({"s": ["x"]})})
    publish_warehouse(path, {A: pl.DataFrame({"n": [3]})})
    assert read_table(path, "published.a")["n"].to_list() == [3]
    assert read_table(path, "restricted.b")["s"].to_list() == ["x"]
    assert not building_path(path).exists()


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
