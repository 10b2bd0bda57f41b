"""The warehouse: one DuckDB file; `restricted` holds patient rows, `published` aggregates."""

from phm.warehouse.publish import publish_warehouse, read_table
from phm.warehouse.tables import PUBLISHED_TABLES, RESTRICTED_TABLES, WAREHOUSE_TABLES

__all__ = [
    "PUBLISHED_TABLES",
    "RESTRICTED_TABLES",
    "WAREHOUSE_TABLES",
    "publish_warehouse",
    "read_table",
]
