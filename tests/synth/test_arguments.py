"""Mistakes in the generator's arguments are reported as configuration errors."""

from __future__ import annotations

import pytest

from phm.errors import ConfigError
from phm.synth import generate_extract


def test_unknown_condition_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not model ltc_gout"):
        generate_extract(tmp_path / "x", scale=0.01, ltc_columns=["ltc_gout"])


def test_truth_inside_extract_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="truth_dir must be outside"):
        generate_extract(tmp_path / "x", scale=0.01, truth_dir=tmp_path / "x" / "truth")


def test_scale_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="scale must be positive"):
        generate_extract(tmp_path / "x", scale=0)


def test_progress_is_reported(tmp_path):
    seen: list[str] = []
    generate_extract(tmp_path / "x", scale=0.005, n_snapshots=1, progress=seen.append)
    assert seen[-1] == "practice 133/133"
