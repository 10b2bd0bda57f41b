"""No patient-level value in logs or Dagster metadata, even at the most verbose log level."""

import logging

import polars as pl

from pipelines.runner import run_pipeline


def test_logs_and_metadata_carry_no_patient_values(small_extract, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    outcome = run_pipeline(
        extract=small_extract,
        warehouse=tmp_path / "w.duckdb",
        outputs=tmp_path / "outputs",
        log_level="DEBUG",
    )
    assert outcome.success
    snapshot = pl.read_parquet(sorted(small_extract.glob("patients_*.parquet"))[-1])
    ids = set(snapshot["patient_id"].to_list())
    captured = capfd.readouterr()
    said = captured.out + captured.err + caplog.text
    metadata = " ".join(v for m in outcome.metadata.values() for v in m.values())
    assert len(said) > 1000  # the debug log did run: this test would see a leak
    for text in (said, metadata):
        words = set(text.replace('"', " ").replace("'", " ").replace(",", " ").split())
        assert not words & ids
