"""`phm run` keeps an asset's value in memory only until its last reader has loaded it."""

from __future__ import annotations

import dataclasses
import gc
import weakref

import dagster as dg
import pytest

from pipelines.runner import graph, materialize
from pipelines.storage import ReleasingMemoryIOManager, reader_counts


class Rows:
    """Stands in for a frame of patient rows (weakly referable, unlike a list)."""


def test_each_asset_is_counted_once_per_step_that_loads_it():
    counts = {k.to_user_string(): n for k, n in reader_counts(graph()).items()}
    assert counts["patient_features"] == 3  # evaluation, tiering model, cost model
    assert counts["emergency_admission_risk"] == 1  # kaiser_tiers only
    assert "warehouse" not in counts  # read by no step
    # the model card is an ordering dependency of the warehouse (a Nothing input): not a reader
    assert "model_card" not in counts


def test_a_value_is_let_go_after_its_last_reader_and_every_reader_gets_it():
    seen: dict[str, object] = {}
    alive: list[weakref.ref] = []

    @dg.asset
    def rows() -> Rows:
        value = Rows()
        alive.append(weakref.ref(value))
        return value

    @dg.asset
    def first(rows: Rows) -> int:
        seen["first"] = rows
        return 1

    @dg.asset
    def second(rows: Rows) -> int:
        seen["second"] = rows
        return 2

    @dg.asset
    def after_both(first: int, second: int) -> int:
        seen.clear()  # the readers' own references
        gc.collect()
        seen["rows_alive"] = alive[0]() is not None
        return first + second

    assets = [rows, first, second, after_both]
    manager = ReleasingMemoryIOManager(reader_counts(assets))
    result = materialize(  # as `phm run` does: Dagster's copy of each output is off
        assets, resources={"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(manager)}
    )
    assert result.success
    assert seen["rows_alive"] is False  # released once `first` and `second` had it
    assert manager._values == {}  # nothing kept past the run either


class SparkRows:
    """Stands in for a Spark DataFrame: what phm.engines.is_spark recognises."""


SparkRows.__module__ = "pyspark.sql.classic.dataframe"


@dataclasses.dataclass
class Held:
    """A value holding frames in a dict, as an Extract holds its snapshots."""

    snapshots: dict


def test_stored_asset_values_refuse_spark_rows_and_say_how_to_run_on_spark(tmp_path):
    from phm.errors import PhmError
    from pipelines.storage import _write

    path = tmp_path / "patient_extract" / "2024-04-01.pickle"
    path.parent.mkdir()
    with pytest.raises(PhmError, match=r"phm run --engine spark") as raised:
        _write(path, Held({"2024-04-01": SparkRows()}))  # nested, as an Extract holds them
    assert "patient_extract" in str(raised.value)
    assert not list(path.parent.iterdir())  # nothing half-written
    _write(path, Held({"2024-04-01": [1, 2, 3]}))  # anything else is stored as before
    assert path.is_file()
