"""Spec-test helper: hand-written ASCII tables in, polars frames out (as ehrql's spec tests).

    | patient_id | risk | tier |
    |------------|------|------|
    | a          | 0.9  | 3    |

Cells are parsed by the dtype given per column; an empty cell is null.
"""

from __future__ import annotations

from datetime import date

import polars as pl

_PARSERS = {
    pl.String: str,
    pl.Int64: int,
    pl.Int8: int,
    pl.Float64: float,
    pl.Boolean: lambda v: {"T": True, "F": False, "true": True, "false": False}[v],
    pl.Date: date.fromisoformat,
}


def table(text: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [
        [c.strip() for c in ln.strip("|").split("|")]
        for ln in lines[1:]
        if not set(ln) <= set("|-+ ")
    ]
    data = {
        name: [(_PARSERS[type(schema[name])](v) if v != "" else None) for v in col]
        for name, col in zip(
            header, zip(*rows, strict=True) if rows else [[]] * len(header), strict=True
        )
    }
    return pl.DataFrame(data, schema={h: schema[h] for h in header})
