"""A tiny synthetic extract scored with a stand-in risk (no model fitting), its profile tables
and profile pages, with PCN and practice names that carry markup."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from phm.disclosure import DisclosurePolicy
from phm.extract import read_extract
from phm.profiles import profile_inputs, profile_tables
from phm.reports import profile_page, write_profiles
from phm.synth import generate_extract
from phm.tiering import patient_risk_table

SCRIPT_NAME = "<script>alert(1)</script> PCN"
IMG_NAME = "<img src=x onerror=alert(1)> Surgery"


@pytest.fixture(scope="session")
def hostile_extract(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports_extract") / "extract"
    generate_extract(out, scale=0.004, seed=11, truth_dir=out.parent / "truth")
    extract = read_extract(out)
    practices = extract.practices
    first_pcn = practices["pcn_code"].sort()[0]
    first_practice = practices.filter(pl.col("pcn_code") == first_pcn)["practice_code"][0]
    practices = practices.with_columns(
        pl.when(pl.col("pcn_code") == first_pcn)
        .then(pl.lit(SCRIPT_NAME))
        .otherwise(pl.col("pcn_name"))
        .alias("pcn_name"),
        pl.when(pl.col("practice_code") == first_practice)
        .then(pl.lit(IMG_NAME))
        .otherwise(pl.col("practice_name"))
        .alias("practice_name"),
    )
    return dataclasses.replace(extract, practices=practices), first_pcn


@pytest.fixture(scope="session")
def hostile_risk(hostile_extract):
    extract, _ = hostile_extract
    return _stand_in_risk(extract)


@pytest.fixture(scope="session")
def hostile_tables(hostile_extract, hostile_risk):
    extract, _ = hostile_extract
    risk = hostile_risk
    inputs = profile_inputs(risk, extract)
    return profile_tables(inputs, DisclosurePolicy()), inputs


@pytest.fixture(scope="session")
def hostile_profiles(hostile_tables, hostile_extract, tmp_path_factory) -> Path:
    extract, _ = hostile_extract
    tables, _ = hostile_tables
    folder = tmp_path_factory.mktemp("profiles")
    write_profiles(tables, folder, workers=1, practices=extract.practices)
    return folder


def _stand_in_risk(extract):
    """The last two snapshots scored with a stand-in risk (no model fitting) and tiered."""
    dates = sorted(extract.snapshots)[-2:]
    scored = pl.concat(
        extract.snapshots[d]
        .select(
            "patient_id",
            "practice_code",
            (0.02 + 0.04 * pl.col("ltc_count") + 0.002 * pl.col("age")).clip(0, 0.95).alias("risk"),
        )
        .with_columns(pl.lit(d).alias("snapshot_date"))
        for d in dates
    )
    return patient_risk_table(scored, extract.snapshots, extract.practices, model="stand_in")


# --------------------------------------------------------------------------------------------
# Like with like (issue 13): an extract whose PCNs share the same age-sex-specific rates of
# every register by construction, so only age and sex differ between them; one PCN is young,
# and one has twice the age-specific diabetes prevalence.
# --------------------------------------------------------------------------------------------
BLOCK = 10  # patients per block; a block is one age band and sex with a fixed pattern
CELLS = [(band, sex) for band in range(19) for sex in ("F", "M")]
YOUNG_CELLS = [(band, sex) for band, sex in CELLS if band < 8]  # aged 0-39 only


def cell_pattern(ltc_index: int, band: int) -> int:
    """How many of a block's 10 patients have the condition: 0..4, the same in every PCN."""
    return (ltc_index + band) % 2 if band < 3 else (ltc_index * 7 + band * 3) % 5


def _like_with_like_snapshot(frame, practices, ltcs, young, double) -> pl.DataFrame:
    f = frame.join(practices.select("practice_code", "pcn_code"), on="practice_code")
    f = f.sort("pcn_code", "patient_id").with_columns(
        pl.int_range(pl.len()).over("pcn_code").alias("_i"),
        pl.len().over("pcn_code").alias("_size"),
    )
    f = f.filter(pl.col("_i") < pl.col("_size") // BLOCK * BLOCK)  # whole blocks only
    block, r = pl.col("_i") // BLOCK, pl.col("_i") % BLOCK

    def pick(cells, i):
        return pl.lit(pl.Series([c[i] for c in cells])).gather(block % len(cells))

    is_young = pl.col("pcn_code") == young
    band = pl.when(is_young).then(pick(YOUNG_CELLS, 0)).otherwise(pick(CELLS, 0))
    sex = pl.when(is_young).then(pick(YOUNG_CELLS, 1)).otherwise(pick(CELLS, 1))
    f = f.with_columns(band.alias("_band"), sex.alias("sex"))
    flags = []
    for j, col in enumerate(ltcs):
        c = pl.lit(0)
        for b in range(19):
            c = pl.when(pl.col("_band") == b).then(pl.lit(cell_pattern(j, b))).otherwise(c)
        if col == "ltc_diabetes":
            c = pl.when(pl.col("pcn_code") == double).then(c * 2).otherwise(c)
        flags.append((r < c).alias(col))
    f = f.with_columns(
        *flags,
        (pl.col("_band") * 5 + 2).alias("age"),
        (r < pl.col("_band") // 6).cast(pl.Int64).alias("emergency_admissions_12m"),
    )
    f = f.with_columns(
        pl.sum_horizontal(*(pl.col(c).cast(pl.Int64) for c in ltcs)).alias("ltc_count")
    )
    return f.select(frame.columns).with_columns(
        pl.col("age").cast(frame.schema["age"]), pl.col("ltc_count").cast(frame.schema["ltc_count"])
    )


@pytest.fixture(scope="session")
def like_with_like(tmp_path_factory):
    """(tables, the two PCNs' pages, young PCN, double-diabetes PCN, extract)."""
    out = tmp_path_factory.mktemp("like_extract") / "extract"
    generate_extract(out, scale=0.01, seed=5, truth_dir=out.parent / "truth")
    extract = read_extract(out)
    pcns = extract.practices["pcn_code"].unique().sort().to_list()
    young, double = pcns[1], pcns[2]
    ltcs = extract.ltc_columns
    snapshots = {
        d: _like_with_like_snapshot(f, extract.practices, ltcs, young, double)
        for d, f in extract.snapshots.items()
    }
    extract = dataclasses.replace(extract, snapshots=snapshots)
    tables = profile_tables(profile_inputs(_stand_in_risk(extract), extract), DisclosurePolicy())
    pages = {pcn: profile_page(tables, pcn, extract.practices) for pcn in (young, double)}
    return tables, pages, young, double, extract


# --------------------------------------------------------------------------------------------
# Two ICSs in one extract: a small LLR extract cut to two PCNs in each place, the first place
# by code as ICS A and the other two places as ICS B. Nobody in ICS B is on the diabetes
# register, so comparing B's PCNs with a pool of both ICSs would flag them lower, and with
# their own ICS (0%) it cannot.
# --------------------------------------------------------------------------------------------
ICS_A, ICS_B = ("QXA", "Test ICS A"), ("QXB", "Test ICS B")
PCNS_PER_PLACE = 2


def _two_ics_practices(practices: pl.DataFrame) -> pl.DataFrame:
    first_place = practices["place_code"].sort()[0]
    kept = (
        practices.select("place_code", "pcn_code")
        .unique()
        .sort("place_code", "pcn_code")
        .group_by("place_code", maintain_order=True)
        .head(PCNS_PER_PLACE)["pcn_code"]
    )
    in_a = pl.col("place_code") == first_place
    return practices.filter(pl.col("pcn_code").is_in(kept.implode())).with_columns(
        pl.when(in_a).then(pl.lit(ICS_A[0])).otherwise(pl.lit(ICS_B[0])).alias("ics_code"),
        pl.when(in_a).then(pl.lit(ICS_A[1])).otherwise(pl.lit(ICS_B[1])).alias("ics_name"),
    )


def _without_diabetes_in_b(frame: pl.DataFrame, practices: pl.DataFrame) -> pl.DataFrame:
    in_b = pl.col("practice_code").is_in(
        practices.filter(pl.col("ics_code") == ICS_B[0])["practice_code"].implode()
    )
    f = frame.filter(pl.col("practice_code").is_in(practices["practice_code"].implode()))
    return f.with_columns(
        pl.when(in_b)
        .then(pl.col("ltc_count") - pl.col("ltc_diabetes").cast(frame.schema["ltc_count"]))
        .otherwise(pl.col("ltc_count"))
        .alias("ltc_count"),
        (pl.col("ltc_diabetes") & ~in_b).alias("ltc_diabetes"),
    )


@pytest.fixture(scope="session")
def two_ics_extract(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_ics_extract") / "extract"
    generate_extract(out, scale=0.006, seed=21, truth_dir=out.parent / "truth")
    extract = read_extract(out)
    practices = _two_ics_practices(extract.practices)
    snapshots = {d: _without_diabetes_in_b(f, practices) for d, f in extract.snapshots.items()}
    return dataclasses.replace(extract, practices=practices, snapshots=snapshots)


@pytest.fixture(scope="session")
def two_ics_inputs(two_ics_extract):
    return profile_inputs(_stand_in_risk(two_ics_extract), two_ics_extract)


@pytest.fixture(scope="session")
def two_ics_tables(two_ics_inputs):
    """Disclosure-controlled (as published) and without disclosure control (exact counts)."""
    return (
        profile_tables(two_ics_inputs, DisclosurePolicy()),
        profile_tables(two_ics_inputs, DisclosurePolicy.off()),
    )


@pytest.fixture(scope="session")
def two_ics_profiles(two_ics_tables, two_ics_extract, tmp_path_factory) -> Path:
    published, _ = two_ics_tables
    folder = tmp_path_factory.mktemp("two_ics_profiles")
    write_profiles(published, folder, workers=1, practices=two_ics_extract.practices)
    return folder
