"""A run on a real extract (`phm run --extract --outputs --warehouse`), as a security review
would check it: the published file holds aggregates only, every restricted path is owner-only
whatever the umask, every output is under --outputs, and the code checkout is untouched.

The run is a separate `phm run` process in a copy of the checkout (with its .git), so the
before/after comparison covers every file and folder of that copy, excluding nothing, while
other work may go on in the real checkout. The copy's modules are byte-compiled before the
first snapshot, as any checkout is once it has been imported from.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from phm.config import REPO_ROOT
from phm.warehouse import restricted_store_path
from phm.warehouse.publish import fingerprints
from phm.warehouse.tables import RESTRICTED_PUBLICATION, RESTRICTED_TABLES
from pipelines.cli import main
from pipelines.runner import run_pipeline

pytestmark = pytest.mark.slow

QUICK = """\
model:
  candidates: [ltc_count_lookup, logistic]
  tiering_model: logistic
"""
# Not part of the checkout: the interpreter and tool caches (the copy gets none of them).
_NOT_COPIED = shutil.ignore_patterns(".venv", "outputs", ".pytest_cache", ".ruff_cache")


def tree(root: Path) -> dict[str, tuple]:
    """Every path under root: kind, mode, size, mtime and, for files, a SHA-256."""
    out = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path.relative_to(root))] = (
            stat.S_IFMT(info.st_mode),
            stat.S_IMODE(info.st_mode),
            info.st_size,
            info.st_mtime_ns,
            digest,
        )
    return out


def git_status(checkout: Path) -> str:
    """What git sees (the tree comparison covers a checkout without .git, e.g. an archive)."""
    if not (checkout / ".git").exists():
        return ""
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored"],
        cwd=checkout,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # a status must not refresh the index
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def real_run(small_extract, tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    checkout = root / "checkout"
    shutil.copytree(REPO_ROOT, checkout, ignore=_NOT_COPIED, symlinks=True)
    compileall.compile_dir(checkout, quiet=1)
    config = root / "quick.yaml"
    config.write_text(QUICK, encoding="utf-8")
    outputs, warehouse = root / "run" / "outputs", root / "bi" / "llr.duckdb"
    status_before, before = git_status(checkout), tree(checkout)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = str(checkout)  # this copy's code, not the real checkout's
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)]
        + ["--extract", str(small_extract), "--outputs", str(outputs)]
        + ["--warehouse", str(warehouse)],
        cwd=checkout,  # run from inside the checkout: the harder case
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        preexec_fn=lambda: os.umask(0),  # whatever the umask: here, none at all
    )
    assert done.returncode == 0, done.stderr
    return checkout, outputs, warehouse, status_before, before, done.stdout


def test_the_checkout_is_untouched(real_run):
    checkout, _, _, status_before, before, _ = real_run
    assert tree(checkout) == before
    assert git_status(checkout) == status_before


def test_the_published_file_holds_no_restricted_schema_and_no_patient_id(real_run):
    _, _, warehouse, *_ = real_run
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_tables()").fetchall()}
        columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
    finally:
        con.close()
    assert schemas == {"published"}
    assert "patient_id" not in columns
    # for sharing: the published file keeps ordinary permissions (umask 0 here: 0666)
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o666


def test_every_patient_level_table_is_in_the_restricted_store(real_run):
    _, outputs, warehouse, *_ = real_run
    store = restricted_store_path(outputs)
    con = duckdb.connect(str(store), read_only=True)
    published = duckdb.connect(str(warehouse), read_only=True)
    try:
        for table in (*RESTRICTED_TABLES, RESTRICTED_PUBLICATION):
            frame = con.sql(f"SELECT * FROM {table.name}").pl()
            assert frame.columns == table.column_names, table.name
        assert con.execute("SELECT count(*) FROM restricted.patient_risk").fetchone()[0] > 0
        # the twin of this very publication
        assert fingerprints(con, RESTRICTED_PUBLICATION) == fingerprints(published)
    finally:
        con.close()
        published.close()


def test_every_restricted_path_is_owner_only(real_run):
    _, outputs, *_ = real_run
    restricted = outputs / "restricted"
    paths = [restricted, *restricted.rglob("*")]
    assert any(p.suffix == ".csv" for p in paths)  # the case-finding lists are there
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_every_output_is_under_the_outputs_folder(real_run):
    _, outputs, warehouse, *_, said = real_run
    for part in (
        "profiles/index.html",
        "model_card/index.md",
        "restricted/warehouse.duckdb",
        "restricted/case_finding",
        "validation/data_docs",
    ):
        assert (outputs / part).exists(), part
    assert str(restricted_store_path(outputs)) in said  # and the run says where it is
    assert {p.name for p in warehouse.parent.iterdir()} <= {
        "llr.duckdb",
        ".llr.duckdb.lock",
        ".llr.duckdb.swap.lock",
    }


def test_a_run_refuses_restricted_output_in_a_folder_others_can_read(small_extract, tmp_path):
    outputs = tmp_path / "shared"
    (outputs / "restricted").mkdir(parents=True)
    os.chmod(outputs / "restricted", 0o755)
    outcome = run_pipeline(extract=small_extract, warehouse=tmp_path / "w.duckdb", outputs=outputs)
    assert not outcome.success
    assert "chmod 700" in str(outcome.error) and "--outputs" in str(outcome.error)
    assert not (tmp_path / "w.duckdb").exists()  # refused before anything was done
    assert list((outputs / "restricted").iterdir()) == []


def test_a_real_extract_without_outputs_is_refused_rather_than_written_into_the_checkout(
    small_extract, capsys
):
    assert main(["run", "--extract", str(small_extract)]) == 1
    said = capsys.readouterr().err
    assert "code checkout" in said and "--outputs DIR" in said
    assert "Traceback" not in said
