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

Two stores (data contract, "What the pipeline writes"): the published warehouse holds the
`published` aggregates only, the file a BI team may be given; the patient-level `restricted`
tables go to the restricted store, `<outputs>/restricted/warehouse.duckdb`, owner-only (see
phm/restricted.py). One publish builds both copies, then renames both while holding the swap
lock (`.<name>.swap.lock` beside the published file), and writes the same fingerprint into
`published.publication` and `restricted.publication`. `open_publication` opens both under
that lock, so a reader of the pair never gets a published version with another run's
patient rows; a plain reader of the published file needs no lock (its rename is atomic).
`restore_previous` swaps both back together.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from phm.config import PipelineConfig
from phm.engines import row_count
from phm.errors import PhmError
from phm.failures import classify_text
from phm.restricted import make_owner_only, owner_only_files, private_folder, restricted_dir
from phm.schema import Table
from phm.sql import statement
from phm.warehouse.tables import PUBLICATION, RESTRICTED_PUBLICATION

# Extract files the fingerprint ignores: markers (`_READY`) and hidden files are not data.
_NOT_DATA = ("_", ".")


RESTRICTED_STORE_NAME = "warehouse.duckdb"


def restricted_store_path(config: PipelineConfig | Path) -> Path:
    """The restricted store of a run: `<outputs>/restricted/warehouse.duckdb` (given the
    configuration, or the outputs folder itself)."""
    outputs = config.outputs.dir if isinstance(config, PipelineConfig) else Path(config)
    return restricted_dir(outputs) / RESTRICTED_STORE_NAME


def prepare_stores(config: PipelineConfig) -> Path:
    """Before a run: the owner-only restricted folder (an exposed one is refused), and two
    different files for the two stores. Returns the restricted store's path."""
    restricted = restricted_store_path(config)
    if restricted.resolve() == Path(config.warehouse.path).resolve():
        raise PhmError(
            f"The published warehouse {config.warehouse.path} is the restricted store's own "
            "file: give --warehouse another file (the published one is shared with BI tools)."
        )
    private_folder(restricted.parent)
    return restricted


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


def publication_frame(
    fingerprint: str, tables: Mapping[Table, pl.DataFrame], catalogue: Table = PUBLICATION
) -> pl.DataFrame:
    """published.publication (or its restricted twin): one row per table of this publish in
    the catalogue's schema (row counts of restricted tables are patient counts, so they are
    listed in the restricted store only)."""
    schema = catalogue.name.split(".")[0] + "."
    names = sorted(t.name for t in tables if t.name.startswith(schema) and t != catalogue)
    heights = {t.name: row_count(f) for t, f in tables.items()}
    return pl.DataFrame(
        {
            "fingerprint": [fingerprint] * len(names),
            "table_name": names,
            "row_count": [heights[n] for n in names],
        },
        schema=catalogue.polars_schema(),
    )


def is_restricted(table: Table) -> bool:
    return table.name.startswith("restricted.")


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


def _swap_lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.swap.lock")


@contextmanager
def _swapping(path: Path):
    """Held by a publisher (exclusively) only while it renames the two stores into place,
    and by `open_publication` (shared) only while it opens them: microseconds, not a run."""
    with open(_swap_lock_path(path), "w") as handle:
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


def _write_tables(
    con: duckdb.DuckDBPyConnection, tables: Mapping[Table, pl.DataFrame], *, restricted: bool
) -> None:
    con.execute("BEGIN TRANSACTION")
    if restricted:
        con.execute(statement("create_schema_restricted"))
    else:  # a published file never holds patient rows, not even an older run's
        con.execute(statement("drop_schema_restricted"))
        con.execute(statement("create_schema_published"))
    for table, frame in tables.items():
        con.register("staged", _arrow(table.conform(frame)))
        con.execute(create_table_sql(table))
        con.execute(statement("insert_staged_rows").format(target=table.name))
        for sql in _comment_sql(table):
            con.execute(sql)
        con.unregister("staged")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")


def _arrow(frame: pl.DataFrame | pl.LazyFrame):
    """A frame as DuckDB reads it: an eager one as one Arrow table; a scan (a Spark run's
    patient rows) as a stream of Arrow batches, so that it is never held whole here."""
    if isinstance(frame, pl.DataFrame):
        return frame.to_arrow()
    schema = pl.DataFrame(schema=frame.collect_schema()).to_arrow().schema
    batches = (b for part in frame.collect_batches() for b in part.to_arrow().to_batches())
    return pa.RecordBatchReader.from_batches(schema, batches)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class _Store:
    """One of the two files a publish replaces."""

    path: Path
    tables: Mapping[Table, pl.DataFrame]
    restricted: bool

    def private(self):
        return owner_only_files() if self.restricted else nullcontext()


def publish_warehouse(
    path: Path,
    tables: Mapping[Table, pl.DataFrame],
    *,
    fingerprint: str | None = None,
    restricted: Path | None = None,
) -> Path:
    """Replace `tables` in one atomic step; other tables are kept. `published.*` tables go to
    the warehouse at `path`, `restricted.*` tables to the restricted store at `restricted`
    (required when there are any), and both files are swapped in together.

    With `fingerprint`, `published.publication` (and `restricted.publication`, in the
    restricted store) are replaced too (see `publication_frame`).
    """
    path = Path(path)
    public = {t: f for t, f in tables.items() if not is_restricted(t)}
    patient_level = {t: f for t, f in tables.items() if is_restricted(t)}
    if patient_level and restricted is None:
        raise ValueError("restricted tables need a restricted store: pass restricted=")
    if fingerprint is not None:
        public[PUBLICATION] = publication_frame(fingerprint, public)
        if restricted is not None:
            patient_level[RESTRICTED_PUBLICATION] = publication_frame(
                fingerprint, patient_level, RESTRICTED_PUBLICATION
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    stores = [_Store(path, public, restricted=False)]
    if restricted is not None and patient_level:
        private_folder(Path(restricted).parent)
        stores.append(_Store(Path(restricted), patient_level, restricted=True))
    with _single_writer(path):
        try:
            for store in stores:
                _build(store)
        except BaseException:  # a full disk, say: leave no half-built copy taking its space
            for store in stores:
                _discard_building(store.path)
            raise
        with _swapping(path):
            for store in stores:
                with store.private():
                    if store.path.exists():
                        _keep_as_previous(store.path)
                    os.replace(building_path(store.path), store.path)
        _drop_old_layout_previous(path)
        for store in stores:
            _fsync(store.path.parent)
    return path


def _build(store: _Store) -> None:
    """The new version of one store, complete and on disk, under its building name."""
    building = building_path(store.path)
    with store.private():
        _discard_building(store.path)  # left by a run that was killed mid-publish
        if store.path.exists():
            shutil.copyfile(store.path, building)
        con = duckdb.connect(str(building))
        try:
            _write_tables(con, store.tables, restricted=store.restricted)
        finally:
            con.close()
    if store.restricted:
        make_owner_only(building)
    _fsync(building)


def _discard_building(path: Path) -> None:
    building = building_path(path)
    for stale in (building, building.with_name(building.name + ".wal")):
        stale.unlink(missing_ok=True)


def sweep_leftovers(path: Path, restricted: Path | None = None) -> None:
    """Remove what a publish or restore killed half-way leaves (building copies, staging
    links), under the writer lock so that a publish in progress keeps its own."""
    path = Path(path)
    with _single_writer(path):
        for store in [path] + ([Path(restricted)] if restricted is not None else []):
            _discard_building(store)
            store.with_name(f".{previous_path(store).name}.staging").unlink(missing_ok=True)
            store.with_name(f".{store.name}.restoring").unlink(missing_ok=True)


def _drop_old_layout_previous(path: Path) -> None:
    """A published file from before the two stores held patient rows (schema `restricted`):
    once replaced, it must not stay beside the published file as its `.previous`."""
    previous = previous_path(path)
    if not previous.exists():
        return
    try:
        con = duckdb.connect(str(previous), read_only=True)
    except duckdb.IOException:  # a reader holds it read-write: after the swap, never fail
        return  # the run for that; the next publish checks it again
    try:
        sql = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'restricted'"
        old_layout = con.execute(sql).fetchone()[0] > 0
    finally:
        con.close()
    if old_layout:
        previous.unlink()


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


def restore_previous(path: Path, restricted: Path | None = None) -> Path:
    """Make the previous publication live again, atomically, and keep the version it
    replaces as the new `.previous` (so a second restore undoes the first). With
    `restricted`, its restricted store is restored with it, in the same swap."""
    path = Path(path)
    stores = [path] + ([Path(restricted)] if restricted is not None else [])
    with _single_writer(path):
        for store in stores:
            if not previous_path(store).exists():
                raise PhmError(
                    f"There is no previous version of {store} to restore "
                    f"({previous_path(store).name} does not exist)."
                )
            _refuse_damaged(previous_path(store))
        if restricted is not None:
            _refuse_unpaired(previous_path(path), previous_path(Path(restricted)))
        with _swapping(path):
            for store in stores:
                _swap_in_previous(store)
        for store in stores:
            _fsync(store.parent)
    return path


def _refuse_damaged(path: Path) -> None:
    """Read every row of every table of a version to restore (hashing it, so every block is
    read and its checksum checked): a damaged file is refused, not made live."""
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
            ).fetchall()
            for schema, table in tables:
                con.execute(f'SELECT max(hash(t)) FROM "{schema}"."{table}" AS t').fetchall()
        finally:
            con.close()
    except duckdb.Error as error:
        if classify_text(type(error).__name__, str(error)) is not None:
            raise  # held by another process, say: the file may be fine
        raise PhmError(
            f"The previous version {path} is damaged and cannot be read "
            f"({type(error).__name__}); nothing was restored, the live version is unchanged."
        ) from error


def _swap_in_previous(path: Path) -> None:
    staging = path.with_name(f".{path.name}.restoring")
    staging.unlink(missing_ok=True)
    os.link(previous_path(path), staging)  # the version to bring back, under a temporary name
    if path.exists():
        _keep_as_previous(path)
    os.replace(staging, path)


def _refuse_unpaired(published: Path, restricted: Path) -> None:
    if _fingerprints_of(published, PUBLICATION) != _fingerprints_of(
        restricted, RESTRICTED_PUBLICATION
    ):
        raise PhmError(
            f"The previous versions of {published.name} and {restricted} come from different "
            "runs (their publication fingerprints differ), so restoring them would pair one "
            "run's aggregates with another's patient rows; re-run the pipeline instead."
        )


def _fingerprints_of(path: Path, catalogue: Table) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return fingerprints(con, catalogue)
    finally:
        con.close()


def fingerprints(con: duckdb.DuckDBPyConnection, catalogue: Table = PUBLICATION) -> set[str]:
    """The publication fingerprint(s) a store holds (none if published without one)."""
    try:
        sql = f"SELECT DISTINCT fingerprint FROM {_identifier(catalogue.name)}"
        return {row[0] for row in con.execute(sql).fetchall()}
    except duckdb.CatalogException:
        return set()


@contextmanager
def _no_swap_while_opening(path: Path):
    """The swap lock, shared. Made here if no publish has made it yet (a publication copied
    into place, say): without it, a reader could open the two stores while the first swap
    renames them. A reader that may not create it (a BI account with read access only) goes
    on unlocked, and `open_publication` looks again if what it opened are not twins."""
    lock = _swap_lock_path(path)
    try:
        handle = open(lock, "a" if not lock.exists() else "r")  # noqa: SIM115 (closed below)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield  # closing the file releases the lock


# How long a reader that found two different runs keeps looking before it calls the pair
# broken: a swap renames two files (microseconds, however loaded the machine, in seconds).
TWIN_RETRIES, TWIN_WAIT_S = 50, 0.1


@contextmanager
def open_publication(
    path: Path, restricted: Path
) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    """Read-only connections to both stores of one publication: opened under the swap lock
    (an open file keeps its version after a rename), and checked to be twins."""
    path, restricted = Path(path), Path(restricted)
    for attempt in range(TWIN_RETRIES + 1):
        with _no_swap_while_opening(path):
            published_con = duckdb.connect(str(path), read_only=True)
            restricted_con = duckdb.connect(str(restricted), read_only=True)
        if fingerprints(published_con) == fingerprints(restricted_con, RESTRICTED_PUBLICATION):
            break
        published_con.close()
        restricted_con.close()
        if attempt == TWIN_RETRIES:
            raise PhmError(
                f"{path} and its restricted store {restricted} hold different runs (a run "
                "stopped between renaming the two): re-run the pipeline, or `phm restore`."
            )
        time.sleep(TWIN_WAIT_S)  # unlocked, a swap may be under way: look again
    try:
        yield published_con, restricted_con
    finally:
        published_con.close()
        restricted_con.close()


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
