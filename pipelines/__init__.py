"""Dagster orchestration of the `phm` domain library: thin assets, each a few calls to phm."""

import warnings

# Snapshot partitions use a single-run backfill policy (beta) and a partitioned blocking
# check (preview) in dagster 1.13: both chosen deliberately (see pipelines/partitions.py), so
# their notices are not shown to every CLI and UI user. pyproject.toml repeats these for pytest.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy` of function `asset`")
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
