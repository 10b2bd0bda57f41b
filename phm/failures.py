"""Failures of the machine, said in one line: what happened, where, and what to do.

A bad extract or configuration is the user's to fix (`phm.errors`). A full disk, a read-only
or forbidden folder, a file another program holds, memory running out or a signal are the
machine's: this module names each one from the exception (or from what Dagster kept of it:
the class name and message text) or from how a supervised run's process ended. Messages
name paths and stages and counts, never a value from the data.
"""

from __future__ import annotations

import errno
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from phm.errors import PhmError

NO_SPACE, READ_ONLY, NO_PERMISSION, LOCKED, OUT_OF_MEMORY, KILLED, CRASHED = (
    "no space",
    "read-only",
    "no permission",
    "locked",
    "out of memory",
    "killed",
    "crashed",
)
SPARK_HEAP = "spark heap"  # a Spark JVM's heap, sized by its settings, not by this machine
DISK_FAULTS = (NO_SPACE, READ_ONLY, NO_PERMISSION)  # faults of a place on disk: name it
# Signals a process dies of when it crashes (under an address-space limit, a failed
# allocation can end this way too), rather than being stopped from outside.
_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE}

_ERRNO_KIND = {
    errno.ENOSPC: NO_SPACE,
    errno.EDQUOT: NO_SPACE,
    errno.EROFS: READ_ONLY,
    errno.EACCES: NO_PERMISSION,
    errno.EPERM: NO_PERMISSION,
    errno.EAGAIN: LOCKED,  # == EWOULDBLOCK on Linux: a non-blocking lock another process holds
    errno.ENOMEM: OUT_OF_MEMORY,
}
# The same faults as they read in text that lost its errno (DuckDB's IOException, or a
# message Dagster serialised): the C library's strerror wording, and DuckDB's own.
_TEXT_KIND = (
    ("java.lang.outofmemoryerror", SPARK_HEAP),  # a Spark JVM's (Py4JJavaError carries its trace)
    ("could not set lock", LOCKED),
    ("conflicting lock", LOCKED),
    ("no space left on device", NO_SPACE),
    ("disk quota exceeded", NO_SPACE),
    ("read-only file system", READ_ONLY),
    ("permission denied", NO_PERMISSION),
    ("operation not permitted", NO_PERMISSION),
    ("resource temporarily unavailable", LOCKED),
    ("cannot allocate memory", OUT_OF_MEMORY),
    ("out of memory", OUT_OF_MEMORY),
    ("memory allocation of", OUT_OF_MEMORY),  # Rust's allocator, before it aborts
)
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")
_PYTHON_PATH = re.compile(r"'(/[^']+)'")  # OSError's "...: '/path'" (first one: the source)
_DUCKDB_PATH = re.compile(r'file "([^"]+)"')  # DuckDB's 'Could not write file "/path"'
_LOCK_HOLDER = re.compile(r"held in (\S+) \(PID (\d+)\)")


class MachineError(PhmError):
    """A failure of the machine, not of the input: reported in one line, like a PhmError."""

    def __init__(self, fault: MachineFault):
        self.fault = fault
        super().__init__(fault.message())


@dataclass(frozen=True)
class MachineFault:
    """What happened (one of the kinds above), where (path and/or stage), with the facts that
    make the advice concrete (memory measured, the process holding a lock)."""

    kind: str
    path: str | None = None
    stage: str | None = None
    published: bool = False  # the warehouse was already published when the fault happened
    peak_mib: int | None = None
    patient_rows: int | None = None
    signal_name: str | None = None
    holder: str | None = None
    limit_mib: int | None = None  # the address-space limit (ulimit -v) the run had, if any
    outcome: str | None = None  # what became of the command's output, if not a run's
    elsewhere: str = "--outputs and --warehouse"  # the flags that put the output elsewhere

    def message(self) -> str:
        return f"{self._what()}{self._where()}; {self._outcome()}. {self._advice()}"

    def _what(self) -> str:
        return {
            NO_SPACE: "no space left on the disk",
            READ_ONLY: "read-only filesystem",
            NO_PERMISSION: "permission denied",
            LOCKED: "a file is held by another process",
            OUT_OF_MEMORY: "out of memory",
            SPARK_HEAP: "Spark ran out of Java heap",
            KILLED: f"stopped by {self.signal_name or 'a signal'}",
            CRASHED: f"the run crashed ({self.signal_name or 'a signal'})",
        }[self.kind]

    def _where(self) -> str:
        parts = []
        if self.path:
            parts.append(f" at {self.path}")
        if self.stage:
            parts.append(f" in stage {self.stage}")
        if self.holder:
            parts.append(f" ({self.holder})")
        if self.peak_mib is not None:
            measured = f"peak {self.peak_mib} MiB measured"
            if self.patient_rows:
                measured += f"; the extract has {self.patient_rows:,} patient rows"
            parts.append(f" ({measured})")
        return "".join(parts)

    def _outcome(self) -> str:
        if self.outcome:
            return self.outcome
        if self.published:
            return "the warehouse had already been published; later outputs may be missing"
        return "nothing was published, the previous warehouse is unchanged"

    def _advice(self) -> str:
        folder = _folder(self.path)
        if self.kind == NO_SPACE:
            where = f" under {folder} ({free_mib(folder)} MiB free now)" if folder else ""
            return f"Free space{where}, or use {self.elsewhere} on another disk."
        if self.kind in (READ_ONLY, NO_PERMISSION):
            fix = "make it writable" if self.kind == READ_ONLY else "give this account write access"
            return f"Use {self.elsewhere} on a writable disk, or {fix}."
        if self.kind == LOCKED:
            return (
                "Close the other program's read-write connection (BI tools should open the "
                "warehouse read-only), then run again."
            )
        if self.kind == SPARK_HEAP:
            return (
                "Give Spark more memory in the configuration (spark: conf:): raise "
                "spark.driver.memory for local[2] (the default configuration gives 6g; Spark's "
                "own 1g is too little for LLR), or spark.executor.memory on a cluster."
            )
        memory = self._memory_advice()  # "give the run ...", to finish a sentence
        if self.kind == OUT_OF_MEMORY:
            return f"{memory[0].upper()}{memory[1:]}."
        if self.kind == CRASHED:
            return "Run again with --verbose to see the error, and report it."
        if self.signal_name == "SIGKILL":
            return (
                f"If no one stopped it, the kernel's out-of-memory killer did: {memory}. "
                "A killed run needs no clean-up: run again."
            )
        return "A stopped run needs no clean-up: run again when ready."

    def _memory_advice(self) -> str:
        if self.limit_mib:
            more = f"raise the memory limit (ulimit -v: {self.limit_mib} MiB of address space)"
        elif (need := estimated_need_mib(self.patient_rows)) and need > (self.peak_mib or 0):
            more = f"give the run at least {need} MiB (the estimate for this extract)"
        elif self.peak_mib:
            more = f"give the run more than the {self.peak_mib} MiB it reached"
        else:
            more = "give the run more memory"
        # Not "--engine spark": on the same machine a run on Spark needs more memory in all
        # (the JVM's heap), though far less in this process; it helps on a cluster, which
        # this message cannot know of (docs/operations.md says so).
        return more


# Peak resident memory of a whole run grows with the patient rows read (all snapshots), far
# slower than it did (docs/operations.md, memory). Measured with `phm bench` on the synthetic
# extract, default configuration, 2 cores: 1251 MiB for 876,000 rows (scale 0.25), 1703 MiB
# for 3.5 million (LLR), 10463 MiB for 35 million (ten times LLR). The guide is fitted not to
# fall below any of them (1255, 1990 and 10810 MiB there). A rough guide.
BASE_MIB = 1010
MIB_PER_100K_ROWS = 28


def estimated_need_mib(patient_rows: int | None) -> int | None:
    if not patient_rows:
        return None
    return BASE_MIB + round(MIB_PER_100K_ROWS * patient_rows / 100_000)


def free_mib(folder: Path) -> int:
    """Free space on the filesystem holding `folder` (its nearest existing ancestor)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free >> 20


def _folder(path: str | None) -> Path | None:
    """The folder to free space in: the path's nearest existing folder (a run's temporary
    folders are gone by the time the message is read)."""
    if not path:
        return None
    folder = Path(path)
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder


def classify(exc: BaseException, stage: str | None = None) -> MachineFault | None:
    """The machine fault behind an exception or anything in its chain, or None."""
    for link in _chain(exc):
        if isinstance(link, MemoryError):
            return MachineFault(OUT_OF_MEMORY, stage=stage)
        if isinstance(link, OSError) and link.errno in _ERRNO_KIND:
            return MachineFault(_ERRNO_KIND[link.errno], _path_of(link), stage)
    for link in _chain(exc):
        fault = classify_text(type(link).__name__, str(link), stage)
        if fault:
            return fault
    return None


def classify_text(cls_name: str, message: str, stage: str | None = None) -> MachineFault | None:
    """The machine fault an exception's class name and message text describe, or None (what
    Dagster keeps of a step's error: `SerializableErrorInfo.cls_name` and `.message`)."""
    if cls_name == "MemoryError" or cls_name.endswith("OutOfMemoryException"):
        return MachineFault(OUT_OF_MEMORY, stage=stage)
    kind = None
    if found := _ERRNO_IN_TEXT.search(message):
        kind = _ERRNO_KIND.get(int(found.group(1)))
    lowered = message.lower()
    kind = kind or next((k for text, k in _TEXT_KIND if text in lowered), None)
    if kind is None:
        return None
    path = _DUCKDB_PATH.search(message) or _PYTHON_PATH.search(message)
    holder = _LOCK_HOLDER.search(message) if kind == LOCKED else None
    return MachineFault(
        kind,
        path.group(1) if path else None,
        stage,
        holder=f"{Path(holder.group(1)).name}, PID {holder.group(2)}" if holder else None,
    )


def from_exit(
    returncode: int,
    *,
    stage: str | None,
    peak_mib: int,
    patient_rows: int | None,
    stderr: str,
    oom_killed: bool = False,
    published: bool = False,
    limit_mib: int | None = None,
) -> MachineFault | None:
    """The fault behind a supervised run's abnormal end, from its exit status and stderr:
    out of memory (Rust's "memory allocation of N bytes failed" before it aborts, a
    MemoryError, or a SIGKILL the kernel's OOM killer counted), a crash, or a signal from
    outside. None for an ordinary exit status with no sign of memory running out."""
    facts = dict(
        stage=stage,
        peak_mib=peak_mib,
        patient_rows=patient_rows,
        published=published,
        limit_mib=limit_mib,
    )
    if "memory allocation of" in stderr or "MemoryError" in stderr or oom_killed:
        return MachineFault(OUT_OF_MEMORY, **facts)
    if returncode >= 0:
        return None
    number = -returncode
    if number in _CRASH_SIGNALS and limit_mib:  # a failed allocation under ulimit -v
        return MachineFault(OUT_OF_MEMORY, signal_name=_signal_name(number), **facts)
    kind = CRASHED if number in _CRASH_SIGNALS else KILLED
    return MachineFault(kind, signal_name=_signal_name(number), **facts)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _path_of(error: OSError) -> str | None:
    return str(error.filename) if error.filename is not None else None


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
