"""Publish the warehouse atomically, so that no reader ever sees half a run.

DuckDB allows one writer per file, and even a read-only open fails while it writes. So a run
never writes the live file: it copies the published file aside, writes the new tables into
the copy, checkpoints it, and renames it over the live file (an atomic rename on POSIX). A
reader opens either the complete previous version or the complete new one; a run that fails
or is killed mid-publish leaves the live file untouched, and its half-built copy is swept
away by the next run.

Each publish also keeps the version it replaces as `<name>.previous` (a hard link, so it
costs no copy), and `restore_previous` swaps the two back atomically (docs/operations.md).
With a fingerprint, a publish writes `published.publication` in the same transaction: the
fingerprint of the run's inputs and configuration and each published table's row count, so
a reader can tell which version it read. Nothing in it depends on the clock: publishing the
same inputs twice gives identical tables.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from phm.config import PipelineConfig
from phm.errors import PhmError
from phm.schema import Table
from phm.sql import statement
from phm.warehouse.tables import PUBLICATION

# Extract files the fingerprint ignores: markers (`_READY`) and hidden files are not data.
_NOT_DATA = ("_", ".")


def building_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.building")


def previous_path(path: Path) -> Path:
    """The version the last publish replaced: what `restore_previous` brings back."""
    return path.with_name(f"{path.name}.previous")


def extract_fingerprint(folder: Path) -> str:
    """SHA-256 over the extract's data files (names and bytes), in name order."""
    digest = hashlib.sha256()
    for file in sorted(Path(folder).rglob("*")):
        rel = file.relative_to(folder)
        if not file.is_file() or any(p.startswith(_NOT_DATA) for p in rel.parts):
            continue
        digest.update(rel.as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def inputs_fingerprint(extract_folder: Path, config: PipelineConfig) -> str:
    """The run's inputs: the extract's contents and every setting that changes the results
    (paths are left out: the same extract and settings published elsewhere are the same)."""
    settings = config.model_dump(
        mode="json", exclude={"extract", "warehouse", "outputs", "landing"}
    )
    text = json.dumps(
        {"extract": extract_fingerprint(extract_folder), "config": settings}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def publication_frame(fingerprint: str, tables: Mapping[Table, pl.DataFrame]) -> pl.DataFrame:
    """published.publication: one row per published table of this publish (row counts of
    restricted tables are patient counts, so they are not published)."""
    names = sorted(
        t.name for t in tables if t.name.startswith("published.") and t.name != PUBLICATION.name
    )
    heights = {t.name: f.height for t, f in tables.items()}
    return pl.DataFrame(
        {
            "fingerprint": [fingerprint] * len(names),
            "table_name": names,
            "row_count": [heights[n] for n in names],
        },
        schema=PUBLICATION.polars_schema(),
    )


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
        f"COMMENT ON COLUMN {table.name}.{c.name} IS {quoted(c.description)}" for c in table.columns
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


def publish_warehouse(
    path: Path, tables: Mapping[Table, pl.DataFrame], *, fingerprint: str | None = None
) -> Path:
    """Replace `tables` in the warehouse at `path` in one atomic step; other tables are kept.

    With `fingerprint`, `published.publication` is replaced too (see `publication_frame`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fingerprint is not None:
        tables = {**tables, PUBLICATION: publication_frame(fingerprint, tables)}
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
        if path.exists():
            _keep_as_previous(path)
        os.replace(building, path)
        _fsync(path.parent)
    return path


def _keep_as_previous(path: Path) -> None:
    """Point `<name>.previous` at the live version, atomically (a hard link, no copy).

    The live file is never written in place (every publish renames a new file over it), so
    the link keeps that version's bytes after the rename. Falls back to a copy where the
    filesystem has no hard links.
    """
    previous = previous_path(path)
    staging = path.with_name(f".{previous.name}.staging")
    staging.unlink(missing_ok=True)
    try:
        os.link(path, staging)
    except OSError:
        shutil.copyfile(path, staging)
    os.replace(staging, previous)


def restore_previous(path: Path) -> Path:
    """Make the previous published version live again, atomically, and keep the version it
    replaces as the new `.previous` (so a second restore undoes the first)."""
    path = Path(path)
    previous = previous_path(path)
    with _single_writer(path):
        if not previous.exists():
            raise PhmError(
                f"There is no previous version of {path} to restore "
                f"({previous.name} does not exist)."
            )
        staging = path.with_name(f".{path.name}.restoring")
        staging.unlink(missing_ok=True)
        os.link(previous, staging)  # the version to bring back, under a temporary name
        if path.exists():
            _keep_as_previous(path)
        os.replace(staging, path)
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
