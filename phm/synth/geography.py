"""Practices, places and what each place's registered population looks like.

Everything here is computed from the whole practice list, never from a chunk of it, so a
practice's parameters are the same however the generation is chunked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl
from scipy.special import ndtri

from phm.synth import targets as T

MAX_AGE = 105
AGES = np.arange(MAX_AGE + 1)
# Within-place spread of a practice's patients over deprivation deciles: 1.0 would put every
# patient of a practice in one slice of the place; lower mixes neighbourhoods.
PRACTICE_DEPRIVATION_LOADING = 0.8


@dataclass(frozen=True)
class Place:
    """What the registered population of one place (sub-ICB) looks like."""

    code: str
    age_pmf: np.ndarray  # P(age = a), a = 0..MAX_AGE
    male_share: float
    ethnicity: np.ndarray  # shares of White, Asian, Black, Mixed, Other (known ethnicity)
    decile_cdf: np.ndarray  # cumulative share of residents by IMD decile 1..10
    mix: dict[str, float]  # local-authority weights behind the place's figures


@dataclass(frozen=True)
class Practice:
    """One practice with the parameters its simulation needs."""

    index: int  # position in the reference list: picks the practice's seed and id block
    code: str
    place: Place
    list_size: int
    deprivation_z: float  # probit of the practice's position in its place, deprived first


def load_reference_practices() -> pl.DataFrame:
    """The 133 LLR practices of the reference CSV shipped as package data."""
    source = resources.files("phm").joinpath("reference/llr_practices_2019.csv")
    with source.open("rb") as f:
        frame = pl.read_csv(
            f, schema_overrides={"registered_patients": pl.Int64, "imd2019_score": pl.Float64}
        )
    return frame.sort("practice_code")


def rutland_share(practices: pl.DataFrame) -> float:
    """Share of 03W's registered list in the Rutland PCN."""
    east = practices.filter(pl.col("place_code") == "03W")
    rutland = east.filter(pl.col("pcn_code") == T.RUTLAND_PCN)["registered_patients"].sum()
    return float(rutland / east["registered_patients"].sum())


def _mixed(table: dict[str, tuple[float, ...]], mix: dict[str, float]) -> np.ndarray:
    out = sum(w * np.asarray(table[area], float) / np.sum(table[area]) for area, w in mix.items())
    return np.asarray(out, float)


def age_pmf(share_65: float, share_18: float, mean_age: float, share_80: float) -> np.ndarray:
    """A single-year age distribution with the given band shares and mean age.

    Children are flat, 65-79 and 80+ decline as survival does; the 18-64 band is tilted (young
    adults heavy in the city, middle-aged heavy in the shires) until the mean age matches.
    """

    def band(lo: int, hi: int, slope: float) -> np.ndarray:
        w = np.zeros(MAX_AGE + 1)
        w[lo : hi + 1] = np.exp(slope * (AGES[lo : hi + 1] - lo))
        return w / w.sum()

    fixed = (
        (1 - share_18) * band(0, 17, -0.004)
        + (share_65 - share_80) * band(65, 79, -0.03)
        + share_80 * band(80, MAX_AGE, -0.13)
    )

    def pmf(tilt: float) -> np.ndarray:
        return fixed + (share_18 - share_65) * band(18, 64, tilt)

    lo, hi = -0.2, 0.2
    for _ in range(60):  # bisection: the mean rises with the tilt
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if pmf(mid) @ AGES < mean_age else (lo, mid)
    return pmf((lo + hi) / 2)


def build_place(code: str, rutland: float) -> Place:
    mix = T.area_mix(code, rutland)
    share_65, share_18, mean_age, male = T.AGE_SEX[code]
    share_80 = sum(w * T.AGED_80_PLUS[area] for area, w in mix.items())
    return Place(
        code=code,
        age_pmf=age_pmf(share_65, share_18, mean_age, share_80),
        male_share=male,
        ethnicity=_mixed(T.ETHNICITY, mix),
        decile_cdf=np.cumsum(_mixed(T.IMD_LSOAS, mix)),
        mix=mix,
    )


def build_practices(reference: pl.DataFrame, scale: float) -> list[Practice]:
    """Every practice with its place, scaled list size and deprivation position."""
    rutland = rutland_share(reference)
    places = {code: build_place(code, rutland) for code in T.PLACES}
    # A practice's position in its place: list-weighted quantile midpoint, most deprived first,
    # so the practices of a place together reproduce the place's decile mix.
    ranked = (
        reference.with_row_index("index")
        .sort(["place_code", "imd2019_score", "practice_code"], descending=[False, True, False])
        .with_columns(
            (
                (pl.col("registered_patients").cum_sum() - pl.col("registered_patients") / 2)
                / pl.col("registered_patients").sum()
            )
            .over("place_code")
            .alias("quantile")
        )
        .sort("index")
    )
    return [
        Practice(
            index=int(row["index"]),
            code=row["practice_code"],
            place=places[row["place_code"]],
            list_size=max(1, round(row["registered_patients"] * scale)),
            deprivation_z=float(ndtri(row["quantile"])),
        )
        for row in ranked.iter_rows(named=True)
    ]


@dataclass(frozen=True)
class SyntheticIcs:
    """One synthetic copy of LLR's geography under made-up ICS, place, PCN and practice codes,
    for scale tests of a region or England. Its patients are as synthetic as LLR's."""

    number: int  # 1, 2, ...

    @property
    def code(self) -> str:
        return f"SYN{self.number:02d}"

    @property
    def name(self) -> str:
        return f"Synthetic ICS {self.number:02d} (a made-up copy of LLR's practices)"

    @property
    def id_prefix(self) -> str:
        return f"s{self.number:02d}"  # patient ids unique across copies

    def practices(self, reference: pl.DataFrame) -> pl.DataFrame:
        """The reference practice list recoded for this copy (the order kept)."""
        k = self.number
        pcns = {c: j for j, c in enumerate(sorted(reference["pcn_code"].unique()))}
        tag = f" (synthetic ICS {k:02d})"
        return reference.with_columns(
            (f"X{k:02d}" + pl.int_range(pl.len()).cast(pl.String).str.zfill(3)).alias(
                "practice_code"
            ),
            ("Synthetic copy of " + pl.col("practice_name")).alias("practice_name"),
            pl.col("pcn_code")
            .replace_strict({c: f"U9{k:02d}{j:02d}" for c, j in pcns.items()})
            .alias("pcn_code"),
            (pl.col("pcn_name") + tag).alias("pcn_name"),
            (pl.col("place_code") + f"-S{k:02d}").alias("place_code"),
            (pl.col("place_name") + tag).alias("place_name"),
            pl.lit(self.code).alias("ics_code"),
            pl.lit(self.name).alias("ics_name"),
        )


def synthetic_icss(scale: float, copies: int | None = None) -> list[SyntheticIcs]:
    """The copies of LLR a scale asks for: none (LLR itself) up to scale 1, else one per whole
    LLR started (`phm synth --scale 10`: ten), unless `copies` says how many."""
    n = copies if copies is not None else (math.ceil(scale) if scale > 1 else 1)
    return [] if n == 1 and copies is None else [SyntheticIcs(k) for k in range(1, n + 1)]
