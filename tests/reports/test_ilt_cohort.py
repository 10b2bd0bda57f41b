"""The profiles' ILT count says which criteria it includes: the cost model's cohort, when
the cost model ran, even an empty one; otherwise the frailty criterion alone."""

import polars as pl

from phm.disclosure import DisclosurePolicy
from phm.profiles import profile_inputs, profile_tables
from phm.warehouse.tables import INTEGRATED_LOCALITY_COHORT
from tests.reports.conftest import _stand_in_risk

SUMMARY = "published.profile_summary"


def _summary(extract, **cohort) -> pl.DataFrame:
    inputs = profile_inputs(_stand_in_risk(extract), extract, **cohort)
    return profile_tables(inputs, DisclosurePolicy(enabled=False))[SUMMARY]


def test_an_empty_cohort_from_the_cost_model_is_a_cohort_of_no_one(two_ics_extract):
    empty = pl.DataFrame(schema=INTEGRATED_LOCALITY_COHORT.polars_schema())
    summary = _summary(two_ics_extract, ilt_cohort=empty)
    assert summary["ilt_includes_cost_criterion"].all()
    assert (summary["ilt_cohort_patients"] == 0).all()


def test_without_the_cost_model_the_frailty_criterion_is_counted(two_ics_extract):
    summary = _summary(two_ics_extract)
    assert not summary["ilt_includes_cost_criterion"].any()
    assert summary["ilt_cohort_patients"].sum() > 0
