"""Sums of real numbers that do not depend on the order of the rows.

A float sum's last bits depend on the order of addition, and no engine promises one: Spark's
partitions arrive as they finish, a polars group-by's rows as its threads are scheduled. A
published figure rounded from such a sum then differs between engines, or between two runs,
whenever it lies near a rounding boundary (seen in CI: one PCN's mean hospital cost, rounded
to whole pounds, a pound apart between polars and Spark). So each value is first fixed to a
whole number of its smallest meaningful part (a penny, a billionth of a risk) and the whole
numbers are added, which is exact in any order.

Works on polars and Narwhals expressions alike. Int64 holds the sums: a billionth of a risk
for 60 million patients is below 6e16, pence of a million pounds each below 6e15.
"""

from __future__ import annotations

import narwhals as nw
import polars as pl

RISK_DECIMALS = 9  # a billionth: far below any published rounding of a risk or its sum
MONEY_DECIMALS = 2  # pence


def in_units(x, decimals: int):
    """`x` as a whole number of 10**-decimals (halves up, the same on every engine)."""
    int64 = nw.Int64 if isinstance(x, nw.Expr) else pl.Int64
    return (x * 10**decimals + 0.5).floor().cast(int64)


def from_units(units, decimals: int):
    """Whole units of 10**-decimals (sums of `in_units`, in any order) back as a number."""
    return units / 10**decimals


def exact_sum(x, decimals: int):
    """The sum of `x` to `decimals` places, the same whatever the order of the rows."""
    return from_units(in_units(x, decimals).sum(), decimals)
