"""Materialise the asset graph in-process: what `phm run`, the benchmark and the tests call.

The run uses an in-memory IO manager that lets each value go after its last reader
(pipelines/storage.py), the in-process executor (stack-notes: a step per process costs ~4 s
of imports on 2 cores) without Dagster's copy of every output, and an ephemeral Dagster
instance, so no DAGSTER_HOME is needed. The graph is exactly the one `dg dev` shows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb

from phm.engines import require_spark
from phm.errors import DataContractError, PhmError
from phm.extract import read_partial, snapshot_dates_in
from phm.failures import DISK_FAULTS, MachineError, classify_text, free_mib
from phm.sources import locate_extract
from phm.warehouse.publish import prepare_stores
from pipelines.outcome import RunOutcome, StageTiming
from pipelines.partitions import SNAPSHOTS, key, run_tags
from pipelines.resources import PhmSettings
from pipelines.storage import ReleasingMemoryIOManager, reader_counts


def graph() -> list:
    """Every asset and asset check of the code location."""
    from pipelines.definitions import defs

    d = defs()
    return [*d.assets, *(d.asset_checks or [])]


def run_pipeline(
    *,
    config_path: Path | None = None,
    extract: Path | None = None,
    warehouse: Path | None = None,
    outputs: Path | None = None,
    engine: str | None = None,
    log_level: str = "WARNING",
    on_event: Callable[[dg.EventLogEntry], None] | None = None,
) -> RunOutcome:
    """Run the whole graph; user-facing failures come back as `RunOutcome.error`.
    `on_event` sees every event of the run as it happens (the supervisor's progress)."""
    settings = PhmSettings(
        **({"config_path": str(config_path)} if config_path else {}),
        extract_path=str(extract) if extract else None,
        warehouse_path=str(warehouse) if warehouse else None,
        outputs_dir=str(outputs) if outputs else None,
        engine=engine,
    )
    config = settings.load()  # a configuration error is reported before anything runs
    _quiet_dagster(log_level)
    try:
        prepare_stores(config)  # an exposed restricted folder is refused before any work
        if config.engine == "spark":
            require_spark()
        keys = snapshot_partitions(locate_extract(config), config.ltc_columns)
    except PhmError as error:
        return RunOutcome(success=False, error=error)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SNAPSHOTS.name, keys)
    run_id = str(uuid.uuid4())
    if on_event is not None:
        instance.add_event_listener(run_id, on_event)
    result = materialize(
        graph(),
        run_id=run_id,
        instance=instance,
        resources={"settings": settings, "io_manager": _io_manager()},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags=run_tags(keys),  # one run, every snapshot partition
        raise_on_error=False,
    )
    return RunOutcome(
        success=result.success,
        stages=_stage_timings(instance, result.run_id),
        failed_checks=_failed_checks(result),
        error=_user_error(result, config),
        metadata=_metadata(result),
    )


def _io_manager() -> dg.IOManagerDefinition:
    """Values in memory, each released after its last reader (pipelines/storage.py)."""
    return dg.IOManagerDefinition.hardcoded_io_manager(
        ReleasingMemoryIOManager(reader_counts(graph()))
    )


def materialize(
    assets: list,
    *,
    resources: dict,
    run_id: str | None = None,
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """`dg.materialize` in this process, with the run id chosen first (so that a listener can
    follow the run) and without its copy of every step's output.

    Dagster's `execute_in_process` keeps each step's return value for `output_for_node`, which
    nothing here reads, and so holds every value, patient rows included, to the end of the run
    whatever the IO manager lets go (at ten times LLR that is gigabytes). This is its own code
    (Dagster 1.13, `JobDefinition.execute_in_process`) with the capture off; the
    test of the released IO manager fails if a Dagster upgrade brings the copy back.
    """
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import (
        core_execute_in_process,
        merge_run_tags,
    )

    job = dg.define_asset_job("__ephemeral_asset_job__")
    defs = dg.Definitions(jobs=[job], assets=assets, resources=resources)
    # in-process executor, as execute_in_process runs it
    job_def = defs.resolve_job_def(job.name).as_ephemeral_job(resource_defs={}, input_values={})
    return core_execute_in_process(
        job=InMemoryJob(job_def=job_def),
        run_config=run_config or {},
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=raise_on_error,
        run_tags=merge_run_tags(
            job_def=job_def,
            partition_key=None,
            tags=tags,
            asset_selection=None,
            instance=instance,
            run_config=run_config or {},
        ),
        run_id=run_id,
    )


def snapshot_partitions(folder: Path, ltc_columns) -> list[str]:
    """The partition keys an extract folder offers: one per well-named snapshot file. With
    none, the folder's problems (no snapshot, misnamed files) are raised as a contract error."""
    keys = [key(d) for d in snapshot_dates_in(folder)]
    if not keys:
        raise DataContractError(read_partial(folder, ltc_columns).problems, extract=str(folder))
    return keys


def _quiet_dagster(level: str) -> None:
    logging.getLogger("dagster").setLevel(level)


def _stage_timings(instance: dg.DagsterInstance, run_id: str) -> list[StageTiming]:
    stats = sorted(instance.get_run_step_stats(run_id), key=lambda s: s.start_time or 0)
    return [
        StageTiming(s.step_key, s.end_time - s.start_time, s.start_time, s.end_time)
        for s in stats
        if s.start_time and s.end_time
    ]


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, str]]:
    """Every materialisation's and check's metadata, as text (what the UI would show)."""
    out: dict[str, dict[str, str]] = {}
    for event in result.get_asset_materialization_events():
        m = event.materialization
        out[m.asset_key.to_user_string()] = {k: str(v.value) for k, v in m.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        out[evaluation.check_name] = {k: str(v.value) for k, v in evaluation.metadata.items()}
    return out


def _failed_checks(result: dg.ExecuteInProcessResult) -> dict[str, list[str]]:
    failed = {}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            listed = evaluation.metadata.get("problem_list")
            failed[evaluation.check_name] = list(listed.value) if listed else []
    return failed


def _user_error(result: dg.ExecuteInProcessResult, config) -> PhmError | None:
    """The PhmError a step raised, if any (Dagster keeps the original exception's class name
    and message), or the failure of the machine behind it (a full disk, a lock...)."""
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        for error in _error_chain(event.step_failure_data.error):
            if error.cls_name in {c.__name__ for c in _user_error_classes()}:
                return PhmError(error.message.split(": ", 1)[-1].rstrip())
        for error in _error_chain(event.step_failure_data.error):
            fault = classify_text(error.cls_name or "", error.message, stage=event.step_key)
            if fault is not None:
                published = any(
                    e.materialization.asset_key.to_user_string() == "warehouse"
                    for e in result.get_asset_materialization_events()
                ) or (event.step_key == "warehouse" and _live_is_this_run(config))
                if fault.path is None and fault.kind in DISK_FAULTS:
                    folder = _fullest(config.warehouse.path.parent, config.outputs.dir)
                    fault = replace(fault, path=str(folder))
                return MachineError(replace(fault, published=published))
    return None


def _fullest(*folders: Path) -> Path:
    """Of the folders a run writes to, the one with least space free: where an error that
    lost its path (a failed write() names no file) most likely happened."""
    return min(folders, key=free_mib)


def _live_is_this_run(config) -> bool:
    """Whether the live warehouse already holds this run's inputs: a publish that failed
    after its swap (fsync, say) did publish, and the message must not say otherwise."""
    from phm.warehouse.publish import fingerprints, inputs_fingerprint

    try:
        con = duckdb.connect(str(config.warehouse.path), read_only=True)
        try:
            live = fingerprints(con)
        finally:
            con.close()
        return live == {inputs_fingerprint(locate_extract(config), config)}
    except (OSError, duckdb.Error):  # unreadable: it cannot be said to hold this run
        return False


def _error_chain(error):
    """A SerializableErrorInfo and the errors it was raised from or during."""
    while error is not None:
        yield error
        error = error.cause or error.context


def _user_error_classes() -> tuple[type, ...]:
    from phm.errors import ConfigError

    return (PhmError, DataContractError, ConfigError)
