"""The disclosure-control assertion the published-table tests share."""

import polars as pl

from phm.schema import Table
from phm.warehouse.tables import count_columns


def assert_counts_disclosure_controlled(frame: pl.DataFrame, table: Table) -> None:
    """No count of 1-7 and every count a multiple of 5, in each declared count column."""
    counts = count_columns(table)
    assert counts, f"{table.name} declares no count column"
    for column in counts:
        values = frame[column].drop_nulls()
        assert ((values >= 1) & (values <= 7)).sum() == 0, column
        assert (values % 5 == 0).all(), column
