"""The committed sample extract meets the contract and is what the generator writes."""

from pathlib import Path

from phm.config import REPO_ROOT
from phm.synth import generate_extract
from phm.validation import check_extract

SAMPLE = REPO_ROOT / "data_samples" / "llr_small_csv"


def test_the_sample_extract_meets_the_contract():
    report = check_extract(SAMPLE)
    assert report.ok, [str(p) for p in report.problems]


def test_the_sample_is_regenerated_byte_for_byte(tmp_path: Path):
    out = tmp_path / "sample"
    generate_extract(out, scale=0.002, seed=42, file_format="csv", truth_dir=tmp_path / "t")
    for path in SAMPLE.glob("*.csv"):
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
