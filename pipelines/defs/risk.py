"""Features, honest evaluation, scores and Kaiser tiers.

The model, the scores and the tiers are per snapshot partition: each snapshot is scored by
the model fitted on the latest earlier snapshot whose 12-month outcomes it could see. The
labelled features, the evaluation and everything about the newest snapshot use them all.
"""

from pathlib import Path

import dagster as dg
import narwhals as nw
import polars as pl

from phm.case_finding import case_finding_list
from phm.cohorts import integrated_locality_cohort as cohort_of
from phm.cost import CostPrediction, predict_cost
from phm.disclosure import DisclosurePolicy
from phm.engines import is_spark, let_go, row_count, score, to_polars, value
from phm.features import feature_spec
from phm.model_card import write_model_card
from phm.outcomes import PatientFeatures, label_extract
from phm.restricted import spark_patient_risk_dir
from phm.risk import (
    EVALUATION_ROWS,
    SCORES,
    FittedModel,
    RiskEvaluation,
    evaluate_models,
    outcome_source,
    tiering_models,
)
from phm.sources import synthetic_truth_dir
from phm.tiering import patient_risk_table
from phm.warehouse.tables import INTEGRATED_LOCALITY_COHORT, PATIENT_RISK
from pipelines.metadata import column_schema
from pipelines.partitions import (
    Partitions,
    PatientRows,
    across_snapshots_asset,
    key,
    per_snapshot_asset,
    snapshot_of,
    whole,
)
from pipelines.resources import PhmSettings


@across_snapshots_asset(group_name="risk")
def patient_features(
    patient_extract: Partitions, settings: PhmSettings
) -> dg.Output[PatientFeatures]:
    """Patient snapshots with their next-12-month outcome (emergency admission or death), read
    from the following snapshot: every snapshot partition but the newest gets labelled."""
    extract = whole(patient_extract)  # its ltc_columns: the configured list, or "all" resolved
    features = label_extract(extract, feature_spec(extract.ltc_columns))
    # the models are fitted and evaluated in one process: on Spark on a seeded sample of each
    # labelled snapshot (EVALUATION_ROWS), brought here; polars rows are here already
    in_process = features.in_one_process(EVALUATION_ROWS, settings.load().model.seed)
    return dg.Output(
        in_process,
        metadata={
            f"patients_with_outcome_{ls.snapshot_date}": ls.known_outcome
            for ls in features.labelled
        }
        | {f"outcome_unknown_{ls.snapshot_date}": ls.unknown_outcome for ls in features.labelled}
        | {f"outcome_rate_{ls.snapshot_date}": ls.outcome_rate for ls in features.labelled},
    )


def _truth(config, folder: Path) -> pl.LazyFrame | None:
    """The synthetic generator's truth file, if this extract has one beside it: for the
    oracle AUROC line only, never for training. A foreign extract has none. A scan: the
    evaluation snapshot's rows are all that is read of it."""
    candidates = [
        folder.parent / "truth" / "truth.parquet",
        folder.with_name(folder.name + "_truth") / "truth.parquet",
    ]
    if config.uses_synthetic_default:
        candidates.insert(0, synthetic_truth_dir(config) / "truth.parquet")
    for path in candidates:
        if path.is_file():
            return pl.scan_parquet(path)
    return None


@across_snapshots_asset(group_name="risk")
def risk_model_evaluation(
    patient_features: PatientFeatures, patient_extract: Partitions, settings: PhmSettings
) -> dg.Output[RiskEvaluation]:
    """Each candidate model's performance on patients and outcomes it never saw."""
    config = settings.load()
    m = config.model
    extract = whole(patient_extract)
    evaluation = evaluate_models(
        patient_features.labelled,
        patient_features.spec,
        list(m.candidates),
        m.seed,
        practices=extract.practices,
        recalibrate=m.recalibrate,
        period_shift=m.period_shift,
        truth=_truth(config, extract.folder),
    )
    chosen = evaluation.metrics.filter(pl.col("model") == m.tiering_model).row(0, named=True)
    best = evaluation.metrics.sort("auroc", descending=True).row(0, named=True)
    oracle = evaluation.oracle_auroc
    return dg.Output(
        evaluation,
        metadata={
            "validation_design": evaluation.plan.describe(),
            "tiering_model": m.tiering_model,
            "auroc": round(chosen["auroc"], 4),
            "auroc_ci": f"{chosen['auroc_ci_low']:.4f}-{chosen['auroc_ci_high']:.4f}",
            "auprc": round(chosen["auprc"], 4),
            "brier": round(chosen["brier"], 4),
            "calibration_slope": round(chosen["calibration_slope"], 3),
            "calibration_intercept": round(chosen["calibration_intercept"], 3),
            "observed_expected": round(chosen["observed_expected"], 3),
            "observed_expected_before_shift": round(chosen["observed_expected_before_shift"], 3),
            "period_shift": (
                round(chosen["period_shift"], 4) if chosen["period_shift"] is not None else "off"
            ),
            "gain_over_cms_baseline": (
                evaluation.baseline_gain.describe() if evaluation.baseline_gain else "n/a"
            ),
            "inputs_missing": "; ".join(
                f"{r['model']}: {r['inputs_missing']}"
                for r in evaluation.metrics.to_dicts()
                if r["inputs_missing"] is not None
            )
            or "none",
            "ppv_top5pct": round(chosen["ppv_top5pct"], 3),
            "sensitivity_top5pct": round(chosen["sensitivity_top5pct"], 3),
            "best_model": best["model"],
            "oracle_auroc": round(oracle, 4) if oracle is not None else "n/a (not synthetic)",
            "best_auroc_gap_to_oracle": (
                round(oracle - best["auroc"], 4) if oracle is not None else "n/a"
            ),
            "models_auroc": dg.MetadataValue.json(
                {r["model"]: round(r["auroc"], 4) for r in evaluation.metrics.to_dicts()}
            ),
        },
    )


@per_snapshot_asset(group_name="risk")
def tiering_model(
    context: dg.AssetExecutionContext,
    patient_features: PatientFeatures,
    risk_model_evaluation: RiskEvaluation,
    settings: PhmSettings,
) -> dict[str, FittedModel | None]:
    """For each snapshot partition, the configured tiering model that scores it, fitted on the
    latest earlier snapshot whose outcomes the partition's own history supplies (the fit
    evaluated above is reused where it is that one). The oldest snapshot has none."""
    m = settings.load().model
    dates = [snapshot_of(k) for k in context.partition_keys]
    models = tiering_models(
        dates,
        patient_features.labelled,
        patient_features.spec,
        m.tiering_model,
        m.seed,
        evaluated=risk_model_evaluation.fitted,
        recalibrate=m.tiering_model in m.recalibrate,
        period_shift=m.period_shift,
    )
    for when, model in models.items():
        context.add_asset_metadata(
            _model_metadata(m.tiering_model, when, model, patient_features), partition_key=key(when)
        )
    return {key(when): model for when, model in models.items()}


def _model_metadata(name: str, when, model: FittedModel | None, features: PatientFeatures):
    if model is None:
        return {
            "model": name,
            "trained_on": "none: no earlier snapshot with known outcomes, "
            "so this snapshot is not scored",
        }
    source = outcome_source(when, features.labelled)
    return {
        "model": name,
        "trained_on": str(model.trained_on),
        "outcomes_observed_in": f"the {source.outcome_date} snapshot's last 12 months",
        "recalibration": model.describe(),
    }


@per_snapshot_asset(group_name="risk")
def emergency_admission_risk(
    context: dg.AssetExecutionContext,
    patient_extract: Partitions,
    tiering_model: dict[str, FittedModel | None],
    settings: PhmSettings,
) -> dict[str, PatientRows]:
    """Each patient's predicted risk of an emergency admission in the next 12 months (on
    Spark, through Arrow batches: the rows stay there, persisted for the tiers)."""
    scored = {}
    for k in context.partition_keys:
        when, model = snapshot_of(k), tiering_model[k]
        spec = feature_spec(patient_extract[k].ltc_columns)
        frame = patient_extract[k].snapshots[when]
        if model is None:
            scored[k] = pl.DataFrame(schema=SCORES)
        else:
            scored[k] = score(frame, when, spec, model)
        context.add_asset_metadata({"dagster/row_count": row_count(scored[k])}, partition_key=k)
    return scored


def _written_on_spark(tiered, when, settings: PhmSettings):
    """Spark's patient_risk rows of one snapshot written to the restricted store (Parquet
    partitioned by ICS and snapshot), and read back from there: what the next steps get is
    the written table, not a plan that would rank every patient again."""
    from phm.engines.spark import read_partitioned, write_snapshot

    folder = spark_patient_risk_dir(settings.load().outputs.dir)
    write_snapshot(tiered, folder, when)
    return read_partitioned(settings.spark_session(), folder, PATIENT_RISK.polars_schema(), when)


@per_snapshot_asset(group_name="risk")
def kaiser_tiers(
    context: dg.AssetExecutionContext,
    emergency_admission_risk: dict[str, PatientRows],
    patient_extract: Partitions,
    settings: PhmSettings,
) -> dict[str, PatientRows]:
    """restricted.patient_risk: each patient's risk and Kaiser tier (3: top 5%, 2: next 15%)."""
    config = settings.load()
    t = config.tiering
    rank = {
        "model": config.model.tiering_model,
        "scope": t.scope,
        "level3_share": t.level3_share,
        "level2_share": t.level2_share,
    }
    tiers = {}
    for k in context.partition_keys:
        scored, part = emergency_admission_risk[k], patient_extract[k]
        if not is_spark(scored) and not scored.height:  # the oldest snapshot: not scored
            tiers[k] = pl.DataFrame(schema=PATIENT_RISK.polars_schema())
            continue
        tiers[k] = patient_risk_table(scored, part.snapshots, part.practices, **rank)
        if is_spark(tiers[k]):
            tiers[k] = _written_on_spark(tiers[k], snapshot_of(k), settings)
            let_go(scored)  # the scores were persisted for this step alone
        shares = to_polars(
            nw.from_native(tiers[k]).group_by("kaiser_tier").agg(nw.len()).sort("kaiser_tier")
        )
        context.add_asset_metadata(
            {
                "dagster/row_count": int(shares["len"].sum()),
                "dagster/column_schema": column_schema(PATIENT_RISK),
                "tiering_scope": t.scope,
                "patients_per_tier": dg.MetadataValue.json(
                    {f"level_{r['kaiser_tier']}": r["len"] for r in shares.to_dicts()}
                ),
            },
            partition_key=k,
        )
    return tiers


@across_snapshots_asset(group_name="risk")
def next_year_cost(
    patient_extract: Partitions, patient_features: PatientFeatures, settings: PhmSettings
) -> dg.Output[CostPrediction | None]:
    """Each patient's predicted secondary-care cost in the 12 months after the newest snapshot."""
    config = settings.load()
    extract = whole(patient_extract)
    result = predict_cost(extract.snapshots, patient_features.spec, config.model.seed)
    if result is None:
        return dg.Output(None, metadata={"cost_model": "not fitted: no snapshot pair"})
    return dg.Output(
        result,
        metadata={
            "validation_design": result.design,
            "observed_predicted": round(result.metrics["observed_predicted"], 3),
            "r_squared": round(result.metrics["r_squared"], 3),
            "cost_share_top5pct": round(result.metrics["cost_share_top5pct"], 3),
            "dagster/row_count": row_count(result.predicted),
        },
    )


@across_snapshots_asset(group_name="risk")
def integrated_locality_cohort(
    next_year_cost: CostPrediction | None, patient_extract: Partitions
) -> dg.Output[PatientRows]:
    """restricted.integrated_locality_cohort: adults with 5+ LTCs and eFI > 0.24, or
    predicted next-year cost at least three times the average."""
    if next_year_cost is None:
        cohort = pl.DataFrame(schema=INTEGRATED_LOCALITY_COHORT.polars_schema())
    else:
        d = next_year_cost.scored_snapshot
        part = patient_extract[key(d)]
        cohort = cohort_of(part.snapshots[d], d, next_year_cost.predicted, part.practices)
    return dg.Output(
        cohort,
        metadata={"dagster/row_count": row_count(cohort)}
        | {c: _count_true(cohort, c) for c in ("frail_multimorbid", "high_predicted_cost")},
    )


def _count_true(frame, column: str) -> int:
    """The rows where a boolean column is true, on any engine (Spark sums no booleans)."""
    return int(value(frame, nw.col(column).cast(nw.Int64).sum()) or 0)


@across_snapshots_asset(group_name="risk")
def case_finding(
    kaiser_tiers: dict[str, PatientRows],
    tiering_model: dict[str, FittedModel | None],
    patient_extract: Partitions,
    next_year_cost: CostPrediction | None,
    integrated_locality_cohort: PatientRows,
) -> dg.Output[PatientRows]:
    """restricted.case_finding: level-3 patients at the newest snapshot, with the factors that
    add most to their risk in clinical words, and their predicted cost."""
    newest = max(k for k, model in tiering_model.items() if model is not None)
    # the spec patient_features holds, rebuilt here so that the labelled snapshots are not
    # kept in memory for this step alone
    spec = feature_spec(patient_extract[newest].ltc_columns)
    listed = case_finding_list(
        kaiser_tiers[newest],
        patient_extract[newest].snapshots[snapshot_of(newest)],
        tiering_model[newest].estimator,
        spec,
        predicted_cost=next_year_cost.predicted if next_year_cost is not None else None,
        ilt_cohort=integrated_locality_cohort,
    )
    return dg.Output(
        listed,
        metadata={
            "dagster/row_count": row_count(listed),
            "snapshot": newest,
            "patients_with_a_reason": int(value(listed, nw.col("reason_1").count())),
        },
    )


@across_snapshots_asset(group_name="risk")
def model_card(
    risk_model_evaluation: RiskEvaluation,
    next_year_cost: CostPrediction | None,
    patient_extract: Partitions,
    settings: PhmSettings,
) -> dg.MaterializeResult:
    """The model card (Markdown with ROC, calibration and decision-curve plots), rewritten on
    every run under <outputs>/model_card/."""
    config = settings.load()
    d = config.disclosure
    folder = whole(patient_extract).folder
    source = (
        "the synthetic LLR population"
        if config.uses_synthetic_default
        else f"the extract in {folder.name}/"
    )
    path = write_model_card(
        config.outputs.dir / "model_card",
        risk_model_evaluation,
        config.model.tiering_model,
        DisclosurePolicy(suppress_below=d.suppress_below, round_to=d.round_to),
        next_year_cost,
        source,
    )
    m = risk_model_evaluation.metrics.sort("auroc", descending=True).row(0, named=True)
    oracle = risk_model_evaluation.oracle_auroc
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "best_model": m["model"],
            "best_auroc": round(m["auroc"], 4),
            "oracle_auroc": round(oracle, 4) if oracle is not None else "n/a",
            "gap_to_oracle": round(oracle - m["auroc"], 4) if oracle is not None else "n/a",
        }
    )
