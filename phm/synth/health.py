"""Frailty, care homes, the true risk of an emergency admission or death, and hospital use.

The true risk is what the pipeline's models try to learn. It is built from what the extract
records (age, sex, deprivation, conditions, frailty, care home, last year's admissions), with
interactions a linear model misses, plus two things no extract records: the part of the shared
health liability `h` that the registers do not reveal, and a small unrecorded factor `u`
(housing, isolation, carers: what a GP record rarely holds).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from phm.cms import cms_conditions
from phm.synth import conditions as C
from phm.synth import targets as T

N_BANDS = len(T.LTC_BANDS)
BAND_RISK = np.array(T.LTC_TABLE["risk"]) / 100

# Per-register log-odds of an emergency admission (HF, COPD, cancer and dementia admit most).
_ADMIT_WEIGHT = dict(
    ltc_hypertension=0.05,
    ltc_diabetes=0.20,
    ltc_asthma=0.20,
    ltc_copd=0.55,
    ltc_chd=0.25,
    ltc_heart_failure=0.55,
    ltc_atrial_fibrillation=0.25,
    ltc_stroke_tia=0.30,
    ltc_ckd=0.25,
    ltc_cancer=0.45,
    ltc_dementia=0.40,
    ltc_depression=0.25,
    ltc_smi=0.40,
    ltc_epilepsy=0.45,
    ltc_learning_disability=0.40,
    ltc_osteoporosis=0.30,
    ltc_rheumatoid_arthritis=0.20,
    ltc_pad=0.35,
    ltc_obesity=0.10,
)
# The CMS conditions that are not registers: the CMS 1-year unplanned-admission weights
# (cms_conditions.csv, transcribed once, not independently checked) scaled by 0.004, the
# median ratio of the register weights above to their CMS weights.
_CMS_ADMISSION = {
    column: c.weight for c in cms_conditions() for column in c.columns if column in C.CMS_NAMES
}
CMS_TO_LOG_ODDS = 0.004
_ADMIT_WEIGHT.update({k: CMS_TO_LOG_ODDS * w for k, w in _CMS_ADMISSION.items()})
ADMIT_WEIGHT = np.array([_ADMIT_WEIGHT[n] for n in C.NAMES])
_DEATH_WEIGHT = dict(
    ltc_heart_failure=0.6,
    ltc_copd=0.5,
    ltc_cancer=0.8,
    ltc_dementia=0.8,
    ltc_ckd=0.3,
    ltc_stroke_tia=0.3,
    ltc_pad=0.3,
    # CMS conditions with the largest mortality weights (cms_conditions.csv, x ~0.012 like
    # the registers above): Parkinson's, treated constipation, liver disease, chronic pain.
    ltc_parkinsons=0.5,
    ltc_constipation=0.4,
    ltc_chronic_liver_disease=0.3,
    ltc_painful_condition=0.2,
    ltc_alcohol_problems=0.15,
)
DEATH_WEIGHT = np.array([_DEATH_WEIGHT.get(n, 0.05) for n in C.NAMES])
_DEMENTIA = C.NAMES.index("ltc_dementia")
_WEIGHTS32 = np.stack([ADMIT_WEIGHT, DEATH_WEIGHT], axis=1).astype(np.float32)

# Calibration to the Leicester City LTC-count table, band by band (0..7, 8+): log-odds offsets
# fitted on the generated extract (seed 42, scale 0.35, checked at seed 7 and at 1.0), like
# conditions.DRIFT. Bands 0, 1, 2 and 4 are held 1-1.5 points below their table rate: every
# admitted patient has at least one admission, and the table's mean admissions (0.0, 0.1, 0.1,
# 0.2, within 0.05) leave no room above.
BAND_ADMIT_OFFSET = np.array(
    [-0.106, -0.303, -0.457, -0.63, -0.847, -0.877, -0.932, -0.922, -1.054]
)
# Mean further emergency admissions of a patient admitted at least once, by band: readmission
# is rare with one or two conditions and common with eight or more (the table's mean
# admissions per band over its admission rate).
EXTRA_ADMISSIONS = np.array([0.0, 0.0, 0.0, 0.094, 0.0, 0.647, 0.812, 1.285, 2.573])
# Cost of a stay by band, emergency and elective (pounds): longer, costlier stays with more
# conditions; BAND_COST_FACTOR (fitted as above) makes each band's mean admitted-care cost
# the table's.
EMERGENCY_STAY_COST = 950 + 120 * np.arange(N_BANDS)
ELECTIVE_STAY_COST = 800 + 35 * np.arange(N_BANDS)
# Log-normal spread of one stay's cost, emergency and elective: at 1.15 and 1.0 the top 5% of
# patients held 56% of secondary-care cost (published 51%).
STAY_COST_SIGMA = (1.05, 0.75)
BAND_COST_FACTOR = np.array([0.772, 0.904, 0.9, 0.92, 0.982, 0.932, 0.901, 0.901, 1.046])
# Outpatient and A&E attendances are over-dispersed (gamma-Poisson with this shape): most
# people have none in a year, a few have many (lower is more concentrated). With shape 1.5 the
# bottom 80% of patients held 19% of secondary-care cost against the published 13%.
ATTENDANCE_SHAPE = 0.4

# How strongly the unrecorded parts move the risk (log-odds per SD). At 0.5 and 0.2 the
# pipeline's gradient boosting fell 0.022 AUROC short of the oracle (the target is within
# 0.02); the recorded effects (age, frailty, registers, last year's admissions) carry the
# discrimination instead, keeping the oracle AUROC in 0.78-0.84.
H_EFFECT = 0.40
U_EFFECT = 0.10
# Log-odds per unit eFI: at 2.5 the 65+ with moderate frailty had 4.2 times the next-year
# rate of the fit (the published hazard ratio is 3.0; section 9).
EFI_ADMIT_EFFECT = 1.2
PRIOR_EFFECT = 1.4  # log-odds per admission last year (up to 3)


# eFI deficits per long-term condition (of the 40): with 19 registers this was 1.0; fitted to
# the 65+ frailty categories of section 9.
EFI_PER_CONDITION = 0.48


def band(ltc_count: np.ndarray) -> np.ndarray:
    return np.minimum(ltc_count, N_BANDS - 1)


def frailty(age, ltc_count, h, frailty_noise, care_home) -> np.ndarray:
    """eFI for 65+: deficits out of 36, rising with age, conditions and ill health; NaN <65."""
    deficits = (
        1.6
        + 0.17 * (age - 65)
        + EFI_PER_CONDITION * ltc_count
        + 1.0 * h
        + 1.3 * frailty_noise
        + 2.0 * care_home
    )
    efi = np.clip(np.round(deficits), 0, 36) / 36
    return np.where(age >= 65, efi, np.nan)


def care_home_entry(age, efi, flags, rng) -> np.ndarray:
    """Whether a person 65+ is (newly) in a care home: the very old, frail and demented."""
    lo = -6.3 + 0.085 * (age - 65) + 7.0 * np.nan_to_num(efi) + 1.3 * flags[:, _DEMENTIA]
    return (age >= 65) & (rng.random(age.size) < expit(lo))


def condition_summaries(flags: np.ndarray) -> dict[str, np.ndarray]:
    """What the risk model reads of a person's conditions, computed once when they change:
    the count, and the summed admission and death weights."""
    weights = flags.astype(np.float32) @ _WEIGHTS32
    return dict(
        count=np.count_nonzero(flags, axis=1),
        admit_w=weights[:, 0].astype(np.float64),
        death_w=weights[:, 1].astype(np.float64),
    )


def admission_log_odds(age, male, dep, count, admit_w, efi, care_home, prior_em, h, u):
    """Log-odds of at least one emergency admission in the next 12 months (`count`, `admit_w`:
    see condition_summaries)."""
    efi0 = np.nan_to_num(efi)
    lo = (
        -3.3
        + 0.9 * (age < 1)
        + 0.25 * ((age >= 16) & (age < 30))
        + 0.045 * np.maximum(age - 50, 0)
        + 0.5 * (count >= 1)
        + 0.9 * admit_w
        - 0.1 * np.maximum(count - 3, 0) ** 1.3  # diminishing returns of one more register
        + 0.25 * dep
        + 0.04 * dep * count  # deprivation bites harder with multimorbidity
        + 2.5 * efi0
        + 0.6 * efi0 * (count >= 4)
        + 0.35 * care_home
        + PRIOR_EFFECT * np.minimum(prior_em, 3)  # readmission: last year's admissions carry over
        + 0.05 * male
        + BAND_ADMIT_OFFSET[band(count)]
        + H_EFFECT * h
        + U_EFFECT * u
    )
    return lo


def death_probability(age, male, death_w, efi, care_home, h) -> np.ndarray:
    """Probability of dying in the next 12 months (Gompertz in age, plus ill health)."""
    lo = (
        -11.35
        + 0.088 * age
        + death_w
        + 2.5 * np.nan_to_num(efi)
        + 0.8 * care_home
        + 0.35 * male
        + 0.35 * h
    )
    return np.where(age >= C.KNOT_AGES[-1] + 15, 1.0, expit(lo))


def emergency_count(admitted, admit_p, ltc_count, rng) -> np.ndarray:
    """Emergency admissions in a year: the sickest of a band come back again and again.

    An admitted patient has on average EXTRA_ADMISSIONS[band] more, shared out within the
    band in proportion to the square of their risk.
    """
    b = band(ltc_count)
    weight = np.where(admitted, admit_p**2, 0.0)
    mean_weight = np.bincount(b, weight, N_BANDS) / np.maximum(np.bincount(b, admitted, N_BANDS), 1)
    rate = EXTRA_ADMISSIONS[b] * weight / np.maximum(mean_weight[b], 1e-12)
    return np.where(admitted, 1 + rng.poisson(rate), 0)


def activity(ltc_count, admit_p, emergency, rng) -> dict[str, np.ndarray]:
    """Planned care and A&E in the prior 12 months, and admitted patient care cost.

    Means follow the Leicester City LTC-count table, scaled per person by how their risk
    compares with their band's: a band's heavy users are its high-risk patients.
    """
    b = band(ltc_count)
    # Relative to the band's mean risk in this practice, so every band keeps its table mean.
    band_mean = np.bincount(b, admit_p, N_BANDS) / np.maximum(np.bincount(b, None, N_BANDS), 1)
    m = np.clip(admit_p / band_mean[b], 0.1, 10.0) ** 0.6
    table = {k: np.array(v) for k, v in T.LTC_TABLE.items()}
    elective = rng.poisson(np.maximum(table["elective_admissions_12m"][b], 0.03) * m)
    ae_other = (
        np.maximum(
            table["ae_attendances_12m"][b] - 0.7 * table["emergency_admissions_12m"][b], 0.15
        )
        * m
    )
    ae = rng.binomial(emergency, 0.7) + rng.poisson(
        rng.gamma(ATTENDANCE_SHAPE, ae_other / ATTENDANCE_SHAPE)
    )
    outpatient = rng.poisson(
        rng.gamma(ATTENDANCE_SHAPE, table["outpatient_attendances_12m"][b] * m / ATTENDANCE_SHAPE)
    )
    prescriptions = rng.poisson(table["prescription_types_12m"][b] * m**0.3)
    cost = BAND_COST_FACTOR[b] * (
        _admission_costs(emergency, EMERGENCY_STAY_COST[b], STAY_COST_SIGMA[0], rng)
        + _admission_costs(elective, ELECTIVE_STAY_COST[b], STAY_COST_SIGMA[1], rng)
    )
    return dict(
        elective_admissions_12m=elective,
        ae_attendances_12m=ae,
        outpatient_attendances_12m=outpatient,
        prescription_types_12m=prescriptions,
        secondary_care_cost_12m=np.round(cost, 2),
    )


def _admission_costs(counts, mean_cost, sigma, rng) -> np.ndarray:
    """Total cost of `counts` admissions each, every stay log-normal around its mean."""
    who = np.repeat(np.arange(counts.size), counts)
    each = rng.lognormal(np.log(np.repeat(mean_cost, counts)) - sigma**2 / 2, sigma)
    return np.bincount(who, weights=each, minlength=counts.size).astype(np.float64)
