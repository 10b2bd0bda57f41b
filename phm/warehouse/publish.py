"""Publish the warehouse atomically, so that no reader ever sees half a run.

DuckDB allows one writer per file, and even a read-only open fails while it writes. So a run
never writes the live file: it copies the published file aside, writes the new tables into
the copy, checkpoints it, and renames it over the live file (an atomic rename on POSIX). A
reader opens either the complete previous version or the complete new one; a run that fails
or is killed mid-publish leaves the live file untouched, and its half-built copy is swept
away by the next run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from phm.schema import Table
from phm.sql import statement


def building_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.building")


@contextmanager
def _single_writer(path: Path):
    """Serialise publishers of one warehouse (a second run waits for the first)."""
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def create_table_sql(table: Table) -> str:
    """DDL from the declaration (identifiers are our own declared names)."""
    return f"CREATE OR REPLACE TABLE {table.name} (\n    {table.duckdb_columns()}\n)"


def _comment_sql(table: Table) -> list[str]:
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    out = [f"COMMENT ON TABLE {table.name} IS {quoted(table.description)}"]
    out += [
        f"COMMENT ON COLUMN {table.name}.{c.name} IS {quoted(c.description)}"
        for c in table.columns
    ]
    return out


def _write_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[Table, pl.DataFrame]) -> None:
    con.execute("BEGIN TRANSACTION")
    con.execute(statement("create_schema_restricted"))
    con.execute(statement("create_schema_published"))
    for table, frame in tables.items():
        staged = table.conform(frame).to_arrow()
        con.register("staged", staged)
        con.execute(create_table_sql(table))
        con.execute(statement("insert_staged_rows").format(target=table.name))
        for sql in _comment_sql(table):
            con.execute(sql)
        con.unregister("staged")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_warehouse(path: Path, tables: Mapping[Table, pl.DataFrame]) -> Path:
    """Replace `tables` in the warehouse at `path` in one atomic step; other tables are kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _single_writer(path):
        building = building_path(path)
        for stale in (building, building.with_name(building.name + ".wal")):
            stale.unlink(missing_ok=True)  # left by a run that was killed mid-publish
        if path.exists():
            shutil.copyfile(path, building)
        con = duckdb.connect(str(building))
        try:
            _write_tables(con, tables)
        finally:
            con.close()
        _fsync(building)
        os.replace(building, path)
        _fsync(path.parent)
    return path


def read_table(path: Path, name: str) -> pl.DataFrame:
    """Read one warehouse table (e.g. `published.pcn_profile`) without taking a write lock."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {_identifier(name)}").pl()
    finally:
        con.close()


def _identifier(name: str) -> str:
    parts = name.split(".")
    if not all(p.replace("_", "").isalnum() for p in parts):
        raise ValueError(f"not a table name: {name!r}")
    return ".".join(f'"{p}"' for p in parts)
