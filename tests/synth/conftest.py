"""One seeded synthetic sample shared by the synth tests.

Scale 0.2 (~233k patients a year): at 0.1 the rarest registers of one place (PAD, RA in the
city, ~150 patients) drift past their 15% tolerance by chance alone. The contract tests read
the same sample; the full-scale calibration (what `phm calibrate` reports) is marked slow.
"""

from __future__ import annotations

import polars as pl
import pytest

from phm.synth import generate_extract
from phm.synth.calibration import calibration_report

SAMPLE_SCALE = 0.2
SAMPLE_SEED = 42


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "extract"
    return generate_extract(out, scale=SAMPLE_SCALE, seed=SAMPLE_SEED)


@pytest.fixture(scope="session")
def report(sample) -> pl.DataFrame:
    return calibration_report(sample.out_dir, sample.truth_path, with_model=False)
