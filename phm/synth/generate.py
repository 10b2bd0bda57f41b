"""The public entry point: write a synthetic LLR extract in the shape of the data contract."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from phm.contract import (
    ALL_LTCS,
    DEATHS,
    DEFAULT_LTCS,
    ETHNIC_GROUPS,
    PRACTICES,
    SEXES,
    annual_snapshot_dates,
    patients_table,
)
from phm.errors import ConfigError
from phm.synth import conditions as C
from phm.synth.cohort import PracticeCohort, Snapshot
from phm.synth.geography import build_practices, load_reference_practices, synthetic_icss
from phm.synth.writer import FileFormat, TableWriter, hex_ids, labels

PRACTICES_PER_CHUNK = 12  # memory bound: one chunk's snapshots are held before writing
TRUTH_FILE = "truth.parquet"


@dataclass(frozen=True)
class SynthSummary:
    """What `generate_extract` wrote."""

    out_dir: Path
    truth_path: Path
    snapshot_dates: tuple[date, ...]
    patients_per_snapshot: tuple[int, ...]
    seconds: float


def generate_extract(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    n_snapshots: int = 3,
    first_snapshot: date = date(2021, 4, 1),
    ltc_columns: Sequence[str] = DEFAULT_LTCS,
    file_format: FileFormat = "parquet",
    truth_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    practices_per_chunk: int = PRACTICES_PER_CHUNK,
    ics_copies: int | None = None,
) -> SynthSummary:
    """Generate the synthetic LLR population and write it as an extract folder.

    Writes `practices.csv`, `patients_<date>.<fmt>` per snapshot and `deaths.<fmt>` into
    `out_dir`, and `truth.parquet` (true risk per patient and snapshot) into `truth_dir`
    (default: the sibling folder `<out_dir>_truth`, never inside the extract).

    Past scale 1 (or with `ics_copies`), the extract is copies of LLR, each under made-up ICS,
    place, PCN and practice codes (`geography.SyntheticIcs`) and its own random streams,
    together `scale` times LLR's list: a multi-ICS extract for scale tests, plainly synthetic.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    truth_dir = (
        Path(truth_dir) if truth_dir is not None else out_dir.with_name(out_dir.name + "_truth")
    )
    ltc_columns = C.NAMES if ltc_columns == ALL_LTCS else tuple(ltc_columns)  # "all": all 40
    _check_arguments(out_dir, truth_dir, scale, n_snapshots, ltc_columns, file_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)

    reference = load_reference_practices()
    icss = synthetic_icss(scale, ics_copies)
    practices = build_practices(reference, scale / max(1, len(icss)))
    written = pl.concat([ics.practices(reference) for ics in icss]) if icss else reference
    written.write_csv(out_dir / "practices.csv")
    PRACTICES.conform(reference)  # the columns the contract requires are all present

    dates = annual_snapshot_dates(first_snapshot, n_snapshots)
    keep = [C.NAMES.index(c) for c in ltc_columns]
    patients = patients_table(ltc_columns)
    places = {p.place.code: p.place for p in practices}
    thresholds = {
        code: C.RegisterThresholds.for_place(C.solve_offsets(place))
        for code, place in places.items()
    }
    writers = [
        TableWriter(out_dir / f"patients_{d.isoformat()}.{file_format}", patients, file_format)
        for d in dates
    ]
    deaths = TableWriter(out_dir / f"deaths.{file_format}", DEATHS, file_format)
    truth = TableWriter(truth_dir / TRUTH_FILE, None, "parquet")
    counts = [0] * n_snapshots
    done = 0
    for ics in icss or [None]:
        # LLR alone keeps its streams; each copy of it has its own
        root = np.random.SeedSequence(seed if ics is None else [seed, ics.number])
        practice_seeds = root.spawn(len(practices))
        id_key = int(np.random.default_rng(root.spawn(1)[0]).integers(0, 2**62))
        codes = (
            dict(
                zip(
                    reference["practice_code"],
                    ics.practices(reference)["practice_code"],
                    strict=True,
                )
            )
            if ics is not None
            else {}
        )
        prefix = ics.id_prefix if ics is not None else ""
        for start in range(0, len(practices), practices_per_chunk):
            chunk = practices[start : start + practices_per_chunk]
            frames: list[list[pl.DataFrame]] = [[] for _ in dates]
            truths, died = [], []
            for practice in chunk:
                cohort = PracticeCohort(
                    practice,
                    thresholds[practice.place.code],
                    np.random.default_rng(practice_seeds[practice.index]),
                    id_key,
                )
                for s, snap in enumerate(cohort.years(n_snapshots)):
                    ids = hex_ids(snap.people["pid"])
                    if prefix:
                        ids = prefix + ids
                    code = codes.get(practice.code, practice.code)
                    frames[s].append(_patients_frame(snap, ids, code, ltc_columns, keep))
                    truths.append(
                        pl.DataFrame(
                            {  # built eagerly: a lazy query a practice is slow
                                "patient_id": ids,
                                "snapshot_date": np.full(ids.len(), np.datetime64(dates[s], "D")),
                                "true_risk": snap.true_risk,
                            }
                        )
                    )
                    if s + 1 < n_snapshots:  # deaths after the last snapshot are not yet known
                        died.append(_deaths_frame(snap, ids, dates[s]))
                done += 1
                say(f"practice {done}/{len(practices) * max(1, len(icss))}")
            for s, writer in enumerate(writers):
                frame = pl.concat(frames[s])
                counts[s] += frame.height
                writer.write(frame)
            truth.write(pl.concat(truths))
            if died:
                deaths.write(pl.concat(died))
    for writer in writers:
        writer.close()
    deaths.close(empty=pl.DataFrame(schema=DEATHS.polars_schema()))
    truth.close()
    return SynthSummary(
        out_dir, truth_dir / TRUTH_FILE, dates, tuple(counts), time.perf_counter() - started
    )


def _patients_frame(snap: Snapshot, ids, practice_code: str, ltc_columns, keep) -> pl.DataFrame:
    p = snap.people
    flags = p["flags"][:, keep]
    columns = {
        "patient_id": ids,
        "practice_code": labels((practice_code,), np.zeros(ids.len(), np.int64)),
        "age": p["age"],
        "sex": labels(SEXES, np.where(p["sex_unknown"], 2, p["male"].astype(np.int64))),
        "ethnicity": labels(ETHNIC_GROUPS, np.where(p["ethnic_unknown"], 5, p["ethnic"])),
        "imd_decile": pl.Series(p["decile"]).set(pl.Series(p["decile_unknown"]), None),
        "care_home": p["care_home"],
        "efi_score": pl.Series(p["efi"], nan_to_null=True),
        **{name: flags[:, j] for j, name in enumerate(ltc_columns)},
        "ltc_count": flags.sum(1),
        **{
            k: p[k]
            for k in (
                "emergency_admissions_12m",
                "elective_admissions_12m",
                "ae_attendances_12m",
                "outpatient_attendances_12m",
                "prescription_types_12m",
                "secondary_care_cost_12m",
            )
        },
    }
    return pl.DataFrame(columns)


def _deaths_frame(snap: Snapshot, ids, snapshot: date) -> pl.DataFrame:
    days = snap.death_day[snap.died] + 1
    return pl.DataFrame(
        {
            "patient_id": ids.filter(pl.Series(snap.died)),
            "date_of_death": pl.Series(np.datetime64(snapshot) + days.astype("timedelta64[D]")),
        }
    )


def _check_arguments(out_dir, truth_dir, scale, n_snapshots, ltc_columns, file_format) -> None:
    if scale <= 0:
        raise ConfigError(f"scale must be positive (got {scale}); 1.0 is the full LLR list.")
    if n_snapshots < 1:
        raise ConfigError(f"n_snapshots must be at least 1 (got {n_snapshots}).")
    if file_format not in ("parquet", "csv"):
        raise ConfigError(f"file_format must be 'parquet' or 'csv' (got {file_format!r}).")
    unknown = [c for c in ltc_columns if c not in C.NAMES]
    if unknown:
        raise ConfigError(
            f"The synthetic generator does not model {', '.join(unknown)}; "
            f"choose from: {', '.join(C.NAMES)}."
        )
    if truth_dir.resolve().is_relative_to(out_dir.resolve()):
        raise ConfigError(
            "truth_dir must be outside the extract folder: the pipeline must "
            "never read the true risks."
        )


_ = timedelta  # date arithmetic above goes through numpy datetime64
