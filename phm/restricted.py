"""Restricted output: patient rows readable by the account that ran the pipeline, and no other.

Every restricted folder the pipeline creates is 0700 and every restricted file 0600, whatever
the umask: files are created under a umask of 077 and then set explicitly (the umask only
ever removes bits, and a caller's umask of 0 would otherwise leave them world-readable). A
restricted folder that already exists and that group or others can open is refused rather
than quietly tightened: whoever made it so may be relying on it, and patient rows may already
have been read from it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from phm.errors import PhmError

OWNER_ONLY_FOLDER = 0o700
OWNER_ONLY_FILE = 0o600
_GROUP_OR_OTHERS = 0o077


class ExposedRestrictedFolder(PhmError):
    """A folder for patient-level output can already be opened by other accounts."""


def restricted_dir(outputs_dir: Path) -> Path:
    """Where a run's patient-level output goes: `<outputs>/restricted`."""
    return Path(outputs_dir) / "restricted"


def spark_patient_risk_dir(outputs_dir: Path) -> Path:
    """Where a run on Spark writes restricted.patient_risk, as Parquet partitioned by ICS and
    snapshot: `<outputs>/restricted/spark/patient_risk`."""
    return restricted_dir(outputs_dir) / "spark" / "patient_risk"


def private_folder(path: Path) -> Path:
    """Make `path` an owner-only folder (creating it and its parents), or refuse one that
    group or others can already open."""
    path = Path(path)
    if path.is_dir():
        refuse_if_exposed(path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, OWNER_ONLY_FOLDER)
    except FileExistsError:  # another process made it between the check and here
        refuse_if_exposed(path)
        return path
    os.chmod(path, OWNER_ONLY_FOLDER)
    return path


def refuse_if_exposed(path: Path) -> None:
    """Raise ExposedRestrictedFolder if an existing folder is open to group or others."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & _GROUP_OR_OTHERS:
        raise ExposedRestrictedFolder(
            f"The folder {path} is for patient-level (restricted) output, but other accounts "
            f"can open it (permissions {mode:o}). Make it private with `chmod 700 {path}` "
            "(and check who may already have read it), or choose another folder with "
            "--outputs."
        )


@contextmanager
def owner_only_files() -> Iterator[None]:
    """Files created inside this block (by us or by a library: DuckDB, its WAL) are owner-
    only. The umask is per process: the pipeline's steps run one at a time in it, and a
    tighter umask can only make a concurrent file more private, never less."""
    previous = os.umask(_GROUP_OR_OTHERS)
    try:
        yield
    finally:
        os.umask(previous)


def make_owner_only(path: Path) -> Path:
    """Set an existing restricted file to 0600 (belt and braces after creating it)."""
    os.chmod(path, OWNER_ONLY_FILE)
    return Path(path)


def open_private(path: Path, mode: str = "wb"):
    """Open a new restricted file for writing, created 0600 whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
    os.fchmod(fd, OWNER_ONLY_FILE)
    return os.fdopen(fd, mode)
