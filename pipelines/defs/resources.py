import os
from pathlib import Path

import dagster as dg

from pipelines.resources import PhmSettings
from pipelines.storage import SnapshotIOManager


def io_dir() -> Path:
    """Asset values between UI, sensor and scheduled runs: beside the run history in the
    git-ignored .dagster/ of the instance (DAGSTER_HOME; the Makefile sets the repo root).
    They hold patient rows: restricted, like the restricted store, so the folder and every
    pickle in it are owner-only (pipelines/storage.py)."""
    return Path(os.environ.get("DAGSTER_HOME", ".")).resolve() / ".dagster" / "io"


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": PhmSettings(),
            "io_manager": SnapshotIOManager(base_dir=str(io_dir())),
        }
    )
