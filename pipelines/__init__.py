"""Dagster orchestration of the `phm` domain library: thin assets, each a few calls to phm."""
