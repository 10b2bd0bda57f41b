"""The outcome a risk model learns: an emergency admission (or death) in the next 12 months.

Per the data contract (and SPARRA): the outcome for a patient in snapshot s is
`emergency_admissions_12m >= 1` in the snapshot dated s + 12 months, or a death in that window
where a deaths file is given. Patients absent from the later snapshot with no death recorded
have no known outcome; they are left out of training and evaluation and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

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
        return float(self.frame[OUTCOME].mean()) if self.frame.height else 0.0


def outcome_pairs(snapshot_dates: list[date]) -> list[tuple[date, date]]:
    """(snapshot, outcome snapshot) pairs 12 months apart, oldest first."""
    present = set(snapshot_dates)
    return [(d, one_year_after(d)) for d in sorted(present) if one_year_after(d) in present]


def label_snapshot(
    snapshot: pl.DataFrame,
    later: pl.DataFrame,
    deaths: pl.DataFrame | None,
    snapshot_date: date,
    outcome_date: date,
) -> LabelledSnapshot:
    """Attach the next-year outcome to each patient of `snapshot` whose outcome is known."""
    admitted = later.select(
        "patient_id", (pl.col("emergency_admissions_12m") >= 1).alias("_admitted")
    )
    frame = snapshot.join(admitted, on="patient_id", how="left")
    if deaths is not None:
        died = deaths.filter(
            (pl.col("date_of_death") > snapshot_date) & (pl.col("date_of_death") <= outcome_date)
        ).select("patient_id", pl.lit(True).alias("_died"))
        frame = frame.join(died, on="patient_id", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_died"))
    known = pl.col("_admitted").is_not_null() | pl.col("_died").fill_null(False)
    outcome = (pl.col("_admitted").fill_null(False) | pl.col("_died").fill_null(False)).alias(
        OUTCOME
    )
    labelled = frame.filter(known).with_columns(outcome).drop("_admitted", "_died")
    return LabelledSnapshot(
        snapshot_date=snapshot_date,
        outcome_date=outcome_date,
        frame=labelled,
        unknown_outcome=frame.height - labelled.height,
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
