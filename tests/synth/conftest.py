"""Seeded synthetic samples shared by the synth tests.

Scale 0.35 (~410k patients a year, ~145k in Leicester City): the scale the generator was
calibrated at. Even there the City's bands of 5-7 conditions hold 1,100-2,800 patients, so a
band's next-year rate has a standard error of about 1-1.5 points against its +-3 tolerance.
Seed 42 is the default; seed 7 is the second seed every line must also meet.
"""

from __future__ import annotations

import polars as pl
import pytest

from phm.synth import generate_extract
from phm.synth.calibration import calibration_report

SAMPLE_SCALE = 0.35
SAMPLE_SEED = 42
SECOND_SEED = 7


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "extract"
    return generate_extract(out, scale=SAMPLE_SCALE, seed=SAMPLE_SEED)


@pytest.fixture(scope="session")
def second_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth7") / "extract"
    return generate_extract(out, scale=SAMPLE_SCALE, seed=SECOND_SEED)


@pytest.fixture(scope="session")
def report(sample) -> pl.DataFrame:
    return calibration_report(sample.out_dir, sample.truth_path, with_model=False)
