"""The extract, read against the data contract, with the blocking checks that guard it."""


import shutil
from pathlib import Path

import dagster as dg

from phm.config import PipelineConfig
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
def extract_meets_contract(patient_extract: Extract, settings: PhmSettings
                           ) -> dg.AssetCheckResult:
    """The Great Expectations suite derived from the contract, on every file, and the
    cross-file rules (practices exist, ltc_count sums the flags). Blocking: nothing
    downstream runs, and nothing is published, from an extract that fails it."""
    docs = data_docs_dir(settings.load())
    report = validate_extract(patient_extract, data_docs_dir=docs)
    return dg.AssetCheckResult(
        passed=report.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=problems_metadata(report.problems)
        | {
            "warnings": dg.MetadataValue.json([str(w) for w in report.warnings]),
            "suites": dg.MetadataValue.json({s.file: s.as_metadata() for s in report.summaries}),
        }
        | data_docs_metadata(docs),
    )


def data_docs_dir(config: PipelineConfig) -> Path | None:
    """Where this run's Data Docs go: beside the warehouse the check guards (so runs against
    different warehouses, e.g. tests in tmp, never share a folder), emptied first so it
    holds one run's docs, not every run's."""
    if not config.validation.data_docs:
        return None
    folder = config.warehouse.path.parent / "validation" / "data_docs"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def data_docs_metadata(folder: Path | None) -> dict[str, dg.MetadataValue]:
    index = None if folder is None else next(folder.rglob("index.html"), None)
    return {} if index is None else {"data_docs": dg.MetadataValue.url(index.as_uri())}
