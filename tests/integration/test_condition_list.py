"""The condition list is configuration: a 19-register extract runs with the registers config,
or with `ltc_columns: all`, which says at the start which columns it took."""

from pathlib import Path

import pytest

from phm.config import REPO_ROOT
from pipelines.cli import main

SAMPLE = REPO_ROOT / "data_samples" / "llr_small_csv"  # the 19 QOF registers only


def _all_config(tmp_path: Path) -> Path:
    config = tmp_path / "all.yaml"
    config.write_text(
        f"extends: {REPO_ROOT / 'configs' / 'default.yaml'}\n"
        "ltc_columns: all\n"
        f"outputs:\n  dir: {tmp_path / 'outputs'}\n  html_profiles: false\n"
        "validation:\n  data_docs: false\n"
    )
    return config


def test_validate_with_the_registers_config(capsys):
    config = REPO_ROOT / "configs" / "qof_registers.yaml"
    assert main(["validate", "--config", str(config), str(SAMPLE)]) == 0
    assert "meets the data contract" in capsys.readouterr().out


def test_validate_with_all_says_which_conditions_it_took(tmp_path, capsys):
    assert main(["validate", "--config", str(_all_config(tmp_path)), str(SAMPLE)]) == 0
    said = capsys.readouterr().out
    assert "conditions: taken from the extract: 19 columns (hypertension, diabetes" in said


@pytest.mark.slow
def test_run_with_all_on_the_registers_sample(tmp_path, capsys):
    config = _all_config(tmp_path)
    assert main(["run", "--config", str(config), "--extract", str(SAMPLE)]) == 0
    said = capsys.readouterr().out
    assert said.index("conditions: taken from the extract: 19 columns") < said.index("Risk model")
