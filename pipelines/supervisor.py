"""`phm run` supervised: the pipeline runs in a child process, so that dying is an outcome.

Memory running out does not always raise: polars (Rust) aborts the process after "memory
allocation of N bytes failed", and the kernel's OOM killer sends SIGKILL. So the command
runs the pipeline in a child (the same Python), which notes each stage it starts in a small
status file, and the parent reports how the child ended: the stage it reached, the peak
memory it measured (the child's own rusage) and what to do. The child's stderr (Dagster's
logs, a Rust backtrace) is kept from the terminal unless `--verbose`.

    python -m pipelines.supervisor REQUEST_JSON   (the child; not for people)
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from phm.errors import PhmError
from phm.failures import OUT_OF_MEMORY, MachineError, MachineFault, classify, from_exit
from pipelines.memory import RssSampler
from pipelines.outcome import RunOutcome, StageTiming

PREPARING = "preparing the extract"  # before Dagster's first step: locating or generating it
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Progress:
    """What the child's status file says it reached."""

    stage: str | None = None
    patient_rows: int | None = None
    published: bool = False
    limit_mib: int | None = None  # the child's address-space limit (ulimit -v), if any


def supervised_run(
    *,
    config_path: Path | None,
    extract: Path | None,
    warehouse: Path | None,
    outputs: Path | None = None,
    verbose: bool = False,
    preexec_fn=None,
    engine: str | None = None,
) -> RunOutcome:
    """Run the pipeline in a child process and report how it ended, whatever the end."""
    _sweep_status_folders()
    with tempfile.TemporaryDirectory(prefix=f"phm-run-{os.getpid()}-") as tmp:
        folder = Path(tmp)
        request = {
            "config_path": _text(config_path),
            "extract": _text(extract),
            "warehouse": _text(warehouse),
            "outputs": _text(outputs),
            "engine": engine,
            "log_level": "INFO" if verbose else "CRITICAL",
            "status": str(folder / "status.jsonl"),
            "result": str(folder / "result.json"),
            "parent": os.getpid(),
        }
        log = None if verbose else open(folder / "child.log", "w+b")  # noqa: SIM115
        try:
            returncode, peak_mib, oom_killed = _wait(request, log, preexec_fn)
            stderr = _tail(log) if log else ""
        finally:
            if log:
                log.close()
        progress = read_progress(Path(request["status"]))
        result = Path(request["result"])
        if result.exists() and returncode == 0:
            return _outcome_from(json.loads(result.read_text()), progress, peak_mib)
    fault = from_exit(
        returncode,
        stage=progress.stage,
        peak_mib=peak_mib,
        patient_rows=progress.patient_rows,
        stderr=stderr,
        oom_killed=oom_killed,
        published=progress.published,
        limit_mib=progress.limit_mib,
    )
    _sweep(warehouse, outputs)
    if fault is None:  # an error no one expected (a bug): its name, not its text or traceback
        return RunOutcome(success=False, error=PhmError(_unexpected(stderr, returncode, progress)))
    return RunOutcome(success=False, error=MachineError(fault))


def _sweep_status_folders() -> None:
    """Remove the status folders of `phm run`s that were killed (their pid is gone)."""
    for folder in Path(tempfile.gettempdir()).glob("phm-run-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _sweep(warehouse: Path | None, outputs: Path | None) -> None:
    """A child that died mid-publish left its building copies: remove them now rather than
    at the next run (under the writer lock: another run's publish keeps its own)."""
    if warehouse is None or outputs is None:
        return
    from phm.warehouse.publish import restricted_store_path, sweep_leftovers

    with contextlib.suppress(OSError):  # the disk that failed the run may fail this too:
        sweep_leftovers(warehouse, restricted_store_path(outputs))  # the next run sweeps


_RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b", re.MULTILINE)


def _unexpected(stderr: str, returncode: int, progress: Progress) -> str:
    raised = [m.group(1) for m in _RAISED.finditer(stderr)]
    name = raised[-1] if raised else f"exit status {returncode}"
    where = f" in stage {progress.stage}" if progress.stage else ""
    published = "the warehouse was published" if progress.published else "nothing was published"
    return (
        f"the run stopped on an unexpected error ({name}){where}; {published}. "
        "Run again with --verbose to see the whole error, and report it."
    )


def _wait(request: dict, log, preexec_fn) -> tuple[int, int, bool]:
    """Start the child and wait for it: its exit code, its peak RSS in MiB and whether the
    OOM killer struck meanwhile. The peak is the larger of the child's own (wait4's rusage:
    exact, but the child's alone) and its process tree's, sampled (on Spark the JVM and its
    Python workers hold most of the memory)."""
    kills_before = oom_kills()
    child = subprocess.Popen(
        [sys.executable, "-m", "pipelines.supervisor", json.dumps(request)],
        stdout=log,
        stderr=log,
        preexec_fn=preexec_fn,
    )
    with RssSampler(interval=0.1, pid=child.pid) as tree:
        usage = _reap(child)
    tree_peak = max((s[1] for s in tree.samples), default=0)
    return child.returncode, max(usage.ru_maxrss << 10, tree_peak) >> 20, oom_kills() > kills_before


def _reap(child: subprocess.Popen):
    """Wait for the child; its resource usage (wait4)."""
    while True:
        try:
            _, status, usage = os.wait4(child.pid, 0)
            break
        except KeyboardInterrupt:  # Ctrl-C reached the child too: let it stop, then say so
            child.send_signal(signal.SIGINT)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            raise
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage


def read_progress(status: Path) -> Progress:
    progress = Progress()
    if not status.exists():
        return progress
    for line in status.read_text().splitlines():
        try:
            note = json.loads(line)
        except json.JSONDecodeError:  # the last line, cut short by a kill
            continue
        progress = replace(progress, **note)
    return progress


def _outcome_from(result: dict, progress: Progress, peak_mib: int) -> RunOutcome:
    error = None
    if result["fault"]:
        fault = MachineFault(**result["fault"])
        if fault.kind == OUT_OF_MEMORY:  # a MemoryError the child caught: add what we measured
            fault = replace(
                fault,
                peak_mib=peak_mib,
                patient_rows=progress.patient_rows,
                limit_mib=progress.limit_mib,
            )
        error = MachineError(fault)
    elif result["error"] is not None:
        error = PhmError(result["error"])
    return RunOutcome(
        success=result["success"],
        stages=[StageTiming(**s) for s in result["stages"]],
        failed_checks=result["failed_checks"],
        error=error,
        metadata=result["metadata"],
        peak_mib=peak_mib,
        patient_rows=progress.patient_rows,
    )


def oom_kills() -> int:
    """How many times the kernel's OOM killer has struck in this process's memory cgroup
    (v2 memory.events or v1 memory.oom_control), 0 where that is not readable."""
    for file in _oom_counters():
        try:
            for line in file.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
        except OSError:
            continue
    return 0


def _oom_counters() -> list[Path]:
    root = Path("/sys/fs/cgroup")
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    files = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            files.append(root / path.lstrip("/") / "memory.events")
        elif "memory" in controllers.split(","):
            files += [root / "memory" / path.lstrip("/") / "memory.oom_control"]
            files += [root / "memory" / "memory.oom_control"]
    return files


def _tail(log, limit: int = 64_000) -> str:
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - limit))
    return log.read().decode(errors="replace")


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


# The child ---------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """If `phm run` itself is killed, its child must not go on to publish alone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's death goes unnoticed
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGKILL)


class _StatusFile:
    """The child's progress, one JSON line per note, flushed at once (a kill keeps it)."""

    def __init__(self, path: Path):
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._rows = 0

    def note(self, **facts) -> None:
        self._handle.write(json.dumps(facts) + "\n")
        self._handle.flush()

    def on_event(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.event_type_value == "STEP_START":
            self.note(stage=event.step_key)
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            asset = materialization.asset_key.to_user_string()
            if asset == "patient_extract":
                rows = materialization.metadata.get("dagster/row_count")
                self._rows += rows.value if rows is not None else 0
                self.note(patient_rows=self._rows)
            elif asset == "warehouse":
                self.note(published=True)


def child_main(request: dict) -> int:
    from pipelines.runner import run_pipeline

    status = _StatusFile(Path(request["status"]))
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    status.note(stage=PREPARING, limit_mib=None if limit == resource.RLIM_INFINITY else limit >> 20)
    try:
        outcome = run_pipeline(
            config_path=_path(request["config_path"]),
            extract=_path(request["extract"]),
            warehouse=_path(request["warehouse"]),
            outputs=_path(request["outputs"]),
            engine=request.get("engine"),
            log_level=request["log_level"],
            on_event=status.on_event,
        )
        result = _result_of(outcome)
    except PhmError as error:
        result = _result_of(RunOutcome(success=False, error=error))
    except (OSError, MemoryError) as error:
        fault = classify(error, stage=read_progress(Path(request["status"])).stage)
        if fault is None:
            raise
        result = _result_of(RunOutcome(success=False, error=MachineError(fault)))
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _result_of(outcome) -> dict:
    error = outcome.error
    return {
        "success": outcome.success,
        "stages": [asdict(s) for s in outcome.stages],
        "failed_checks": outcome.failed_checks,
        "error": None if error is None else str(error),
        "fault": asdict(error.fault) if isinstance(error, MachineError) else None,
        "metadata": outcome.metadata,
    }


def _path(text: str | None) -> Path | None:
    return None if text is None else Path(text)


if __name__ == "__main__":
    _REQUEST = json.loads(sys.argv[1])
    _die_with_parent(_REQUEST["parent"])
    raise SystemExit(child_main(_REQUEST))
