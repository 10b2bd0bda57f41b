"""Long-term conditions: who is on each QOF register, and who joins it as they age.

A liability-threshold model. Each person carries a shared health liability `h` (which makes
conditions cluster and also drives frailty, admissions and death) and one private liability
per condition. A person is on a register once `sqrt(r) h + sqrt(1-r) e` exceeds a threshold
set by the register's prevalence at their age, sex, ethnicity and deprivation. As people age
the thresholds fall and `h` drifts, so incidence rises with age, frailty and deprivation; a
register, once joined, is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, ndtri

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
NAMES = tuple(c.name for c in CONDITIONS)
K = len(CONDITIONS)
_KNOT_LOGITS = logit(np.array([c.knots for c in CONDITIONS]))  # (K, knots)
_MIN_AGE = np.array([c.min_age for c in CONDITIONS])
_DEP = np.array([c.deprivation for c in CONDITIONS])
_MALE = np.array([c.male for c in CONDITIONS])
_ETHNIC = np.zeros((K, 5))
_ETHNIC[:, 1] = [c.asian for c in CONDITIONS]
_ETHNIC[:, 2] = [c.black for c in CONDITIONS]
_ETHNIC[:, 3] = 0.5 * _ETHNIC[:, 1]  # Mixed and Other: half-way, on the evidence we have
_ETHNIC[:, 4] = 0.5 * _ETHNIC[:, 1]
LOADING = np.sqrt([min(c.clustering + 0.1, 0.9) if c.clustering else 0.0 for c in CONDITIONS])
PRIVATE = np.sqrt(1 - LOADING**2)


def deprivation(imd_decile: np.ndarray) -> np.ndarray:
    """IMD decile 1..10 to a deprivation score from +1 (most deprived) to -1."""
    return (5.5 - imd_decile) / 4.5


def log_odds(age, dep, male, ethnic, offsets) -> np.ndarray:
    """(n, K) log-odds of being on each register; `offsets` (K,) set the place's level."""
    shifted = np.clip(age + DEPRIVATION_AGE_SHIFT * dep, 0, KNOT_AGES[-1])
    curve = np.stack([np.interp(shifted, KNOT_AGES, _KNOT_LOGITS[k]) for k in range(K)], axis=1)
    lo = curve + offsets + dep[:, None] * _DEP + male[:, None] * _MALE + _ETHNIC[:, ethnic].T
    return np.where(age[:, None] >= _MIN_AGE, lo, -np.inf)


def thresholds(age, dep, male, ethnic, offsets) -> np.ndarray:
    """Liability thresholds: P(liability > threshold) is the register prevalence."""
    return -ndtri(expit(log_odds(age, dep, male, ethnic, offsets)))


@dataclass(frozen=True)
class RegisterThresholds:
    """Thresholds (K per cell) for every age x decile x sex x ethnic-group cell of a place.

    Computed once per place, so a year of a practice costs one table look-up per person.
    """

    table: np.ndarray  # (ages, 10, 2, 5, K)

    @classmethod
    def for_place(cls, offsets: np.ndarray) -> RegisterThresholds:
        a, d, m, e = np.meshgrid(AGES, np.arange(1, 11), [0, 1], np.arange(5), indexing="ij")
        t = thresholds(a.ravel(), deprivation(d.ravel()), m.ravel(), e.ravel(), offsets)
        return cls(t.reshape(*a.shape, K).astype(np.float32))

    def __call__(self, age, decile, male, ethnic) -> np.ndarray:
        return self.table[age, decile - 1, male.astype(np.int64), ethnic]


def on_register(h, private, thresholds_now, already=None) -> np.ndarray:
    """Flags (n, K): liability above threshold now, or on the register before."""
    flags = LOADING * h[:, None] + PRIVATE * private > thresholds_now
    return flags if already is None else flags | already


def target_prevalence(place: Place) -> np.ndarray:
    """(K,) QOF prevalence (fraction, own denominator) the place should show."""
    area_col = {"Leicester": 2, "Leicestershire": 3, "Rutland": 4}
    return np.array(
        [
            sum(w * T.QOF_PREVALENCE[c.name][area_col[a]] for a, w in place.mix.items()) / 100
            for c in CONDITIONS
        ]
    )


# Cohort turnover (deaths take the sick, the flags are kept) pulls the generated prevalence a
# little away from the cross-sectional target; measured on the generated extract and corrected.
_DRIFT = dict(  # measured: generated / target prevalence, seed 1, scale 0.3
    ltc_hypertension=0.93,
    ltc_diabetes=0.93,
    ltc_asthma=0.9,
    ltc_copd=0.96,
    ltc_chd=0.95,
    ltc_heart_failure=1.04,
    ltc_atrial_fibrillation=0.98,
    ltc_stroke_tia=0.96,
    ltc_ckd=0.97,
    ltc_cancer=0.95,
    ltc_dementia=1.17,
    ltc_depression=0.9,
    ltc_smi=0.86,
    ltc_epilepsy=0.89,
    ltc_learning_disability=1.02,
    ltc_osteoporosis=1.11,
    ltc_rheumatoid_arthritis=0.92,
    ltc_pad=1.06,
    ltc_obesity=0.9,
)
DRIFT = np.array([_DRIFT.get(n, 1.0) for n in NAMES])


def solve_offsets(place: Place) -> np.ndarray:
    """Per-register offsets so the place's expected crude prevalence hits its target.

    Integrates the register model over the place's age, sex, ethnicity and decile mix on a
    grid (deterministic, no sampling), bisecting each register's offset.
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
    target = target_prevalence(place) * DRIFT
    base = log_odds(age, dep, male, eth, np.zeros(K))
    denominator = (w[:, None] * (age[:, None] >= _MIN_AGE)).sum(0)
    lo, hi = np.full(K, -12.0), np.full(K, 12.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        prevalence = (w @ expit(base + mid)) / denominator
        lo, hi = np.where(prevalence < target, mid, lo), np.where(prevalence < target, hi, mid)
    return (lo + hi) / 2
