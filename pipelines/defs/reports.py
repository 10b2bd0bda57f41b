"""Neighbourhood profiles: the published tables behind every chart, the HTML profiles and the
restricted case-finding lists."""

import dagster as dg
import narwhals as nw
import polars as pl

from phm.cost import CostPrediction
from phm.disclosure import DisclosurePolicy
from phm.engines import distinct, let_go
from phm.profiles import case_finding_rows, profile_inputs, profile_tables
from phm.reports import write_profiles
from phm.reports.case_finding import write_case_finding_csvs
from phm.restricted import private_folder, restricted_dir
from phm.warehouse.tables import PROFILE_TABLES
from pipelines.partitions import Partitions, PatientRows, across_snapshots_asset, scored_rows, whole
from pipelines.resources import PhmSettings


def _inputs(kaiser_tiers, patient_extract, next_year_cost, integrated_locality_cohort):
    """Use the cost model's predictions and ILT cohort only where they describe the newest
    scored snapshot (the one the profiles describe). On the run's engine: in a run on Spark
    the patient rows are there, and what comes back from the aggregates is small."""
    kaiser_tiers, patient_extract = scored_rows(kaiser_tiers), whole(patient_extract)
    newest = distinct(kaiser_tiers, "snapshot_date")[-1]
    same = next_year_cost is not None and next_year_cost.scored_snapshot == newest
    cohort = nw.from_native(integrated_locality_cohort).filter(
        nw.col("snapshot_date") == nw.lit(newest, nw.Date)
    )
    return profile_inputs(
        kaiser_tiers,
        patient_extract,
        predicted_cost=next_year_cost.predicted if same else None,
        ilt_cohort=cohort.to_native() if same else None,
    )


@across_snapshots_asset(group_name="reports")
def pcn_profile_tables(
    kaiser_tiers: dict[str, PatientRows],
    patient_extract: Partitions,
    next_year_cost: CostPrediction | None,
    integrated_locality_cohort: PatientRows,
    settings: PhmSettings,
) -> dg.Output[dict[str, pl.DataFrame]]:
    """published.profile_*: the disclosure-controlled table behind every chart of the profiles
    (the aggregates run on the configured engine)."""
    config = settings.load()
    d = config.disclosure
    policy = DisclosurePolicy(suppress_below=d.suppress_below, round_to=d.round_to)
    inputs = _inputs(kaiser_tiers, patient_extract, next_year_cost, integrated_locality_cohort)
    try:
        built = profile_tables(inputs, policy)
    finally:
        let_go(inputs.current, inputs.outcomes)
    tables = {
        t.name: built[t.name] if built[t.name].height else pl.DataFrame(schema=t.polars_schema())
        for t in PROFILE_TABLES
    }
    return dg.Output(
        tables,
        metadata={f"{name} rows": frame.height for name, frame in tables.items()}
        | {"snapshot": str(inputs.snapshot_date), "engine": config.engine},
    )


@across_snapshots_asset(group_name="reports")
def case_finding_lists(
    case_finding: PatientRows,
    patient_extract: Partitions,
    settings: PhmSettings,
) -> dg.MaterializeResult:
    """Restricted CSVs, one per PCN, of its level-3 patients and their main reasons, for MDT
    review."""
    config = settings.load()
    rows = case_finding_rows(case_finding, whole(patient_extract))
    folder = private_folder(restricted_dir(config.outputs.dir)) / "case_finding"
    written = write_case_finding_csvs(rows, folder)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "pcn_files": len(written),
            "patients_listed": rows.height,
        }
    )


@across_snapshots_asset(group_name="reports")
def pcn_profile_reports(
    pcn_profile_tables: dict[str, pl.DataFrame],
    patient_extract: Partitions,
    settings: PhmSettings,
) -> dg.MaterializeResult:
    """The neighbourhood profiles: self-contained HTML per PCN and place, an overview and an
    index."""
    outputs = settings.load().outputs
    folder = outputs.dir / "profiles"
    if not outputs.html_profiles:
        return dg.MaterializeResult(
            metadata={"pages": 0, "skipped": "outputs.html_profiles: false"}
        )
    files = write_profiles(pcn_profile_tables, folder, practices=whole(patient_extract).practices)
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(folder / "index.html")),
            "pages": len(files.pages),
            "charts": files.charts,
        }
    )
