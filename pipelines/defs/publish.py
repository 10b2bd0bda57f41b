"""Disclosure-controlled aggregates and the atomically published warehouse."""

import dagster as dg
import polars as pl

from phm.cost import CostPrediction, cost_evaluation_table
from phm.disclosure import DisclosurePolicy
from phm.engines import is_spark, row_count, scan_partitioned, to_polars
from phm.profiles import pcn_profile
from phm.restricted import spark_patient_risk_dir
from phm.risk import RiskEvaluation, decision_curve_table, evaluation_table, subgroup_table
from phm.sources import locate_extract
from phm.warehouse import publish_warehouse
from phm.warehouse.publish import inputs_fingerprint, restricted_store_path
from phm.warehouse.tables import (
    CASE_FINDING,
    COST_MODEL_EVALUATION,
    DECISION_CURVE,
    INTEGRATED_LOCALITY_COHORT,
    MODEL_EVALUATION,
    MODEL_EVALUATION_SUBGROUP,
    PATIENT_RISK,
    PCN_PROFILE,
    PROFILE_TABLES,
)
from pipelines.metadata import column_schema
from pipelines.partitions import (
    Partitions,
    PatientRows,
    across_snapshots_asset,
    scored_rows,
    snapshot_of,
    whole,
)
from pipelines.resources import PhmSettings


def _policy(settings: PhmSettings) -> DisclosurePolicy:
    d = settings.load().disclosure
    return DisclosurePolicy(suppress_below=d.suppress_below, round_to=d.round_to)


@across_snapshots_asset(group_name="publish")
def pcn_profiles(
    kaiser_tiers: dict[str, PatientRows], patient_extract: Partitions, settings: PhmSettings
) -> dg.Output[pl.DataFrame]:
    """published.pcn_profile: each PCN's population, tiers and multimorbidity, disclosure-
    controlled, for every scored snapshot partition."""
    profile = to_polars(
        pcn_profile(scored_rows(kaiser_tiers), whole(patient_extract).practices, _policy(settings))
    )
    return dg.Output(
        profile,
        metadata={
            "dagster/row_count": profile.height,
            "dagster/column_schema": column_schema(PCN_PROFILE),
        },
    )


def _patient_rows(kaiser_tiers: dict[str, PatientRows], config):
    """restricted.patient_risk for the restricted store: a polars run's rows as they are; a
    Spark run's as a scan of the Parquet Spark wrote for the snapshots it scored, which the
    store reads in batches (a region's or England's rows never come into this process whole)."""
    on_spark = [snapshot_of(k) for k, rows in kaiser_tiers.items() if is_spark(rows)]
    if not on_spark:
        return scored_rows(kaiser_tiers)
    folder = spark_patient_risk_dir(config.outputs.dir)
    return scan_partitioned(folder, PATIENT_RISK.polars_schema(), on_spark)


# Published last: a run that fails anywhere (a full disk writing the model card, say)
# publishes nothing, rather than a warehouse whose other outputs are missing.
@across_snapshots_asset(
    group_name="publish", deps=["model_card", "case_finding_lists", "pcn_profile_reports"]
)
def warehouse(
    kaiser_tiers: dict[str, PatientRows],
    pcn_profiles: pl.DataFrame,
    risk_model_evaluation: RiskEvaluation,
    case_finding: PatientRows,
    integrated_locality_cohort: PatientRows,
    next_year_cost: CostPrediction | None,
    pcn_profile_tables: dict[str, pl.DataFrame],
    settings: PhmSettings,
) -> dg.MaterializeResult:
    """The two DuckDB stores, swapped in together: the published warehouse (`published`
    aggregates only, for BI tools) and the owner-only restricted store of patient rows
    (`<outputs>/restricted/warehouse.duckdb`). Rebuilt from every snapshot partition as
    stored, so re-running one snapshot replaces exactly its own rows."""
    config = settings.load()
    patient_risk = _patient_rows(kaiser_tiers, config)
    evaluation = evaluation_table(
        risk_model_evaluation, config.model.tiering_model, _policy(settings)
    )
    risk_tables = {
        MODEL_EVALUATION_SUBGROUP: subgroup_table(risk_model_evaluation, _policy(settings)),
        DECISION_CURVE: decision_curve_table(risk_model_evaluation, _policy(settings)),
        # a few percent of the patients each: brought to this process for the store
        CASE_FINDING: to_polars(case_finding),
        INTEGRATED_LOCALITY_COHORT: to_polars(integrated_locality_cohort),
        COST_MODEL_EVALUATION: (
            cost_evaluation_table(next_year_cost, _policy(settings))
            if next_year_cost
            else pl.DataFrame(schema=COST_MODEL_EVALUATION.polars_schema())
        ),
    } | {t: pcn_profile_tables[t.name] for t in PROFILE_TABLES}
    fingerprint = inputs_fingerprint(locate_extract(config), config)
    restricted = restricted_store_path(config)
    path = publish_warehouse(
        config.warehouse.path,
        {PATIENT_RISK: patient_risk, PCN_PROFILE: pcn_profiles, MODEL_EVALUATION: evaluation}
        | risk_tables,
        fingerprint=fingerprint,
        restricted=restricted,
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "restricted_store": dg.MetadataValue.path(str(restricted)),
            "inputs_fingerprint": fingerprint,
            "restricted.patient_risk rows": row_count(patient_risk),
            "published.pcn_profile rows": pcn_profiles.height,
            "published.model_evaluation rows": evaluation.height,
        }
        | {f"{t.name} rows": frame.height for t, frame in risk_tables.items()},
    )
