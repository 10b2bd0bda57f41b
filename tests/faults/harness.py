"""Running `phm` under a fault, and the checks every fault test ends with: the live
publication is the last complete one (byte for byte where asked), both stores open and are
twins, no temporary file is left, and stderr says the cause in one line, no traceback."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.ops.conftest import contents, outputs_of, store_of

PHM = Path(sys.executable).with_name("phm")
INJECT = Path(__file__).with_name("inject")
# What a publish, a restore or an output writer keeps only while it works (lock files stay:
# they are how publishers take turns, and hold nothing).
TEMPORARY = (
    ".building",
    ".staging",
    ".restoring",
    ".wal",
    ".tmp",
    ".old",
    ".model_card.",
    ".profiles.",
)


def phm_run(
    config: Path,
    extract: Path,
    warehouse: Path,
    *,
    fault: str | None = None,
    tmpdir: Path | None = None,
    **popen,
) -> subprocess.Popen:
    """`phm run` on a publication folder, started; `fault` arms tests/faults/inject, and
    `tmpdir` is where the supervisor keeps the child's status file."""
    command = [str(PHM), "run", "--config", str(config), "--extract", str(extract)]
    command += ["--warehouse", str(warehouse), "--outputs", str(outputs_of(warehouse))]
    return phm(command[1:], fault=fault, tmpdir=tmpdir, **popen)


def phm(
    args: list[str],
    *,
    fault: str | None = None,
    anywhere: bool = False,
    tmpdir: Path | None = None,
    **popen,
) -> subprocess.Popen:
    """Any `phm` command, started."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    if fault:
        env |= {"PYTHONPATH": str(INJECT), "PHM_FAULT": fault}
        env |= {"PHM_FAULT_ANYWHERE": "1"} if anywhere else {}
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen(
        [str(PHM), *args],
        env=env,
        stdout=popen.pop("stdout", subprocess.PIPE),
        stderr=popen.pop("stderr", subprocess.PIPE),
        text=True,
        **popen,
    )


def finished(run: subprocess.Popen, timeout: float = 400) -> tuple[int, str]:
    """Exit status and stderr of a started run (killed if it outlasts `timeout`: its child
    dies with it)."""
    try:
        _, stderr = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        raise
    return run.returncode, stderr


def the_message(stderr: str, command: str = "run") -> str:
    """The one line that says what went wrong; nothing else in stderr looks like an error."""
    assert "Traceback" not in stderr and "stack backtrace" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith(f"phm {command}: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def state(warehouse: Path) -> dict:
    """Both stores of a publication: bytes (hashed) and contents; opening them also checks
    that they are twins (tests/ops/conftest.py, `contents`)."""
    return {
        "published bytes": _sha(warehouse),
        "restricted bytes": _sha(store_of(warehouse)),
        "contents": contents(warehouse),
    }


def temporaries(*folders: Path) -> list[Path]:
    return [
        p
        for folder in folders
        for p in folder.rglob("*")
        if any(mark in p.name for mark in TEMPORARY)
    ]


def assert_untouched(warehouse: Path, before: dict) -> None:
    """The live publication is the one before the fault, byte for byte, and nothing
    temporary is left beside either store."""
    assert state(warehouse) == before
    assert temporaries(warehouse.parent) == []


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
