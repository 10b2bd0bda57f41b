-- Aggregates that have passed disclosure control: safe to serve to dashboards and reports.
CREATE SCHEMA IF NOT EXISTS published
