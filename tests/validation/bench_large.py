"""Benchmark (not a test): read and validate a synthetic extract of large snapshots.

    .venv/bin/python -m tests.validation.bench_large [ROWS] [SNAPSHOTS] [csv]

Writes a folder under /tmp with practices.csv and SNAPSHOTS snapshots of ROWS rows made with
numpy from the declarations, then times read_extract and validate_extract.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from phm.contract import DEFAULT_LTCS, ETHNIC_GROUPS, PRACTICES, SEXES, patients_table


def large_snapshot(rows: int, seed: int, n_practices: int = 100) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    table = patients_table(DEFAULT_LTCS)
    cols: dict[str, object] = {
        "patient_id": pl.int_range(0, rows, eager=True).cast(pl.String).str.zfill(9),
        "practice_code": pl.Series(
            np.array([f"C{80000 + i:05d}" for i in range(n_practices)])[
                rng.integers(0, n_practices, rows)
            ]
        ),
        "age": rng.integers(0, 100, rows),
        "sex": np.array(SEXES)[rng.integers(0, len(SEXES), rows)],
        "ethnicity": np.array(ETHNIC_GROUPS)[rng.integers(0, len(ETHNIC_GROUPS), rows)],
        "imd_decile": pl.Series(rng.integers(1, 11, rows)).scatter(
            rng.integers(0, rows, rows // 50), None
        ),
        "care_home": rng.random(rows) < 0.01,
        "efi_score": pl.Series(rng.random(rows)).scatter(rng.integers(0, rows, rows // 2), None),
    }
    for ltc in DEFAULT_LTCS:
        cols[ltc] = rng.random(rows) < 0.1
    frame = pl.DataFrame(cols)
    frame = frame.with_columns(ltc_count=pl.sum_horizontal(list(DEFAULT_LTCS)).cast(pl.Int64))
    for c in table.columns:
        if c.name not in frame.columns:
            if c.dtype == "integer":
                frame = frame.with_columns(pl.Series(c.name, rng.poisson(0.3, rows)))
            else:
                frame = frame.with_columns(pl.Series(c.name, rng.exponential(500.0, rows)))
    return table.conform(frame)


def write_large(folder: Path, rows: int, snapshots: int, fmt: str = "parquet") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    practices = pl.DataFrame(
        {
            "practice_code": [f"C{80000 + i:05d}" for i in range(100)],
            "practice_name": [f"Practice {i}" for i in range(100)],
            "pcn_code": [f"U{10000 + i // 5:05d}" for i in range(100)],
            "pcn_name": [f"PCN {i // 5}" for i in range(100)],
            "place_code": ["04C"] * 100,
            "place_name": ["Leicester City"] * 100,
        },
        schema=PRACTICES.polars_schema(),
    )
    practices.write_csv(folder / "practices.csv")
    for k in range(snapshots):
        frame = large_snapshot(rows, seed=k)
        path = folder / f"patients_{date(2021 + k, 4, 1).isoformat()}.{fmt}"
        frame.write_parquet(path) if fmt == "parquet" else frame.write_csv(path)
    return folder


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_200_000
    snapshots = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    fmt = sys.argv[3] if len(sys.argv) > 3 else "parquet"
    from phm.extract import read_extract

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_large(Path(tmp) / "extract", rows, snapshots, fmt)
        t = time.perf_counter()
        extract = read_extract(folder)
        print(f"read_extract: {time.perf_counter() - t:.2f} s ({snapshots} x {rows:,} rows, {fmt})")
        try:
            from phm.validation import validate_extract
        except ImportError:
            return
        t = time.perf_counter()
        report = validate_extract(extract)
        print(
            f"validate_extract: {time.perf_counter() - t:.2f} s; ok={report.ok}; "
            f"{len(report.problems)} problems"
        )
        for p in report.problems:
            print("  ", p)


if __name__ == "__main__":
    main()
