"""The fault-injection suite runs `phm run` as an analyst would, while the machine fails it.

It reuses the operations tests' small extracts, quick configuration and first publication
(tests/ops/conftest.py), and adds the means to fail a run: a small tmpfs (mounted where the
test may mount, as root here), fault injection into the supervised child (inject/), and the
checks every fault ends with (harness.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ops.conftest import (  # noqa: F401  (fixtures, shared with the operations tests)
    extract_a,
    extract_b,
    ops_root,
    published_a,
    quick_config,
)


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of a given size in MiB (skipped where this account cannot mount one)."""
    mounted = []

    def mount(size_mib: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(folder)],
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip("cannot mount a small filesystem here (needs root)")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)
