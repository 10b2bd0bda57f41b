"""Output folders replaced whole (the profiles, the model card).

A reader of the folder sees the previous set of files or the new one, never a mixture; a run
that fails while writing leaves the previous set as it was; and files the new run no longer
writes (the page of a PCN that has gone from the extract) go with the old set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside `folder`; when the block ends without an error the
    staging folder becomes `folder` and the old one is removed. On an error, the staging folder
    is removed and `folder` is untouched."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    old = folder.with_name(folder.name + ".old")
    if old.exists() and not folder.exists():  # a run stopped between the two renames below
        old.rename(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        staging.chmod(0o777 & ~_umask())  # as mkdir would make it (mkdtemp makes it 0700)
        yield staging
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
