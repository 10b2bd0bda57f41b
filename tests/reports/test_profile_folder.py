"""The profiles folder is replaced whole by each run (phm/folders.py)."""

from __future__ import annotations

from phm import reports
from phm.reports import build


def test_write_profiles_leaves_no_page_of_an_area_gone_from_the_extract(
    hostile_tables, tmp_path, monkeypatch
):
    tables, _ = hostile_tables
    monkeypatch.setattr(build, "_render", lambda code: (f"{code}.html", "<html></html>", 0))
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "pcn_GONE.html").write_text("stale")
    written = reports.write_profiles(tables, folder, workers=1)
    assert "pcn_GONE.html" not in {p.name for p in folder.iterdir()}
    assert {p.name for p in folder.iterdir()} == set(written.pages)


def test_one_page_alone_is_the_page_the_folder_holds(
    hostile_tables, hostile_profiles, hostile_extract
):
    """`profile_page` draws one area's page, byte for byte the one `write_profiles` wrote."""
    tables, _ = hostile_tables
    extract, pcn = hostile_extract
    page = reports.profile_page(tables, pcn, extract.practices)
    assert page == (hostile_profiles / f"pcn_{pcn}.html").read_text(encoding="utf-8")
