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

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Select the declared columns in order, cast to the declared types."""
        return frame.select([pl.col(c.name).cast(c.polars_type) for c in self.columns])

    def duckdb_columns(self) -> str:
        return ",\n    ".join(f"{c.name} {c.duckdb_type}" for c in self.columns)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
