from pathlib import Path

import pytest

from phm.config import REPO_ROOT, load_config
from phm.errors import ConfigError


def test_default_configuration_loads_with_absolute_paths():
    config = load_config()
    assert config.uses_synthetic_default
    assert config.warehouse.path.is_absolute()
    assert config.warehouse.path.is_relative_to(REPO_ROOT)
    assert len(config.ltc_columns) == 40


def test_a_bad_key_is_named(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiering:\n  scope: practice\n")
    with pytest.raises(ConfigError, match=r"tiering\.scope"):
        load_config(bad)


def test_unknown_extra_keys_are_rejected(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("warehous:\n  path: x.duckdb\n")
    with pytest.raises(ConfigError, match="warehous"):
        load_config(bad)


def test_tiering_model_must_be_a_candidate(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  candidates: [logistic]\n  tiering_model: gradient_boosting\n")
    with pytest.raises(ConfigError, match="not among the candidates"):
        load_config(bad)


def test_relative_paths_in_a_config_elsewhere_resolve_against_its_folder(tmp_path: Path):
    cfg = tmp_path / "mine.yaml"
    cfg.write_text("extract:\n  path: extract\nwarehouse:\n  path: out/w.duckdb\n")
    config = load_config(cfg)
    assert config.extract.path == tmp_path / "extract"
    assert config.warehouse.path == tmp_path / "out" / "w.duckdb"


def test_resolving_paths_keeps_the_sections_other_settings(tmp_path: Path):
    cfg = tmp_path / "mine.yaml"
    cfg.write_text("outputs:\n  dir: out\n  html_profiles: false\n")
    config = load_config(cfg).with_overrides(outputs__dir=tmp_path / "elsewhere")
    assert config.outputs.dir == tmp_path / "elsewhere"
    assert config.outputs.html_profiles is False


def test_the_default_warehouse_follows_the_outputs_folder_and_a_given_one_stays(tmp_path):
    config = load_config()
    moved = config.with_overrides(outputs__dir=tmp_path / "out")
    assert moved.warehouse.path == tmp_path / "out" / "warehouse" / "llr_phm.duckdb"
    given = tmp_path / "bi" / "w.duckdb"
    kept = config.with_overrides(outputs__dir=tmp_path / "out", warehouse__path=given)
    assert kept.warehouse.path == given
    cfg = tmp_path / "phm.yaml"
    cfg.write_text(f"warehouse:\n  path: {given}\n")
    assert load_config(cfg).with_overrides(outputs__dir=tmp_path / "o").warehouse.path == given
