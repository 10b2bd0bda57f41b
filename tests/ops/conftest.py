"""Fixtures for the operations tests: two small synthetic extracts that differ, a quick
configuration (two candidate models, and no HTML pages: these tests are about publishing,
not models or reports, and the pages were two thirds of a run) and one published warehouse
to start from.

A publication here is a folder: the published warehouse `llr.duckdb` and the run's outputs
folder `outputs/` beside it, holding the restricted store (`outputs_of`, `store_of`)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from phm.restricted import private_folder
from phm.synth import generate_extract
from phm.warehouse import restricted_store_path
from phm.warehouse.publish import fingerprints, is_restricted, open_publication
from phm.warehouse.tables import WAREHOUSE_TABLES
from pipelines.runner import RunOutcome, run_pipeline

SCALE = 0.005  # ~6k patients per snapshot: every PCN present, a run in ~10 s
SEED = 7

QUICK_CONFIG = """\
model:
  candidates: [ltc_count_lookup, logistic]
  tiering_model: logistic
outputs:
  dir: outputs
  html_profiles: false
landing:
  dir: landing/incoming
  accepted_dir: landing/accepted
  quarantine_dir: landing/quarantine
"""


@pytest.fixture(scope="session")
def ops_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ops")


@pytest.fixture(scope="session")
def quick_config(ops_root) -> Path:
    """A configuration whose relative paths (outputs, landing) resolve inside ops_root."""
    path = ops_root / "phm.yaml"
    path.write_text(QUICK_CONFIG, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def extract_a(ops_root) -> Path:
    out = ops_root / "extract_a" / "extract"
    generate_extract(out, scale=SCALE, seed=SEED, truth_dir=out.parent / "truth")
    return out


@pytest.fixture(scope="session")
def extract_b(extract_a, ops_root) -> Path:
    """A different extract, cheaply: A without its last snapshot (fewer rows everywhere)."""
    out = ops_root / "extract_b" / "extract"
    shutil.copytree(extract_a, out)
    (out / "patients_2023-04-01.parquet").unlink()
    return out


@pytest.fixture(scope="session")
def published_a(extract_a, quick_config, ops_root) -> Path:
    """A warehouse with extract A published: the 'previous version' tests start from."""
    warehouse = ops_root / "published_a" / "llr.duckdb"
    publish(quick_config, extract_a, warehouse)
    return warehouse


def publish(config: Path, extract: Path, warehouse: Path) -> RunOutcome:
    """Run the pipeline in this process into the publication of `warehouse`; it must succeed."""
    outcome = run_pipeline(
        config_path=config, extract=extract, warehouse=warehouse, outputs=outputs_of(warehouse)
    )
    assert outcome.success, outcome
    return outcome


def outputs_of(warehouse: Path) -> Path:
    """The outputs folder of the publication whose published file is `warehouse`."""
    return warehouse.parent / "outputs"


def store_of(warehouse: Path) -> Path:
    """Its restricted store."""
    return restricted_store_path(outputs_of(warehouse))


def copy_warehouse(source: Path, folder: Path) -> Path:
    """Copy a publication (both stores) into `folder`; the copy's published file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    private_folder(store_of(target).parent)
    shutil.copyfile(store_of(source), store_of(target))
    return target


def contents(warehouse: Path) -> dict:
    """Per table of both stores: row count and SHA-256 of its rows sorted, as CSV bytes."""
    with open_publication(warehouse, store_of(warehouse)) as (published, restricted):
        out = {}
        for table in WAREHOUSE_TABLES:
            con = restricted if is_restricted(table) else published
            frame = con.sql(f"SELECT * FROM {table.name} ORDER BY ALL").pl()
            out[table.name] = (frame.height, hashlib.sha256(frame.write_csv().encode()).hexdigest())
        out["fingerprint"] = sorted(fingerprints(published))
        return out
