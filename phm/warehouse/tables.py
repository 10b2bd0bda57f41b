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
        Column("ics_code", "string", "The practice's Integrated Care System."),
        Column("ltc_count", "integer", "Number of long-term conditions at the snapshot."),
        Column(
            "risk",
            "float",
            "Predicted probability of an emergency admission or death in "
            "the 12 months after the snapshot.",
            min=0,
            max=1,
        ),
        Column(
            "risk_rank",
            "integer",
            "1 = highest risk within the tiering scope; ties broken by patient_id.",
        ),
        Column(
            "kaiser_tier",
            "integer",
            "3: top 5% of risk; 2: next 15%; 1: remaining 80%.",
            min=1,
            max=3,
        ),
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
        Column("ics_code", "string", "Integrated Care System (ICB) code."),
        Column("ics_name", "string", "Integrated Care System name."),
        Column("pcn_code", "string", "ODS PCN code."),
        Column("pcn_name", "string", "PCN name."),
        Column("place_code", "string", "Sub-ICB / CCG code."),
        Column("place_name", "string", "Sub-ICB / CCG name."),
        Column("snapshot_date", "date", "The snapshot profiled."),
        Column("registered_population", "integer", "Registered patients. " + _COUNT, nullable=True),
        Column(
            "level3_patients", "integer", "Kaiser level 3 (top 5% risk). " + _COUNT, nullable=True
        ),
        Column("level2_patients", "integer", "Kaiser level 2 (next 15%). " + _COUNT, nullable=True),
        Column(
            "level1_patients", "integer", "Kaiser level 1 (remaining 80%). " + _COUNT, nullable=True
        ),
        Column(
            "expected_emergency_admissions",
            "integer",
            "Patients expected to have an "
            "emergency admission in the next 12 months (sum of predicted risk). " + _COUNT,
            nullable=True,
        ),
        *(
            Column(
                f"ltc_{band}_patients",
                "integer",
                f"Patients with {band} long-term condition{'' if band == '1' else 's'}. " + _COUNT,
                nullable=True,
            )
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
        Column("auroc_ci_low", "float", "95% interval (Hanley & McNeil), lower."),
        Column("auroc_ci_high", "float", "95% interval (Hanley & McNeil), upper."),
        Column("auprc", "float", "Area under the precision-recall curve."),
        Column("brier", "float", "Brier score (lower is better)."),
        Column("calibration_slope", "float", "1 is ideal; below 1: predictions too extreme."),
        Column("calibration_intercept", "float", "0 is ideal."),
        Column("observed_expected", "float", "Observed / expected events; 1 is ideal."),
        *(
            Column(f"{m}_top{k}pct", "float", f"Share of {what} {label} by risk{end}.")
            for k, label in (
                ("0_5", "top 0.5%"),
                ("1", "top 1%"),
                ("5", "top 5%"),
                ("20", "top 20%"),
            )
            for m, what, end in (
                ("ppv", "the", " who had the outcome"),
                ("sensitivity", "all outcomes found in the", ""),
            )
        ),
        Column(
            "recalibration",
            "string",
            "Recalibration applied (from training data only), or none.",
        ),
        Column(
            "observed_expected_before_shift",
            "float",
            "Observed / expected before the period shift (the model as fitted); "
            "observed_expected is after it.",
        ),
        Column(
            "period_shift",
            "float",
            "Log-odds added to every score: what made mean risk equal the observed rate on the "
            "training snapshot, carried forward; NULL where model.period_shift is off.",
            nullable=True,
        ),
        Column(
            "inputs_missing",
            "string",
            "What the model could not use in this extract (the CMS baseline: the CMS "
            "conditions the extract lacks); NULL if nothing.",
            nullable=True,
        ),
        Column(
            "oracle_auroc",
            "float",
            "Synthetic data only: AUROC of the generator's true "
            "risk on the same patients (the ceiling); NULL on real data.",
            nullable=True,
        ),
        Column(
            "auroc_gap_to_oracle",
            "float",
            "oracle_auroc - auroc; NULL on real data.",
            nullable=True,
        ),
    ),
)

_SUBGROUP_METRIC = " NULL where the subgroup has fewer than 8 patients, events or non-events."

MODEL_EVALUATION_SUBGROUP = Table(
    name="published.model_evaluation_subgroup",
    row="candidate model and subgroup of the evaluation patients",
    description="Each candidate model's performance within each IMD quintile, ethnic group, "
    "sex, age band, place and PCN, on patients it never saw.",
    columns=(
        Column("model", "string", "Model name (phm/models)."),
        Column("dimension", "string", "imd_quintile, ethnicity, sex, age_band, place or pcn."),
        Column(
            "subgroup",
            "string",
            "The subgroup (quintile 1 = most deprived; unknown where not recorded).",
        ),
        Column("validation_design", "string", "temporal or held_out_patients."),
        Column("evaluation_snapshot", "date", "Snapshot evaluated on."),
        Column(
            "patients", "integer", "Evaluation patients in the subgroup. " + _COUNT, nullable=True
        ),
        Column("events", "integer", "Of whom had the outcome. " + _COUNT, nullable=True),
        Column("auroc", "float", "AUROC within the subgroup." + _SUBGROUP_METRIC, nullable=True),
        Column("brier", "float", "Brier score." + _SUBGROUP_METRIC, nullable=True),
        Column(
            "calibration_slope", "float", "Calibration slope." + _SUBGROUP_METRIC, nullable=True
        ),
        Column(
            "calibration_intercept",
            "float",
            "Calibration intercept." + _SUBGROUP_METRIC,
            nullable=True,
        ),
        Column(
            "observed_expected",
            "float",
            "Observed / expected events." + _SUBGROUP_METRIC,
            nullable=True,
        ),
        *(
            Column(
                f"{m}_top{k}pct",
                "float",
                f"{what} the population-wide {label} by risk, "
                "within the subgroup." + _SUBGROUP_METRIC,
                nullable=True,
            )
            for k, label in (
                ("0_5", "top 0.5%"),
                ("1", "top 1%"),
                ("5", "top 5%"),
                ("20", "top 20%"),
            )
            for m, what in (
                ("ppv", "Share with the outcome among"),
                ("sensitivity", "Share of the subgroup's outcomes found in"),
            )
        ),
    ),
)

DECISION_CURVE = Table(
    name="published.decision_curve",
    row="candidate model and threshold probability",
    description="Net benefit of offering care to patients whose risk is at least the "
    "threshold, beside offering it to everyone (no one: 0), on the evaluation snapshot.",
    columns=(
        Column("model", "string", "Model name (phm/models)."),
        Column("evaluation_snapshot", "date", "Snapshot evaluated on."),
        Column("patients", "integer", "Evaluation patients the net benefit is per. " + _COUNT),
        Column("threshold", "float", "Threshold probability.", min=0, max=1),
        Column(
            "net_benefit",
            "float",
            "True positives per patient minus false positives per "
            "patient weighted by threshold / (1 - threshold).",
        ),
        Column("net_benefit_treat_all", "float", "The same when every patient is offered care."),
    ),
)

CASE_FINDING = Table(
    name="restricted.case_finding",
    row="Kaiser level-3 patient at the newest scored snapshot",
    description="The case-finding list: each level-3 patient with the factors that add most "
    "to their predicted risk, in clinical words, and their predicted cost. Patient-level: for "
    "the care teams only, never published.",
    columns=(
        Column("patient_id", "string", "Pseudonymised patient identifier."),
        Column("snapshot_date", "date", "The snapshot scored."),
        Column("practice_code", "string", "Registered practice."),
        Column("pcn_code", "string", "The practice's Primary Care Network."),
        Column("risk", "float", "Predicted 12-month emergency-admission risk.", min=0, max=1),
        Column("risk_rank", "integer", "1 = highest risk within the tiering scope."),
        Column(
            "reason_1",
            "string",
            "The factor adding most to the predicted risk (the fall "
            "in risk were it absent or typical), e.g. 'heart failure'.",
            nullable=True,
        ),
        Column("reason_2", "string", "The second.", nullable=True),
        Column("reason_3", "string", "The third.", nullable=True),
        Column(
            "predicted_cost",
            "float",
            "Predicted secondary-care cost in the next 12 months, pounds.",
            nullable=True,
            min=0,
        ),
        Column(
            "integrated_locality_team",
            "boolean",
            "In the Integrated Locality Teams cohort (restricted.integrated_locality_cohort).",
        ),
    ),
)

INTEGRATED_LOCALITY_COHORT = Table(
    name="restricted.integrated_locality_cohort",
    row="adult in the Integrated Locality Teams cohort at the newest scored snapshot",
    description="Adults with five or more long-term conditions and moderate or severe "
    "frailty (eFI > 0.24), or predicted next-year secondary-care cost at least three times "
    "the average. Patient-level: never published.",
    columns=(
        Column("patient_id", "string", "Pseudonymised patient identifier."),
        Column("snapshot_date", "date", "The snapshot."),
        Column("practice_code", "string", "Registered practice."),
        Column("pcn_code", "string", "The practice's Primary Care Network."),
        Column("age", "integer", "Age in years."),
        Column("ltc_count", "integer", "Number of long-term conditions."),
        Column(
            "efi_score",
            "float",
            "Electronic frailty index; NULL where not recorded.",
            nullable=True,
        ),
        Column(
            "predicted_cost",
            "float",
            "Predicted secondary-care cost in the next 12 months, pounds; NULL where the cost "
            "model gave the patient none (then in the cohort by frailty alone).",
            min=0,
            nullable=True,
        ),
        Column("frail_multimorbid", "boolean", "Five or more LTCs and eFI > 0.24."),
        Column("high_predicted_cost", "boolean", "Predicted cost at least 3x the average."),
    ),
)

COST_MODEL_EVALUATION = Table(
    name="published.cost_model_evaluation",
    row="cost model",
    description="How the next-year secondary-care cost model performed on patients it never "
    "saw (same validation design as the risk models).",
    columns=(
        Column("model", "string", "Cost model name (phm/cost.py)."),
        Column("validation_design", "string", "temporal or held_out_patients."),
        Column("train_snapshot", "date", "Snapshot the evaluated model was fitted on."),
        Column("evaluation_snapshot", "date", "Snapshot it was evaluated on."),
        Column("patients", "integer", "Evaluation patients with a known next-year cost. " + _COUNT),
        Column("mean_observed_cost", "float", "Mean next-year cost, pounds."),
        Column("mean_predicted_cost", "float", "Mean predicted cost, pounds."),
        Column("observed_predicted", "float", "Total observed / total predicted cost."),
        Column("mean_absolute_error", "float", "Pounds per patient."),
        Column("r_squared", "float", "Share of the variance in next-year cost explained."),
        Column(
            "cost_share_top5pct",
            "float",
            "Share of next-year cost incurred by the 5% with the highest predicted cost.",
        ),
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
        Column(
            "fingerprint",
            "string",
            "SHA-256 of the extract's data files and the "
            "settings that change results (phm.warehouse.publish.inputs_fingerprint).",
        ),
        Column("table_name", "string", "A published table, schema-qualified."),
        Column("row_count", "integer", "Its number of rows (rows, not patients)."),
    ),
)

RESTRICTED_PUBLICATION = Table(
    name="restricted.publication",
    row="table in the restricted store's current publication",
    description="The restricted store's twin of published.publication: the same fingerprint, "
    "written by the same publish, so a reader can check that the patient rows and the "
    "published aggregates it holds come from one run; and each restricted table's row count "
    "(patient rows: this table never leaves the restricted store).",
    columns=(
        Column("fingerprint", "string", "As in published.publication."),
        Column("table_name", "string", "A restricted table, schema-qualified."),
        Column("row_count", "integer", "Its number of rows."),
    ),
)

# The neighbourhood profiles (issue 5): one table per chart, one row per area (each ICS, each
# place, each PCN) and category, so a BI analyst can rebuild any chart in their own tool; every
# row names its ICS (ics_code), and every comparison is with the area's own ICS.
# Every count column's description ends with _COUNT; `count_columns` finds them.
_AREA = (
    Column("area_type", "string", "ics, place or pcn.", allowed=("ics", "place", "pcn")),
    Column(
        "area_code",
        "string",
        "The ICS's ics_code (LLR where the extract names none), the sub-ICB code, or the ODS PCN "
        "code.",
    ),
    Column("area_name", "string", "Area name, as in the extract's practices file."),
    Column(
        "ics_code",
        "string",
        "The ICS the area belongs to (for an ICS, itself): filter on it for one ICS's profiles.",
    ),
    Column("snapshot_date", "date", "The newest scored snapshot, which the profile describes."),
)
_RATE = "Shown only where numerator and denominator are at least 8; NULL otherwise."


def _count(name: str, what: str) -> Column:
    return Column(name, "integer", f"{what} {_COUNT}", nullable=True)


def _rate(name: str, what: str) -> Column:
    return Column(name, "float", f"{what} {_RATE}", nullable=True)


def _profile(name: str, row: str, description: str, *columns: Column) -> Table:
    return Table(
        name=f"published.profile_{name}", row=row, description=description, columns=_AREA + columns
    )


def count_columns(table: Table) -> list[str]:
    """The disclosure-controlled count columns of a published table."""
    return [c.name for c in table.columns if c.description.endswith(_COUNT)]


PROFILE_TABLES = (
    _profile(
        "summary",
        "area",
        "Each area's headline figures for its profile page and the index.",
        _count("registered_patients", "Registered patients."),
        _count("aged_65_plus_patients", "Patients aged 65 or over."),
        _count("multimorbid_patients", "Patients with two or more long-term conditions."),
        _count("level3_patients", "Kaiser level 3 (top 5% risk across the ICS)."),
        _count("level2_patients", "Kaiser level 2 (next 15%)."),
        _count("level1_patients", "Kaiser level 1 (remaining 80%)."),
        _count("ilt_cohort_patients", "Integrated Locality Teams cohort."),
        _count(
            "rising_risk_patients",
            "Patients who moved up into level 2 or 3 since the previous scored snapshot.",
        ),
        _count(
            "expected_emergency_admissions",
            "Sum of predicted risk: patients expected to "
            "have an emergency admission in the next 12 months.",
        ),
        Column(
            "previous_snapshot_date", "date", "The scored snapshot compared with.", nullable=True
        ),
        Column(
            "ilt_includes_cost_criterion",
            "boolean",
            "Whether the ILT cohort includes "
            "the predicted-cost criterion (false: 5+ LTCs and eFI > 0.24 only).",
        ),
        Column(
            "place_code",
            "string",
            "The place a PCN or place belongs to (NULL for the ICS).",
            nullable=True,
        ),
    ),
    _profile(
        "age_sex",
        "area, five-year age band and sex",
        "The population pyramid.",
        Column("age_band", "string", "0-4 .. 85-89, 90+."),
        Column("sex", "string", "F, M or U."),
        _count("patients", "Registered patients."),
    ),
    _profile(
        "ethnicity",
        "area and ethnic group",
        "The ethnic mix.",
        Column("ethnic_group", "string", "ONS high-level ethnic group."),
        _count("patients", "Registered patients."),
        _rate("percent", "Share of the area's patients, %."),
    ),
    _profile(
        "deprivation",
        "area and IMD quintile",
        "Patients by national IMD 2019 quintile.",
        Column("imd_quintile", "string", "1 most deprived .. 5 least deprived, or unknown."),
        _count("patients", "Registered patients."),
        _rate("percent", "Share of the area's patients, %."),
    ),
    _profile(
        "kaiser",
        "area and Kaiser level",
        "The Kaiser triangle with next year's predicted "
        "emergency admissions, bed days (6 per admission, NAO) and cost.",
        _count("patients", "Patients in the level."),
        Column("kaiser_level", "integer", "3, 2 or 1.", min=1, max=3),
        _rate("percent", "Share of the area's patients, %."),
        _count("predicted_emergency_admissions", "Sum of predicted risk."),
        _count("predicted_bed_days", "Predicted admissions x 6 bed days."),
        Column(
            "predicted_cost_gbp",
            "float",
            "Predicted next-year secondary-care cost, "
            "pounds (the cost model's sum, to the nearest 1,000; without one, disclosed "
            "admissions x 2,400).",
            nullable=True,
        ),
    ),
    _profile(
        "ltc_count",
        "area and number of long-term conditions",
        "The LLR plan's LTC-count "
        "table: activity, cost and risk by number of conditions (0..8plus, and all).",
        Column("ltc_band", "string", "0 .. 7, 8plus, or all."),
        _count("patients", "Patients."),
        _rate("percent", "Share of the area's patients, %."),
        _rate("mean_emergency_admissions", "Mean emergency admissions, last 12 months."),
        _rate("mean_elective_admissions", "Mean elective admissions, last 12 months."),
        _rate("mean_ae_attendances", "Mean A&E attendances, last 12 months."),
        _rate("mean_outpatient_attendances", "Mean outpatient attendances, last 12 months."),
        _rate("mean_secondary_care_cost_gbp", "Mean secondary-care cost, pounds."),
        _rate("emergency_admission_pct", "% with an emergency admission, last 12 months."),
        _rate("mean_predicted_risk_pct", "Mean predicted risk, %."),
    ),
    _profile(
        "prevalence",
        "area and register",
        "Recorded prevalence of each register with a Wilson 95% CI, compared with the area's ICS.",
        Column("register", "string", "The extract's ltc_ column."),
        Column("register_label", "string", "The register in clinical words."),
        _rate("prevalence_pct", "Crude recorded prevalence, %."),
        _rate("ci_low_pct", "95% CI, lower, %."),
        _rate("ci_high_pct", "95% CI, upper, %."),
        Column(
            "compared_with_llr",
            "string",
            "Compared with the area's ICS (the name is kept from when an extract was one "
            "ICS, LLR): higher or lower (the CI excludes the ICS's value), similar; NULL for "
            "an ICS or where not shown.",
            nullable=True,
        ),
        _count("register_patients", "Patients on the register."),
        _count("denominator_patients", "Patients in the QOF denominator age range."),
        Column("denominator_min_age", "integer", "Youngest age counted (QOF)."),
    ),
    _profile(
        "multimorbidity",
        "area and age band",
        "People with two or more conditions by age band, and under / over 65.",
        Column("age_band", "string", "0-17 .. 85+, or all under 65 / all 65 and over."),
        _count("patients", "Patients in the band."),
        _rate("multimorbid_pct", "% with two or more long-term conditions."),
        _count("multimorbid_patients", "Patients with two or more long-term conditions."),
    ),
    _profile(
        "emergency_admissions",
        "area",
        "Observed emergency admissions (or deaths) in the "
        "year to the snapshot against expected (sum of the risk predicted a year earlier), "
        "with funnel-plot control limits around the ratio of the area's ICS.",
        Column("risk_snapshot_date", "date", "The snapshot whose predictions are tested."),
        _count("patients", "Patients scored then with a known outcome."),
        _count("observed_patients", "Of whom had an emergency admission or died."),
        _count("expected_patients", "Sum of their predicted risk."),
        _rate("observed_expected_ratio", "Observed / expected."),
        Column(
            "llr_ratio",
            "float",
            "The observed / expected of the area's ICS: the funnel's target (the name is kept "
            "from when an extract was one ICS, LLR).",
        ),
        Column("limit95_low", "float", "95% control limit, lower."),
        Column("limit95_high", "float", "95% control limit, upper."),
        Column("limit998_low", "float", "99.8% control limit, lower."),
        Column("limit998_high", "float", "99.8% control limit, upper."),
        Column(
            "funnel_position",
            "string",
            "within limits, or above / below the 95% or 99.8% limit.",
            nullable=True,
        ),
    ),
    _profile(
        "cost_concentration",
        "area and population band",
        "Share of last year's "
        "secondary-care cost held by the top 0.5%, next 4.5%, next 15% and remaining 80%.",
        Column("population_band", "string", "Patients ranked by cost."),
        _count("patients", "Patients in the band."),
        _rate("cost_share_pct", "Share of the area's cost, %."),
        Column(
            "cumulative_cost_share_pct", "float", "Running total down the bands, %.", nullable=True
        ),
    ),
    _profile(
        "inequalities",
        "area, dimension and group",
        "Predicted risk and last year's "
        "emergency admissions by IMD quintile and by ethnic group (crude).",
        Column("dimension", "string", "deprivation or ethnic group."),
        Column("group_name", "string", "IMD quintile or ethnic group."),
        _count("patients", "Patients in the group."),
        _rate("mean_predicted_risk_pct", "Mean predicted risk, %."),
        _rate("emergency_admission_pct", "% with an emergency admission, last 12 months."),
        _count("admitted_patients", "Patients with an emergency admission, last 12 months."),
    ),
    _profile(
        "tier_movement",
        "area, previous level and current level",
        "Movement between Kaiser levels since the previous scored snapshot.",
        Column("from_level", "string", "3, 2, 1, or not scored (new to the list)."),
        Column("to_level", "integer", "Level now.", min=1, max=3),
        _count("patients", "Patients."),
        Column("previous_snapshot_date", "date", "The snapshot compared with."),
    ),
    # Issue 13: like compared with like (phm/standardised.py), at every scored snapshot.
    Table(
        name="published.profile_standardised",
        row="area, scored snapshot and indicator",
        description="Indirectly age-sex standardised ratios (five-year age bands by sex): "
        "observed against expected from the comparator's age-sex-specific rates, with a 95% "
        "confidence interval by Byar's method (PHE / OHID technical guidance).",
        columns=_AREA[:4]
        + (
            Column("snapshot_date", "date", "A scored snapshot."),
            Column(
                "comparator_code",
                "string",
                "Whose rates give the expected count: the area's ICS, or all for an ICS "
                "(every ICS in the extract pooled).",
            ),
            Column(
                "indicator",
                "string",
                "An ltc_ column (its register or condition), emergency_admissions (an "
                "emergency admission in the 12 months to the snapshot), kaiser_level_3 or "
                "two_or_more_conditions.",
            ),
            Column("indicator_label", "string", "The indicator in plain words."),
            _count("observed", "Patients with the indicator."),
            _count("expected", "Expected from the comparator's age-sex-specific rates."),
            Column(
                "ratio",
                "float",
                "Observed / expected, from the unrounded counts; withheld (NULL) where "
                "observed is 1-7.",
                nullable=True,
            ),
            Column("lower", "float", "95% CI, lower (Byar).", nullable=True),
            Column("upper", "float", "95% CI, upper (Byar).", nullable=True),
            Column(
                "compared_with_comparator",
                "string",
                "higher or lower (the CI excludes 1), similar; NULL where withheld.",
                nullable=True,
            ),
        ),
    ),
    Table(
        name="published.profile_trend",
        row="area, scored snapshot and indicator",
        description="The key indicators at every scored snapshot (crude): registered "
        "patients, Kaiser level 3, an emergency admission in the last year, moving up a level "
        "since the previous snapshot, and the prevalence of each QOF register (all ages).",
        columns=_AREA[:4]
        + (
            Column("snapshot_date", "date", "A scored snapshot."),
            Column(
                "indicator",
                "string",
                "registered_patients, kaiser_level_3, emergency_admissions, moved_up_a_level, "
                "or a QOF register's ltc_ column.",
            ),
            Column("indicator_label", "string", "The indicator in plain words."),
            _count("patients", "Patients with the indicator."),
            _count(
                "denominator_patients",
                "Registered patients (for moving up: those scored at both snapshots).",
            ),
            _rate("percent", "patients / denominator, %."),
        ),
    ),
)

RESTRICTED_TABLES = (PATIENT_RISK, CASE_FINDING, INTEGRATED_LOCALITY_COHORT)
PUBLISHED_TABLES = (
    PCN_PROFILE,
    MODEL_EVALUATION,
    MODEL_EVALUATION_SUBGROUP,
    DECISION_CURVE,
    COST_MODEL_EVALUATION,
    *PROFILE_TABLES,
)
# Describes the publication itself (no counts of patients, so no disclosure control).
CATALOGUE_TABLES = (PUBLICATION, RESTRICTED_PUBLICATION)
WAREHOUSE_TABLES = RESTRICTED_TABLES + PUBLISHED_TABLES + CATALOGUE_TABLES
