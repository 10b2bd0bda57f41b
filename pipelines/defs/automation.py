"""Running without a person: the pipeline job, the landing sensor, the monthly schedule, and
the sensor that keeps the snapshot partitions in step with the configured extract.

The landing sensor and the schedule start STOPPED (configs/default.yaml
`landing.sensor_enabled` / `schedule_enabled`, or switch them on in the UI);
docs/operations.md says when to use which. `snapshot_partitions` runs by default: it only
registers partition keys (snapshot dates), it never launches a run.
"""

from __future__ import annotations

import dagster as dg

from phm.config import load_config
from phm.extract import snapshot_dates_in
from phm.landing import process_landing
from phm.sources import offered_snapshots
from pipelines.partitions import SNAPSHOTS, add_request, key, run_tags
from pipelines.resources import PhmSettings

# Every asset and check, in one process (stack-notes: a process per step costs ~4 s each),
# one run at a time (dagster.yaml): one DuckDB writer.
phm_pipeline = dg.define_asset_job(
    "phm_pipeline",
    selection=dg.AssetSelection.all(),
    description="The whole pipeline: read and validate the extract, model, tier, publish. "
    "Launch it over every snapshot partition (a partition range) for a new extract, or over "
    "one snapshot to re-run just that one.",
    executor_def=dg.in_process_executor,
)


def settings_run_config(settings: PhmSettings, extract_path: str) -> dict:
    """Run config pointing the `settings` resource at an extract folder. Every field is
    given: a field left out of run config falls back to its default, not to the value the
    resource was bound with (measured on dagster 1.13.27)."""
    config = {"config_path": settings.config_path, "extract_path": extract_path}
    if settings.warehouse_path is not None:
        config["warehouse_path"] = settings.warehouse_path
    if settings.outputs_dir is not None:  # the restricted store goes where it was pointed
        config["outputs_dir"] = settings.outputs_dir
    return {"resources": {"settings": {"config": config}}}


def evaluate_landing(context: dg.SensorEvaluationContext, settings: PhmSettings):
    """Validates each complete extract in the landing folder (marker file written last): a
    valid one is moved to the accepted folder, its snapshots registered as partitions, and
    run through the whole pipeline, every snapshot in one run; an invalid one is moved to
    quarantine with validation_report.md, and nothing is published from it."""
    config = settings.load()
    landed = process_landing(config.landing, config.ltc_columns)
    if not landed:
        return dg.SkipReason(f"No complete extract in {config.landing.dir}.")
    accepted = {}
    for item in landed:
        if item.accepted:
            accepted[item] = [key(d) for d in snapshot_dates_in(item.folder)]
        else:
            context.log.warning(
                f"Quarantined {item.name} ({item.problems} problems): see "
                f"{item.folder / 'validation_report.md'}"
            )
    instance = _instance(context)
    new_keys = add_request({k for keys in accepted.values() for k in keys}, instance)
    # the order Dagster will hold the keys in once the request is applied
    registered = list(instance.get_dynamic_partitions(SNAPSHOTS.name) if instance else [])
    registered += [k for request in new_keys for k in request.partition_keys]
    requests = []
    for item, snapshots in accepted.items():
        context.log.info(f"Accepted {item.name}: running {len(snapshots)} snapshots")
        requests.append(
            dg.RunRequest(
                run_key=item.run_key,
                run_config=settings_run_config(settings, str(item.folder)),
                tags=run_tags(snapshots, registered)
                | {"phm/extract": item.name, "phm/fingerprint": item.fingerprint},
            )
        )
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=new_keys)


def _instance(context: dg.SensorEvaluationContext) -> dg.DagsterInstance | None:
    """The instance the sensor ticks in; None when evaluated without one (in tests)."""
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def build_landing_sensor(enabled: bool = False) -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
    return dg.sensor(
        name="landing_sensor", job=phm_pipeline, minimum_interval_seconds=60, default_status=status
    )(evaluate_landing)


landing_sensor = build_landing_sensor()  # as shipped: stopped


@dg.sensor(
    name="snapshot_partitions",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def snapshot_partitions(context: dg.SensorEvaluationContext, settings: PhmSettings):
    """Registers a partition for every snapshot the configured extract offers (extract.path,
    or the synthetic default's dates), so the UI can materialise and backfill them."""
    keys = [key(d) for d in offered_snapshots(settings.load())]
    requests = add_request(keys, _instance(context))
    if not requests:
        return dg.SkipReason("Every snapshot of the configured extract has a partition.")
    return dg.SensorResult(dynamic_partitions_requests=requests)


def monthly_run(context: dg.ScheduleEvaluationContext, settings: PhmSettings):
    """One run over every snapshot of the configured extract (registering any new one: a
    schedule cannot return a partitions request as a sensor does)."""
    keys = [key(d) for d in offered_snapshots(settings.load())]
    if not keys:
        return dg.SkipReason("The configured extract offers no snapshot file.")
    new = sorted(set(keys) - set(context.instance.get_dynamic_partitions(SNAPSHOTS.name)))
    if new:
        context.instance.add_dynamic_partitions(SNAPSHOTS.name, new)
    return dg.RunRequest(
        tags=run_tags(keys, context.instance.get_dynamic_partitions(SNAPSHOTS.name))
    )


def _status(enabled: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED


@dg.definitions
def automation() -> dg.Definitions:
    landing = load_config().landing  # the default configuration decides the initial status
    sensor = build_landing_sensor(landing.sensor_enabled)
    monthly = dg.schedule(
        name="monthly_refresh",
        job=phm_pipeline,
        cron_schedule=landing.schedule_cron,
        execution_timezone="Europe/London",
        default_status=_status(landing.schedule_enabled),
        description="Runs the pipeline on the configured extract (extract.path, or the "
        "synthetic default) once a month, every snapshot in one run; an alternative to the "
        "landing sensor.",
    )(monthly_run)
    return dg.Definitions(
        jobs=[phm_pipeline], sensors=[sensor, snapshot_partitions], schedules=[monthly]
    )
