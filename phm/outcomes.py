"""The outcome a risk model learns: an emergency admission (or death) in the next 12 months.

Per the data contract (and SPARRA): the outcome for a patient in snapshot s is
`emergency_admissions_12m >= 1` in the snapshot dated s + 12 months, or a death in that window
where a deaths file is given. Patients absent from the later snapshot with no death recorded
have no known outcome; they are left out of training and evaluation and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import narwhals as nw

from phm.engines import in_one_process, is_spark, row_count
from phm.features import FeatureSpec

OUTCOME = "emergency_admission_next_12m"


def one_year_after(d: date) -> date:
    """The same calendar day a year later (29 February rolls to 28 February)."""
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, day=28)


@dataclass(frozen=True)
class LabelledSnapshot:
    """A snapshot whose patients' next-year outcomes are known (where they can be).

    `rows` is the snapshot with column OUTCOME, null where the outcome is unknown. On polars
    the snapshot's own columns are shared, not copied (at ten times LLR a copy of a snapshot
    is over a gigabyte, and two are labelled); `frame` is the rows whose outcome is known."""

    snapshot_date: date
    outcome_date: date
    rows: Any  # the snapshot's rows, plus column OUTCOME (null: unknown); any engine's frame
    unknown_outcome: int  # patients whose outcome is unknown: absent later, no death recorded

    @property
    def frame(self):
        """The rows with a known outcome (a copy of them, on an eager engine)."""
        return nw.from_native(self.rows).filter(~nw.col(OUTCOME).is_null()).to_native()

    def in_one_process(self, max_rows: int, seed: int) -> LabelledSnapshot:
        """This snapshot with its rows in one process (a sample of them, on Spark, where
        there are more than `max_rows`), the unknown outcomes counted among those rows."""
        if not is_spark(self.rows):
            return self
        rows = in_one_process(self.rows, max_rows, seed)
        unknown = rows.get_column(OUTCOME).null_count()
        return LabelledSnapshot(self.snapshot_date, self.outcome_date, rows, unknown)

    @property
    def known_outcome(self) -> int:
        return row_count(self.rows) - self.unknown_outcome

    @property
    def outcome_rate(self) -> float:
        if not self.known_outcome:
            return 0.0
        # the mean leaves out the nulls: the rate among patients whose outcome is known
        rate = nw.from_native(self.rows).select(nw.col(OUTCOME).cast(nw.Float64).mean())
        return float((rate.collect() if isinstance(rate, nw.LazyFrame) else rate).item())


def outcome_pairs(snapshot_dates: list[date]) -> list[tuple[date, date]]:
    """(snapshot, outcome snapshot) pairs 12 months apart, oldest first."""
    present = set(snapshot_dates)
    return [(d, one_year_after(d)) for d in sorted(present) if one_year_after(d) in present]


def outcomes(patients, later, deaths, snapshot_date: date, outcome_date: date):
    """patient_id and OUTCOME for each of `patients` (a frame with patient_id): an emergency
    admission in the `later` snapshot's last 12 months, or a death in between; null where
    neither is known (absent later, no death recorded). Any engine's frames, the same kind out."""
    admitted = nw.from_native(later).select(
        "patient_id", (nw.col("emergency_admissions_12m") >= 1).alias("_admitted")
    )
    frame = nw.from_native(patients).join(admitted, on="patient_id", how="left")
    if deaths is not None:
        died = (
            nw.from_native(deaths)
            .filter(
                (nw.col("date_of_death") > nw.lit(snapshot_date, nw.Date))
                & (nw.col("date_of_death") <= nw.lit(outcome_date, nw.Date))
            )
            .select("patient_id", nw.lit(True).alias("_died"))
        )
        frame = frame.join(died, on="patient_id", how="left")
    else:
        frame = frame.with_columns(nw.lit(None, dtype=nw.Boolean).alias("_died"))
    admitted_, died_ = nw.col("_admitted").fill_null(False), nw.col("_died").fill_null(False)
    known = ~nw.col("_admitted").is_null() | died_
    outcome = nw.when(known).then(admitted_ | died_).alias(OUTCOME)
    return frame.select(*(c for c in frame.columns if c not in ("_admitted", "_died")), outcome)


def label_snapshot(
    snapshot,
    later,
    deaths,
    snapshot_date: date,
    outcome_date: date,
) -> LabelledSnapshot:
    """Attach the next-year outcome to each patient of `snapshot` (null where unknown).

    Written once with Narwhals: polars or PySpark frames in (deaths may be None), the same
    kind in the labelled rows. An eager frame keeps its row order and its columns: the
    outcome is worked out for its patient_id column alone and set beside them."""
    frame = nw.from_native(snapshot)
    if isinstance(frame, nw.DataFrame):
        ids = frame.select("patient_id").with_row_index("_row")
        found = nw.from_native(outcomes(ids, later, deaths, snapshot_date, outcome_date))
        outcome = found.sort("_row").get_column(OUTCOME)  # back in the snapshot's order
        labelled = frame.with_columns(outcome)
    else:
        labelled = nw.from_native(outcomes(frame, later, deaths, snapshot_date, outcome_date))
    unknown = labelled.select(nw.col(OUTCOME).is_null().cast(nw.Int64).sum())  # Spark: no bool sum
    if isinstance(unknown, nw.LazyFrame):
        unknown = unknown.collect()
    return LabelledSnapshot(
        snapshot_date=snapshot_date,
        outcome_date=outcome_date,
        rows=labelled.to_native(),
        unknown_outcome=int(unknown.item()),
    )


@dataclass(frozen=True)
class PatientFeatures:
    """What the models learn from: the feature spec and every labelled snapshot, oldest first."""

    spec: FeatureSpec
    labelled: list[LabelledSnapshot]

    def in_one_process(self, max_rows: int, seed: int) -> PatientFeatures:
        """The labelled snapshots as the model fits and the evaluation take them, in one
        process: polars rows as they are; Spark rows collected, a seeded sample of about
        `max_rows` a snapshot where there are more (phm.engines.in_one_process)."""
        return PatientFeatures(
            self.spec, [ls.in_one_process(max_rows, seed) for ls in self.labelled]
        )


def label_extract(extract, spec: FeatureSpec) -> PatientFeatures:
    """Label every snapshot that has a snapshot 12 months later in the extract."""
    labelled = [
        label_snapshot(extract.snapshots[s], extract.snapshots[later], extract.deaths, s, later)
        for s, later in outcome_pairs(list(extract.snapshots))
    ]
    return PatientFeatures(spec, labelled)
