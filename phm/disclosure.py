"""Statistical disclosure control for every published aggregate.

NHS Digital (HES/ECDS, since 2018) and OpenSAFELY: at sub-national level a count of 1-7 is
not shown and every other count is rounded to the nearest 5; a rate or mean is shown only
where its numerator and denominator are both at least 8. On by default; the only way round
it is `DisclosurePolicy.off()`, which nothing in the published path calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class DisclosurePolicy:
    suppress_below: int = 8  # counts 1..suppress_below-1 are suppressed
    round_to: int = 5
    enabled: bool = True

    @classmethod
    def off(cls) -> DisclosurePolicy:
        """No suppression or rounding: for restricted, patient-level outputs only."""
        return cls(enabled=False)

    def count(self, expr: pl.Expr) -> pl.Expr:
        """A disclosure-controlled count: NULL where 1..7, else rounded to the nearest 5."""
        if not self.enabled:
            return expr
        value = expr.cast(pl.Float64)
        rounded = ((value / self.round_to + 0.5).floor() * self.round_to).cast(pl.Int64)
        small = (value > 0) & (value < self.suppress_below)
        return pl.when(value.is_null() | small).then(None).otherwise(rounded)

    def ratio(self, numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        """numerator / denominator, shown only where both are at least `suppress_below`."""
        if not self.enabled:
            return numerator / denominator
        shown = (numerator >= self.suppress_below) & (denominator >= self.suppress_below)
        return pl.when(shown).then(numerator / denominator).otherwise(None)

    def mean(self, value: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        """A mean over `denominator` patients, shown only where there are at least 8 of them."""
        if not self.enabled:
            return value
        return pl.when(denominator >= self.suppress_below).then(value).otherwise(None)
