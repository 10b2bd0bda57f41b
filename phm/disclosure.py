"""Statistical disclosure control for every published aggregate.

NHS Digital (HES/ECDS, since 2018) and OpenSAFELY: at sub-national level a count of 1-7 is
not shown and every other count is rounded to the nearest 5; a rate or mean is shown only
where its numerator and denominator are both at least 8. On by default; the only way round
it is `DisclosurePolicy.off()`, which nothing in the published path calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import polars as pl


def _space(expr):
    """The expression library of `expr`: Narwhals (any engine) or polars, whose expressions
    the profile code still passes; the rules below are written once for both."""
    return nw if isinstance(expr, nw.Expr) else pl


@dataclass(frozen=True)
class DisclosurePolicy:
    suppress_below: int = 8  # counts 1..suppress_below-1 are suppressed
    round_to: int = 5
    enabled: bool = True

    @classmethod
    def off(cls) -> DisclosurePolicy:
        """No suppression or rounding: for restricted, patient-level outputs only."""
        return cls(enabled=False)

    def count(self, expr: pl.Expr | nw.Expr) -> pl.Expr | nw.Expr:
        """A disclosure-controlled count: NULL where 1..7, else rounded to the nearest 5."""
        if not self.enabled:
            return expr
        x = _space(expr)
        value = expr.cast(x.Float64)
        rounded = ((value / self.round_to + 0.5).floor() * self.round_to).cast(x.Int64)
        small = (value > 0) & (value < self.suppress_below)
        return x.when(value.is_null() | small).then(x.lit(None, x.Int64)).otherwise(rounded)

    def ratio(self, numerator: pl.Expr | nw.Expr, denominator: pl.Expr | nw.Expr):
        """numerator / denominator, shown only where both are at least `suppress_below`."""
        if not self.enabled:
            return numerator / denominator
        x = _space(numerator)
        shown = (numerator >= self.suppress_below) & (denominator >= self.suppress_below)
        return x.when(shown).then(numerator / denominator).otherwise(x.lit(None, x.Float64))

    def mean(self, value: pl.Expr | nw.Expr, denominator: pl.Expr | nw.Expr):
        """A mean over `denominator` patients, shown only where there are at least 8 of them."""
        if not self.enabled:
            return value
        x = _space(value)
        return x.when(denominator >= self.suppress_below).then(value).otherwise(None)
