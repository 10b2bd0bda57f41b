"""Snapshots as partitions: each extract snapshot is a Dagster partition keyed by its date.

The keys are dynamic: they are the `patients_<YYYY-MM-DD>` files an extract offers, added
when the pipeline first sees them (`phm run`, the landing sensor, the schedule, or the
`snapshot_partitions` sensor the UI runs). Per-snapshot assets take every partition of a run
in one step (a single-run backfill policy), so a whole extract is one run and one process,
while a single snapshot can still be re-run or backfilled on its own.

A partitioned asset's value is a dict from partition key to that snapshot's value;
`pipelines.storage.SnapshotIOManager` stores each key in its own file.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import dagster as dg
import narwhals as nw

from phm.engines import is_spark
from phm.errors import PhmError
from phm.extract import Extract, combine_extracts

SNAPSHOTS = dg.DynamicPartitionsDefinition(name="snapshots")
ONE_RUN = dg.BackfillPolicy.single_run()

# The two kinds of asset. Both take a whole range of snapshots in one run: a per-snapshot
# asset as one step over the range, an asset across snapshots once. Dagster's CLI
# (`dg launch --partition-range`) runs a range only when every asset of the job has this
# single-run backfill policy, the unpartitioned ones included.
per_snapshot_asset = functools.partial(dg.asset, partitions_def=SNAPSHOTS, backfill_policy=ONE_RUN)
across_snapshots_asset = functools.partial(dg.asset, backfill_policy=ONE_RUN)
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

T = TypeVar("T")
Partitions = dict[str, Extract]  # patient_extract as an input: partition key -> its read
# patient rows between steps: a polars DataFrame, or in a run on Spark a Spark DataFrame (a
# plan over files in the restricted store, or rows Spark persisted): never in this process
PatientRows = Any


def key(snapshot: date) -> str:
    return snapshot.isoformat()


def snapshot_of(partition_key: str) -> date:
    return date.fromisoformat(partition_key)


def run_tags(keys: Iterable[str], registered: Sequence[str] | None = None) -> dict[str, str]:
    """Tags that make one run cover every given snapshot partition (and the unpartitioned
    assets downstream of them).

    A range follows the registration order of the keys (`registered`; sorted if not given),
    which is Dagster's order for dynamic partitions: a snapshot backfilled after newer ones
    sorts last. If the keys are not one block in that order, no range can hold exactly them.
    """
    wanted = set(keys)
    order = list(registered) if registered is not None else sorted(wanted)
    at = [i for i, k in enumerate(order) if k in wanted]
    if len(at) != len(wanted) or at != list(range(at[0], at[-1] + 1)):
        raise PhmError(
            f"The {len(wanted)} snapshots to run are not one block of the registered snapshot "
            "partitions (Dagster keeps them in the order they were registered, so a snapshot "
            "backfilled later sorts last): launch them from the UI as a backfill, or run "
            "`phm run` on the extract"
        )
    return {RANGE_START: order[at[0]], RANGE_END: order[at[-1]]}


def add_request(keys: Iterable[str], instance: dg.DagsterInstance | None = None):
    """The keys not yet registered, as a request for a sensor to return (or [] if none)."""
    known = set(instance.get_dynamic_partitions(SNAPSHOTS.name)) if instance else set()
    new = sorted(set(keys) - known)
    return [SNAPSHOTS.build_add_request(new)] if new else []


def by_snapshot(values: Mapping[str, T]) -> dict[date, T]:
    """A partitioned input (partition key -> value) keyed by snapshot date, oldest first."""
    return {snapshot_of(k): values[k] for k in sorted(values)}


def whole(patient_extract: Partitions) -> Extract:
    """Every snapshot partition's read, as one extract."""
    return combine_extracts(by_snapshot(patient_extract).values())


def scored_rows(per_snapshot: Mapping[str, Any]) -> Any:
    """The rows of every snapshot that has any (the oldest is not scored: an empty polars
    frame), oldest first, on their engine (a Spark run's: one plan over the files written)."""
    frames = [f for f in by_snapshot(per_snapshot).values() if is_spark(f) or f.height]
    if not frames:
        return None
    return (
        frames[0]
        if len(frames) == 1
        else nw.concat([nw.from_native(f) for f in frames]).to_native()
    )
