"""Case-finding CSVs for multidisciplinary team review: one per PCN, in a restricted folder.

Patient-level and restricted: never part of a profile page; the folder is 0700 and each file
0600 whatever the umask (phm/restricted.py). A practice name that begins
with =, +, - or @ is prefixed with an apostrophe so a spreadsheet shows it as text instead of
evaluating it as a formula (CSV injection).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from phm.restricted import make_owner_only, owner_only_files, private_folder

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text(column: str) -> pl.Expr:
    c = pl.col(column)
    return (
        pl.when(
            c.str.starts_with(_FORMULA_START[0])
            | c.str.starts_with(_FORMULA_START[1])
            | c.str.starts_with(_FORMULA_START[2])
            | c.str.starts_with(_FORMULA_START[3])
            | c.str.starts_with(_FORMULA_START[4])
            | c.str.starts_with(_FORMULA_START[5])
        )
        .then(pl.lit("'") + c)
        .otherwise(c)
        .alias(column)
    )


def write_case_finding_csvs(rows: pl.DataFrame, folder: Path) -> dict[str, Path]:
    """Write <folder>/<pcn_code>.csv for each PCN (level-3 patients, highest risk first),
    owner-only; a `folder` others can already open is refused."""
    folder = private_folder(Path(folder))
    for stale in folder.glob("*.csv"):
        stale.unlink()
    safe = rows.with_columns(_as_text("practice_name"))
    written = {}
    for (pcn,), part in safe.partition_by("pcn_code", as_dict=True).items():
        path = folder / f"{pcn}.csv"
        tmp = path.with_name(f".{path.name}.tmp")
        with owner_only_files():
            part.sort("risk_rank").write_csv(tmp)
        os.replace(make_owner_only(tmp), path)
        written[pcn] = path
    return written
