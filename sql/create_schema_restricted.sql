-- Patient-level rows: case-finding only; never published, never exported to BI dashboards.
CREATE SCHEMA IF NOT EXISTS restricted
