"""The Leicester City LTC-count table, checked from the extract files alone.

Independent of phm/synth/calibration.py (and of the pipeline's readers): the files of
`phm synth --scale 0.35` at seed 7 are read with polars and every figure is recomputed here,
against the published numbers typed in again from ../shared/reference/calibration-targets.md.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

# Section 2: band (0..7, 8 = 8+) -> (% of patients, next-year emergency admission risk %).
CITY_TABLE = {
    0: (61.7, 6),
    1: (17.0, 12),
    2: (8.1, 17),
    3: (4.7, 22),
    4: (3.0, 27),
    5: (1.9, 33),
    6: (1.2, 39),
    7: (0.8, 46),
    8: (1.6, 61),
}
# Cost concentration: (share of patients, % of cost, +- points).
COST = {"top 5%": (0.05, 51, 5), "top 0.5%": (0.005, 19, 3), "bottom 80%": (0.80, 13, 3)}
# All secondary care: admitted care cost plus outpatient and A&E at rough unit costs (pounds).
OUTPATIENT, AE = 110.0, 150.0
FIRST, SECOND = date(2021, 4, 1), date(2022, 4, 1)


@pytest.fixture(scope="module")
def files(second_sample):
    folder = second_sample.out_dir
    city = pl.read_csv(folder / "practices.csv").filter(pl.col("place_code") == "04C")
    first = pl.read_parquet(folder / f"patients_{FIRST}.parquet")
    second = pl.read_parquet(folder / f"patients_{SECOND}.parquet")
    deaths = pl.read_parquet(folder / "deaths.parquet")
    return first, second, deaths, set(city["practice_code"])


def _band(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(band=pl.col("ltc_count").clip(0, 8))


def test_city_band_shares_within_one_and_a_half_points(files):
    first, _, _, city = files
    people = _band(first.filter(pl.col("practice_code").is_in(city)))
    shares = dict(people.group_by("band").agg(pct=100 * pl.len() / people.height).iter_rows())
    for band, (published, _) in CITY_TABLE.items():
        assert abs(shares[band] - published) <= 1.5, (band, shares[band], published)


def test_city_next_year_risk_per_band_within_three_points(files):
    first, second, deaths, city = files
    died = deaths.filter(
        (pl.col("date_of_death") > FIRST) & (pl.col("date_of_death") <= SECOND)
    ).select("patient_id", died=pl.lit(True))
    later = second.select("patient_id", admitted=pl.col("emergency_admissions_12m") >= 1)
    followed = (
        _band(first.filter(pl.col("practice_code").is_in(city)))
        .join(later, on="patient_id", how="left")
        .join(died, on="patient_id", how="left")
        .filter(pl.col("admitted").is_not_null() | pl.col("died").is_not_null())  # known outcome
        .with_columns(event=pl.col("admitted").fill_null(False) | pl.col("died").fill_null(False))
    )
    risk = dict(followed.group_by("band").agg(pct=100 * pl.col("event").mean()).iter_rows())
    for band, (_, published) in CITY_TABLE.items():
        assert abs(risk[band] - published) <= 3, (band, risk[band], published)


def test_cost_concentration_within_tolerance(files):
    first = files[0]
    cost = (
        first.select(
            pl.col("secondary_care_cost_12m")
            + OUTPATIENT * pl.col("outpatient_attendances_12m")
            + AE * pl.col("ae_attendances_12m")
        )
        .to_series()
        .sort(descending=True)
    )
    total, n = cost.sum(), cost.len()
    for label, (share, published, points) in COST.items():
        k = round(share * n)
        part = cost.tail(k).sum() if label.startswith("bottom") else cost.head(k).sum()
        assert abs(100 * part / total - published) <= points, (label, 100 * part / total)


def test_multimorbidity_by_age(files):
    first = files[0]
    adults = first.filter(pl.col("age") >= 18)
    oldest = first.filter(pl.col("age") >= 85)
    adults_2plus = 100 * (adults["ltc_count"] >= 2).mean()
    oldest_2plus = 100 * (oldest["ltc_count"] >= 2).mean()
    assert abs(adults_2plus - 27.2) <= 3, adults_2plus  # Cassell et al. 2018
    assert abs(oldest_2plus - 81.5) <= 5, oldest_2plus  # Barnett et al. 2012


def test_ltc_count_is_the_sum_of_all_forty_flags(files):
    first = files[0]
    flags = [c for c in first.columns if c.startswith("ltc_") and c != "ltc_count"]
    assert len(flags) == 40
    assert all(first.schema[c] == pl.Boolean for c in flags)
    assert (first["ltc_count"] == first.select(pl.sum_horizontal(flags)).to_series()).all()
