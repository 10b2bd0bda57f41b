-- Load this run's rows (an Arrow table registered as `staged`) into the freshly created
-- target table, matching columns by name; {target} is a declared table name from
-- phm/warehouse/tables.py, never user input.
INSERT INTO {target} BY NAME SELECT * FROM staged
