"""The data contract (../shared/data-contract.md) declared once, in code.

An extract is a folder holding `practices.csv`, one or more `patients_<YYYY-MM-DD>` snapshots
and optionally `deaths`, each as Parquet or CSV. The list of long-term conditions (LTCs) is
configuration: `patients_table(ltc_columns)` builds the snapshot table for any list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from phm.schema import Column, Table

# The 19 QOF disease registers: what most real extracts carry (configs/qof_registers.yaml).
QOF_REGISTERS: tuple[str, ...] = (
    "ltc_hypertension",
    "ltc_diabetes",
    "ltc_asthma",
    "ltc_copd",
    "ltc_chd",
    "ltc_heart_failure",
    "ltc_atrial_fibrillation",
    "ltc_stroke_tia",
    "ltc_ckd",
    "ltc_cancer",
    "ltc_dementia",
    "ltc_depression",
    "ltc_smi",
    "ltc_epilepsy",
    "ltc_learning_disability",
    "ltc_osteoporosis",
    "ltc_rheumatoid_arthritis",
    "ltc_pad",
    "ltc_obesity",
)
# The Cambridge Multimorbidity Score's further conditions, the ones that are not QOF registers
# (Payne et al. 2020; ../shared/reference/cms_conditions.csv). CMS merges anxiety with
# depression; the contract keeps `ltc_anxiety` as a flag of its own.
CMS_CONDITIONS: tuple[str, ...] = (
    "ltc_anxiety",
    "ltc_painful_condition",
    "ltc_hearing_loss",
    "ltc_ibs",
    "ltc_prostate_disorder",
    "ltc_thyroid_disorder",
    "ltc_diverticular_disease",
    "ltc_chronic_sinusitis",
    "ltc_constipation",
    "ltc_peptic_ulcer",
    "ltc_alcohol_problems",
    "ltc_substance_misuse",
    "ltc_psoriasis_eczema",
    "ltc_blindness_low_vision",
    "ltc_ibd",
    "ltc_anorexia_bulimia",
    "ltc_chronic_liver_disease",
    "ltc_migraine",
    "ltc_bronchiectasis",
    "ltc_multiple_sclerosis",
    "ltc_parkinsons",
)
# Configuration value `ltc_columns: all`: every `ltc_` column of the extract's first snapshot.
ALL_LTCS = "all"
# The default LTC list, 40 flags (configs/default.yaml repeats it): the breadth the LLR plan's
# LTC-count table counts (calibration targets, section 2).
DEFAULT_LTCS: tuple[str, ...] = QOF_REGISTERS + CMS_CONDITIONS

ETHNIC_GROUPS = ("White", "Asian", "Black", "Mixed", "Other", "Unknown")
SEXES = ("F", "M", "U")

PRACTICES = Table(
    name="practices",
    row="GP practice",
    description="The GP practices of the extract, with their PCN and place (sub-ICB).",
    columns=(
        Column(
            "practice_code", "string", "ODS practice code.", unique=True, pattern=r"^[A-Z][0-9]{5}$"
        ),
        Column("practice_name", "string", "Practice name.", pattern=r"\S"),
        Column("pcn_code", "string", "ODS Primary Care Network code.", pattern=r"^U[0-9]{5}$"),
        Column("pcn_name", "string", "Primary Care Network name.", pattern=r"\S"),
        Column("place_code", "string", "Sub-ICB / CCG code, e.g. 04C.", pattern=r"\S"),
        Column("place_name", "string", "Sub-ICB / CCG name.", pattern=r"\S"),
    ),
)

# Optional: an extract may hold many ICSs (a region, England). Without these columns the
# whole extract is one ICS, named by SINGLE_ICS.
ICS_COLUMNS = (
    Column(
        "ics_code",
        "string",
        "Optional: the Integrated Care System (ICB) code, e.g. QK1; absent: one ICS.",
        pattern=r"\S",
    ),
    Column(
        "ics_name",
        "string",
        "Optional, required where ics_code is given: the Integrated Care System name.",
        pattern=r"\S",
    ),
)
SINGLE_ICS = ("LLR", "Leicester, Leicestershire and Rutland")

PRACTICES_WITH_ICS = Table(
    name="practices",
    row=PRACTICES.row,
    description=PRACTICES.description + " With ics_code, ics_name is required too.",
    columns=PRACTICES.columns + ICS_COLUMNS,
)


def practices_table(columns: Sequence[str]) -> Table:
    """The practices declaration for a file with these columns: the ICS pair once either is
    given (so that an ics_code without its ics_name is a missing column)."""
    given = {c.name for c in ICS_COLUMNS} & set(columns)
    return PRACTICES_WITH_ICS if given else PRACTICES


DEATHS = Table(
    name="deaths",
    row="death",
    description="Registered deaths; a death within 12 months of a snapshot counts as an outcome.",
    columns=(
        Column("patient_id", "string", "Pseudonymised patient identifier.", unique=True),
        Column("date_of_death", "date", "Date of death."),
    ),
)

_ACTIVITY = "in the 12 months up to the snapshot date"


def ltc_label(ltc_column: str) -> str:
    """`ltc_heart_failure` -> `heart failure`: the clinical words used in reports."""
    words = ltc_column.removeprefix("ltc_").replace("_", " ")
    return {
        "smi": "serious mental illness",
        "pad": "peripheral arterial disease",
        "chd": "coronary heart disease",
        "copd": "COPD",
        "ckd": "chronic kidney disease",
        "stroke tia": "stroke / TIA",
        "ibs": "irritable bowel syndrome",
        "constipation": "treated constipation",
        "peptic ulcer": "peptic ulcer disease",
        "substance misuse": "psychoactive substance misuse",
        "psoriasis eczema": "psoriasis or eczema",
        "blindness low vision": "blindness or low vision",
        "ibd": "inflammatory bowel disease",
        "anorexia bulimia": "anorexia or bulimia",
        "chronic liver disease": "chronic liver disease or viral hepatitis",
        "parkinsons": "Parkinson's disease",
    }.get(words, words)


def ltc_columns_in(header: Sequence[str]) -> tuple[str, ...]:
    """The LTC flag columns a snapshot's header names, in its order (`ltc_count` is no flag)."""
    return tuple(c for c in header if c.startswith("ltc_") and c != "ltc_count")


def ltc_description(ltc_column: str) -> str:
    """What a flag records: a QOF register, or a condition recorded (CMS definitions)."""
    if ltc_column in QOF_REGISTERS:
        return f"On the {ltc_label(ltc_column)} register."
    return f"Has {ltc_label(ltc_column)} recorded."


def patients_table(ltc_columns: Sequence[str] = DEFAULT_LTCS) -> Table:
    """The patient snapshot table for a given list of LTC flag columns."""
    ltcs = tuple(Column(name, "boolean", ltc_description(name)) for name in ltc_columns)
    return Table(
        name="patients",
        row="registered patient at the snapshot date",
        description="One snapshot of the registered population; activity counts the prior year.",
        columns=(
            Column(
                "patient_id",
                "string",
                "Pseudonymised identifier, stable across snapshots; never an NHS number.",
                unique=True,
            ),
            Column("practice_code", "string", "Registered practice; must exist in practices.csv."),
            Column("age", "integer", "Age in whole years at the snapshot date.", min=0, max=115),
            Column("sex", "string", "F, M or U (unknown / indeterminate).", allowed=SEXES),
            Column("ethnicity", "string", "ONS high-level ethnic group.", allowed=ETHNIC_GROUPS),
            Column(
                "imd_decile",
                "integer",
                "National IMD 2019 decile of the residence LSOA, "
                "1 = most deprived; null if unknown.",
                nullable=True,
                min=1,
                max=10,
            ),
            Column("care_home", "boolean", "Lives in a care home."),
            Column(
                "efi_score",
                "float",
                "Electronic frailty index; null where not recorded.",
                nullable=True,
                min=0,
                max=1,
            ),
            *ltcs,
            Column(
                "ltc_count",
                "integer",
                "Number of long-term conditions: the sum of the ltc_ flags.",
                min=0,
                max=len(ltcs),
            ),
            Column(
                "emergency_admissions_12m", "integer", f"Emergency admissions {_ACTIVITY}.", min=0
            ),
            Column(
                "elective_admissions_12m", "integer", f"Elective admissions {_ACTIVITY}.", min=0
            ),
            Column("ae_attendances_12m", "integer", f"A&E attendances {_ACTIVITY}.", min=0),
            Column(
                "outpatient_attendances_12m",
                "integer",
                f"Outpatient attendances {_ACTIVITY}.",
                min=0,
            ),
            Column(
                "prescription_types_12m",
                "integer",
                f"Distinct prescription types {_ACTIVITY}.",
                min=0,
            ),
            Column(
                "secondary_care_cost_12m",
                "float",
                f"Admitted patient care cost, pounds, {_ACTIVITY}.",
                min=0,
            ),
        ),
    )


SNAPSHOT_FILE = re.compile(r"^patients_(\d{4}-\d{2}-\d{2})\.(parquet|csv)$")


def snapshot_date(file_name: str) -> date | None:
    """The snapshot date a `patients_<YYYY-MM-DD>` file name declares, or None if it does not."""
    m = SNAPSHOT_FILE.match(file_name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def annual_snapshot_dates(first: date, n: int) -> tuple[date, ...]:
    """`n` snapshot dates a year apart from `first` (the synthetic default's); 29 February
    falls back to the 28th in common years."""

    def add_years(d: date, k: int) -> date:
        try:
            return d.replace(year=d.year + k)
        except ValueError:
            return d.replace(year=d.year + k, day=28)

    return tuple(add_years(first, k) for k in range(n))
