"""Fixtures for the extract-reader and validation tests: a valid extract to break."""

from __future__ import annotations

from pathlib import Path

import pytest

from .builders import write_extract


@pytest.fixture(params=["parquet", "csv"])
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def extract_dir(tmp_path: Path, fmt: str) -> Path:
    """A valid extract (practices.csv, two snapshots, deaths) in `fmt`."""
    return write_extract(tmp_path / "extract", fmt)
