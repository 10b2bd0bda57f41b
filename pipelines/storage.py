"""Where asset values live between runs in the Dagster UI, the scheduler and sensors.

One pickle per asset, and one per snapshot partition of a partitioned asset, so re-running a
snapshot rewrites exactly its own files and its siblings are loaded as they were. A run that
covers several snapshots in one step (a single-run backfill) hands over a dict keyed by
partition, which is split here; Dagster's stock filesystem IO manager refuses such outputs.
Each file is written beside its final name and renamed into place, so a killed run never
leaves half a pickle behind. The pickles hold patient rows: every folder here is 0700 and
every file (and its .partial) 0600 whatever the umask, and a `base_dir` that others can
already open is refused (phm/restricted.py). `phm run` keeps values in memory instead
(`ReleasingMemoryIOManager`, below: one run in one process; measured cheaper than writing
~1 GB of pickles), each let go once the last step that reads it has loaded it.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path
from typing import Any

import dagster as dg

from phm.engines import is_spark
from phm.errors import PhmError
from phm.restricted import open_private, private_folder


class SnapshotIOManager(dg.ConfigurableIOManager):
    """Pickles under `base_dir`: <asset>.pickle, or <asset>/<partition key>.pickle."""

    base_dir: str

    def _path(self, asset_key: dg.AssetKey, partition: str | None = None) -> Path:
        folder = Path(self.base_dir, *asset_key.path)
        return folder / f"{partition}.pickle" if partition else folder.with_suffix(".pickle")

    def _private_parent(self, path: Path) -> None:
        """Every folder from base_dir down to `path`'s, owner-only."""
        folder = private_folder(Path(self.base_dir))
        for part in path.parent.relative_to(self.base_dir).parts:
            folder = private_folder(folder / part)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not context.has_asset_key:
            raise dg.DagsterInvariantViolationError("SnapshotIOManager stores asset outputs only")
        if context.has_asset_partitions:
            for partition in context.asset_partition_keys:
                path = self._path(context.asset_key, partition)
                self._private_parent(path)
                _write(path, obj[partition])
        else:
            path = self._path(context.asset_key)
            self._private_parent(path)
            _write(path, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        asset_key = context.asset_key
        if context.has_asset_partitions:
            return {
                p: _read(self._path(asset_key, p), asset_key, p)
                for p in context.asset_partition_keys
            }
        return _read(self._path(asset_key), asset_key, None)


def _write(path: Path, obj: Any) -> None:
    if _holds_spark_rows(obj):
        raise PhmError(
            f"{path.parent.name}: a run with engine: spark keeps its patient rows on Spark "
            "between steps, and Dagster's stored asset values cannot hold them. Run it with "
            "`phm run --engine spark` (one run in one process), or as a Databricks job "
            "(docs/operations.md); runs launched from the UI, schedules and sensors use "
            "engine: polars."
        )
    staging = path.with_name(path.name + ".partial")
    with open_private(staging) as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(staging, path)


def _holds_spark_rows(obj: Any, depth: int = 3) -> bool:
    """Whether a value (or a dict, list or dataclass within it) is a Spark DataFrame."""
    if is_spark(obj):
        return True
    if depth == 0:
        return False
    if isinstance(obj, dict):
        inner = list(obj.values())
    elif isinstance(obj, list | tuple):
        inner = list(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        inner = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    else:
        return False
    return any(_holds_spark_rows(v, depth - 1) for v in inner)


def _read(path: Path, asset_key: dg.AssetKey, partition: str | None) -> Any:
    if not path.is_file():
        what = asset_key.to_user_string() + (f" [{partition}]" if partition else "")
        raise dg.DagsterInvariantViolationError(
            f"{what} has not been materialised yet (no {path}): materialise it first, or "
            "backfill the missing snapshot partitions"
        )
    with open(path, "rb") as f:
        return pickle.load(f)


class ReleasingMemoryIOManager(dg.IOManager):
    """`phm run`'s IO manager: asset values in memory, each let go once its last reader has
    loaded it, so a run holds only what a later step still needs (Dagster's own
    mem_io_manager keeps every value, patient rows included, until the run ends).

    `readers` counts, per asset, the steps that load it as an input (`reader_counts`); an asset
    no step reads (the warehouse, say) is not kept at all.
    """

    def __init__(self, readers: dict[dg.AssetKey, int]):
        self._readers = dict(readers)
        self._values: dict[dg.AssetKey, Any] = {}
        self._left: dict[dg.AssetKey, int] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        asset = context.asset_key
        if self._readers.get(asset, 0):
            self._values[asset], self._left[asset] = obj, self._readers[asset]

    def load_input(self, context: dg.InputContext) -> Any:
        asset = context.asset_key
        value = self._values[asset]
        self._left[asset] -= 1
        if not self._left[asset]:  # the last reader: it holds the only reference from now on
            del self._values[asset], self._left[asset]
        return value


def reader_counts(graph: list) -> dict[dg.AssetKey, int]:
    """How many steps (assets and asset checks) load each asset as an input; a dependency
    that is only an ordering (`deps=`, a Nothing input) loads nothing and is not counted."""
    counts: dict[dg.AssetKey, int] = {}
    for node in graph:
        for given in node.node_def.input_defs:
            if not given.dagster_type.is_nothing:
                upstream = node.keys_by_input_name[given.name]
                counts[upstream] = counts.get(upstream, 0) + 1
    return counts
