"""One practice's registered population followed year by year.

A year: score everyone's true risk, draw who dies and who is admitted, let some leave, age the
rest (their health drifts and new conditions appear), then register births and movers so the
list keeps its size and age profile. The simulation starts one year before the first snapshot
so that the first snapshot's "last 12 months" are drawn like every later one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

from phm.synth import conditions as C
from phm.synth import health as H
from phm.synth.geography import AGES, MAX_AGE, PRACTICE_DEPRIVATION_LOADING, Practice

H_PERSISTENCE = 0.95  # year-on-year correlation of the shared health liability
U_PERSISTENCE = 0.85  # and of the unrecorded risk factor
ETHNICITY_UNKNOWN = 0.04  # not recorded in the GP record
IMD_UNKNOWN = 0.005  # no usable postcode
SEX_UNKNOWN = 0.0002
ID_BITS_PER_PRACTICE = 30  # 2**30 registrations per practice; 8 bits of practice index


@dataclass
class Snapshot:
    """The practice's registered list at one snapshot, with what happens in the next year."""

    people: dict[str, np.ndarray]  # columns for the extract (internal codes; see writer)
    true_risk: np.ndarray
    died: np.ndarray  # bool: dies in the 12 months after the snapshot
    death_day: np.ndarray  # days after the snapshot, where died


def pseudonyms(serial: np.ndarray, key: int) -> np.ndarray:
    """A keyed bijection on 38-bit integers (4-round Feistel): unique ids from serials."""
    mask = np.uint64((1 << 19) - 1)
    left, right = (serial >> np.uint64(19)) & mask, serial & mask
    for r in range(4):
        k = np.uint64((key >> (15 * r)) & 0x7FFFF)
        f = ((right * np.uint64(0x9E3779B1) + k) ^ (right >> np.uint64(7))) & mask
        f = (f * np.uint64(0x85EBCA6B) ^ (f >> np.uint64(11))) & mask
        left, right = right, left ^ f
    return (left << np.uint64(19)) | right


class PracticeCohort:
    """The registered list of one practice, simulated with the practice's own random stream."""

    def __init__(
        self,
        practice: Practice,
        thresholds: C.RegisterThresholds,
        rng: np.random.Generator,
        id_key: int,
    ):
        self.practice = practice
        self.place = practice.place
        self.thresholds = thresholds
        self.rng = rng
        self.id_key = id_key
        self.next_serial = 0
        ages = rng.choice(AGES, size=practice.list_size, p=self.place.age_pmf)
        self.p = self._new_people(np.sort(ages))

    # -- people --------------------------------------------------------------------------
    def _new_people(self, ages: np.ndarray) -> dict[str, np.ndarray]:
        """Fresh registrations at the given ages, with conditions and a last year of their own."""
        rng, n, place = self.rng, ages.size, self.place
        serial = (np.uint64(self.practice.index) << np.uint64(ID_BITS_PER_PRACTICE)) + np.arange(
            self.next_serial, self.next_serial + n, dtype=np.uint64
        )
        self.next_serial += n
        # Deprivation: the practice's place in its area, blurred over its neighbourhoods.
        load = PRACTICE_DEPRIVATION_LOADING
        pos = ndtr(
            load * self.practice.deprivation_z + np.sqrt(1 - load**2) * rng.standard_normal(n)
        )
        decile = np.searchsorted(self.place.decile_cdf, pos * self.place.decile_cdf[-1]) + 1
        p = dict(
            pid=pseudonyms(serial, self.id_key),
            age=ages.astype(np.int64),
            male=rng.random(n) < place.male_share,
            sex_unknown=rng.random(n) < SEX_UNKNOWN,
            ethnic=rng.choice(5, size=n, p=place.ethnicity / place.ethnicity.sum()),
            ethnic_unknown=rng.random(n) < ETHNICITY_UNKNOWN,
            decile=np.minimum(decile, 10).astype(np.int64),
            decile_unknown=rng.random(n) < IMD_UNKNOWN,
            h=rng.standard_normal(n),
            u=rng.standard_normal(n),
            private=C.private_liabilities(rng.standard_normal((n, C.K), dtype=np.float32)),
            frailty_noise=rng.standard_normal(n),
            care_home=np.zeros(n, bool),
            prior_em=np.zeros(n, np.int64),
        )
        p["flags"] = C.on_register(p["h"], p["private"], self._thresholds(p))
        p.update(H.condition_summaries(p["flags"]))
        efi = self._efi(p)
        p["care_home"] = H.care_home_entry(p["age"], efi, p["flags"], rng)
        # Their last 12 months elsewhere: drawn from the same risk model.
        admit_p = expit(self._admit_log_odds(p, self._efi(p)))
        p["prior_em"] = H.emergency_count(rng.random(n) < admit_p, admit_p, p["count"], rng)
        return p

    def _thresholds(self, p):
        return self.thresholds(p["age"], p["decile"], p["male"], p["ethnic"])

    def _efi(self, p):
        return H.frailty(p["age"], p["count"], p["h"], p["frailty_noise"], p["care_home"])

    def _admit_log_odds(self, p, efi):
        return H.admission_log_odds(
            p["age"],
            p["male"],
            C.deprivation(p["decile"]),
            p["count"],
            p["admit_w"],
            efi,
            p["care_home"],
            p["prior_em"],
            p["h"],
            p["u"],
        )

    # -- a year ----------------------------------------------------------------------------
    def years(self, n_years: int) -> Iterator[Snapshot]:
        """Yield the list at each snapshot (after one burn-in year), then move a year on."""
        self._advance(record=False)
        for _ in range(n_years):
            yield self._advance(record=True)

    def _advance(self, record: bool) -> Snapshot | None:
        rng, p = self.rng, self.p
        n = p["age"].size
        efi = self._efi(p)
        admit_p = expit(self._admit_log_odds(p, efi))
        death_p = H.death_probability(
            p["age"], p["male"], p["death_w"], efi, p["care_home"], p["h"]
        )
        true_risk = 1 - (1 - admit_p) * (1 - death_p)
        snapshot = None
        if record:
            people = {
                k: p[k]
                for k in (
                    "pid",
                    "age",
                    "male",
                    "sex_unknown",
                    "ethnic",
                    "ethnic_unknown",
                    "decile",
                    "decile_unknown",
                    "care_home",
                    "flags",
                )
            }
            people["efi"] = efi
            people["emergency_admissions_12m"] = p["prior_em"]
            people.update(H.activity(p["count"], admit_p, p["prior_em"], rng))
            snapshot = Snapshot(people, true_risk, np.zeros(n, bool), np.zeros(n, np.int64))
        # The next 12 months.
        died = rng.random(n) < death_p
        emergency = H.emergency_count(rng.random(n) < admit_p, admit_p, p["count"], rng)
        death_day = rng.integers(0, 365, n)
        if snapshot is not None:
            snapshot.died, snapshot.death_day = died, death_day
        leaves = ~died & (rng.random(n) < _leaving_rate(p["age"]))
        stays = ~died & ~leaves
        self.p = self._age_a_year({k: v[stays] for k, v in p.items()}, emergency[stays])
        self._register_newcomers()
        return snapshot

    def _age_a_year(self, p, emergency):
        rng, n = self.rng, p["age"].size
        p["age"] = np.minimum(p["age"] + 1, MAX_AGE)
        p["h"] = H_PERSISTENCE * p["h"] + np.sqrt(1 - H_PERSISTENCE**2) * rng.standard_normal(n)
        p["u"] = U_PERSISTENCE * p["u"] + np.sqrt(1 - U_PERSISTENCE**2) * rng.standard_normal(n)
        p["flags"] = C.on_register(p["h"], p["private"], self._thresholds(p), p["flags"])
        p.update(H.condition_summaries(p["flags"]))
        p["care_home"] = p["care_home"] | H.care_home_entry(
            p["age"], self._efi(p), p["flags"], rng
        ) & (rng.random(n) < 0.3)
        p["prior_em"] = emergency
        return p

    def _register_newcomers(self):
        """Births and movers fill the list back to size, where the age profile falls short."""
        p, size = self.p, self.practice.list_size
        short = size - p["age"].size
        if short <= 0:
            return
        have = np.bincount(p["age"], minlength=MAX_AGE + 1)
        deficit = np.maximum(size * self.place.age_pmf - have, 0)
        deficit = deficit + 1e-9 if deficit.sum() == 0 else deficit
        ages = np.sort(self.rng.choice(AGES, size=short, p=deficit / deficit.sum()))
        new = self._new_people(ages)
        self.p = {k: np.concatenate([p[k], new[k]]) for k in p}


def _leaving_rate(age: np.ndarray) -> np.ndarray:
    """Yearly chance of leaving the practice alive: students and young workers move most."""
    return np.where((age >= 18) & (age < 35), 0.11, np.where(age < 5, 0.06, 0.04))
