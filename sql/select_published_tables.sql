-- The tables present in the warehouse with their row counts, for run metadata.
SELECT schema_name, table_name, estimated_size AS row_count
FROM duckdb_tables()
WHERE schema_name IN ('restricted', 'published')
ORDER BY schema_name, table_name
