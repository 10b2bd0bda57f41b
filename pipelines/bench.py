"""The benchmark: per-stage wall time and peak resident memory of a full run.

It measures and prints; it asserts nothing (a timed test would be flaky on a shared 2-core
machine). Memory is the resident set of the process and its children (on Spark: the JVM and
its Python workers), sampled every 20 ms and attributed to the stage running at the time, so
native (polars, numpy) allocations are counted too.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from phm.config import PipelineConfig, load_config
from phm.sources import ensure_synthetic_extract

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    """This process's resident set plus its children's (Spark's JVM and Python workers)."""
    return sum(_statm_rss(pid) for pid in _tree(os.getpid()))


def _statm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:  # a child that has just ended
        return 0


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                continue
    return found


class RssSampler:
    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), _rss_bytes()))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        window = [rss for t, rss in self.samples if start <= t <= end]
        return max(window, default=0)


def benchmark(scale: float = 1.0, seed: int = 42, engine: str | None = None) -> None:
    from pipelines.runner import run_pipeline

    base = load_config()
    with tempfile.TemporaryDirectory(prefix="phm-bench-") as tmp:
        config = base.with_overrides(
            synthetic__scale=scale, synthetic__seed=seed, outputs__dir=Path(tmp)
        )
        print(
            f"phm bench: scale {scale:g} (seed {seed}) on {os.cpu_count()} cores, "
            f"engine {engine or base.engine}"
        )
        with RssSampler() as sampler:
            t0 = time.time()
            extract = ensure_synthetic_extract(config)
            t1 = time.time()
            outcome = run_pipeline(
                extract=extract,
                warehouse=Path(tmp) / "bench.duckdb",
                outputs=Path(tmp) / "out",
                engine=engine,
            )
            t2 = time.time()
        _report(config, sampler, t0, t1, t2, outcome)


def _report(config: PipelineConfig, sampler: RssSampler, t0, t1, t2, outcome) -> None:
    mib = 1024 * 1024
    print(f"  {'stage':<34}{'seconds':>9}{'peak RSS MiB':>15}")
    print(
        f"  {'synthetic extract (generate)':<34}{t1 - t0:>9.1f}{sampler.peak(t0, t1) / mib:>15.0f}"
    )
    for stage in outcome.stages:
        print(
            f"  {stage.stage:<34}{stage.seconds:>9.1f}"
            f"{sampler.peak(stage.start, stage.end) / mib:>15.0f}"
        )
    print(
        f"  {'pipeline total (incl. Dagster)':<34}{t2 - t1:>9.1f}"
        f"{sampler.peak(t1, t2) / mib:>15.0f}"
    )
    print(f"  {'end to end':<34}{t2 - t0:>9.1f}{sampler.peak(t0, t2) / mib:>15.0f}")
    if not outcome.success:
        print("  (the run did not succeed: figures cover the stages that ran)")
