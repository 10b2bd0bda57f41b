"""A small synthetic LLR extract and one full pipeline run over it, shared by the
integration tests (the graph is materialised in-process against a DuckDB file in tmp).

The run logs at DEBUG, the most verbose level, and keeps everything it said (both file
descriptors, Python's streams and logging): the no-leak test reads that, so one run serves
it and every other test here."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
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
def published_run(small_extract, tmp_path_factory) -> tuple[Path, RunOutcome, str]:
    """The shared run: its published warehouse, its outcome and all it said at DEBUG."""
    root = tmp_path_factory.mktemp("run")
    warehouse = root / "warehouse" / "llr.duckdb"
    with everything_said() as said:
        outcome = run_pipeline(
            extract=small_extract,
            warehouse=warehouse,
            outputs=root / "outputs",
            log_level="DEBUG",
        )
    assert outcome.success, outcome
    return warehouse, outcome, said.getvalue()


@pytest.fixture(scope="session")
def published(published_run) -> tuple[Path, RunOutcome]:
    warehouse, outcome, _ = published_run
    return warehouse, outcome


@contextlib.contextmanager
def everything_said() -> Iterator[io.StringIO]:
    """Capture what the code inside says: file descriptors 1 and 2 (native libraries), Python's
    sys.stdout and sys.stderr (pytest's capture stands in for them), and every log record at
    DEBUG. The text is in the StringIO once the block has ended."""
    said = io.StringIO()
    handler = logging.StreamHandler(said)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with tempfile.TemporaryFile(mode="w+b") as fds:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(fds.fileno(), 1)
        os.dup2(fds.fileno(), 2)
        try:
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                yield said
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            root.removeHandler(handler)
            root.setLevel(level)
            fds.seek(0)
            said.write(fds.read().decode("utf-8", errors="replace"))


@pytest.fixture(scope="session")
def restricted_store(published) -> Path:
    """The patient-level twin of `published`: <outputs>/restricted/warehouse.duckdb."""
    warehouse, _ = published
    return restricted_store_path(warehouse.parent.parent / "outputs")
