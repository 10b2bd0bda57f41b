"""Each publish keeps the version it replaces, in both stores; restoring it swaps both back."""

from pathlib import Path

import polars as pl
import pytest

from phm.config import PipelineConfig
from phm.errors import PhmError
from phm.schema import Column, Table
from phm.warehouse import publish_warehouse, read_table, restricted_store_path
from phm.warehouse.publish import (
    inputs_fingerprint,
    open_publication,
    previous_path,
    publication_frame,
    restore_previous,
)
from pipelines.cli import main

A = Table("published.a", "row", "Table a.", (Column("n", "integer", "A count."),))
R = Table("restricted.r", "row", "R.", (Column("s", "string", "S."),))


def _n(path: Path) -> list[int]:
    return read_table(path, "published.a")["n"].to_list()


def test_publish_keeps_the_previous_version_and_restore_swaps_them(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    publish_warehouse(path, {A: pl.DataFrame({"n": [1]})})
    assert not previous_path(path).exists()
    publish_warehouse(path, {A: pl.DataFrame({"n": [2]})})
    assert _n(previous_path(path)) == [1] and _n(path) == [2]

    restore_previous(path)
    assert _n(path) == [1] and _n(previous_path(path)) == [2]
    restore_previous(path)  # a second restore undoes the first
    assert _n(path) == [2] and _n(previous_path(path)) == [1]
    publish_warehouse(path, {A: pl.DataFrame({"n": [3]})})
    assert _n(path) == [3] and _n(previous_path(path)) == [2]


def test_restore_without_a_previous_version_says_so(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    publish_warehouse(path, {A: pl.DataFrame({"n": [1]})})
    with pytest.raises(PhmError, match="no previous version of .*w.duckdb"):
        restore_previous(path)
    assert _n(path) == [1]


def test_the_publication_lists_published_tables_and_their_rows(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    publish_warehouse(
        path,
        {A: pl.DataFrame({"n": [1, 2]}), R: pl.DataFrame({"s": ["x"]})},
        fingerprint="f" * 64,
        restricted=store,
    )
    publication = read_table(path, "published.publication")
    assert publication.to_dicts() == [
        {"fingerprint": "f" * 64, "table_name": "published.a", "row_count": 2}
    ]
    assert read_table(store, "restricted.publication").to_dicts() == [
        {"fingerprint": "f" * 64, "table_name": "restricted.r", "row_count": 1}
    ]
    assert publication_frame("f", {A: pl.DataFrame({"n": [1]})}).height == 1


def _publish(path: Path, store: Path, n: int) -> None:
    """A publication whose two stores both say `n` (and whose fingerprint does too)."""
    publish_warehouse(
        path,
        {A: pl.DataFrame({"n": [n]}), R: pl.DataFrame({"s": [str(n)]})},
        fingerprint=f"{n:064d}",
        restricted=store,
    )


def _pair(path: Path, store: Path) -> tuple[list[int], list[str]]:
    with open_publication(path, store) as (published, restricted):
        return (
            published.sql("SELECT n FROM published.a").pl()["n"].to_list(),
            restricted.sql("SELECT s FROM restricted.r").pl()["s"].to_list(),
        )


def test_restore_brings_back_both_stores_of_the_previous_publication(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "out" / "restricted" / "warehouse.duckdb"
    _publish(path, store, 1)
    _publish(path, store, 2)
    assert _pair(path, store) == ([2], ["2"])
    restore_previous(path, store)
    assert _pair(path, store) == ([1], ["1"])
    assert _pair(previous_path(path), previous_path(store)) == ([2], ["2"])
    restore_previous(path, store)  # undo
    assert _pair(path, store) == ([2], ["2"])


def test_restore_refuses_previous_versions_from_different_runs(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    _publish(path, store, 1)
    _publish(path, store, 2)
    publish_warehouse(path, {A: pl.DataFrame({"n": [3]})}, fingerprint="3" * 64)  # no twin
    with pytest.raises(PhmError, match="different runs"):
        restore_previous(path, store)
    assert _n(path) == [3]


def test_a_reader_of_the_pair_refuses_stores_from_different_runs(tmp_path: Path):
    path, store = tmp_path / "w.duckdb", tmp_path / "restricted" / "warehouse.duckdb"
    _publish(path, store, 1)
    publish_warehouse(path, {A: pl.DataFrame({"n": [2]})}, fingerprint="2" * 64)
    with pytest.raises(PhmError, match="different runs"):
        _pair(path, store)


def test_the_fingerprint_follows_content_and_settings_not_paths_or_markers(tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "practices.csv").write_text("a,b\n1,2\n")
    (two / "_READY").touch()
    config = PipelineConfig()
    assert inputs_fingerprint(one, config) == inputs_fingerprint(two, config)
    moved = config.with_overrides(warehouse__path=tmp_path / "elsewhere.duckdb")
    assert inputs_fingerprint(one, moved) == inputs_fingerprint(one, config)
    other_model = config.with_overrides(model__tiering_model="gradient_boosting")
    assert inputs_fingerprint(one, other_model) != inputs_fingerprint(one, config)
    (two / "practices.csv").write_text("a,b\n1,3\n")
    assert inputs_fingerprint(two, config) != inputs_fingerprint(one, config)


def test_phm_restore_restores_both_stores_of_the_run_it_is_pointed_at(tmp_path: Path, capsys):
    outputs, path = tmp_path / "outputs", tmp_path / "bi" / "w.duckdb"
    store = restricted_store_path(outputs)
    _publish(path, store, 1)
    _publish(path, store, 2)
    argv = ["restore", "--outputs", str(outputs), "--warehouse", str(path)]
    assert main(argv) == 0
    assert _pair(path, store) == ([1], ["1"])
    assert str(store) in capsys.readouterr().out
    store.with_name(store.name + ".previous").unlink()
    assert main(argv) == 1  # no previous restricted store: refused, nothing swapped
    assert "no previous version" in capsys.readouterr().err
    assert _pair(path, store) == ([1], ["1"])
