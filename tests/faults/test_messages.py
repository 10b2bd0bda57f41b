"""Each failure of the machine is named in one line: what, where, and what to do."""

from __future__ import annotations

import errno
import signal

import pytest

from phm.failures import (
    CRASHED,
    KILLED,
    LOCKED,
    NO_PERMISSION,
    NO_SPACE,
    OUT_OF_MEMORY,
    READ_ONLY,
    SPARK_HEAP,
    MachineFault,
    classify,
    classify_text,
    estimated_need_mib,
    from_exit,
)

# DuckDB's own wording (duckdb 1.x), as a held file and a full disk produce it.
DUCKDB_LOCK = (
    'IO Error: Could not set lock on file "/srv/phm/llr.duckdb": Conflicting lock is held in '
    "/usr/bin/python3.11 (PID 4242) by user analyst. See also "
    "https://duckdb.org/docs/stable/connect/concurrency"
)
DUCKDB_FULL = (
    'IO Error: Could not write file "/srv/phm/.llr.duckdb.building": No space left on device'
)


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        (errno.ENOSPC, NO_SPACE),
        (errno.EDQUOT, NO_SPACE),
        (errno.EROFS, READ_ONLY),
        (errno.EACCES, NO_PERMISSION),
        (errno.EPERM, NO_PERMISSION),
        (errno.EWOULDBLOCK, LOCKED),
    ],
)
def test_an_os_error_is_named_with_its_path_and_stage(number, kind, tmp_path):
    error = OSError(number, "strerror", str(tmp_path / "out" / "index.md"))
    fault = classify(error, stage="model_card")
    assert fault == MachineFault(kind, str(tmp_path / "out" / "index.md"), "model_card")
    message = fault.message()
    assert f"at {tmp_path / 'out' / 'index.md'} in stage model_card" in message
    assert "\n" not in message and "--verbose" not in message


def test_no_space_says_where_to_free_it_and_how_much_is_free(tmp_path):
    message = classify(OSError(errno.ENOSPC, "No space", str(tmp_path / "gone" / "x"))).message()
    assert message.startswith("no space left on the disk at ")
    assert f"Free space under {tmp_path} (" in message and "MiB free now)" in message
    assert "--outputs and --warehouse on another disk" in message


def test_the_cause_is_found_anywhere_in_the_chain():
    try:
        try:
            raise OSError(errno.EROFS, "Read-only file system", "/mnt/ro/llr.duckdb")
        except OSError as inner:
            raise RuntimeError("publishing failed") from inner
    except RuntimeError as outer:
        fault = classify(outer)
    assert fault.kind == READ_ONLY and fault.path == "/mnt/ro/llr.duckdb"


def test_what_dagster_kept_of_an_error_is_enough():
    """A step's error reaches the runner as text: class name and message."""
    fault = classify_text(
        "OSError", "OSError: [Errno 28] No space left on device: '/data/out/roc.png'\n", "x"
    )
    assert (fault.kind, fault.path, fault.stage) == (NO_SPACE, "/data/out/roc.png", "x")
    assert classify_text("MemoryError", "MemoryError\n").kind == OUT_OF_MEMORY
    assert classify_text("ValueError", "ValueError: could not convert") is None


def test_duckdb_errors_name_the_file_and_the_process_holding_it():
    held = classify_text("IOException", DUCKDB_LOCK, stage="warehouse")
    assert (held.kind, held.path, held.holder) == (
        LOCKED,
        "/srv/phm/llr.duckdb",
        "python3.11, PID 4242",
    )
    message = held.message()
    assert "held by another process at /srv/phm/llr.duckdb" in message
    assert "(python3.11, PID 4242)" in message and "read-only" in message
    full = classify_text("IOException", DUCKDB_FULL, stage="warehouse")
    assert (full.kind, full.path) == (NO_SPACE, "/srv/phm/.llr.duckdb.building")
    assert (
        classify_text("OutOfMemoryException", "Out of Memory Error: failed").kind == OUT_OF_MEMORY
    )


def test_a_memory_error_is_out_of_memory_with_the_advice_sized_to_the_extract():
    fault = MachineFault(
        OUT_OF_MEMORY, stage="risk_model_evaluation", peak_mib=120, patient_rows=900_000
    )
    message = fault.message()
    assert message.startswith(
        "out of memory in stage risk_model_evaluation (peak 120 MiB measured; the extract has "
        "900,000 patient rows); nothing was published"
    )
    assert f"at least {estimated_need_mib(900_000)} MiB" in message
    assert classify(MemoryError()).kind == OUT_OF_MEMORY


def test_a_rust_allocation_failure_is_out_of_memory_not_a_crash():
    rust = "memory allocation of 241536 bytes failed\nstack backtrace:\n   0: ..."
    fault = from_exit(
        -signal.SIGABRT, stage="kaiser_tiers", peak_mib=1400, patient_rows=None, stderr=rust
    )
    assert fault.kind == OUT_OF_MEMORY and fault.stage == "kaiser_tiers"
    message = fault.message()
    assert "backtrace" not in message and "241536" not in message
    assert "more than the 1400 MiB it reached" in message


def test_the_oom_killer_is_told_from_a_plain_sigkill():
    facts = dict(stage="warehouse", peak_mib=900, patient_rows=None, stderr="")
    assert from_exit(-signal.SIGKILL, oom_killed=True, **facts).kind == OUT_OF_MEMORY
    killed = from_exit(-signal.SIGKILL, **facts)
    assert killed.kind == KILLED
    assert killed.message().startswith("stopped by SIGKILL in stage warehouse (peak 900 MiB")
    assert "out-of-memory killer" in killed.message() and "needs no clean-up" in killed.message()
    assert from_exit(-signal.SIGTERM, **facts).message().startswith("stopped by SIGTERM")


def test_a_crash_under_a_memory_limit_is_memory_and_without_one_a_crash():
    facts = dict(stage="warehouse", peak_mib=500, patient_rows=None, stderr="")
    limited = from_exit(-signal.SIGSEGV, limit_mib=2384, **facts)
    assert limited.kind == OUT_OF_MEMORY and "ulimit -v: 2384 MiB" in limited.message()
    crashed = from_exit(-signal.SIGSEGV, **facts)
    assert crashed.kind == CRASHED and "(SIGSEGV)" in crashed.message()
    assert from_exit(1, **facts) is None  # an ordinary failure is not the machine's


def test_after_publishing_the_message_does_not_claim_nothing_was():
    fault = MachineFault(NO_SPACE, "/x", "case_finding_lists", published=True)
    assert "nothing was published" not in fault.message()
    assert "already been published" in fault.message()


def test_a_spark_jvm_out_of_heap_names_the_setting_to_raise():
    """As measured: the LLR extract on local[2] with Spark's default 1g driver heap."""
    trace = (
        "py4j.protocol.Py4JJavaError: An error occurred while calling o467.parquet.\n"
        ": org.apache.spark.SparkException: Job aborted.\n"
        "Caused by: java.lang.OutOfMemoryError: Java heap space\n"
    )
    fault = classify_text("Py4JJavaError", trace, stage="kaiser_tiers")
    assert (fault.kind, fault.stage) == (SPARK_HEAP, "kaiser_tiers")
    message = fault.message()
    assert message.startswith("Spark ran out of Java heap in stage kaiser_tiers; nothing")
    assert "spark.driver.memory" in message and "\n" not in message
