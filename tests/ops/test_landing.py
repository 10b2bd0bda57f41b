"""The landing folder and the landing sensor, evaluated in-process (no daemon)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from phm.config import load_config
from phm.landing import REPORT_NAME, ready_extracts
from pipelines.defs.automation import automation, landing_sensor, snapshot_partitions
from pipelines.resources import PhmSettings

SNAPSHOT = "patients_2023-04-01.parquet"


@pytest.fixture
def landing(quick_config, tmp_path) -> tuple[Path, PhmSettings]:
    """A configuration whose landing, accepted and quarantine folders are fresh per test."""
    config = tmp_path / "phm.yaml"
    config.write_text(quick_config.read_text(encoding="utf-8"), encoding="utf-8")
    settings = PhmSettings(config_path=str(config))
    return settings.load().landing.dir, settings


def _drop(extract: Path, landing_dir: Path, name: str, *, ready: bool = True) -> Path:
    folder = landing_dir / name
    shutil.copytree(extract, folder)
    if ready:
        (folder / "_READY").touch()  # the uploader writes the marker last
    return folder


def _evaluate(settings: PhmSettings) -> dg.SensorExecutionData:
    context = dg.build_sensor_context(resources={"settings": settings})
    return landing_sensor.evaluate_tick(context)


def test_a_new_valid_extract_is_accepted_and_the_sensor_requests_a_run(extract_a, landing):
    landing_dir, settings = landing
    _drop(extract_a, landing_dir, "llr_2023-04")
    _drop(extract_a, landing_dir, "still_uploading", ready=False)

    result = _evaluate(settings)

    [request] = result.run_requests
    accepted = settings.load().landing.accepted_dir
    assert stat.S_IMODE(accepted.stat().st_mode) == 0o700  # it holds patient data
    [folder] = list(accepted.iterdir())
    assert folder.name.startswith("llr_2023-04__")
    assert request.run_key == folder.name
    assert request.job_name in (None, "phm_pipeline")
    assert request.run_config["resources"]["settings"]["config"] == {
        "config_path": settings.config_path,
        "extract_path": str(folder),
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [p.name for p in extract_a.iterdir()] + ["_READY"]
    )
    # the incomplete upload is left alone until its marker appears
    assert [p.name for p in landing_dir.iterdir()] == ["still_uploading"]
    # a second tick finds nothing new
    assert _evaluate(settings).run_requests == []
    # the request launches the job: its run config is valid for the code location's job
    from pipelines.definitions import defs

    assert dg.validate_run_config(defs().resolve_job_def("phm_pipeline"), request.run_config)
    # the same content landed again under the same name: one accepted copy, the same run_key
    # (Dagster launches one run per run_key)
    _drop(extract_a, landing_dir, "llr_2023-04")
    [again] = _evaluate(settings).run_requests
    assert again.run_key == request.run_key
    assert list(accepted.iterdir()) == [folder]
    assert ready_extracts(settings.load().landing) == []


def test_an_invalid_extract_is_quarantined_with_its_report_and_no_run(extract_a, landing):
    landing_dir, settings = landing
    folder = _drop(extract_a, landing_dir, "llr_bad", ready=False)
    snapshot = pl.read_parquet(folder / SNAPSHOT)
    broken = snapshot.with_columns(  # 4 patients at an unknown practice; 3 with age 140
        pl.when(pl.int_range(pl.len()) < 4)
        .then(pl.lit("Z99999"))
        .otherwise(pl.col("practice_code"))
        .alias("practice_code"),
        pl.when(pl.int_range(pl.len()).is_between(10, 12))
        .then(140)
        .otherwise(pl.col("age"))
        .alias("age"),
    )
    broken.write_parquet(folder / SNAPSHOT)
    (folder / "_READY").touch()

    result = _evaluate(settings)

    assert result.run_requests == []
    assert not any(landing_dir.iterdir())
    assert not settings.load().landing.accepted_dir.exists()
    [quarantined] = list(settings.load().landing.quarantine_dir.iterdir())
    assert quarantined.name.startswith("llr_bad__")
    report = (quarantined / REPORT_NAME).read_text(encoding="utf-8")
    assert "nothing was published" in report
    assert f"| {SNAPSHOT} | practice_code |" in report
    assert f"| {SNAPSHOT} | age |" in report
    assert "| 4 |" in report and "| 3 |" in report
    # counts and row numbers only: no identifier or value from the file
    for patient_id in broken["patient_id"].head(15).to_list():
        assert patient_id not in report
    assert "Z99999" not in report


def test_sensor_and_schedule_ship_stopped():
    assert not load_config().landing.sensor_enabled
    definitions = automation()
    sensors = {s.name: s for s in definitions.sensors}
    [schedule] = definitions.schedules
    assert sensors["landing_sensor"].default_status == dg.DefaultSensorStatus.STOPPED
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 6 2 * *"
    # registering partition keys launches nothing, so it runs from the start
    assert sensors["snapshot_partitions"].default_status == dg.DefaultSensorStatus.RUNNING


def test_the_sensor_registers_the_extracts_snapshots_and_runs_them_all_at_once(extract_a, landing):
    landing_dir, settings = landing
    _drop(extract_a, landing_dir, "llr_2023-04")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("snapshots", ["2021-04-01"])  # seen in an earlier extract
    context = dg.build_sensor_context(resources={"settings": settings}, instance=instance)

    result = landing_sensor.evaluate_tick(context)

    dates = sorted(
        p.name[len("patients_") : -len(".parquet")]
        for p in extract_a.iterdir()
        if p.name.startswith("patients_")
    )
    [request] = result.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == dates[0]
    assert request.tags["dagster/asset_partition_range_end"] == dates[-1]
    [added] = result.dynamic_partitions_requests
    assert added.partitions_def_name == "snapshots"
    assert sorted(added.partition_keys) == dates[1:]  # only the new ones


def test_the_partitions_sensor_registers_the_configured_extracts_snapshots(extract_a, landing):
    _, settings = landing
    settings = PhmSettings(config_path=settings.config_path, extract_path=str(extract_a))
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(resources={"settings": settings}, instance=instance)
    [added] = snapshot_partitions.evaluate_tick(context).dynamic_partitions_requests
    assert len(added.partition_keys) == len(list(extract_a.glob("patients_*")))
    instance.add_dynamic_partitions("snapshots", list(added.partition_keys))
    again = snapshot_partitions.evaluate_tick(context)
    assert again.dynamic_partitions_requests == [] and again.skip_message


def test_the_monthly_schedule_runs_every_snapshot_of_the_configured_extract(
    extract_a, landing, tmp_path
):
    _, settings = landing
    settings = PhmSettings(config_path=settings.config_path, extract_path=str(extract_a))
    instance = dg.DagsterInstance.local_temp(tempdir=str(tmp_path))
    [schedule] = automation().schedules
    context = dg.build_schedule_context(instance=instance, resources={"settings": settings})
    [request] = schedule.evaluate_tick(context).run_requests
    keys = instance.get_dynamic_partitions("snapshots")
    assert len(keys) == len(list(extract_a.glob("patients_*")))
    assert request.tags["dagster/asset_partition_range_start"] == min(keys)
    assert request.tags["dagster/asset_partition_range_end"] == max(keys)
