"""Columns set beside a frame's own: a join that shares the frame's columns, not copies them.

A polars join builds its output by gathering every column of both sides. Where one side is
a snapshot (at ten times LLR, over a gigabyte) and the other adds a column or two, the join
on the key alone, in the snapshot's row order, gives those columns, and `with_columns` sets
them beside the snapshot's own, which are shared. Eager polars only: on Spark a join is a
plan, not a copy.
"""

from __future__ import annotations

import narwhals as nw
import polars as pl


def aligned(frame: pl.DataFrame, other: pl.DataFrame, on: str | list[str]) -> list[pl.Series]:
    """`other`'s columns for each row of `frame`, in `frame`'s row order (null where `other`
    has no row for it): `frame.with_columns(aligned(frame, other, on))` is a left join."""
    joined = frame.select(on).join(other, on=on, how="left", maintain_order="left")
    return joined.drop(on).get_columns()


def beside(frame, other, on: str | list[str], *, required: str | None = None):
    """A left join of `other` onto `frame`, any Narwhals-supported frames: on eager polars
    with `frame`'s columns shared (`aligned`), elsewhere the engine's own join. `other` may be
    a polars frame whatever `frame` is (areas, a cohort): it goes to `frame`'s engine (on
    Spark through createDataFrame: for a small frame, or one read once).

    With `required` (one of `other`'s columns, never null in it), only the rows `other` has are
    kept: an inner join, which on eager polars copies rows only if some are dropped."""
    if isinstance(frame, pl.DataFrame) and isinstance(other, pl.DataFrame):
        out = frame.with_columns(aligned(frame, other, on))
        if required is not None and out[required].null_count():
            out = out.filter(pl.col(required).is_not_null())
        return out
    from phm.engines import alike

    how = "left" if required is None else "inner"
    other = nw.from_native(alike(frame, other) if isinstance(other, pl.DataFrame) else other)
    return nw.from_native(frame).join(other, on=on, how=how).to_native()
