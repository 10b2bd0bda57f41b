"""Published figures do not depend on the order of the patient rows.

No engine promises an order (Spark's partitions, a polars group-by's threads), and a float
sum's last bits follow it: CI once published one PCN's mean hospital cost a pound apart on
polars and Spark. phm/exact.py adds whole pence and billionths of a risk instead."""

from __future__ import annotations

import dataclasses
import itertools

import narwhals as nw
import polars as pl
import pytest

from phm.disclosure import DisclosurePolicy
from phm.exact import MONEY_DECIMALS, exact_sum
from phm.profiles import profile_tables

# Three costs whose float mean is 422.49999999999994 in two of six orders and 422.5 in the
# rest: rounded to whole pounds, 422 or 423.
COSTS = [395.12, 722.56, 149.82]


@pytest.mark.parametrize("namespace", [pl, nw], ids=["polars", "narwhals"])
def test_a_mean_of_pounds_is_the_same_in_every_order(namespace):
    for order in itertools.permutations(COSTS):
        frame = pl.DataFrame({"cost": list(order)})
        if namespace is nw:
            frame = nw.from_native(frame)
        col = namespace.col("cost")
        out = frame.select(
            (exact_sum(col, MONEY_DECIMALS) / col.count()).alias("mean"),
            exact_sum(col, MONEY_DECIMALS).alias("sum"),
        )
        assert out["mean"][0] == 422.5, order
        assert out["sum"][0] == 1267.5, order


def _shuffled(frame: pl.DataFrame | None, seed: int) -> pl.DataFrame | None:
    return None if frame is None else frame.sample(fraction=1.0, shuffle=True, seed=seed)


def test_every_profile_table_is_the_same_whatever_the_order_of_the_patients(hostile_tables):
    tables, inputs = hostile_tables
    # costs with pence, so that means and shares are sums of non-integer floats
    current = inputs.current.with_columns(
        (pl.col("secondary_care_cost_12m") + pl.col("age") / 100).alias("secondary_care_cost_12m")
    )
    inputs = dataclasses.replace(inputs, current=current)
    policy = DisclosurePolicy()
    expected = profile_tables(inputs, policy)
    for seed in range(3):
        shuffled = dataclasses.replace(
            inputs,
            current=_shuffled(inputs.current, seed),
            movement=_shuffled(inputs.movement, seed),
            outcomes=_shuffled(inputs.outcomes, seed),
            cells=_shuffled(inputs.cells, seed),
        )
        for name, table in profile_tables(shuffled, policy).items():
            assert table.equals(expected[name]), name
