"""Fault injection for the tests in tests/faults, loaded by Python at start-up when this
folder is on PYTHONPATH (so it reaches the child process `phm run` supervises).

    PHM_FAULT=ENOSPC:model_card   a write-open of a path containing "model_card" fails with
                                  OSError(ENOSPC) (any errno name: EROFS, EACCES...)
    PHM_FAULT=MemoryError:model_card   ... raises MemoryError instead

Only the supervised child is armed (its command line runs pipelines.supervisor); an audit
hook sees every open() made from Python (polars' and DuckDB's native writes it does not).
"""

import errno
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT


def _writes(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _arm(fault: str) -> None:
    kind, _, fragment = fault.partition(":")

    def hook(event, args):
        if event != "open":
            return
        path, mode, flags = (list(args) + [None, None, None])[:3]
        if not isinstance(path, (str, bytes, os.PathLike)) or not _writes(mode, flags):
            return
        path = os.fsdecode(path)
        if fragment not in path:
            return
        if kind == "MemoryError":
            raise MemoryError()
        number = getattr(errno, kind)
        raise OSError(number, os.strerror(number), path)

    sys.addaudithook(hook)


if os.environ.get("PHM_FAULT") and "pipelines.supervisor" in sys.orig_argv:
    _arm(os.environ["PHM_FAULT"])
