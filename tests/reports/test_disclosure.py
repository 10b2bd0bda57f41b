"""Every count in every profile table has passed disclosure control."""

import polars as pl
import pytest

from phm.warehouse.tables import PROFILE_TABLES
from tests.disclosure import assert_counts_disclosure_controlled


@pytest.mark.parametrize("table", PROFILE_TABLES, ids=lambda t: t.name)
def test_no_count_is_1_to_7_and_every_count_is_a_multiple_of_5(hostile_tables, table):
    tables, _ = hostile_tables
    frame = tables[table.name]
    assert frame.columns == table.column_names
    assert_counts_disclosure_controlled(frame, table)


def test_small_counts_were_there_to_suppress(hostile_tables):
    """The tiny extract has small cells, so the tests above could fail."""
    tables, _ = hostile_tables
    age_sex = tables["published.profile_age_sex"]
    assert age_sex["patients"].null_count() > 0


def test_rates_are_hidden_where_the_denominator_is_below_8(hostile_tables):
    tables, _ = hostile_tables
    ltc = tables["published.profile_ltc_count"]
    hidden = ltc.filter(pl.col("patients").is_null())
    assert hidden.height > 0
    assert hidden["mean_predicted_risk_pct"].null_count() == hidden.height
