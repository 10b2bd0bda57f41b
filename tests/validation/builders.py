"""Build a small VALID extract from the contract's declarations, for tests to break.

`valid_frames` makes the frames (practices, two snapshots, deaths) in the declared column
order and types; `write_extract` writes them as Parquet or CSV. Each bad-input test mutates one
thing. Patient ids are recognisable strings (`PAT00001`...) so that a test can assert no
message quotes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from phm.contract import DEATHS, DEFAULT_LTCS, ETHNIC_GROUPS, PRACTICES, SEXES, patients_table

SNAPSHOT_DATES = (date(2023, 4, 1), date(2024, 4, 1))
PRACTICE_CODES = ("C82001", "C82002", "C82003")
N_PATIENTS = 20


def patient_ids(n: int = N_PATIENTS) -> list[str]:
    return [f"PAT{i:05d}" for i in range(1, n + 1)]


def practices_frame() -> pl.DataFrame:
    n = len(PRACTICE_CODES)
    values = {
        "practice_code": list(PRACTICE_CODES),
        "practice_name": [f"Practice {i}" for i in range(n)],
        "pcn_code": [f"U{10001 + i % 2:05d}" for i in range(n)],
        "pcn_name": [f"PCN {i % 2}" for i in range(n)],
        "place_code": ["04C"] * n,
        "place_name": ["Leicester City"] * n,
    }
    return pl.DataFrame(values, schema=PRACTICES.polars_schema())


def snapshot_frame(
    snapshot: date, ltc_columns: Sequence[str] = DEFAULT_LTCS, n: int = N_PATIENTS
) -> pl.DataFrame:
    """A valid snapshot: every value derived from the row number, every rule met."""
    table = patients_table(ltc_columns)
    shift = snapshot.year % 7
    values: dict[str, list] = {}
    for c in table.columns:
        i = range(n)
        if c.name == "patient_id":
            values[c.name] = patient_ids(n)
        elif c.name == "practice_code":
            values[c.name] = [PRACTICE_CODES[k % len(PRACTICE_CODES)] for k in i]
        elif c.name == "sex":
            values[c.name] = [SEXES[k % len(SEXES)] for k in i]
        elif c.name == "ethnicity":
            values[c.name] = [ETHNIC_GROUPS[k % len(ETHNIC_GROUPS)] for k in i]
        elif c.name == "age":
            values[c.name] = [(k * 7 + shift) % 100 for k in i]
        elif c.name == "imd_decile":
            values[c.name] = [None if k % 9 == 0 else 1 + k % 10 for k in i]
        elif c.name == "efi_score":
            values[c.name] = [None if k % 4 == 0 else round(k / (n + 1), 3) for k in i]
        elif c.name == "ltc_count":
            continue  # derived below
        elif c.dtype == "boolean":
            seed = sum(map(ord, c.name))
            values[c.name] = [(k + seed + shift) % 5 == 0 for k in i]
        elif c.dtype == "integer":
            values[c.name] = [(k + shift) % 4 for k in i]
        elif c.dtype == "float":
            values[c.name] = [float((k * 131) % 5000) for k in i]
        else:
            raise AssertionError(f"no generator for {c.name}")
    values["ltc_count"] = [sum(values[ltc][k] for ltc in ltc_columns) for k in range(n)]
    return pl.DataFrame(values, schema=table.polars_schema()).select(table.column_names)


def deaths_frame() -> pl.DataFrame:
    # Two patients of the first snapshot die after it, so are absent from the second.
    return pl.DataFrame(
        {"patient_id": patient_ids()[-2:], "date_of_death": [date(2023, 9, 1), date(2023, 11, 5)]},
        schema=DEATHS.polars_schema(),
    )


def valid_frames(ltc_columns: Sequence[str] = DEFAULT_LTCS) -> dict[str, pl.DataFrame]:
    """Logical name -> frame, e.g. "practices", "patients_2023-04-01", "deaths"."""
    frames = {"practices": practices_frame()}
    dead = deaths_frame()
    for d in SNAPSHOT_DATES:
        frame = snapshot_frame(d, ltc_columns)
        # Patients who died before a snapshot are no longer registered in it.
        died = dead.filter(pl.col("date_of_death") < d).get_column("patient_id")
        frames[f"patients_{d.isoformat()}"] = frame.filter(
            ~pl.col("patient_id").is_in(died.implode())
        )
    frames["deaths"] = dead
    return frames


def write_frame(frame: pl.DataFrame, path: Path) -> Path:
    """Write a frame as Parquet or CSV (flags as true/false) according to the suffix."""
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path)
    return path


def write_extract(
    folder: Path,
    fmt: str = "parquet",
    frames: dict[str, pl.DataFrame] | None = None,
    ltc_columns: Sequence[str] = DEFAULT_LTCS,
) -> Path:
    """Write a valid extract (practices always as CSV, as the contract names it)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = valid_frames(ltc_columns) if frames is None else frames
    for name, frame in frames.items():
        ext = "csv" if name == "practices" else fmt
        write_frame(frame, folder / f"{name}.{ext}")
    return folder
