"""The extract, read against the data contract, with the blocking check that guards it.

Partitioned by snapshot: a run reads and validates the snapshot files of its partitions (and
the folder's practices and deaths files, which every snapshot needs)."""

import shutil
from pathlib import Path

import dagster as dg

from phm.config import PipelineConfig
from phm.engines import row_count
from phm.extract import (
    Extract,
    combine_extracts,
    read_extract,
    read_partial_on_spark,
    split_extract,
)
from phm.sources import locate_extract
from phm.validation import validate_extract
from pipelines.metadata import column_schema, problems_metadata
from pipelines.partitions import SNAPSHOTS, key, per_snapshot_asset, snapshot_of
from pipelines.resources import PhmSettings


@per_snapshot_asset(group_name="extract")
def patient_extract(context: dg.AssetExecutionContext, settings: PhmSettings) -> dict[str, Extract]:
    """One patient snapshot per partition, with the practices and deaths files, read and
    type-checked against the data contract."""
    config = settings.load()
    folder = locate_extract(config, progress=context.log.info)
    wanted = [snapshot_of(k) for k in context.partition_keys]
    if config.engine == "spark":  # the snapshots stay on Spark: read, checked and used there
        read = read_partial_on_spark(settings.spark_session(), folder, config.ltc_columns, wanted)
        extract = read.to_extract()
    else:
        extract = read_extract(folder, config.ltc_columns, snapshots=wanted)
    deaths = row_count(extract.deaths) if extract.deaths is not None else 0
    for when, frame in extract.snapshots.items():
        context.add_asset_metadata(
            {
                "folder": dg.MetadataValue.path(str(folder)),
                "file": extract.files[f"patients_{when}"],
                "synthetic_default": config.uses_synthetic_default,
                "dagster/row_count": row_count(frame),
                "practices": extract.practices.height,
                "deaths": deaths,
                "dagster/column_schema": column_schema(extract.patients),
            },
            partition_key=key(when),
        )
    return {key(when): part for when, part in split_extract(extract).items()}


@dg.asset_check(asset=patient_extract, blocking=True, partitions_def=SNAPSHOTS)
def extract_meets_contract(
    patient_extract: dict[str, Extract], settings: PhmSettings
) -> dg.AssetCheckResult:
    """The Great Expectations suite derived from the contract, on each snapshot file of the
    run and the practices and deaths files, and the cross-file rules (practices exist,
    ltc_count sums the flags). Blocking: nothing downstream runs, and nothing is published,
    from an extract that fails it."""
    docs = data_docs_dir(settings.load())
    extract = combine_extracts(patient_extract[k] for k in sorted(patient_extract))
    report = validate_extract(extract, data_docs_dir=docs)
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
    """Where this run's Data Docs go: in the run's outputs folder (--outputs), like every
    other output, emptied first so it holds one run's docs, not every run's."""
    if not config.validation.data_docs:
        return None
    folder = config.outputs.dir / "validation" / "data_docs"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def data_docs_metadata(folder: Path | None) -> dict[str, dg.MetadataValue]:
    index = None if folder is None else next(folder.rglob("index.html"), None)
    return {} if index is None else {"data_docs": dg.MetadataValue.url(index.as_uri())}
