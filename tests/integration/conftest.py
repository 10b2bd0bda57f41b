"""A small synthetic LLR extract and one full pipeline run over it, shared by the
integration tests (the graph is materialised in-process against a DuckDB file in tmp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from phm.synth import generate_extract
from phm.warehouse import restricted_store_path
from pipelines.runner import RunOutcome, run_pipeline

SCALE = 0.01  # ~12k patients per snapshot: every PCN present, runs in seconds
SEED = 7


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extract") / "extract"
    generate_extract(out, scale=SCALE, seed=SEED, truth_dir=out.parent / "truth")
    return out


@pytest.fixture(scope="session")
def published(small_extract, tmp_path_factory) -> tuple[Path, RunOutcome]:
    root = tmp_path_factory.mktemp("run")
    warehouse = root / "warehouse" / "llr.duckdb"
    outcome = run_pipeline(extract=small_extract, warehouse=warehouse, outputs=root / "outputs")
    assert outcome.success, outcome
    return warehouse, outcome


@pytest.fixture(scope="session")
def restricted_store(published) -> Path:
    """The patient-level twin of `published`: <outputs>/restricted/warehouse.duckdb."""
    warehouse, _ = published
    return restricted_store_path(warehouse.parent.parent / "outputs")
