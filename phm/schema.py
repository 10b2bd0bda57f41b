"""Table declarations: one place says what each column is and which rules it obeys.

Everything else is derived from a `Table`: the extract readers (polars dtypes), the Great
Expectations suite, Dagster column metadata, the synthetic generator's output types and the
data dictionary in docs/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

LogicalType = Literal["string", "integer", "float", "boolean", "date"]

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
}

_INT_RANGES = {
    pl.Int8: (-(2**7), 2**7 - 1),
    pl.Int16: (-(2**15), 2**15 - 1),
    pl.Int32: (-(2**31), 2**31 - 1),
}

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


@dataclass(frozen=True)
class Column:
    """A column with its type, meaning and the constraints the contract puts on it."""

    name: str
    dtype: LogicalType
    description: str
    nullable: bool = False
    unique: bool = False
    pattern: str | None = None
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None

    @property
    def polars_type(self) -> pl.DataType:
        return POLARS_TYPES[self.dtype]

    @property
    def memory_type(self) -> pl.DataType:
        """The type a column is held in once read: an integer in the fewest bytes its declared
        range needs (age 0-115 in one byte, not eight; a count with no maximum in four), a
        text of a few allowed values an Enum (one byte, where a string view took 16), the others
        as declared. Integers are most of a snapshot's bytes, and a region's snapshots
        are held in memory (docs/operations.md, memory)."""
        if self.dtype == "string" and self.allowed:
            # an Enum of the allowed values, in text order (so it sorts as the text did)
            return pl.Enum(sorted(self.allowed))
        if self.dtype != "integer" or self.min is None:
            return self.polars_type
        top = self.max if self.max is not None else 2**31 - 1
        for narrow, (low, high) in _INT_RANGES.items():  # smallest first
            if low <= self.min and top <= high:
                return narrow()
        return self.polars_type

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.dtype]

    def rules(self) -> list[str]:
        """The constraints in words, as the data dictionary and error messages say them."""
        said = [] if self.nullable else ["not null"]
        if self.unique:
            said.append("unique")
        if self.pattern:
            said.append(f"matches `{self.pattern}`")
        if self.allowed:
            said.append("one of " + ", ".join(f"`{v}`" for v in self.allowed))
        if self.min is not None and self.max is not None:
            said.append(f"{_num(self.min)} to {_num(self.max)}")
        elif self.min is not None:
            said.append(f">= {_num(self.min)}")
        elif self.max is not None:
            said.append(f"<= {_num(self.max)}")
        return said


@dataclass(frozen=True)
class Table:
    """A table: its name, what one row is, and its columns in order."""

    name: str
    row: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.polars_type for c in self.columns})

    def memory_schema(self) -> pl.Schema:
        """The schema a frame read against this table is held in (Column.memory_type)."""
        return pl.Schema({c.name: c.memory_type for c in self.columns})

    def narrowed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with each column in its memory type where every value fits (an integer in
        range, a text among the allowed values). One that does not (the extract check will
        say so) stays as it was read, so that the check sees the very values of the file."""
        narrow = {
            c.name: c.memory_type
            for c in self.columns
            if c.name in frame.columns and c.memory_type != frame.schema[c.name]
        }
        if not narrow:
            return frame
        ints = [n for n, t in narrow.items() if t.is_integer()]
        texts = [n for n in narrow if n not in ints]
        found = frame.select(
            *(pl.col(n).min().alias(f"{n}_lo") for n in ints),
            *(pl.col(n).max().alias(f"{n}_hi") for n in ints),
            *(
                (pl.col(n).is_in(narrow[n].categories) | pl.col(n).is_null()).all().alias(n)
                for n in texts
            ),
        ).row(0, named=True)

        def fits(name: str, dtype: pl.DataType) -> bool:
            if name in texts:
                return found[name]  # every value is one of the allowed ones
            lo, hi = found[f"{name}_lo"], found[f"{name}_hi"]
            low, high = _INT_RANGES[type(dtype)]
            return lo is None or (low <= lo and hi <= high)

        return frame.with_columns(pl.col(n).cast(t) for n, t in narrow.items() if fits(n, t))

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Select the declared columns in order, cast to the declared types."""
        return frame.select([pl.col(c.name).cast(c.polars_type) for c in self.columns])

    def duckdb_columns(self) -> str:
        return ",\n    ".join(f"{c.name} {c.duckdb_type}" for c in self.columns)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
