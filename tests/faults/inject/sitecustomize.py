"""Fault injection for the tests in tests/faults, loaded by Python at start-up when this
folder is on PYTHONPATH (so it reaches the child process `phm run` supervises).

    PHM_FAULT=ENOSPC:model_card   a write-open of a path containing "model_card" fails with
                                  OSError(ENOSPC) (any errno name: EROFS, EACCES...)
    PHM_FAULT=MemoryError:model_card   ... raises MemoryError instead
    PHM_FAULT=MemoryError:patients_:reads   ... on reading too
    PHM_FAULT=MemoryError:polars:imports    ... on importing a module whose name starts so

Only the supervised child of `phm run` is armed (its command line runs pipelines.supervisor),
or any `phm` command with PHM_FAULT_ANYWHERE=1. An audit hook sees every open() made from
Python (polars' and DuckDB's native file access it does not).
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
    kind, fragment, *reads = fault.split(":")

    def hook(event, args):
        if event == "import" and reads == ["imports"] and str(args[0]).startswith(fragment):
            _fail()
        if event != "open" or reads == ["imports"]:
            return
        path, mode, flags = (list(args) + [None, None, None])[:3]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        if not reads and not _writes(mode, flags):
            return
        path = os.fsdecode(path)
        if fragment not in path:
            return
        _fail(path)

    def _fail(path=None):
        if kind == "MemoryError":
            raise MemoryError()
        number = getattr(errno, kind)
        raise OSError(number, os.strerror(number), path)

    sys.addaudithook(hook)


_ARMED = "pipelines.supervisor" in sys.orig_argv or os.environ.get("PHM_FAULT_ANYWHERE")
if os.environ.get("PHM_FAULT") and _ARMED:
    _arm(os.environ["PHM_FAULT"])
