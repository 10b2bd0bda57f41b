# %% [markdown]
# # The `phm` functions on Spark DataFrames: an SDE analyst's notebook
#
# In a Secure Data Environment (NHS England's SDE, a regional SDE on Databricks) the extract
# is already a set of Spark tables. This notebook calls the same `phm` functions the pipeline
# runs, on Spark DataFrames, and gets what the embedded (polars) engine gives
# (tests/parity/test_notebook.py runs it on a synthetic two-ICS extract and checks that).
# Each `# %%` is a notebook cell (Jupyter, VS Code and Databricks read this format).
#
# Set `EXTRACT` to a folder in the shape of the data contract (docs/data-dictionary.md);
# on Databricks read your tables with `spark.read.table("catalog.schema.patients_2024")`
# instead of `spark.read.parquet` below. Patient-level results stay in `RESTRICTED`.

# %%
import dataclasses
from datetime import date
from pathlib import Path

from phm.case_finding import case_finding_list
from phm.cohorts import integrated_locality_cohort
from phm.config import load_config
from phm.cost import cost_evaluation_table, predict_cost
from phm.disclosure import DisclosurePolicy
from phm.engines import score
from phm.engines.spark import collected, spark_session, to_spark, write_partitioned
from phm.features import feature_spec
from phm.outcomes import label_extract
from phm.profiles import pcn_profile, profile_inputs, profile_tables
from phm.risk import EVALUATION_ROWS, evaluate_models, evaluation_table, tiering_models
from phm.tiering import patient_risk_table
from phm.validation import check_tables

EXTRACT = Path(globals().get("EXTRACT", "outputs/synthetic/two_ics/extract"))
RESTRICTED = Path(globals().get("RESTRICTED", "outputs/restricted/notebook"))
MODEL = load_config().model  # the pipeline's model settings (configs/default.yaml)

# %%
# Databricks and most SDE notebooks already hold a session called `spark`.
if "spark" not in globals():
    spark = spark_session("local[2]")

# %% [markdown]
# ## Read and check the extract
# The data contract's check runs on Spark: the same structural check, Great Expectations
# suite (GX's Spark engine) and cross-table rules as `phm validate`, counted on the cluster.
# A problem names the table, column, rule and count, never a value. Nothing below runs on
# tables that fail it.

# %%
files = sorted(EXTRACT.glob("patients_*.parquet"))
tables = {date.fromisoformat(p.stem.removeprefix("patients_")): p for p in files}
report, checked = check_tables(
    practices=spark.read.csv(str(EXTRACT / "practices.csv"), header=True),
    snapshots={when: spark.read.parquet(str(path)) for when, path in tables.items()},
    deaths=spark.read.parquet(str(EXTRACT / "deaths.parquet")),
    ltc_columns="all",  # every ltc_ column the snapshots have
    name=str(EXTRACT),
)
report.raise_if_failed()  # a DataContractError listing every problem
print(f"{EXTRACT} meets the data contract: {len(report.summaries)} tables checked")

# the checked tables, in their declared types; the practices (a small table) in this process
snapshots, deaths = checked.snapshots, checked.deaths
practices = to_spark(spark, checked.practices)
spec = feature_spec(checked.ltc_columns)

# %% [markdown]
# ## Outcomes, an honest evaluation, a model, scores and Kaiser tiers within each ICS
# The outcomes are labelled on Spark. scikit-learn fits and evaluates in one process, on a
# seeded sample of at most EVALUATION_ROWS patients of each labelled snapshot, collected
# (every patient, below that). As in the pipeline, each candidate model is fitted on the
# older labelled snapshot and evaluated on the newer one, whose patients and outcomes it never
# saw; the newest snapshot is scored by the tiering model fitted on the latest labelled one.

# %%
features = label_extract(checked, spec)
for labelled in features.labelled:
    print(f"{labelled.snapshot_date}: {labelled.unknown_outcome} patients without a known outcome")
in_process = features.in_one_process(EVALUATION_ROWS, MODEL.seed)
evaluation = evaluate_models(
    in_process.labelled,
    spec,
    list(MODEL.candidates),
    MODEL.seed,
    practices=checked.practices,
    recalibrate=MODEL.recalibrate,
    period_shift=MODEL.period_shift,
)
print(evaluation.plan.describe())
print(evaluation.metrics.select("model", "auroc", "calibration_slope", "observed_expected"))

newest = max(snapshots)
model = tiering_models(
    [newest],
    in_process.labelled,
    spec,
    MODEL.tiering_model,
    MODEL.seed,
    evaluated=evaluation.fitted,
    recalibrate=MODEL.tiering_model in MODEL.recalibrate,
    period_shift=MODEL.period_shift,
)[newest]
scored = score(snapshots[newest], newest, spec, model)  # mapInArrow, persisted
patient_risk = patient_risk_table(
    scored, {newest: snapshots[newest]}, practices, model=MODEL.tiering_model
)

# %% [markdown]
# ## Next year's cost, the Integrated Locality Teams cohort and the case-finding list
# The cost model is evaluated and fitted in one process, as the risk models are; the newest
# snapshot's costs are predicted on Spark, in Arrow batches. The ILT cohort is adults with 5+
# LTCs and an eFI above 0.24, or a predicted cost three times the average. The case-finding
# list gives each level-3 patient the factors adding most to their risk, in clinical words.
# All three are patient-level: they stay in `RESTRICTED`.

# %%
cost = predict_cost(snapshots, spec, MODEL.seed)  # None without two snapshots a year apart
predicted = cost.predicted if cost is not None else None
if cost is not None:
    print(cost.design, cost.metrics["r_squared"], cost.metrics["observed_predicted"])
    ilt_cohort = integrated_locality_cohort(
        snapshots[newest], newest, predicted, checked.practices
    )
else:  # the profiles then count the ILT cohort's first criterion alone, and say so
    print("no cost model: no two snapshots a year apart")
    ilt_cohort = None
case_finding = case_finding_list(
    patient_risk,
    snapshots[newest],
    model.estimator,
    spec,
    predicted_cost=predicted,
    ilt_cohort=ilt_cohort,
)
case_finding.write.mode("overwrite").parquet(str(RESTRICTED / "case_finding"))
print(f"{case_finding.count()} level-3 patients listed for case finding")

# %% [markdown]
# ## What is published: the PCN profile, disclosure-controlled, back in one process

# %%
# the evaluation of every candidate (published.model_evaluation), counts disclosure-controlled
model_evaluation = evaluation_table(evaluation, MODEL.tiering_model, DisclosurePolicy())
cost_evaluation = cost_evaluation_table(cost, DisclosurePolicy()) if cost else None
profile = collected(pcn_profile(patient_risk, practices, DisclosurePolicy()))
print(profile.select("ics_code", "pcn_code", "registered_population", "level3_patients").head())

tiers = collected(patient_risk.groupBy("ics_code", "kaiser_tier").count())
print(tiers.sort("ics_code", "kaiser_tier"))

# %% [markdown]
# ## The neighbourhood profiles' tables
# Every table behind the profiles' charts (age-sex pyramid, prevalence against the ICS, cost
# concentration, standardised ratios ...), aggregated on Spark and disclosure-controlled; each
# comes back as a small polars frame. With two scored snapshots (the pipeline scores every
# snapshot that has an earlier one to learn from) the movement between tiers and the observed
# against expected admissions are filled in too.

# %%
scored_extract = dataclasses.replace(checked, snapshots={newest: snapshots[newest]}, deaths=deaths)
inputs = profile_inputs(
    patient_risk, scored_extract, predicted_cost=predicted, ilt_cohort=ilt_cohort
)
tables = profile_tables(inputs, DisclosurePolicy())
print(tables["published.profile_summary"].select("area_type", "area_code", "level3_patients"))

# %%
# Patient-level rows stay restricted: Parquet partitioned by ICS and snapshot.
write_partitioned(patient_risk, RESTRICTED / "patient_risk")
notebook_result = {
    "evaluation": model_evaluation,
    "cost_evaluation": cost_evaluation,
    "predicted_cost": predicted,
    "ilt_cohort": ilt_cohort,
    "case_finding": case_finding,
    "profile": profile,
    "tables": tables,
    "patient_risk": patient_risk,
    "model": model,
}
