"""Long-term conditions: who has each of the 40 conditions, and who gains one as they age.

The 19 QOF registers sit at their published prevalence per place (section 5 of the
calibration targets); the 21 further conditions of the Cambridge Multimorbidity Score (CMS,
section 8) have no published local prevalence, so their level is set once, for England's age
mix, from the CPRD adult prevalence of the CMS paper, and each place's prevalence follows from
its own age, sex, ethnicity and deprivation.

A liability-threshold model. Each person carries a shared health liability `h` (which makes
conditions cluster and also drives frailty, admissions and death) and one private liability
per condition. A person is on a register once `sqrt(r) h + sqrt(1-r) e` exceeds a threshold
set by the register's prevalence at their age, sex, ethnicity and deprivation. As people age
the thresholds fall and `h` drifts, so incidence rises with age, frailty and deprivation; a
register, once joined, is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import expit, logit, ndtri

from phm.cms import cms_conditions
from phm.synth import targets as T
from phm.synth.geography import AGES, Place

KNOT_AGES = np.array([0, 17, 30, 45, 60, 75, 90])
ETHNIC_CODES = {"White": 0, "Asian": 1, "Black": 2, "Mixed": 3, "Other": 4}
# Deprivation brings onset forward: the age curves are read at age + this * deprivation
# (deprivation runs from -1, least deprived decile, to +1, most deprived), i.e. about 12
# years between the extremes (Barnett et al. 2012: 10-15 years).
DEPRIVATION_AGE_SHIFT = 6.0


@dataclass(frozen=True)
class Condition:
    name: str
    min_age: int  # register denominator: nobody younger is on the register
    knots: tuple[float, ...]  # rough prevalence at KNOT_AGES (shape only; level is solved)
    deprivation: float  # log-odds per unit deprivation, beyond the earlier onset
    male: float  # log-odds, men vs women
    asian: float
    black: float
    clustering: float  # share of liability from the shared health factor h
    men_only: bool = False  # nobody female has it (prostate disorders)


# Age shapes from QOF/HSE age profiles; ethnic and sex log-odds from the epidemiology
# (South Asian diabetes and CHD, Black hypertension and SMI, lower AF and COPD in both).
CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "ltc_hypertension",
        0,
        (0.0003, 0.002, 0.02, 0.10, 0.30, 0.50, 0.60),
        0.10,
        0.10,
        0.15,
        0.55,
        0.35,
    ),
    Condition(
        "ltc_diabetes",
        17,
        (0.001, 0.003, 0.01, 0.05, 0.12, 0.20, 0.18),
        0.30,
        0.25,
        0.95,
        0.60,
        0.35,
    ),
    Condition(
        "ltc_asthma", 0, (0.05, 0.08, 0.07, 0.06, 0.06, 0.07, 0.06), 0.10, -0.15, -0.15, -0.10, 0.25
    ),
    Condition(
        "ltc_copd", 0, (1e-5, 1e-4, 0.001, 0.006, 0.03, 0.07, 0.08), 0.50, 0.15, -0.70, -0.70, 0.45
    ),
    Condition(
        "ltc_chd", 0, (1e-5, 1e-4, 0.001, 0.01, 0.05, 0.13, 0.20), 0.25, 0.65, 0.45, -0.30, 0.45
    ),
    Condition(
        "ltc_heart_failure",
        0,
        (1e-5, 1e-4, 5e-4, 0.002, 0.008, 0.035, 0.09),
        0.20,
        0.30,
        0.10,
        0.10,
        0.55,
    ),
    Condition(
        "ltc_atrial_fibrillation",
        0,
        (1e-5, 1e-4, 5e-4, 0.003, 0.016, 0.07, 0.15),
        -0.05,
        0.30,
        -0.60,
        -0.50,
        0.40,
    ),
    Condition(
        "ltc_stroke_tia",
        0,
        (1e-5, 1e-4, 0.001, 0.005, 0.02, 0.055, 0.10),
        0.20,
        0.15,
        0.10,
        0.30,
        0.45,
    ),
    Condition(
        "ltc_ckd", 18, (1e-5, 1e-4, 0.002, 0.01, 0.04, 0.14, 0.32), 0.10, -0.10, 0.15, 0.30, 0.50
    ),
    Condition(
        "ltc_cancer",
        0,
        (5e-4, 0.001, 0.005, 0.015, 0.05, 0.10, 0.14),
        -0.05,
        0.00,
        -0.50,
        -0.30,
        0.30,
    ),
    Condition(
        "ltc_dementia",
        0,
        (1e-6, 1e-5, 1e-4, 5e-4, 0.003, 0.03, 0.16),
        0.10,
        -0.15,
        -0.20,
        0.10,
        0.45,
    ),
    Condition(
        "ltc_depression",
        18,
        (0.001, 0.05, 0.13, 0.14, 0.13, 0.11, 0.11),
        0.15,
        -0.65,
        -0.35,
        -0.40,
        0.40,
    ),
    Condition(
        "ltc_smi", 0, (1e-4, 0.003, 0.010, 0.012, 0.012, 0.010, 0.010), 0.30, 0.15, 0.00, 0.65, 0.30
    ),
    Condition(
        "ltc_epilepsy",
        18,
        (0.004, 0.006, 0.007, 0.008, 0.008, 0.009, 0.009),
        0.20,
        0.10,
        0.00,
        0.10,
        0.25,
    ),
    Condition(
        "ltc_learning_disability",
        0,
        (0.006, 0.006, 0.006, 0.005, 0.004, 0.002, 0.001),
        0.20,
        0.40,
        0.10,
        0.10,
        0.00,
    ),
    Condition(
        "ltc_osteoporosis",
        50,
        (1e-6, 1e-5, 1e-4, 5e-4, 0.004, 0.015, 0.035),
        0.00,
        -1.5,
        -0.30,
        -0.60,
        0.40,
    ),
    Condition(
        "ltc_rheumatoid_arthritis",
        16,
        (1e-5, 1e-4, 0.003, 0.006, 0.011, 0.014, 0.014),
        0.10,
        -0.70,
        0.00,
        0.00,
        0.30,
    ),
    Condition(
        "ltc_pad", 0, (1e-6, 1e-5, 1e-4, 0.001, 0.005, 0.015, 0.025), 0.35, 0.35, -0.30, -0.20, 0.50
    ),
    Condition(
        "ltc_obesity",
        18,
        (0.001, 0.02, 0.08, 0.11, 0.12, 0.10, 0.06),
        0.25,
        -0.10,
        -0.20,
        0.35,
        0.35,
    ),
)
REGISTERS = tuple(c.name for c in CONDITIONS)

# The CMS conditions that are not QOF registers (contract column names, as in
# ../shared/reference/cms_conditions.csv). Age, sex and deprivation patterns: section 8 says
# which rise with age (hearing loss, prostate, Parkinson's, blindness, diverticular disease,
# constipation), which are commonest in younger adults (migraine, anorexia or bulimia,
# substance misuse, IBS) and which rise with deprivation (alcohol, substance misuse, painful
# conditions, anxiety). Nothing public gives their ethnic patterns; where no effect is set it is
# zero. The knot shapes and the other effects are assumptions from the general epidemiology,
# each noted. Most CMS definitions are adult (prescriptions in the last year, codes ever);
# conditions children also have (eczema, hearing loss, constipation, IBD, migraine, anorexia)
# start earlier.
CMS_EXTRA: tuple[Condition, ...] = (
    # anxiety: CMS merges it with depression; peaks in young and middle adulthood, women
    # about twice men (APMS 2014), rises with deprivation (section 8).
    Condition(
        "ltc_anxiety",
        16,
        (1e-4, 0.04, 0.07, 0.07, 0.06, 0.05, 0.05),
        0.30,
        -0.60,
        -0.20,
        -0.30,
        0.40,
    ),
    # chronic pain (repeat analgesia): rises with age and deprivation, more in women.
    Condition(
        "ltc_painful_condition",
        16,
        (1e-4, 0.01, 0.04, 0.09, 0.15, 0.22, 0.27),
        0.35,
        -0.35,
        0.10,
        0.00,
        0.45,
    ),
    # hearing loss: steep with age, somewhat more in men (noise); little clustering.
    Condition(
        "ltc_hearing_loss",
        0,
        (0.003, 0.008, 0.012, 0.035, 0.10, 0.28, 0.55),
        0.05,
        0.30,
        0.00,
        0.00,
        0.10,
    ),
    # IBS: younger adults, women about twice men.
    Condition(
        "ltc_ibs", 16, (1e-4, 0.03, 0.08, 0.09, 0.09, 0.08, 0.07), 0.10, -0.70, 0.0, 0.0, 0.20
    ),
    # prostate disorders (mostly benign hyperplasia): men only, steep with age.
    Condition(
        "ltc_prostate_disorder",
        30,
        (1e-6, 1e-5, 0.002, 0.02, 0.10, 0.25, 0.35),
        0.00,
        0.00,
        -0.20,
        0.20,
        0.10,
        men_only=True,
    ),
    # thyroid disorders: women about four times men, rising with age.
    Condition(
        "ltc_thyroid_disorder",
        0,
        (5e-4, 0.004, 0.02, 0.04, 0.07, 0.10, 0.11),
        0.05,
        -1.40,
        0.10,
        -0.20,
        0.20,
    ),
    # diverticular disease: steep with age; less common in South Asian people (low-fibre
    # Western diet is the usual explanation).
    Condition(
        "ltc_diverticular_disease",
        30,
        (1e-6, 1e-5, 0.002, 0.01, 0.04, 0.09, 0.12),
        0.05,
        -0.20,
        -0.60,
        -0.30,
        0.25,
    ),
    # chronic sinusitis: flat through adulthood.
    Condition(
        "ltc_chronic_sinusitis",
        16,
        (1e-4, 0.01, 0.025, 0.035, 0.04, 0.04, 0.035),
        0.05,
        0.00,
        0.00,
        0.00,
        0.15,
    ),
    # treated constipation (repeat laxatives): the old and frail, opioid users; clusters hard.
    Condition(
        "ltc_constipation",
        0,
        (0.003, 0.003, 0.005, 0.01, 0.02, 0.06, 0.15),
        0.15,
        -0.40,
        0.00,
        0.00,
        0.55,
    ),
    # peptic ulcer disease: older, men, deprived (H. pylori, NSAIDs, smoking).
    Condition(
        "ltc_peptic_ulcer",
        16,
        (1e-5, 5e-4, 0.003, 0.01, 0.025, 0.04, 0.05),
        0.25,
        0.30,
        0.00,
        0.00,
        0.30,
    ),
    # alcohol problems: middle age, men, steeply with deprivation; far less in South Asian
    # people (abstinence is common).
    Condition(
        "ltc_alcohol_problems",
        16,
        (1e-5, 0.002, 0.015, 0.025, 0.025, 0.015, 0.008),
        0.60,
        0.80,
        -1.00,
        -0.30,
        0.35,
    ),
    # psychoactive substance misuse: young adults, men, steeply with deprivation.
    Condition(
        "ltc_substance_misuse",
        14,
        (1e-5, 0.005, 0.025, 0.02, 0.01, 0.003, 0.001),
        0.80,
        0.70,
        -0.60,
        0.00,
        0.35,
    ),
    # psoriasis or eczema on repeat treatment: every age, little clustering.
    Condition(
        "ltc_psoriasis_eczema",
        0,
        (0.01, 0.01, 0.01, 0.01, 0.012, 0.015, 0.015),
        0.05,
        0.00,
        0.00,
        0.00,
        0.15,
    ),
    # blindness and low vision: steep with age (macular degeneration, diabetic eye disease).
    Condition(
        "ltc_blindness_low_vision",
        0,
        (0.001, 0.002, 0.003, 0.004, 0.008, 0.025, 0.07),
        0.15,
        0.00,
        0.20,
        0.20,
        0.35,
    ),
    # inflammatory bowel disease: onset in young adults; ulcerative colitis is commoner in
    # South Asian people of Leicester than in white people (Leicestershire IBD studies).
    Condition(
        "ltc_ibd",
        10,
        (1e-4, 0.004, 0.009, 0.011, 0.012, 0.012, 0.010),
        -0.05,
        0.0,
        0.20,
        -0.3,
        0.20,
    ),
    # anorexia or bulimia: young women.
    Condition(
        "ltc_anorexia_bulimia",
        12,
        (1e-5, 0.008, 0.010, 0.007, 0.004, 0.002, 0.001),
        0.00,
        -2.00,
        -0.50,
        -0.50,
        0.15,
    ),
    # chronic liver disease and viral hepatitis: middle age, men, deprived (alcohol, hepatitis
    # B and C, fatty liver).
    Condition(
        "ltc_chronic_liver_disease",
        16,
        (1e-5, 5e-4, 0.002, 0.005, 0.009, 0.010, 0.008),
        0.50,
        0.40,
        0.30,
        0.20,
        0.40,
    ),
    # migraine on repeat triptans: younger adults, women about three times men.
    Condition(
        "ltc_migraine",
        12,
        (1e-5, 0.003, 0.008, 0.009, 0.005, 0.002, 0.001),
        0.00,
        -1.30,
        0.00,
        0.00,
        0.10,
    ),
    # bronchiectasis: rises with age.
    Condition(
        "ltc_bronchiectasis",
        0,
        (2e-4, 5e-4, 0.001, 0.002, 0.005, 0.010, 0.012),
        0.10,
        -0.10,
        0.00,
        0.00,
        0.40,
    ),
    # multiple sclerosis: onset 20-40, women about 2.5 times men, rarer in South Asian and
    # Black people.
    Condition(
        "ltc_multiple_sclerosis",
        16,
        (1e-6, 5e-4, 0.002, 0.004, 0.004, 0.003, 0.002),
        0.00,
        -0.90,
        -0.80,
        -0.50,
        0.20,
    ),
    # Parkinson's disease: steep with age, more in men.
    Condition(
        "ltc_parkinsons",
        30,
        (1e-7, 1e-6, 5e-5, 5e-4, 0.002, 0.010, 0.025),
        0.00,
        0.40,
        -0.30,
        -0.30,
        0.30,
    ),
)
CONDITIONS = CONDITIONS + CMS_EXTRA
NAMES = tuple(c.name for c in CONDITIONS)
CMS_NAMES = NAMES[len(REGISTERS) :]
IS_REGISTER = np.array([n in REGISTERS for n in NAMES])
# CPRD adult prevalence, % (Payne et al. 2020, cms_conditions.csv), of the CMS conditions
# that are one contract column each. Anxiety has no row of its own there (CMS counts anxiety
# or depression, 12.85%); 6% is the adult prevalence of generalised anxiety and mixed anxiety
# states in APMS 2014.
CPRD_ADULT_PREVALENCE = {
    c.columns[0]: c.prevalence_pct for c in cms_conditions() if c.columns[0] in CMS_NAMES
} | {"ltc_anxiety": 6.0}
# The CPRD sample's recording, scaled to what the plan's Leicester City table implies (its
# mean of 0.95 conditions a head): one factor for all 21, fitted on the generated extract.
CMS_LEVEL = 0.72
# Log-odds per decade of age (from 50) added to every CMS knot curve: the knots' shapes are
# guesses, and the plan's table (few conditions in the City's young adults) and Barnett's
# 85+ (four in five with two or more) both ask for a steeper rise; fitted like CMS_LEVEL.
CMS_AGE_TILT = 0.35
ENGLAND_PROXY = "04V"  # West Leicestershire: the place whose age mix is nearest England's
K = len(CONDITIONS)
_KNOT_LOGITS = logit(np.array([c.knots for c in CONDITIONS]))  # (K, knots)
_MIN_AGE = np.array([c.min_age for c in CONDITIONS])
_DEP = np.array([c.deprivation for c in CONDITIONS])
_MALE = np.array([c.male for c in CONDITIONS])
_MEN_ONLY = np.array([c.men_only for c in CONDITIONS])
_ETHNIC = np.zeros((K, 5))
_ETHNIC[:, 1] = [c.asian for c in CONDITIONS]
_ETHNIC[:, 2] = [c.black for c in CONDITIONS]
_ETHNIC[:, 3] = 0.5 * _ETHNIC[:, 1]  # Mixed and Other: half-way, on the evidence we have
_ETHNIC[:, 4] = 0.5 * _ETHNIC[:, 1]
# The CMS conditions cluster less than their `clustering` says (x this on the loading): at
# full clustering the City had too many people with 8+ conditions and too few 85+ with 2+.
CMS_CLUSTERING_SCALE = 0.55
LOADING = np.sqrt([min(c.clustering + 0.1, 0.9) if c.clustering else 0.0 for c in CONDITIONS])
LOADING = np.where(IS_REGISTER, LOADING, CMS_CLUSTERING_SCALE * LOADING)
PRIVATE = np.sqrt(1 - LOADING**2)
_LOADING32, _PRIVATE32 = LOADING.astype(np.float32), PRIVATE.astype(np.float32)


def deprivation(imd_decile: np.ndarray) -> np.ndarray:
    """IMD decile 1..10 to a deprivation score from +1 (most deprived) to -1."""
    return (5.5 - imd_decile) / 4.5


def log_odds(age, dep, male, ethnic, offsets) -> np.ndarray:
    """(n, K) log-odds of being on each register; `offsets` (K,) set the place's level."""
    shifted = np.clip(age + DEPRIVATION_AGE_SHIFT * dep, 0, KNOT_AGES[-1])
    curve = np.stack([np.interp(shifted, KNOT_AGES, _KNOT_LOGITS[k]) for k in range(K)], axis=1)
    curve = curve + np.where(IS_REGISTER, 0.0, CMS_AGE_TILT) * (shifted[:, None] - 50) / 10
    lo = curve + offsets + dep[:, None] * _DEP + male[:, None] * _MALE + _ETHNIC[:, ethnic].T
    possible = (age[:, None] >= _MIN_AGE) & ~(_MEN_ONLY & (male[:, None] == 0))
    return np.where(possible, lo, -np.inf)


def thresholds(age, dep, male, ethnic, offsets) -> np.ndarray:
    """Liability thresholds: P(liability > threshold) is the register prevalence."""
    return -ndtri(expit(log_odds(age, dep, male, ethnic, offsets)))


@dataclass(frozen=True)
class RegisterThresholds:
    """Thresholds (K per cell) for every age x decile x sex x ethnic-group cell of a place.

    Computed once per place, so a year of a practice costs one table look-up per person.
    """

    table: np.ndarray  # (ages x 10 x 2 x 5 cells, K), cells in that row-major order

    @classmethod
    def for_place(cls, offsets: np.ndarray) -> RegisterThresholds:
        a, d, m, e = np.meshgrid(AGES, np.arange(1, 11), [0, 1], np.arange(5), indexing="ij")
        t = thresholds(a.ravel(), deprivation(d.ravel()), m.ravel(), e.ravel(), offsets)
        return cls(t.astype(np.float32))

    def __call__(self, age, decile, male, ethnic) -> np.ndarray:
        cell = ((age * 10 + decile - 1) * 2 + male) * 5 + ethnic  # one gather, not four
        return self.table[cell]


def private_liabilities(normals: np.ndarray) -> np.ndarray:
    """(n, K) standard normals scaled once to each condition's private share (float32)."""
    return normals * _PRIVATE32


def on_register(h, private, thresholds_now, already=None) -> np.ndarray:
    """Flags (n, K): liability above threshold now, or on the register before. `private` is
    from private_liabilities; float32 throughout (40 conditions a person, every year)."""
    flags = _LOADING32 * h.astype(np.float32)[:, None] + private > thresholds_now
    return flags if already is None else flags | already


def target_prevalence(place: Place) -> np.ndarray:
    """(registers,) QOF prevalence (fraction, own denominator) the place should show."""
    area_col = {"Leicester": 2, "Leicestershire": 3, "Rutland": 4}
    return np.array(
        [
            sum(w * T.QOF_PREVALENCE[name][area_col[a]] for a, w in place.mix.items()) / 100
            for name in REGISTERS
        ]
    )


# Cohort turnover (deaths take the sick, the flags are kept) pulls the generated prevalence a
# little away from the cross-sectional target; measured on the generated extract and corrected.
_DRIFT = dict(  # generated / target prevalence, refitted with the 40 conditions (seed 42, 0.35)
    ltc_hypertension=0.93,
    ltc_diabetes=0.928,
    ltc_asthma=0.899,
    ltc_copd=0.971,
    ltc_chd=0.966,
    ltc_heart_failure=1.078,
    ltc_atrial_fibrillation=0.986,
    ltc_stroke_tia=0.984,
    ltc_ckd=0.97,
    ltc_cancer=0.973,
    ltc_dementia=1.218,
    ltc_depression=0.906,
    ltc_smi=0.896,
    ltc_epilepsy=0.88,
    ltc_learning_disability=1.002,
    ltc_osteoporosis=1.124,
    ltc_rheumatoid_arthritis=0.899,
    ltc_pad=1.08,
    ltc_obesity=0.904,
)
DRIFT = np.array([_DRIFT.get(n, 1.0) for n in NAMES])


def solve_offsets(place: Place) -> np.ndarray:
    """Per-condition offsets: each register at the place's QOF prevalence, and the CMS
    conditions at one level for every place (set on England's age mix, see cms_offsets)."""
    target = np.zeros(K)
    target[IS_REGISTER] = target_prevalence(place) * DRIFT[IS_REGISTER]
    registers = _bisect_offsets(place, target, IS_REGISTER)
    return np.where(IS_REGISTER, registers, cms_offsets())


@lru_cache(maxsize=1)
def cms_offsets() -> np.ndarray:
    """(K,) offsets putting each CMS condition at its CPRD adult prevalence (times CMS_LEVEL)
    among the adults of the England proxy; registers get 0 here (solved per place)."""
    from phm.synth.geography import build_place  # geography needs no conditions: no cycle

    target = np.array([CPRD_ADULT_PREVALENCE.get(n, 1.0) for n in NAMES]) / 100
    place = build_place(ENGLAND_PROXY, 0.0)
    return _bisect_offsets(place, target * CMS_LEVEL * DRIFT, ~IS_REGISTER, denominator_age=18)


def _bisect_offsets(
    place: Place, target: np.ndarray, solve: np.ndarray, denominator_age: int = 0
) -> np.ndarray:
    """Offsets (K,), 0 outside `solve`, so the expected crude prevalence in `place` hits
    `target`; registers take their own denominator, and nobody under `denominator_age` counts.

    Integrates the condition model over the place's age, sex, ethnicity and decile mix on a
    grid (deterministic, no sampling), bisecting each offset.
    """
    dec = np.arange(1, 11)
    dec_pmf = np.diff(np.concatenate([[0.0], place.decile_cdf]))
    a, d, m, e = np.meshgrid(AGES, dec, [0, 1], np.arange(5), indexing="ij")
    w = (
        place.age_pmf[:, None, None, None]
        * dec_pmf[None, :, None, None]
        * np.array([1 - place.male_share, place.male_share])[None, None, :, None]
        * place.ethnicity[None, None, None, :]
    ).ravel()
    age, dep, male, eth = a.ravel(), deprivation(d.ravel()), m.ravel(), e.ravel()
    cells = w > 0  # e.g. Rutland has no LSOA in deciles 1-4
    w, age, dep, male, eth = w[cells], age[cells], dep[cells], male[cells], eth[cells]
    counted = age[:, None] >= np.maximum(_MIN_AGE[solve], denominator_age)
    base = np.where(counted, log_odds(age, dep, male, eth, np.zeros(K))[:, solve], -np.inf)
    denominator = (w[:, None] * counted).sum(0)
    target = target[solve]
    if denominator_age:  # the CPRD figure is a share of all adults, men-only or not
        denominator = np.full(target.size, w[age >= denominator_age].sum())
    lo, hi = np.full(target.size, -12.0), np.full(target.size, 12.0)
    for _ in range(28):  # to within 1e-7 in log-odds
        mid = (lo + hi) / 2
        prevalence = (w @ expit(base + mid)) / denominator
        lo, hi = np.where(prevalence < target, mid, lo), np.where(prevalence < target, hi, mid)
    out = np.zeros(K)
    out[solve] = (lo + hi) / 2
    return out
