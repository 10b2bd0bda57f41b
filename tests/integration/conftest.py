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
    with contextlib.ExitStack() as undo:
        _log_everything_to(said, undo)
        fds = undo.enter_context(tempfile.TemporaryFile(mode="w+b"))
        undo.callback(lambda: said.write(_text_of(fds)))  # after 1 and 2 point back
        _point_stdout_and_stderr_at(fds, undo)
        undo.enter_context(contextlib.redirect_stdout(said))
        undo.enter_context(contextlib.redirect_stderr(said))
        yield said


def _text_of(file) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def _log_everything_to(said: io.StringIO, undo: contextlib.ExitStack) -> None:
    """Every log record at DEBUG into `said`, until `undo` unwinds."""
    root = logging.getLogger()
    handler = logging.StreamHandler(said)
    handler.setLevel(logging.DEBUG)
    undo.callback(root.setLevel, root.level)
    undo.callback(root.removeHandler, handler)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def _point_stdout_and_stderr_at(file, undo: contextlib.ExitStack) -> None:
    """File descriptors 1 and 2 into `file` (what native libraries write), until `undo`
    unwinds; Python's buffers are flushed on both sides of the switch."""
    sys.stdout.flush()
    sys.stderr.flush()
    for fd in (1, 2):
        saved = os.dup(fd)
        undo.callback(os.close, saved)
        undo.callback(os.dup2, saved, fd)
        os.dup2(file.fileno(), fd)
    undo.callback(sys.stderr.flush)
    undo.callback(sys.stdout.flush)


@pytest.fixture(scope="session")
def restricted_store(published) -> Path:
    """The patient-level twin of `published`: <outputs>/restricted/warehouse.duckdb."""
    warehouse, _ = published
    return restricted_store_path(warehouse.parent.parent / "outputs")
