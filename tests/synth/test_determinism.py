"""Same seed and arguments -> byte-identical files; another seed or chunking as stated."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.synth import SynthSummary, generate_extract

SMALL = 0.005  # ~5,800 patients: every practice still has a list


@pytest.fixture(scope="module")
def seven(tmp_path_factory) -> SynthSummary:
    """The reference extract the others are compared with (seed 7, default chunking)."""
    return generate_extract(tmp_path_factory.mktemp("seven") / "a", scale=SMALL, seed=7)


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files(seven, tmp_path):
    a = seven
    b = generate_extract(tmp_path / "b", scale=SMALL, seed=7)
    assert _bytes(a.out_dir) == _bytes(b.out_dir)
    assert a.truth_path.read_bytes() == b.truth_path.read_bytes()


def test_different_seed_gives_different_population(seven, tmp_path):
    a = seven
    b = generate_extract(tmp_path / "b", scale=SMALL, seed=8)
    first = "patients_2021-04-01.parquet"
    fa, fb = pl.read_parquet(a.out_dir / first), pl.read_parquet(b.out_dir / first)
    assert fa.height == fb.height  # list sizes come from the reference, not the seed
    assert not set(fa["patient_id"]) & set(fb["patient_id"])
    assert fa["age"].to_list() != fb["age"].to_list()


def test_chunking_does_not_change_the_population(seven, tmp_path):
    a = seven  # the default chunk of 12 practices against one practice a chunk
    b = generate_extract(tmp_path / "b", scale=SMALL, seed=7, practices_per_chunk=1)
    for name in sorted(p.name for p in a.out_dir.iterdir() if p.suffix == ".parquet"):
        assert_frame_equal(pl.read_parquet(a.out_dir / name), pl.read_parquet(b.out_dir / name))


def test_csv_extract_carries_the_same_population(seven, tmp_path):
    a = seven
    b = generate_extract(tmp_path / "b", scale=SMALL, seed=7, file_format="csv")
    first = "patients_2021-04-01"
    pq = pl.read_parquet(a.out_dir / f"{first}.parquet")
    csv = pl.read_csv(b.out_dir / f"{first}.csv", schema=pq.schema)
    assert_frame_equal(pq, csv)


def test_subset_of_conditions(tmp_path):
    s = generate_extract(
        tmp_path / "a", scale=SMALL, seed=7, n_snapshots=2, ltc_columns=["ltc_diabetes", "ltc_copd"]
    )
    frame = pl.read_parquet(s.out_dir / "patients_2021-04-01.parquet")
    assert [c for c in frame.columns if c.startswith("ltc_")] == [
        "ltc_diabetes",
        "ltc_copd",
        "ltc_count",
    ]
    assert (frame["ltc_count"] == frame["ltc_diabetes"].cast(int) + frame["ltc_copd"]).all()
    assert len(s.snapshot_dates) == 2
