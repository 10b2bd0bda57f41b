"""The warehouse, two DuckDB files: the published one holds `published` aggregates only; the
owner-only restricted store (`<outputs>/restricted/warehouse.duckdb`) holds patient rows."""

from phm.warehouse.publish import publish_warehouse, read_table, restricted_store_path
from phm.warehouse.tables import PUBLISHED_TABLES, RESTRICTED_TABLES, WAREHOUSE_TABLES

__all__ = [
    "PUBLISHED_TABLES",
    "RESTRICTED_TABLES",
    "WAREHOUSE_TABLES",
    "publish_warehouse",
    "read_table",
    "restricted_store_path",
]
