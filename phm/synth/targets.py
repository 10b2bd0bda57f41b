"""The published figures the synthetic LLR population reproduces.

Transcribed from ../shared/reference/calibration-targets.md; every block names its section.
The generator is tuned towards these and `calibration.py` checks a generated extract against
them, so both read the same numbers from here.
"""

from __future__ import annotations

PLACES = ("04C", "04V", "03W")
PLACE_NAMES = {
    "04C": "Leicester City",
    "04V": "West Leicestershire",
    "03W": "East Leics & Rutland",
}

# Section 1: the plan's place populations (2019) and the reference CSV's practices and PCNs
# (the ePCN extract of December 2019, lists of January 2021): PCN sizes 29,853 to 110,011.
PLACE_POPULATION = {"04C": 415_213, "04V": 397_441, "03W": 321_188}
PRACTICE_COUNT = 133
PCN_COUNT = 25
PCN_SIZE_RANGE = (29_853, 110_011)

# Section 6: emergency admissions per 1,000 residents a year in England, "about 100-110"
# (NAO, Health Foundation); checked within 95-115, "about" read as 5 either side.
EMERGENCY_PER_1000 = (95.0, 115.0)

# Section 1: the Rutland practices (PCN U67590) sit inside 03W. Where a figure is given per
# local authority, 03W takes Leicestershire and Rutland mixed by this PCN's share of 03W's list
# (39,862 of 342,296 registered patients); see `area_mix`.
RUTLAND_PCN = "U67590"

# Section 4: GP-registered population, April 2020.
AGE_SEX = {  # place: (share 65+, share 18+, mean age, share male)
    "04C": (0.113, 0.777, 35.4, 0.511),
    "04V": (0.194, 0.807, 41.2, 0.505),
    "03W": (0.222, 0.800, 43.2, 0.493),
}
# Residents aged 80+ (ONS mid-2020), by local authority.
AGED_80_PLUS = {"Leicester": 0.033, "Leicestershire": 0.054, "Rutland": 0.071}

ETHNIC_GROUPS_KNOWN = ("White", "Asian", "Black", "Mixed", "Other")
# Census 2021, % of residents (White, Asian, Black, Mixed, Other).
ETHNICITY = {
    "Leicester": (40.9, 43.4, 7.8, 3.8, 4.1),
    "Leicestershire": (87.5, 8.2, 1.1, 2.2, 1.0),
    "Rutland": (94.8, 1.5, 1.3, 1.8, 0.5),
}
# LSOAs by national IMD 2019 decile (1 = most deprived ... 10).
IMD_LSOAS = {
    "Leicester": (39, 29, 40, 27, 19, 15, 12, 6, 4, 1),
    "Leicestershire": (4, 3, 22, 22, 33, 34, 58, 73, 73, 74),
    "Rutland": (0, 0, 0, 0, 1, 2, 3, 5, 3, 9),
}

# Section 5: recorded QOF prevalence 2019-20, % crude, by residence:
# register -> (denominator minimum age, England, Leicester, Leicestershire, Rutland).
QOF_PREVALENCE = {
    "ltc_hypertension": (0, 14.08, 12.29, 15.10, 16.94),
    "ltc_diabetes": (17, 7.07, 9.40, 7.00, 6.49),
    "ltc_asthma": (0, 6.47, 5.12, 6.71, 7.06),
    "ltc_copd": (0, 1.94, 1.38, 1.84, 1.97),
    "ltc_chd": (0, 3.09, 2.43, 2.98, 3.52),
    "ltc_heart_failure": (0, 0.89, 0.81, 1.13, 1.38),
    "ltc_atrial_fibrillation": (0, 2.05, 1.10, 2.37, 3.17),
    "ltc_stroke_tia": (0, 1.80, 1.22, 1.86, 2.27),
    "ltc_ckd": (18, 4.05, 2.49, 4.03, 5.39),
    "ltc_cancer": (0, 3.13, 1.63, 3.29, 4.18),
    "ltc_dementia": (0, 0.78, 0.61, 0.92, 0.96),
    "ltc_depression": (18, 11.55, 10.24, 13.24, 10.12),
    "ltc_smi": (0, 0.93, 1.04, 0.77, 0.68),
    "ltc_epilepsy": (18, 0.80, 0.69, 0.76, 0.75),
    "ltc_learning_disability": (0, 0.51, 0.57, 0.42, 0.40),
    "ltc_osteoporosis": (50, 0.85, 0.49, 0.77, 0.68),
    "ltc_rheumatoid_arthritis": (16, 0.77, 0.76, 0.80, 0.71),
    "ltc_pad": (0, 0.60, 0.35, 0.56, 0.58),
    "ltc_obesity": (18, 10.50, 8.50, 9.90, 9.69),
}

# Section 2: the Leicester City LTC-count table, bands 0..7 and 8+.
LTC_BANDS = ("0", "1", "2", "3", "4", "5", "6", "7", "8+")
LTC_TABLE = {
    "share": (61.7, 17.0, 8.1, 4.7, 3.0, 1.9, 1.2, 0.8, 1.6),
    "emergency_admissions_12m": (0.0, 0.1, 0.1, 0.2, 0.2, 0.4, 0.5, 0.7, 1.4),
    "elective_admissions_12m": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 1.0),
    "ae_attendances_12m": (0.3, 0.4, 0.4, 0.5, 0.5, 0.7, 0.7, 0.9, 1.6),
    "outpatient_attendances_12m": (0.4, 1.1, 1.8, 2.4, 3.0, 3.8, 4.5, 5.3, 6.9),
    "prescription_types_12m": (1.0, 2.8, 4.8, 6.7, 8.3, 9.9, 11.3, 12.5, 15.1),
    "secondary_care_cost_12m": (
        50.55,
        169.42,
        301.89,
        490.95,
        664.20,
        995.25,
        1318.20,
        1867.63,
        3795.74,
    ),
    "emergency_cost": (34.56, 90.81, 138.95, 214.77, 310.83, 483.40, 702.84, 1108.36, 2716.70),
    "risk": (6, 12, 17, 22, 27, 33, 39, 46, 61),
}

# Section 2 (Leicestershire County): secondary-care cost concentration in a year.
COST_CONCENTRATION = {
    "top 5%": (0.05, 51.0, 5.0),
    "top 0.5%": (0.005, 19.0, 3.0),
    "bottom 80%": (0.80, 13.0, 3.0),
}  # (population share, % of cost, +-)

# Section 8: multimorbidity with a 37-40 condition list, whole population (England-like):
# (share %, +- points). Cassell et al. 2018 (adults 18+ with 2+ conditions) and Barnett et al.
# 2012 (people 85+ with 2+).
MULTIMORBIDITY = {
    "adults": (18, 27.2, 3.0),
    "85+": (85, 81.5, 5.0),
}
# Section 2/8: the plan's table (mean 0.95 conditions a head) against the registers' ~0.55:
# the non-register conditions add about 0.40 a head in Leicester City.
CITY_NON_REGISTER_PER_HEAD = (0.40, 0.05)

# Section 9: eFI categories among people 65+ (frailty toolkit), % and +- points; the upper
# bounds of fit, mild and moderate (Clegg et al. 2016); any frailty among 65+ between Walsh
# et al. 2021 (44%) and the toolkit (50%); one-year hospitalisation hazard ratios against fit
# (checked as the ratio of next-year outcome rates among 65+, +-30% relative: a rate ratio
# runs below a hazard ratio when events are common).
EFI_CUTS = (0.12, 0.24, 0.36)
FRAILTY_65 = {
    "fit": (50.0, 5.0),
    "mild": (35.0, 5.0),
    "moderate": (12.0, 4.0),
    "severe": (3.0, 2.0),
}
ANY_FRAILTY_65 = (44.0, 50.0)
FRAILTY_HAZARD = {"mild": 1.93, "moderate": 3.04, "severe": 4.73}

# Section 6 and the brief: outcome rate, tier movement and the oracle's discrimination.
OUTCOME_RATE = (9.0, 12.0)  # % with an emergency admission or death in 12 months
TIER_STAY_TOP5 = (60.0, 75.0)  # % of the top 5% still top 5% a year later
TIER_UP_NEXT15 = (5.0, 15.0)  # % of the next 15% who move up into the top 5%
ORACLE_AUROC = (0.78, 0.84)
MODEL_GAP = 0.02  # AUROC: a well-fitted model comes this close to the oracle


def area_mix(place_code: str, rutland_share: float) -> dict[str, float]:
    """Weights of the local-authority figures that describe a place."""
    if place_code == "04C":
        return {"Leicester": 1.0}
    if place_code == "04V":
        return {"Leicestershire": 1.0}
    return {"Leicestershire": 1.0 - rutland_share, "Rutland": rutland_share}
