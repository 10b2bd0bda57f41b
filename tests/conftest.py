"""Test-wide settings, applied before any OpenMP library loads (see the Makefile)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# `make test` spreads the suite over every core (pytest-xdist, --dist loadgroup). The folders
# whose tests share expensive session fixtures stay together on one worker, so that each
# fixture is built once: the small published runs of ops and faults, the integration run,
# the Spark session and its two-ICS runs, the report pages. Other tests go wherever a worker
# is free.
_GROUPS = {
    "faults": "publication",
    "ops": "publication",
    "integration": "integration",
    "parity": "spark",
    "reports": "reports",
}
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        folder = Path(item.path).relative_to(_TESTS).parts[0]
        if folder in _GROUPS:
            item.add_marker(pytest.mark.xdist_group(_GROUPS[folder]))
