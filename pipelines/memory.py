"""Resident memory and CPU time of a process and its children (on Spark: the JVM and its
Python workers), read from /proc. `phm bench` attributes them to stages; `phm run` reports the
peak of the whole tree, since the JVM is not this process's to count. Resident sets are added
up, so pages that forked workers share are counted once per process: an upper bound."""

from __future__ import annotations

import os
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def tree_rss_bytes(pid: int) -> int:
    """A process's resident set plus its children's (Spark's JVM and Python workers)."""
    return sum(_statm_rss(p) for p in _tree(pid))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children, every thread."""
    return sum(_stat_cpu(p) for p in _tree(pid))


def _stat_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:  # a child that has just ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15)


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
    """Samples a process tree's resident memory and CPU time on a thread, while in use."""

    def __init__(self, interval: float = 0.02, pid: int | None = None):
        self.interval = interval
        self.pid = os.getpid() if pid is None else pid
        self.samples: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self._sample())

    def _sample(self) -> tuple[float, int, float, int]:
        # the tree's memory, its CPU time, and this process's own memory (on Spark, what the
        # driver holds, apart from the JVM and its workers)
        tree = tree_rss_bytes(self.pid)
        return time.time(), tree, tree_cpu_seconds(self.pid), _statm_rss(self.pid)

    def peak(self, start: float, end: float, *, own: bool = False) -> int:
        """The tree's peak resident memory between two times (`own`: the process's alone)."""
        window = [s[3] if own else s[1] for s in self.samples if start <= s[0] <= end]
        return max(window, default=0)

    def cpu(self, start: float, end: float) -> float:
        """CPU seconds spent between two times (to the sampling interval)."""
        return max(0.0, self._cpu_at(end) - self._cpu_at(start))

    def _cpu_at(self, when: float) -> float:
        before = [s[2] for s in self.samples if s[0] <= when]
        return before[-1] if before else 0.0
