"""The outcome a risk model learns: an emergency admission (or death) in the next 12 months.

Per the data contract (and SPARRA): the outcome for a patient in snapshot s is
`emergency_admissions_12m >= 1` in the snapshot dated s + 12 months, or a death in that window
where a deaths file is given. Patients absent from the later snapshot with no death recorded
have no known outcome; they are left out of training and evaluation and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import narwhals as nw
import polars as pl

from phm.engines import row_count
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
    """A snapshot whose patients' next-year outcomes are known (where they can be)."""

    snapshot_date: date
    outcome_date: date
    frame: pl.DataFrame  # the snapshot's rows with a known outcome, plus column OUTCOME
    unknown_outcome: int  # patients left out: absent later, no death recorded

    @property
    def outcome_rate(self) -> float:
        if not row_count(self.frame):
            return 0.0
        rate = nw.from_native(self.frame).select(nw.col(OUTCOME).cast(nw.Float64).mean())
        return float((rate.collect() if isinstance(rate, nw.LazyFrame) else rate).item())


def outcome_pairs(snapshot_dates: list[date]) -> list[tuple[date, date]]:
    """(snapshot, outcome snapshot) pairs 12 months apart, oldest first."""
    present = set(snapshot_dates)
    return [(d, one_year_after(d)) for d in sorted(present) if one_year_after(d) in present]


def label_snapshot(
    snapshot,
    later,
    deaths,
    snapshot_date: date,
    outcome_date: date,
) -> LabelledSnapshot:
    """Attach the next-year outcome to each patient of `snapshot` whose outcome is known.

    Written once with Narwhals: polars or PySpark frames in (deaths may be None), the same
    kind in the labelled frame; an eager one keeps the snapshot's row order."""
    admitted = nw.from_native(later).select(
        "patient_id", (nw.col("emergency_admissions_12m") >= 1).alias("_admitted")
    )
    frame = nw.from_native(snapshot).join(admitted, on="patient_id", how="left")
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
    labelled = (
        frame.filter(known)
        .with_columns((admitted_ | died_).alias(OUTCOME))
        .drop("_admitted", "_died")
    )
    return LabelledSnapshot(
        snapshot_date=snapshot_date,
        outcome_date=outcome_date,
        frame=labelled.to_native(),
        unknown_outcome=row_count(snapshot) - row_count(labelled.to_native()),
    )


@dataclass(frozen=True)
class PatientFeatures:
    """What the models learn from: the feature spec and every labelled snapshot, oldest first."""

    spec: FeatureSpec
    labelled: list[LabelledSnapshot]


def label_extract(extract, spec: FeatureSpec) -> PatientFeatures:
    """Label every snapshot that has a snapshot 12 months later in the extract."""
    labelled = [
        label_snapshot(extract.snapshots[s], extract.snapshots[later], extract.deaths, s, later)
        for s, later in outcome_pairs(list(extract.snapshots))
    ]
    return PatientFeatures(spec, labelled)
