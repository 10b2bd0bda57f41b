"""Running without a person: the pipeline job, the landing sensor and the monthly schedule.

Both start STOPPED (configs/default.yaml `landing.sensor_enabled` / `schedule_enabled`, or
switch them on in the UI); docs/operations.md says when to use which.
"""

from __future__ import annotations

import dagster as dg

from phm.config import load_config
from phm.landing import process_landing
from pipelines.resources import PhmSettings

# Every asset and check, in one process (stack-notes: a process per step costs ~4 s each),
# one run at a time (dagster.yaml): one DuckDB writer.
phm_pipeline = dg.define_asset_job(
    "phm_pipeline",
    selection=dg.AssetSelection.all(),
    description="The whole pipeline: read and validate the extract, model, tier, publish.",
    executor_def=dg.in_process_executor,
)


def settings_run_config(settings: PhmSettings, extract_path: str) -> dict:
    """Run config pointing the `settings` resource at an extract folder. Every field is
    given: a field left out of run config falls back to its default, not to the value the
    resource was bound with (measured on dagster 1.13.27)."""
    config = {"config_path": settings.config_path, "extract_path": extract_path}
    if settings.warehouse_path is not None:
        config["warehouse_path"] = settings.warehouse_path
    return {"resources": {"settings": {"config": config}}}


def evaluate_landing(context: dg.SensorEvaluationContext, settings: PhmSettings):
    """Validates each complete extract in the landing folder (marker file written last): a
    valid one is moved to the accepted folder and run through the whole pipeline; an invalid
    one is moved to quarantine with validation_report.md, and nothing is published from it."""
    config = settings.load()
    landed = process_landing(config.landing, config.ltc_columns)
    if not landed:
        return dg.SkipReason(f"No complete extract in {config.landing.dir}.")
    for item in landed:
        if item.accepted:
            context.log.info(f"Accepted {item.name}: running on {item.folder}")
            yield dg.RunRequest(
                run_key=item.run_key,
                run_config=settings_run_config(settings, str(item.folder)),
                tags={"phm/extract": item.name, "phm/fingerprint": item.fingerprint},
            )
        else:
            context.log.warning(
                f"Quarantined {item.name} ({item.problems} problems): see "
                f"{item.folder / 'validation_report.md'}"
            )


def build_landing_sensor(enabled: bool = False) -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
    return dg.sensor(name="landing_sensor", job=phm_pipeline, minimum_interval_seconds=60,
                     default_status=status)(evaluate_landing)


landing_sensor = build_landing_sensor()  # as shipped: stopped


def _status(enabled: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED


@dg.definitions
def automation() -> dg.Definitions:
    landing = load_config().landing  # the default configuration decides the initial status
    sensor = build_landing_sensor(landing.sensor_enabled)
    monthly = dg.ScheduleDefinition(
        name="monthly_refresh",
        job=phm_pipeline,
        cron_schedule=landing.schedule_cron,
        execution_timezone="Europe/London",
        default_status=_status(landing.schedule_enabled),
        description="Runs the pipeline on the configured extract (extract.path, or the "
        "synthetic default) once a month; an alternative to the landing sensor.",
    )
    return dg.Definitions(jobs=[phm_pipeline], sensors=[sensor], schedules=[monthly])
