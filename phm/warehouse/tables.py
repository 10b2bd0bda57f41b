"""Declarations of the warehouse tables: the data dictionary is generated from these."""

from __future__ import annotations

from phm.profiles import LTC_BANDS
from phm.schema import Column, Table

_COUNT = "Disclosure-controlled count: NULL where 1-7, otherwise rounded to the nearest 5."

PATIENT_RISK = Table(
    name="restricted.patient_risk",
    row="patient at a scored snapshot",
    description="Each patient's predicted 12-month emergency-admission risk and Kaiser tier. "
    "Patient-level: for the care teams' case-finding only, never published.",
    columns=(
        Column("patient_id", "string", "Pseudonymised patient identifier."),
        Column("snapshot_date", "date", "The snapshot scored."),
        Column("practice_code", "string", "Registered practice."),
        Column("pcn_code", "string", "The practice's Primary Care Network."),
        Column("ltc_count", "integer", "Number of long-term conditions at the snapshot."),
        Column("risk", "float", "Predicted probability of an emergency admission or death in "
               "the 12 months after the snapshot.", min=0, max=1),
        Column("risk_rank", "integer", "1 = highest risk within the tiering scope; ties broken "
               "by patient_id."),
        Column("kaiser_tier", "integer", "3: top 5% of risk; 2: next 15%; 1: remaining 80%.",
               min=1, max=3),
        Column("model", "string", "The model that produced the score."),
        Column("model_trained_on", "date", "Snapshot whose next-year outcomes trained it."),
    ),
)

PCN_PROFILE = Table(
    name="published.pcn_profile",
    row="Primary Care Network at a scored snapshot",
    description="The neighbourhood profile: population, Kaiser tiers, expected emergency "
    "admissions and multimorbidity, all disclosure-controlled.",
    columns=(
        Column("pcn_code", "string", "ODS PCN code."),
        Column("pcn_name", "string", "PCN name."),
        Column("place_code", "string", "Sub-ICB / CCG code."),
        Column("place_name", "string", "Sub-ICB / CCG name."),
        Column("snapshot_date", "date", "The snapshot profiled."),
        Column("registered_population", "integer", "Registered patients. " + _COUNT,
               nullable=True),
        Column("level3_patients", "integer", "Kaiser level 3 (top 5% risk). " + _COUNT,
               nullable=True),
        Column("level2_patients", "integer", "Kaiser level 2 (next 15%). " + _COUNT,
               nullable=True),
        Column("level1_patients", "integer", "Kaiser level 1 (remaining 80%). " + _COUNT,
               nullable=True),
        Column("expected_emergency_admissions", "integer", "Patients expected to have an "
               "emergency admission in the next 12 months (sum of predicted risk). " + _COUNT,
               nullable=True),
        *(
            Column(f"ltc_{band}_patients", "integer", f"Patients with {band} long-term "
                   f"condition{'' if band == '1' else 's'}. " + _COUNT, nullable=True)
            for band in LTC_BANDS
        ),
    ),
)

MODEL_EVALUATION = Table(
    name="published.model_evaluation",
    row="candidate model",
    description="How each candidate risk model performed on patients it never saw.",
    columns=(
        Column("model", "string", "Model name (phm/models)."),
        Column("used_for_tiers", "boolean", "The model whose scores set the Kaiser tiers."),
        Column("validation_design", "string", "temporal or held_out_patients."),
        Column("train_snapshot", "date", "Snapshot the evaluated model was fitted on."),
        Column("evaluation_snapshot", "date", "Snapshot it was evaluated on."),
        Column("patients", "integer", "Evaluation patients with a known outcome. " + _COUNT),
        Column("events", "integer", "Of whom had the outcome. " + _COUNT),
        Column("auroc", "float", "Area under the ROC curve."),
        Column("auroc_ci_low", "float", "95% bootstrap interval, lower."),
        Column("auroc_ci_high", "float", "95% bootstrap interval, upper."),
        Column("auprc", "float", "Area under the precision-recall curve."),
        Column("brier", "float", "Brier score (lower is better)."),
        Column("calibration_slope", "float", "1 is ideal; below 1: predictions too extreme."),
        Column("calibration_intercept", "float", "0 is ideal."),
        Column("observed_expected", "float", "Observed / expected events; 1 is ideal."),
        Column("ppv_top5pct", "float", "Share of the top 5% by risk who had the outcome."),
        Column("sensitivity_top5pct", "float", "Share of all outcomes found in the top 5%."),
    ),
)

PUBLICATION = Table(
    name="published.publication",
    row="table in the current publication",
    description="What the current publication holds: the fingerprint of the run's inputs "
    "(extract contents and settings) and each published table's row count. Replaced by "
    "every publish, in the same transaction as the tables; it holds no time, so publishing "
    "the same inputs twice gives identical tables.",
    columns=(
        Column("fingerprint", "string", "SHA-256 of the extract's data files and the "
               "settings that change results (phm.warehouse.publish.inputs_fingerprint)."),
        Column("table_name", "string", "A published table, schema-qualified."),
        Column("row_count", "integer", "Its number of rows (rows, not patients)."),
    ),
)

RESTRICTED_TABLES = (PATIENT_RISK,)
PUBLISHED_TABLES = (PCN_PROFILE, MODEL_EVALUATION)
# Describes the publication itself (no counts of patients, so no disclosure control).
CATALOGUE_TABLES = (PUBLICATION,)
WAREHOUSE_TABLES = RESTRICTED_TABLES + PUBLISHED_TABLES + CATALOGUE_TABLES
