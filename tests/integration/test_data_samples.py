"""The committed sample extract meets the contract and is what the generator writes.

It is the "foreign" shape most real extracts have: the 19 QOF registers only, no CMS
conditions. It runs by configuration alone (configs/qof_registers.yaml, or `ltc_columns: all`).
"""

from pathlib import Path

from phm.config import REPO_ROOT, load_config
from phm.contract import ALL_LTCS, QOF_REGISTERS
from phm.extract import resolve_ltc_columns
from phm.synth import generate_extract
from phm.validation import check_extract

SAMPLE = REPO_ROOT / "data_samples" / "llr_small_csv"
REGISTERS_CONFIG = REPO_ROOT / "configs" / "qof_registers.yaml"


def test_the_sample_extract_meets_the_contract_with_the_registers_config():
    report = check_extract(SAMPLE, load_config(REGISTERS_CONFIG).ltc_columns)
    assert report.ok, [str(p) for p in report.problems]


def test_the_default_forty_condition_list_names_what_the_sample_lacks():
    report = check_extract(SAMPLE)
    assert not report.ok
    assert any("ltc_hearing_loss" in str(p) for p in report.problems)


def test_all_takes_the_sample_s_nineteen_registers():
    assert resolve_ltc_columns(SAMPLE, ALL_LTCS) == QOF_REGISTERS
    assert check_extract(SAMPLE, ALL_LTCS).ok


def test_the_sample_is_regenerated_byte_for_byte(tmp_path: Path):
    out = tmp_path / "sample"
    generate_extract(
        out,
        scale=0.002,
        seed=42,
        file_format="csv",
        truth_dir=tmp_path / "t",
        ltc_columns=QOF_REGISTERS,
    )
    for path in SAMPLE.glob("*.csv"):
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
