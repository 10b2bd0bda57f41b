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
from phm.reports import write_profiles
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
def hostile_tables(hostile_extract):
    extract, _ = hostile_extract
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
    risk = patient_risk_table(scored, extract.snapshots, extract.practices, model="stand_in")
    inputs = profile_inputs(risk, extract)
    return profile_tables(inputs, DisclosurePolicy()), inputs


@pytest.fixture(scope="session")
def hostile_profiles(hostile_tables, hostile_extract, tmp_path_factory) -> Path:
    extract, _ = hostile_extract
    tables, _ = hostile_tables
    folder = tmp_path_factory.mktemp("profiles")
    write_profiles(tables, folder, workers=1, practices=extract.practices)
    return folder
