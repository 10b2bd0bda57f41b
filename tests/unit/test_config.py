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


def test_the_registers_config_is_the_default_with_nineteen_conditions():
    from phm.contract import QOF_REGISTERS

    registers = load_config(REPO_ROOT / "configs" / "qof_registers.yaml")
    default = load_config()
    assert registers.ltc_columns == QOF_REGISTERS
    assert registers.model_copy(update={"ltc_columns": default.ltc_columns}) == default


def test_ltc_columns_all_is_accepted_and_other_words_are_not(tmp_path: Path):
    good, bad = tmp_path / "all.yaml", tmp_path / "bad.yaml"
    good.write_text("ltc_columns: all\n")
    bad.write_text("ltc_columns: every\n")
    assert load_config(good).ltc_columns == "all"
    with pytest.raises(ConfigError, match="ltc_columns"):
        load_config(bad)


def test_extends_merges_sections_and_refuses_a_loop(tmp_path: Path):
    (tmp_path / "base.yaml").write_text("tiering:\n  scope: pcn\n  level3_share: 0.04\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\ntiering:\n  level3_share: 0.06\n")
    config = load_config(tmp_path / "child.yaml")
    assert (config.tiering.scope, config.tiering.level3_share) == ("pcn", 0.06)
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\n")
    with pytest.raises(ConfigError, match="extends itself"):
        load_config(tmp_path / "loop.yaml")
