"""The extract, read against the data contract, with the blocking checks that guard it."""


import dagster as dg

from phm.extract import Extract, read_extract
from phm.sources import locate_extract
from phm.validation import validate_extract
from pipelines.metadata import column_schema, problems_metadata
from pipelines.resources import PhmSettings


@dg.asset(group_name="extract")
def patient_extract(context: dg.AssetExecutionContext, settings: PhmSettings) -> dg.Output[Extract]:
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
    """The Great Expectations suite derived from the contract, on every file, and the
    cross-file rules (practices exist, ltc_count sums the flags). Blocking: nothing
    downstream runs, and nothing is published, from an extract that fails it."""
    report = validate_extract(patient_extract)
    return dg.AssetCheckResult(
        passed=report.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=problems_metadata(report.problems)
        | {
            "warnings": dg.MetadataValue.json([str(w) for w in report.warnings]),
            "suites": dg.MetadataValue.json({s.file: s.as_metadata() for s in report.summaries}),
        },
    )
