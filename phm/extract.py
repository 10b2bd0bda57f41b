"""Read an extract folder into frames conformed to the contract's table declarations.

An extract is a folder with `practices.csv`, one or more `patients_<YYYY-MM-DD>` snapshots and
optionally `deaths`, each as Parquet (primary) or CSV with a header row (see phm/contract.py).
`read_extract` reads every file, collects every *structural* problem across all of them (a
missing or ambiguous file, an unreadable file, no data rows, a missing column, values of the
wrong type) and raises them together as one `DataContractError`. The value rules (ranges,
patterns, uniqueness, cross-file rules) are checked afterwards by `phm.validation`.

This module touches patient rows. Problems carry counts and 1-based data row numbers only,
never a cell value; library errors are translated, never passed through (their text can quote
a value).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from phm.contract import (
    ALL_LTCS,
    DEATHS,
    DEFAULT_LTCS,
    SINGLE_ICS,
    SNAPSHOT_FILE,
    ltc_columns_in,
    patients_table,
    practices_table,
    snapshot_date,
)
from phm.errors import DataContractError, Problem
from phm.schema import Column, Table

EXAMPLE_ROWS = 5  # row numbers quoted per problem
FORMATS = ("parquet", "csv")  # in order of preference; both present is ambiguous
_TRUE = ("true", "1", "True", "TRUE")  # True/False: what pandas writes
_FALSE = ("false", "0", "False", "FALSE")
_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class Extract:
    """An extract whose files meet the contract's structure, conformed to the declarations."""

    folder: Path
    practices: pl.DataFrame  # conformed to PRACTICES (or PRACTICES_WITH_ICS)
    snapshots: dict[date, pl.DataFrame]  # conformed to patients_table(ltcs), sorted by date
    deaths: pl.DataFrame | None  # conformed to DEATHS
    files: dict[str, str]  # logical name ("practices", "patients_2023-04-01") -> file name
    ltc_columns: tuple[str, ...] = DEFAULT_LTCS

    @property
    def patients(self) -> Table:
        """The snapshot table declaration this extract was read with."""
        return patients_table(self.ltc_columns)


def combine_extracts(parts: Iterable[Extract]) -> Extract:
    """One extract from reads of the same folder that each hold some of its snapshots (one
    per Dagster partition). Practices and deaths are whole-folder files: any read's copy."""
    parts = list(parts)
    if not parts:
        raise ValueError("no extract to combine")
    snapshots = {d: f for part in parts for d, f in part.snapshots.items()}
    files = {k: v for part in parts for k, v in part.files.items()}
    last = parts[-1]
    return Extract(
        folder=last.folder,
        practices=last.practices,
        snapshots=dict(sorted(snapshots.items())),
        deaths=last.deaths,
        files=files,
        ltc_columns=last.ltc_columns,
    )


def split_extract(extract: Extract) -> dict[date, Extract]:
    """One extract per snapshot (one per Dagster partition), each with the folder's practices
    and deaths: the inverse of `combine_extracts`."""

    def only(when: date) -> Extract:
        files = {
            k: v
            for k, v in extract.files.items()
            if not k.startswith("patients_") or k == f"patients_{when.isoformat()}"
        }
        return replace(extract, snapshots={when: extract.snapshots[when]}, files=files)

    return {when: only(when) for when in extract.snapshots}


def snapshot_dates_in(folder: Path | str) -> list[date]:
    """The dates of the snapshot files in an extract folder whose names follow the contract
    (the snapshot partitions it offers); misnamed files are reported when it is read."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = {snapshot_date(p.name) for p in folder.iterdir() if p.is_file()}
    return sorted(d for d in found if d is not None)


@dataclass
class PartialRead:
    """What a read produced: the frames that conformed, and every structural problem.

    `phm.validation.check_extract` uses it to go on validating the files that did read when
    others did not, so that one run reports every problem.
    """

    folder: Path
    ltc_columns: tuple[str, ...]
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # logical name -> frame
    files: dict[str, str] = field(default_factory=dict)
    snapshot_dates: dict[str, date] = field(default_factory=dict)  # logical name -> date
    problems: list[Problem] = field(default_factory=list)

    def to_extract(self) -> Extract:
        if self.problems:
            raise DataContractError(self.problems, extract=str(self.folder))
        snapshots = {
            self.snapshot_dates[name]: self.frames[name]
            for name in sorted(self.snapshot_dates, key=self.snapshot_dates.__getitem__)
        }
        return Extract(
            folder=self.folder,
            practices=self.frames["practices"],
            snapshots=snapshots,
            deaths=self.frames.get("deaths"),
            files=dict(self.files),
            ltc_columns=self.ltc_columns,
        )


def read_extract(
    folder: Path | str,
    ltc_columns: Sequence[str] = DEFAULT_LTCS,
    snapshots: Collection[date] | None = None,
) -> Extract:
    """Read an extract folder; raise one DataContractError listing every structural problem.

    `snapshots` limits which snapshot files are read (a partition's); the folder's names,
    practices and deaths are always checked."""
    return read_partial(folder, ltc_columns, snapshots).to_extract()


def read_partial(
    folder: Path | str,
    ltc_columns: Sequence[str] = DEFAULT_LTCS,
    snapshots: Collection[date] | None = None,
) -> PartialRead:
    """Read what can be read of an extract folder, collecting problems instead of raising.

    `ltc_columns` may be `contract.ALL_LTCS` ("all"): every ltc_ column of the first snapshot."""
    folder = Path(folder)
    ltc_columns = resolve_ltc_columns(folder, ltc_columns)
    read = PartialRead(folder=folder, ltc_columns=ltc_columns)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        read.problems.append(Problem(str(folder), None, f"the extract folder {what}", 0))
        return read

    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    patients = patients_table(ltc_columns)

    # Which file plays which part; problems with the names themselves first.
    wanted: list[tuple[str, Table, str | None]] = []  # (logical name, table, file name)
    practices = _pick(names, "practices", read.problems)
    if practices is None:
        read.problems.append(
            Problem("practices.csv", None, "required file is missing from the extract folder", 0)
        )
    else:
        wanted.append(("practices", practices_table(_header(folder / practices)), practices))

    by_date: dict[date, list[str]] = {}
    for name in names:
        if not name.lower().startswith("patient"):
            continue
        when = snapshot_date(name)
        if when is None:
            m = SNAPSHOT_FILE.match(name)
            rule = (
                "snapshot file name has a date that does not exist; expected "
                "patients_<YYYY-MM-DD>.parquet or .csv"
                if m
                else "looks like a snapshot but is misnamed; expected "
                "patients_<YYYY-MM-DD>.parquet or .csv"
            )
            read.problems.append(Problem(name, None, rule, 0))
            continue
        by_date.setdefault(when, []).append(name)
    if not by_date:
        read.problems.append(
            Problem(
                str(folder),
                None,
                "no snapshot file: expected at least one patients_<YYYY-MM-DD>.parquet or .csv",
                0,
            )
        )
    for when in sorted(by_date):
        found = by_date[when]
        if snapshots is not None and when not in snapshots:
            continue
        if len(found) > 1:
            read.problems.append(ambiguous(found))
            continue
        logical = f"patients_{when.isoformat()}"
        read.snapshot_dates[logical] = when
        wanted.append((logical, patients, found[0]))

    for when in sorted(set(snapshots or ()) - set(by_date)):
        read.problems.append(
            Problem(
                f"patients_{when.isoformat()}",
                None,
                "snapshot requested (a partition) but no such file in the extract folder",
                0,
            )
        )

    deaths = _pick(names, "deaths", read.problems)
    if deaths is not None:
        wanted.append(("deaths", DEATHS, deaths))

    for logical, table, name in wanted:
        read.files[logical] = name
        frame, problems = read_table(folder / name, table)
        read.problems.extend(problems)
        if frame is not None and not problems:
            read.frames[logical] = frame
    return read


def practice_areas(practices):
    """practice_code with its PCN, place and ICS: a practices file without the optional ICS
    columns is one ICS (contract.SINGLE_ICS). Any Narwhals-supported frame in, the same out."""
    frame = nw.from_native(practices)
    areas = ["practice_code", "pcn_code", "pcn_name", "place_code", "place_name"]
    if "ics_code" in frame.columns:
        return frame.select(*areas, "ics_code", "ics_name").to_native()
    code, name = SINGLE_ICS
    return (
        frame.select(areas)
        .with_columns(nw.lit(code).alias("ics_code"), nw.lit(name).alias("ics_name"))
        .to_native()
    )


def read_tables(
    practices,
    snapshots: Mapping[date, Any],
    deaths=None,
    ltc_columns: Sequence[str] | str = DEFAULT_LTCS,
    *,
    name: str = "the extract tables",
    files: Mapping[str, str] | None = None,
) -> PartialRead:
    """`read_partial` for an extract that is already a set of typed tables (Spark DataFrames
    in an SDE, say) rather than a folder of files: each table checked and cast against its
    declaration on its own engine (`conform`), every structural problem collected. The
    practices, a small reference table, come back to this process as polars; the snapshots
    and deaths stay on their engine. Each table is named like the file it stands for
    (`patients_2024-04-01`, `practices`, `deaths`) in the problems, or as `files` names it
    (logical name -> file name: the files a Spark session read)."""
    from phm.engines import collect_small, lazy

    if isinstance(ltc_columns, str):  # ALL_LTCS: the flags of the earliest snapshot
        first = snapshots[min(snapshots)] if snapshots else None
        ltc_columns = ltc_columns_in(list(lazy_schema(first)) if first is not None else [])
    read = PartialRead(folder=Path(name), ltc_columns=tuple(ltc_columns))
    wanted = []
    if practices is not None:  # None: unreadable, its problems reported by the caller
        wanted.append(("practices", practices, practices_table(list(lazy_schema(practices)))))
    for when in sorted(snapshots):
        logical = f"patients_{when.isoformat()}"
        wanted.append((logical, snapshots[when], patients_table(read.ltc_columns)))
        read.snapshot_dates[logical] = when
    if deaths is not None:
        wanted.append(("deaths", deaths, DEATHS))
    for logical, frame, table in wanted:
        read.files[logical] = (files or {}).get(logical, logical)
        conformed, problems = conform(frame, table, read.files[logical])
        read.problems += problems
        if conformed is None:
            continue
        if logical == "practices":
            conformed = collect_small([lazy(conformed)])
        read.frames[logical] = conformed
    return read


def read_partial_on_spark(
    spark,
    folder: Path | str,
    ltc_columns: Sequence[str] | str = DEFAULT_LTCS,
    snapshots: Collection[date] | None = None,
) -> PartialRead:
    """`read_partial` with the snapshots read by Spark: for an extract larger than this
    machine's memory. The snapshots (those of `snapshots`, or all) must be Parquet (Spark reads
    a CSV's columns as text); each is checked and cast on Spark (`read_tables`). The practices
    and deaths, a small share of the rows, are read in this process, and the deaths handed to
    Spark to be joined there. A file Spark cannot read is a problem, never its traceback."""
    from phm.engines import alike

    folder = Path(folder)
    small = read_partial(folder, ltc_columns, snapshots=())  # names, practices and deaths
    if not folder.is_dir():
        return small
    found, files, problems = {}, dict(small.files), list(small.problems)
    for when in snapshot_dates_in(folder):
        if snapshots is not None and when not in snapshots:
            continue
        name = f"patients_{when.isoformat()}"
        given = [f"{name}.{ext}" for ext in FORMATS if (folder / f"{name}.{ext}").is_file()]
        if len(given) > 1:
            problems.append(ambiguous(given))
        elif given != [f"{name}.parquet"]:
            rule = "a CSV snapshot is checked in one process: write it as Parquet for Spark"
            problems.append(Problem(f"{name}.csv", None, rule, 0))
        else:
            try:  # Spark reads the footer here: a truncated file fails now, not later
                found[when] = spark.read.parquet(str(folder / given[0]))
                files[name] = given[0]
            except Exception as error:
                if not from_spark(error):
                    raise
                problems.append(Problem(given[0], None, UNREADABLE_PARQUET, 0))
    deaths = small.frames.get("deaths")
    if deaths is not None and found:
        deaths = alike(next(iter(found.values())), deaths)
    try:
        read = read_tables(
            small.frames.get("practices"),
            found,
            deaths,
            small.ltc_columns,
            name=str(folder),
            files=files,
        )
    except Exception as error:  # Spark's text may quote the files' bytes: say what it means
        if not from_spark(error):
            raise
        return PartialRead(
            folder, small.ltc_columns, problems=[*problems, spark_unreadable(folder)]
        )
    read.folder = folder
    read.problems[:0] = problems
    return read


UNREADABLE_PARQUET = "unreadable Parquet file (truncated or corrupt)"


def from_spark(error: BaseException) -> bool:
    """Whether an error was raised by Spark (its text may quote a file's bytes: never shown)."""
    return type(error).__module__.startswith(("pyspark", "py4j"))


def spark_unreadable(folder: Path) -> Problem:
    rule = "Spark could not read every snapshot (a truncated or corrupt Parquet file?)"
    return Problem(str(folder), None, rule, 0)


def resolve_ltc_columns(folder: Path | str, ltc_columns: Sequence[str] | str) -> tuple[str, ...]:
    """The configured LTC list, or for "all" the ltc_ columns of the extract's first snapshot
    file (none if the folder holds no readable snapshot: the read then says what is wrong)."""
    if ltc_columns != ALL_LTCS:
        return tuple(ltc_columns)
    folder = Path(folder)
    files = [p for p in folder.iterdir() if snapshot_date(p.name)] if folder.is_dir() else []
    if not files:
        return ()
    first = min(files, key=lambda p: (snapshot_date(p.name), p.suffix != ".parquet"))
    return ltc_columns_in(_header(first))


def _header(path: Path) -> list[str]:
    """A file's column names, or none if it cannot be read (read_table then says why)."""
    try:
        if path.suffix.lower() == ".parquet":
            return list(pl.read_parquet_schema(path))
        return [c.strip().lstrip("\ufeff") for c in pl.read_csv(path, n_rows=0).columns]
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return []


def read_table(path: Path, table: Table) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Read one file and conform it to `table`: the frame (None if unreadable) and problems."""
    name = path.name
    if path.stat().st_size == 0:
        return None, [Problem(name, None, "no data rows (the file is empty)", 0)]
    if path.suffix.lower() == ".parquet":
        raw, problem = _read_parquet(path, table)
    else:
        raw, problem = _read_csv(path, table)
    if problem is not None:
        return None, [problem]
    assert raw is not None
    if raw.height == 0:
        return None, [Problem(name, None, "no data rows (only a header)", 0)]
    problems = [
        Problem(name, c.name, "required column is missing", raw.height)
        for c in table.columns
        if c.name not in raw.columns
    ]
    present = [c for c in table.columns if c.name in raw.columns]
    frame, type_problems = _conform(raw, present, name)
    problems += type_problems
    if problems:
        return None, problems
    return table.narrowed(frame.select(table.column_names)), []


def _pick(names: list[str], stem: str, problems: list[Problem]) -> str | None:
    found = [f"{stem}.{ext}" for ext in FORMATS if f"{stem}.{ext}" in names]
    if len(found) > 1:
        problems.append(ambiguous(found))
        return None
    return found[0] if found else None


def ambiguous(found: list[str]) -> Problem:
    return Problem(
        " and ".join(found),
        None,
        "ambiguous: the same file is given in two formats; keep exactly one",
        0,
    )


def _read_parquet(path: Path, table: Table) -> tuple[pl.DataFrame | None, Problem | None]:
    try:
        schema = pl.read_parquet_schema(path)
        # Read only the declared columns: extra columns are allowed and dropped (but read one
        # if none is declared, so that the missing-column problems can count rows).
        wanted = [c.name for c in table.columns if c.name in schema] or list(schema)[:1]
        frame = pl.read_parquet(path, columns=wanted)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        # The library's text may quote the file's bytes: say what it means instead.
        return None, Problem(path.name, None, UNREADABLE_PARQUET, 0)
    return frame, None


def _read_csv(path: Path, table: Table) -> tuple[pl.DataFrame | None, Problem | None]:
    name = path.name
    try:
        # Every column as text first, so that we can count the values that fail to cast.
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.NoDataError:
        return None, Problem(name, None, "no data rows (the file is empty)", 0)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None, Problem(
            name,
            None,
            "unreadable CSV file: expected UTF-8 text, a header row and the same number of "
            "comma-separated fields on every line",
            0,
        )
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    if frame.width == 1 and len(table.columns) > 1:
        header = frame.columns[0]
        guess = next((d for d in _DELIMITERS if d in header), None)
        hint = f", is the delimiter {guess!r}?" if guess else ""
        return None, Problem(
            name, None, f"expected comma-separated columns; found 1 column{hint}", frame.height
        )
    return frame, None


def _conform(
    raw: pl.DataFrame, columns: list[Column], file: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """Cast the present declared columns to their logical types; count values that fail."""
    if not columns:
        return raw.select([]), []
    texts = [c for c in columns if raw.schema[c.name] in (pl.String, pl.Null)]
    typed = [c for c in columns if c not in texts]
    source = nw.from_native(raw).schema
    cast = pl.concat(
        [
            raw.select([_parse(raw.schema[c.name], c).alias(c.name) for c in texts]),
            nw.from_native(raw).select(typed_cast(c, source[c.name]) for c in typed).to_native(),
        ],
        how="horizontal",
    ).select(c.name for c in columns)
    failed = {c.name: raw[c.name].is_not_null() & cast[c.name].is_null() for c in columns}
    counts = pl.DataFrame(failed).sum().row(0, named=True)
    problems = []
    for c in columns:
        n = int(counts[c.name])
        if n:
            rows = failed[c.name].arg_true().head(EXAMPLE_ROWS) + 1
            problems.append(
                Problem(
                    file, c.name, _type_rule(c, raw.schema[c.name]), n, tuple(int(r) for r in rows)
                )
            )
    return cast, problems


def conform(frame, table: Table, file: str) -> tuple[Any, list[Problem]]:
    """A frame that is already typed (a Spark table, say), checked and cast against `table` on
    its own engine: `read_table`'s structural check for data no file reader saw. Returns the
    declared columns in their declared types, or None and every problem: no data rows, each
    missing column, each column's values its type cannot hold (a text in an integer column,
    1.5 where a whole number is declared), counted, with row numbers only where rows have an
    order. Extra columns are dropped."""
    from phm.engines import row_count
    from phm.validation.rules import failures

    rows = row_count(frame)
    if rows == 0:
        return None, [Problem(file, None, "no data rows", 0)]
    source = lazy_schema(frame)
    problems = [
        Problem(file, c.name, "required column is missing", rows)
        for c in table.columns
        if c.name not in source
    ]
    present = [c for c in table.columns if c.name in source]
    cast = {c.name: typed_cast(c, source[c.name]) for c in present}
    found = failures(frame, {n: ~nw.col(n).is_null() & e.is_null() for n, e in cast.items()})
    by_name = {c.name: c for c in present}
    problems += [
        Problem(file, n, _type_rule(by_name[n], source[n]), count, example)
        for n, (count, example) in found.items()
    ]
    if problems:
        return None, problems
    return nw.from_native(frame).select(*cast.values()).to_native(), []


def lazy_schema(frame) -> dict:
    """Column name -> Narwhals dtype of any frame, without running a lazy one."""
    return dict(nw.from_native(frame).collect_schema())


def _type_rule(column: Column, source) -> str:
    what = {
        "integer": "expected integer (a whole number)",
        "float": "expected float (a number)",
        "boolean": "expected boolean (true/false or 1/0)",
        "date": "expected date (YYYY-MM-DD)",
        "string": "expected string",
    }[column.dtype]
    found = "" if str(source) == "String" else f"; the file stores {source}"
    return f"type: {what}{found}"


_INT64_MAX = 2**63 - 1
_DECLARED = {
    "string": nw.String(),
    "integer": nw.Int64(),
    "float": nw.Float64(),
    "boolean": nw.Boolean(),
    "date": nw.Date(),
}


def typed_cast(column: Column, source) -> nw.Expr:
    """The declared column from an already-typed source column (Parquet, a Spark table), on
    any engine: a value the declared type cannot hold becomes null (1.5 for an integer, 2 for
    a boolean), as does every value of an incompatible type. `source` is a Narwhals dtype."""
    col = nw.col(column.name)
    kind, declared = column.dtype, _DECLARED[column.dtype]
    cast = None
    if kind == "string" and (source.is_numeric() or isinstance(source, nw.Categorical | nw.Enum)):
        cast = col.cast(nw.String)
    elif kind == "string" and source == nw.String:
        cast = col
    elif kind == "integer" and source.is_integer():
        # a value past Int64 (a UInt64 above 2**63 - 1) fails, as a count, not an error
        fits = col <= _INT64_MAX if source == nw.UInt64 else nw.lit(True)
        cast = nw.when(fits).then(col).cast(declared)
    elif kind == "integer" and (source.is_float() or source.is_decimal()):
        # pandas stores a nullable integer column as float: accept whole numbers (that fit).
        as_float = col.cast(nw.Float64)
        whole = as_float.is_finite() & (as_float == as_float.floor())
        fits = whole & (as_float.abs() < float(2**63))
        cast = nw.when(fits).then(as_float).cast(declared)
    elif kind == "float" and source.is_numeric():
        cast = col.cast(declared)
    elif kind == "boolean" and source == nw.Boolean:
        cast = col
    elif kind == "boolean" and source.is_integer():
        cast = nw.when(col == 1).then(nw.lit(True)).otherwise(nw.when(col == 0).then(nw.lit(False)))
    elif kind == "date" and source == nw.Date:
        cast = col
    elif kind == "date" and isinstance(source, nw.Datetime):
        cast = col.dt.date()  # the date where the time zone is, not in UTC
    # an incompatible physical type: every non-null value fails to cast
    return (cast if cast is not None else nw.lit(None, dtype=declared)).alias(column.name)


def _parse(source: pl.DataType, column: Column) -> pl.Expr:
    """An expression parsing a text column of a CSV file to the declared type; a value that
    fails is null."""
    col = pl.col(column.name)
    target = column.polars_type
    kind = column.dtype
    if source == pl.Null:
        return col.cast(target)
    if kind == "string":
        return pl.when(col.str.len_bytes() > 0).then(col)  # an empty field is null
    if kind == "boolean":
        # Exact spellings, not lower-casing: that is 15 times slower on 1M rows.
        return (
            pl.when(col.is_in(_TRUE))
            .then(True)
            .when(col.is_in(_FALSE))
            .then(False)
            .otherwise(None)
            .cast(pl.Boolean)
        )
    text = col.str.strip_chars()
    text = pl.when(text.str.len_bytes() > 0).then(text)
    if kind == "date":
        return text.str.to_date("%Y-%m-%d", strict=False)
    return text.cast(target, strict=False)
