"""Snapshot partitions as the UI, sensors and schedule run them: a persistent instance and
the SnapshotIOManager (one file per snapshot partition), not `phm run`'s in-memory run.

The whole extract is run once (every snapshot partition in one run), then the newest
snapshot is re-run on its own, twice, then once more after its file changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from phm.restricted import ExposedRestrictedFolder
from pipelines.partitions import SNAPSHOTS, run_tags
from pipelines.resources import PhmSettings
from pipelines.runner import graph, snapshot_partitions
from pipelines.storage import SnapshotIOManager
from tests.ops.conftest import contents, outputs_of, store_of

pytestmark = pytest.mark.slow

PER_SNAPSHOT = ("restricted.patient_risk", "published.pcn_profile")


def snapshot_rows(warehouse: Path, table: str, snapshot: str) -> tuple[int, str]:
    """A table's rows of one snapshot, from whichever of the two stores holds it."""
    store = store_of(warehouse) if table.startswith("restricted.") else warehouse
    con = duckdb.connect(str(store), read_only=True)
    try:
        frame = con.sql(
            f"SELECT * FROM {table} WHERE snapshot_date = DATE '{snapshot}' ORDER BY ALL"
        ).pl()
    finally:
        con.close()
    return frame.height, hashlib.sha256(frame.write_csv().encode()).hexdigest()


def materialised(result: dg.ExecuteInProcessResult) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for event in result.get_asset_materialization_events():
        m = event.materialization
        out.setdefault(m.asset_key.to_user_string(), set()).add(m.partition)
    return out


class PersistentRuns:
    """Runs of the whole graph as the UI launches them: one instance, values kept on disk by
    the SnapshotIOManager in `folder`, publishing to `folder`/llr.duckdb and its restricted
    store in `folder`/outputs."""

    def __init__(self, folder: Path, extract: Path, config: Path):
        self.warehouse = folder / "llr.duckdb"
        settings = PhmSettings(
            config_path=str(config),
            extract_path=str(extract),
            warehouse_path=str(self.warehouse),
            outputs_dir=str(outputs_of(self.warehouse)),
        )
        self.resources = {
            "settings": settings,
            "io_manager": SnapshotIOManager(base_dir=str(folder / "io")),
        }
        self.keys = snapshot_partitions(extract, settings.load().ltc_columns)
        self.instance = dg.DagsterInstance.ephemeral()

    def register(self, keys: list[str]) -> None:
        self.instance.add_dynamic_partitions(SNAPSHOTS.name, keys)

    def run(self, **how) -> dg.ExecuteInProcessResult:
        result = dg.materialize(
            graph(), instance=self.instance, resources=self.resources, raise_on_error=False, **how
        )
        assert result.success
        return result


@pytest.fixture(scope="module")
def runs(extract_a, quick_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("partitions")
    extract = folder / "extract"
    shutil.copytree(extract_a, extract)
    graph_runs = PersistentRuns(folder, extract, quick_config)
    keys, run, warehouse = graph_runs.keys, graph_runs.run, graph_runs.warehouse
    graph_runs.register(keys)

    everything = run(tags=run_tags(keys))
    states = [contents(warehouse)]
    per_snapshot = [{(t, k): snapshot_rows(warehouse, t, k) for t in PER_SNAPSHOT for k in keys}]
    reruns = []
    for _ in range(2):
        reruns.append(run(partition_key=keys[-1]))
        states.append(contents(warehouse))

    # The newest snapshot is re-issued with 2% fewer patients; only its partition is re-run.
    newest_file = extract / f"patients_{keys[-1]}.parquet"
    reissued = pl.read_parquet(newest_file)
    reissued = reissued.head(int(reissued.height * 0.98))
    reissued.write_parquet(newest_file)
    reruns.append(run(partition_key=keys[-1]))
    per_snapshot.append(
        {(t, k): snapshot_rows(warehouse, t, k) for t in PER_SNAPSHOT for k in keys}
    )
    return keys, everything, reruns, states, per_snapshot, reissued.height, folder


def test_one_run_materialises_every_snapshot_partition(runs):
    keys, everything, *_ = runs
    done = materialised(everything)
    for asset in ("patient_extract", "tiering_model", "emergency_admission_risk", "kaiser_tiers"):
        assert done[asset] == set(keys), asset
    assert done["warehouse"] == {None}


def test_without_html_profiles_the_tables_are_published_and_no_page_drawn(runs):
    *_, states, _, _, folder = runs
    assert not (folder / "outputs" / "profiles").exists()  # html_profiles: false (conftest)
    assert states[0]["published.profile_summary"][0] > 0


def test_the_model_step_names_the_snapshot_that_supplies_its_outcomes(runs):
    keys, everything, *_ = runs
    trained = {
        e.materialization.partition: e.materialization.metadata
        for e in everything.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "tiering_model"
    }
    oldest, middle, newest = keys
    assert trained[oldest]["trained_on"].value.startswith("none")
    assert trained[middle]["trained_on"].value == oldest
    assert trained[newest]["trained_on"].value == middle
    assert newest in trained[newest]["outcomes_observed_in"].value


def test_rerunning_a_partition_twice_gives_identical_counts_and_published_bytes(runs):
    keys, _, reruns, states, *_ = runs
    for rerun in reruns[:2]:
        done = materialised(rerun)
        assert done["kaiser_tiers"] == {keys[-1]}  # only the newest snapshot was redone
        assert done["patient_extract"] == {keys[-1]}
    first, again, third = states
    assert again == third  # the same partition twice: identical counts and bytes
    assert again == first  # and the same as when the whole extract ran


def test_a_rerun_partition_replaces_exactly_its_own_rows(runs):
    keys, *_, per_snapshot, reissued_rows, _ = runs
    before, after = per_snapshot
    for table in PER_SNAPSHOT:
        for k in keys[:-1]:
            assert after[(table, k)] == before[(table, k)], (table, k)  # untouched
        assert after[(table, keys[-1])] != before[(table, keys[-1])], table  # replaced
    assert after[("restricted.patient_risk", keys[-1])][0] == reissued_rows


def test_stored_run_values_and_the_restricted_store_are_owner_only(runs):
    *_, folder = runs
    io = folder / "io"
    pickles = list(io.rglob("*.pickle"))
    assert len(pickles) > 10  # every asset, and every snapshot of the partitioned ones
    assert not list(io.rglob("*.partial"))
    for path in [io, *io.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    restricted = store_of(folder / "llr.duckdb").parent
    for path in [restricted, *restricted.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_stored_run_values_refuse_a_folder_others_can_open(tmp_path):
    exposed = tmp_path / "io"
    exposed.mkdir(mode=0o755)
    os.chmod(exposed, 0o755)
    manager = SnapshotIOManager(base_dir=str(exposed))
    with pytest.raises(ExposedRestrictedFolder, match="chmod 700"):
        manager._private_parent(manager._path(dg.AssetKey("kaiser_tiers"), "2023-04-01"))


@pytest.fixture(scope="module")
def backfill(extract_a, quick_config, tmp_path_factory):
    """The two newest snapshots published first; the oldest registered and run afterwards."""
    graph_runs = PersistentRuns(tmp_path_factory.mktemp("backfill"), extract_a, quick_config)
    keys, warehouse = graph_runs.keys, graph_runs.warehouse
    graph_runs.register(keys[1:])
    graph_runs.run(tags=run_tags(keys[1:]))
    before = {k: snapshot_rows(warehouse, "restricted.patient_risk", k) for k in keys}
    design_before = _design(warehouse)
    graph_runs.register(keys[:1])
    later = graph_runs.run(partition_key=keys[0])
    after = {k: snapshot_rows(warehouse, "restricted.patient_risk", k) for k in keys}
    return keys, later, before, after, design_before, _design(warehouse)


def _design(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT DISTINCT validation_design FROM published.model_evaluation"
        ).fetchone()[0]
    finally:
        con.close()


def test_an_older_snapshot_can_be_backfilled(backfill):
    keys, later, before, after, design_before, design_after = backfill
    assert materialised(later)["patient_extract"] == {keys[0]}
    # with two snapshots the evaluation had to hold patients out; with the backfilled third
    # it is temporal
    assert (design_before, design_after) == ("held_out_patients", "temporal")
    for k in keys[1:]:  # the snapshots already published keep their rows until re-run
        assert after[k] == before[k]
    assert after[keys[0]][0] == 0  # the oldest snapshot is validated and learnt from, not scored
