"""The feature matrix holds exactly the values of the engine-neutral feature frame."""

from datetime import date

import numpy as np
import polars as pl

from phm.contract import DEFAULT_LTCS, ETHNIC_GROUPS
from phm.features import PRIOR_USE, feature_spec


def _snapshot(rows: int = 200, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {
        "patient_id": [f"P{i}" for i in range(rows)],
        "snapshot_date": [date(2023, 4, 1)] * rows,
        "age": rng.integers(0, 105, rows),
        "sex": rng.choice(["F", "M"], rows),
        "imd_decile": pl.Series(rng.integers(1, 11, rows)).scatter([0, 5], None),
        "care_home": rng.random(rows) < 0.05,
        "efi_score": pl.Series(rng.random(rows) * 0.5).scatter([1, 7], None),
        "ethnicity": rng.choice(list(ETHNIC_GROUPS), rows),
        **{c: rng.random(rows) < 0.2 for c in DEFAULT_LTCS},
        **{c: rng.integers(0, 6, rows) for c in PRIOR_USE},
        "secondary_care_cost_12m": rng.random(rows) * 5000,
    }
    frame = pl.DataFrame(columns)
    return frame.with_columns(
        pl.sum_horizontal([pl.col(c).cast(pl.Int64) for c in DEFAULT_LTCS]).alias("ltc_count")
    )


def _frame_values(spec, snapshot) -> np.ndarray:
    return spec.frame(snapshot).to_numpy().astype(np.float64)


def test_the_matrix_is_the_feature_frame_as_numbers():
    spec, snapshot = feature_spec(DEFAULT_LTCS), _snapshot()
    X = spec.matrix(snapshot)
    assert X.shape == (snapshot.height, len(spec.names)) and X.flags["F_CONTIGUOUS"]
    assert np.array_equal(X, _frame_values(spec, snapshot), equal_nan=True)


def test_columns_with_nulls_or_other_types_go_through_the_cast_and_still_agree():
    spec = feature_spec(DEFAULT_LTCS)
    snapshot = _snapshot().with_columns(
        pl.when(pl.int_range(pl.len()).is_in([2, 3]))  # a null: missing, not 0
        .then(None)
        .otherwise(pl.col("ltc_count"))
        .alias("ltc_count"),
        pl.col(DEFAULT_LTCS[0]).cast(pl.Float32),  # a flag written as a float
        pl.col("age").cast(pl.Float64),
    )
    X = spec.matrix(snapshot)
    assert np.isnan(X[2, spec.names.index("ltc_count")])
    assert np.array_equal(X, _frame_values(spec, snapshot), equal_nan=True)


def test_the_declared_inputs_are_all_the_features_need():
    """`inputs` is every column a feature reads (FeatureSpec.inputs): a frame of those alone
    gives the same features."""
    spec, snapshot = feature_spec(DEFAULT_LTCS), _snapshot()
    only_inputs = snapshot.select(spec.inputs)
    assert np.array_equal(spec.matrix(only_inputs), spec.matrix(snapshot), equal_nan=True)
    assert spec.frame(only_inputs).equals(spec.frame(snapshot))


def test_batches_pick_out_the_rows_asked_for_slice_by_slice():
    spec, snapshot = feature_spec(DEFAULT_LTCS), _snapshot(rows=230)
    where = pl.Series([i % 3 != 0 for i in range(230)])
    parts = list(spec.batches(snapshot, rows=100, where=where))
    assert np.array_equal(np.concatenate(parts), spec.matrix(snapshot.filter(where)))


def test_batches_are_the_matrix_in_slices_in_order():
    spec, snapshot = feature_spec(DEFAULT_LTCS), _snapshot(rows=230)
    parts = list(spec.batches(snapshot, rows=100))
    assert [len(X) for X in parts] == [100, 100, 30]
    assert np.array_equal(np.concatenate(parts), spec.matrix(snapshot))
    (empty,) = spec.batches(snapshot.clear(), rows=100)
    assert empty.shape == (0, len(spec.names))
