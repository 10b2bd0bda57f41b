"""Spec: the next-year outcome (data contract, 'What the pipeline derives from snapshots')."""

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from phm.outcomes import OUTCOME, label_snapshot, one_year_after, outcome_pairs
from tests.spec.tables import table

S, LATER = date(2022, 4, 1), date(2023, 4, 1)
SCHEMA = {
    "patient_id": pl.String(),
    "emergency_admissions_12m": pl.Int64(),
    "date_of_death": pl.Date(),
    OUTCOME: pl.Boolean(),
}

SNAPSHOT = table(
    """
    | patient_id | emergency_admissions_12m |
    | admitted   | 0                        |
    | quiet      | 3                        |
    | died       | 0                        |
    | died_late  | 0                        |
    | left       | 0                        |
    """,
    SCHEMA,
)
LATER_SNAPSHOT = table(
    """
    | patient_id | emergency_admissions_12m |
    | admitted   | 2                        |
    | quiet      | 0                        |
    | newcomer   | 1                        |
    """,
    SCHEMA,
)
DEATHS = table(
    """
    | patient_id | date_of_death |
    | died       | 2022-10-01    |
    | died_late  | 2023-06-01    |
    """,
    SCHEMA,
)


def test_outcome_is_an_admission_next_year_or_a_death_in_the_window():
    labelled = label_snapshot(SNAPSHOT, LATER_SNAPSHOT, DEATHS, S, LATER)
    expected = table(
        f"""
        | patient_id | emergency_admissions_12m | {OUTCOME} |
        | admitted   | 0                        | T         |
        | quiet      | 3                        | F         |
        | died       | 0                        | T         |
        """,
        SCHEMA,
    )
    assert_frame_equal(labelled.frame.sort("patient_id"), expected.sort("patient_id"))
    # died after the window and left with no death: outcome unknown, counted, left out
    assert labelled.unknown_outcome == 2


def test_without_a_deaths_file_the_dead_are_unknown_not_negative():
    labelled = label_snapshot(SNAPSHOT, LATER_SNAPSHOT, None, S, LATER)
    assert set(labelled.frame["patient_id"]) == {"admitted", "quiet"}
    assert labelled.unknown_outcome == 3


def test_pairs_need_a_snapshot_exactly_a_year_later():
    dates = [date(2021, 4, 1), date(2022, 4, 1), date(2023, 4, 1), date(2023, 10, 1)]
    assert outcome_pairs(dates) == [
        (date(2021, 4, 1), date(2022, 4, 1)),
        (date(2022, 4, 1), date(2023, 4, 1)),
    ]
    assert one_year_after(date(2024, 2, 29)) == date(2025, 2, 28)
