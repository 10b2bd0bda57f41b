"""Disclosure control: the boundary values of the NHS rule (1-7 suppressed, round to 5)."""

import polars as pl
import pytest

from phm.disclosure import DisclosurePolicy


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, 0),
        (1, None),
        (7, None),
        (8, 10),
        (12, 10),
        (13, 15),
        (15, 15),
        (17, 15),
        (18, 20),
        (1_000_002, 1_000_000),
        (None, None),
    ],
)
def test_count_is_suppressed_below_8_and_rounded_to_5(count, shown):
    out = pl.select(DisclosurePolicy().count(pl.lit(count, dtype=pl.Int64))).item()
    assert out == shown


def test_ratio_needs_numerator_and_denominator_of_at_least_8():
    frame = pl.DataFrame({"num": [7, 8, 8, 100], "den": [100, 7, 8, 200]})
    out = frame.select(DisclosurePolicy().ratio(pl.col("num"), pl.col("den"))).to_series()
    assert out.to_list() == [None, None, 1.0, 0.5]


def test_off_is_explicit_and_changes_nothing():
    out = pl.select(DisclosurePolicy.off().count(pl.lit(3))).item()
    assert out == 3
