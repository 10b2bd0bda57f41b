"""Validate an extract against the data contract: every problem, counted, never quoted.

    report = check_extract(folder, ltc_columns)   # read + validate; never raises for bad data
    report.raise_if_failed()                      # DataContractError listing every problem
    report, extract = check_tables(practices, {date: frame}, deaths)  # tables, any engine

`validate_extract` runs, on an `Extract` that read cleanly, the Great Expectations suite derived
from each file's table declaration (phm/validation/expectations.py) and the cross-file rules
(phm/validation/rules.py). `check_extract` also reports the structural problems `read_extract`
finds (missing files, unreadable files, missing columns, wrong types), and still validates the
files that did read, so one run lists everything wrong with an extract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from phm.contract import DEATHS, DEFAULT_LTCS, patients_table, practices_table
from phm.errors import DataContractError, Problem
from phm.extract import (
    Extract,
    PartialRead,
    from_spark,
    read_partial,
    read_partial_on_spark,
    read_tables,
    spark_unreadable,
)
from phm.schema import Table
from phm.validation import rules
from phm.validation.expectations import SuiteSummary, run_suites

__all__ = [
    "SuiteSummary",
    "ValidationReport",
    "check_extract",
    "check_tables",
    "validate_extract",
]


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found in an extract, and what was checked (counts only)."""

    extract: str
    problems: tuple[Problem, ...]
    summaries: tuple[SuiteSummary, ...] = ()
    warnings: tuple[Problem, ...] = field(default=())  # reported, but do not fail the extract

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        if self.problems:
            raise DataContractError(self.problems, extract=self.extract)

    def summary(self, file: str) -> SuiteSummary | None:
        return next((s for s in self.summaries if s.file == file), None)


def validate_extract(extract: Extract, *, data_docs_dir: Path | None = None) -> ValidationReport:
    """Run the declared expectations and the cross-file rules on an extract that read cleanly."""
    read = PartialRead(extract.folder, tuple(extract.ltc_columns), files=dict(extract.files))
    read.frames["practices"] = extract.practices
    for when, frame in extract.snapshots.items():
        read.frames[f"patients_{when.isoformat()}"] = frame
        read.snapshot_dates[f"patients_{when.isoformat()}"] = when
    if extract.deaths is not None:
        read.frames["deaths"] = extract.deaths
    return _validate_read(str(extract.folder), read, data_docs_dir)


def check_extract(
    folder: Path | str,
    ltc_columns: Sequence[str] = DEFAULT_LTCS,
    *,
    data_docs_dir: Path | None = None,
    spark=None,
) -> ValidationReport:
    """Read and validate an extract folder; every problem is in the report, none is raised.

    With a Spark session the snapshots (Parquet) are read and checked by Spark, GX included,
    so that an extract larger than this machine's memory can be checked on a cluster; the
    practices and deaths, a small fraction of the rows, are read in this process."""
    if spark is not None:
        return _check_on_spark(spark, Path(folder), ltc_columns, data_docs_dir)
    read = read_partial(folder, ltc_columns)
    return _validate(str(read.folder), read, data_docs_dir=data_docs_dir)


def _check_on_spark(
    spark, folder: Path, ltc_columns: Sequence[str] | str, data_docs_dir: Path | None
) -> ValidationReport:
    read = read_partial_on_spark(spark, folder, ltc_columns)
    return _validate_read(str(folder), read, data_docs_dir)


def _validate_read(name: str, read: PartialRead, data_docs_dir: Path | None) -> ValidationReport:
    """`_validate`, with an error from Spark (a file it reads lazily fails here, not in the
    read) said as a problem, never as its text (it may quote the file's bytes)."""
    try:
        return _validate(name, read, data_docs_dir=data_docs_dir)
    except Exception as error:
        if not from_spark(error):
            raise
        return ValidationReport(name, (*read.problems, spark_unreadable(read.folder)))


def check_tables(
    practices,
    snapshots: Mapping[date, Any],
    deaths=None,
    ltc_columns: Sequence[str] | str = DEFAULT_LTCS,
    *,
    name: str = "the extract tables",
    files: Mapping[str, str] | None = None,
    data_docs_dir: Path | None = None,
) -> tuple[ValidationReport, Extract | None]:
    """`check_extract` for an extract held as tables (Spark DataFrames in an SDE, or eager
    polars frames): the same structural check, the same Great Expectations suite (run by GX
    on the tables' engine: on Spark, on the cluster) and the same cross-table rules, counted
    on that engine. Returns the report, and the conformed extract (its snapshots and deaths
    still on their engine) when nothing failed. Problems name no rows for a Spark table: its
    rows have no order. `practices` may be None where it could not be read (its problems are
    the caller's to say); the rules that need it are then left out."""
    read = read_tables(practices, snapshots, deaths, ltc_columns, name=name, files=files)
    report = _validate(name, read, data_docs_dir=data_docs_dir)
    checked = report.ok and "practices" in read.frames
    return report, read.to_extract() if checked else None


def _validate(
    extract: str, read: PartialRead, *, data_docs_dir: Path | None = None
) -> ValidationReport:
    """The suites and the cross-file rules on the frames that read (conformed), after the
    structural problems the read found."""
    ltc_columns, frames, files = read.ltc_columns, read.frames, read.files
    dates, structural = read.snapshot_dates, read.problems
    patients = patients_table(ltc_columns)

    def table(logical: str) -> Table:
        if logical == "practices":
            return practices_table(frames[logical].columns)
        return DEATHS if logical == "deaths" else patients

    suites = [(files[name], table(name), frame) for name, frame in frames.items()]
    problems, summaries = run_suites(suites, data_docs_dir=data_docs_dir)

    cross: list[Problem] = []
    warnings: list[Problem] = []
    practices = frames.get("practices")
    deaths = frames.get("deaths")
    for name in sorted(dates, key=dates.__getitem__):
        if name not in frames:
            continue  # unreadable: its structural problems are already reported
        frame, file = frames[name], files[name]
        if practices is not None:
            cross += rules.practice_codes_exist(frame, practices, file)
        cross += rules.ltc_count_matches_flags(frame, ltc_columns, file)
        if deaths is not None:
            warnings += rules.deaths_before_snapshot(frame, dates[name], deaths, file)

    # Order: per file, in the order the files were read; structural problems first.
    order = {f: i for i, f in enumerate(files.values())}
    found = sorted([*problems, *cross], key=lambda p: order.get(p.file, len(order)))
    return ValidationReport(
        extract, tuple([*structural, *found]), tuple(summaries), tuple(warnings)
    )
