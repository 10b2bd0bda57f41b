"""The Spark parity suite: one small extract of two ICSs through both engines (local[2]).

One SparkSession serves the whole suite (it takes about 10 s to start). A machine without
Java or PySpark fails here, on purpose: `make test` installs both (see the Makefile).
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from phm.disclosure import DisclosurePolicy
from phm.extract import Extract, read_extract
from phm.features import FeatureSpec, feature_spec
from phm.outcomes import label_extract
from phm.risk import FittedModel, fit_model
from phm.synth import generate_extract

SCALE, COPIES, SEED = 0.02, 2, 11  # two ICSs of ~11,700 patients per snapshot


def _require_spark() -> None:
    missing = [
        what
        for what, ok in (
            ("java", shutil.which("java") is not None),
            ("pyspark", importlib.util.find_spec("pyspark") is not None),
        )
        if not ok
    ]
    if missing:
        pytest.fail(
            f"the Spark parity suite needs {' and '.join(missing)}: `make test` installs them "
            "(openjdk-17-jre-headless from Debian, pyspark into .venv: pip install -e '.[spark]')",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def spark():
    _require_spark()
    from phm.engines.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@dataclass(frozen=True)
class TwoIcs:
    folder: Path
    extract: Extract
    spec: FeatureSpec
    model: FittedModel
    newest: date
    policy: DisclosurePolicy


@pytest.fixture(scope="session")
def two_ics(tmp_path_factory) -> TwoIcs:
    root = tmp_path_factory.mktemp("two_ics")
    folder = root / "extract"
    generate_extract(folder, scale=SCALE, seed=SEED, ics_copies=COPIES, truth_dir=root / "truth")
    extract = read_extract(folder)
    spec = feature_spec(extract.ltc_columns)
    train = label_extract(extract, spec).labelled[-1]
    model = fit_model("logistic", spec, train.frame, train.snapshot_date, SEED)
    return TwoIcs(folder, extract, spec, model, max(extract.snapshots), DisclosurePolicy())


def spark_snapshot(spark, two_ics: TwoIcs, when: date):
    from phm.engines.spark import read_snapshot

    return read_snapshot(spark, two_ics.folder / f"patients_{when.isoformat()}.parquet")


def collected(frame) -> pl.DataFrame:
    """A Spark DataFrame back in one process, through Arrow."""
    return pl.from_arrow(frame.toArrow())


def same_rows(
    left: pl.DataFrame, right: pl.DataFrame, keys: list[str], atol: float | None = None
) -> None:
    """Equal tables whatever the row order (and the integer widths an engine picks); with
    `atol`, floats equal to within it, not exactly."""
    from polars.testing import assert_frame_equal

    right = right.select(left.columns)
    close = {"check_exact": False, "rel_tol": 0, "abs_tol": atol} if atol is not None else {}
    assert_frame_equal(left.sort(keys), right.sort(keys), check_dtypes=False, **close)
