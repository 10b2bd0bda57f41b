"""No patient-level value in logs or Dagster metadata, even at the most verbose log level.

The run is the integration tests' shared one (tests/integration/conftest.py): it logs at
DEBUG and keeps all it said."""

import polars as pl


def test_logs_and_metadata_carry_no_patient_values(published_run, small_extract):
    _, outcome, said = published_run
    snapshot = pl.read_parquet(sorted(small_extract.glob("patients_*.parquet"))[-1])
    ids = set(snapshot["patient_id"].to_list())
    metadata = " ".join(v for m in outcome.metadata.values() for v in m.values())
    assert "STEP_SUCCESS" in said  # Dagster's DEBUG events were captured: a leak would show
    for text in (said, metadata):
        words = set(text.replace('"', " ").replace("'", " ").replace(",", " ").split())
        assert not words & ids
