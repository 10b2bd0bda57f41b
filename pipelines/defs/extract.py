"""The extract, read against the data contract, with the blocking checks that guard it."""

from __future__ import annotations

import dagster as dg

from phm.extract import Extract, read_extract
from phm.sources import locate_extract
from phm.validation import cross_file_problems, expectation_problems
from pipelines.metadata import column_schema, problems_metadata
from pipelines.resources import PhmSettings


@dg.asset(group_name="extract")
def patient_extract(context: dg.AssetExecutionContext, settings: PhmSettings) -> Extract:
    """The extract: practices, patient snapshots and deaths, read and type-checked."""
    config = settings.load()
    folder = locate_extract(config, progress=context.log.info)
    extract = read_extract(folder, config.ltc_columns)
    rows = {"practices": extract.practices.height} | {
        f"patients_{d}": frame.height for d, frame in extract.snapshots.items()
    }
    if extract.deaths is not None:
        rows["deaths"] = extract.deaths.height
    return dg.Output(
        extract,
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "synthetic_default": config.uses_synthetic_default,
            "snapshots": dg.MetadataValue.json([str(d) for d in extract.snapshots]),
            "rows_per_file": dg.MetadataValue.json(rows),
            "dagster/column_schema": column_schema(extract.patients),
        },
    )


@dg.asset_check(asset=patient_extract, blocking=True)
def extract_meets_contract(patient_extract: Extract) -> dg.AssetCheckResult:
    """Great Expectations suite derived from the contract declarations, on every file."""
    problems, summaries = expectation_problems(patient_extract)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=problems_metadata(problems)
        | {"suites": dg.MetadataValue.json({s.file: s.as_metadata() for s in summaries})},
    )


@dg.asset_check(asset=patient_extract, blocking=True)
def extract_files_agree(patient_extract: Extract) -> dg.AssetCheckResult:
    """Cross-file rules: practices exist, ltc_count sums the flags, one row per patient."""
    problems = cross_file_problems(patient_extract)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=problems_metadata(problems),
    )
