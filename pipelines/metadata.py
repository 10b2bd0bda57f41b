"""Dagster metadata built from phm declarations: schemas and counts, never patient rows."""

from __future__ import annotations

import dagster as dg

from phm.errors import Problem
from phm.schema import Table


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.dtype,
                description=c.description,
                constraints=dg.TableColumnConstraints(
                    nullable=c.nullable, unique=c.unique, other=c.rules()
                ),
            )
            for c in table.columns
        ]
    )


def problems_metadata(problems: tuple[Problem, ...] | list[Problem]) -> dict[str, object]:
    """Problems as text: file, column, rule, count and row numbers; no values."""
    return {
        "problems": len(problems),
        "problem_list": dg.MetadataValue.json([str(p) for p in problems]),
    }
