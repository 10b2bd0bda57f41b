"""Where asset values live between runs in the Dagster UI, the scheduler and sensors.

One pickle per asset, and one per snapshot partition of a partitioned asset, so re-running a
snapshot rewrites exactly its own files and its siblings are loaded as they were. A run that
covers several snapshots in one step (a single-run backfill) hands over a dict keyed by
partition, which is split here; Dagster's stock filesystem IO manager refuses such outputs.
Each file is written beside its final name and renamed into place, so a killed run never
leaves half a pickle behind. The pickles hold patient rows: every folder here is 0700 and
every file (and its .partial) 0600 whatever the umask, and a `base_dir` that others can
already open is refused (phm/restricted.py). `phm run` uses the in-memory IO manager
instead (one run holds everything; measured cheaper than writing ~1 GB of pickles).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import dagster as dg

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
    staging = path.with_name(path.name + ".partial")
    with open_private(staging) as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(staging, path)


def _read(path: Path, asset_key: dg.AssetKey, partition: str | None) -> Any:
    if not path.is_file():
        what = asset_key.to_user_string() + (f" [{partition}]" if partition else "")
        raise dg.DagsterInvariantViolationError(
            f"{what} has not been materialised yet (no {path}): materialise it first, or "
            "backfill the missing snapshot partitions"
        )
    with open(path, "rb") as f:
        return pickle.load(f)
