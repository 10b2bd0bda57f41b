"""Features, honest evaluation, scores and Kaiser tiers."""


import dagster as dg
import polars as pl

from phm.extract import Extract
from phm.features import feature_spec
from phm.outcomes import PatientFeatures, label_extract
from phm.risk import RiskEvaluation, evaluate_models, score_snapshots
from phm.tiering import patient_risk_table
from phm.warehouse.tables import PATIENT_RISK
from pipelines.metadata import column_schema
from pipelines.resources import PhmSettings


@dg.asset(group_name="risk")
def patient_features(patient_extract: Extract, settings: PhmSettings) -> dg.Output[PatientFeatures]:
    """Patient snapshots with their next-12-month outcome (emergency admission or death)."""
    config = settings.load()
    features = label_extract(patient_extract, feature_spec(config.ltc_columns))
    return dg.Output(
        features,
        metadata={
            f"patients_with_outcome_{ls.snapshot_date}": ls.frame.height for ls in features.labelled
        }
        | {
            f"outcome_unknown_{ls.snapshot_date}": ls.unknown_outcome for ls in features.labelled
        }
        | {f"outcome_rate_{ls.snapshot_date}": ls.outcome_rate for ls in features.labelled},
    )


@dg.asset(group_name="risk")
def risk_model_evaluation(
    patient_features: PatientFeatures, settings: PhmSettings
) -> dg.Output[RiskEvaluation]:
    """Each candidate model's performance on patients and outcomes it never saw."""
    config = settings.load()
    evaluation = evaluate_models(
        patient_features.labelled,
        patient_features.spec,
        list(config.model.candidates),
        config.model.seed,
    )
    chosen = evaluation.metrics.filter(pl.col("model") == config.model.tiering_model).row(
        0, named=True
    )
    return dg.Output(
        evaluation,
        metadata={
            "validation_design": evaluation.plan.describe(),
            "tiering_model": config.model.tiering_model,
            "auroc": round(chosen["auroc"], 4),
            "brier": round(chosen["brier"], 4),
            "calibration_slope": round(chosen["calibration_slope"], 3),
            "observed_expected": round(chosen["observed_expected"], 3),
            "ppv_top5pct": round(chosen["ppv_top5pct"], 3),
            "models_auroc": dg.MetadataValue.json(
                {r["model"]: round(r["auroc"], 4) for r in evaluation.metrics.to_dicts()}
            ),
        },
    )


@dg.asset(group_name="risk")
def emergency_admission_risk(
    patient_extract: Extract, patient_features: PatientFeatures, settings: PhmSettings
) -> dg.Output[pl.DataFrame]:
    """Each patient's predicted risk of an emergency admission in the next 12 months."""
    config = settings.load()
    scored = score_snapshots(
        patient_extract.snapshots,
        patient_features.labelled,
        patient_features.spec,
        config.model.tiering_model,
        config.model.seed,
    )
    return dg.Output(
        scored,
        metadata={
            "dagster/row_count": scored.height,
            "scored_snapshots": dg.MetadataValue.json(
                sorted({str(d) for d in scored["snapshot_date"].unique().to_list()})
            ),
        },
    )


@dg.asset(group_name="risk")
def kaiser_tiers(
    emergency_admission_risk: pl.DataFrame, patient_extract: Extract, settings: PhmSettings
) -> dg.Output[pl.DataFrame]:
    """restricted.patient_risk: each patient's risk and Kaiser tier (3: top 5%, 2: next 15%)."""
    config = settings.load()
    t = config.tiering
    tiers = patient_risk_table(
        emergency_admission_risk,
        patient_extract.snapshots,
        patient_extract.practices,
        model=config.model.tiering_model,
        scope=t.scope,
        level3_share=t.level3_share,
        level2_share=t.level2_share,
    )
    shares = tiers.group_by("kaiser_tier").len().sort("kaiser_tier")
    return dg.Output(
        tiers,
        metadata={
            "dagster/row_count": tiers.height,
            "dagster/column_schema": column_schema(PATIENT_RISK),
            "tiering_scope": t.scope,
            "patients_per_tier": dg.MetadataValue.json(
                {f"level_{r['kaiser_tier']}": r["len"] for r in shares.to_dicts()}
            ),
        },
    )
