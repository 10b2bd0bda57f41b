"""Output folders replaced whole: the previous set or the new one, never a mixture."""

from __future__ import annotations

import pytest

from phm.folders import replacing_folder


def _files(folder):
    return {p.name: p.read_text() for p in folder.iterdir()}


def test_the_new_set_replaces_the_old_whole(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "pcn_GONE.html").write_text("a PCN no longer in the extract")
    (folder / "index.html").write_text("old")
    with replacing_folder(folder) as staging:
        (staging / "index.html").write_text("new")
        assert _files(folder)["index.html"] == "old"  # readers see the old set until the end
    assert _files(folder) == {"index.html": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles"]


def test_a_failure_while_writing_leaves_the_old_set_as_it_was(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "index.html").write_text("old")
    with pytest.raises(OSError), replacing_folder(folder) as staging:
        (staging / "index.html").write_text("half")
        raise OSError(28, "No space left on device")
    assert _files(folder) == {"index.html": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles"]


def test_a_run_stopped_between_the_renames_gets_the_old_set_back(tmp_path):
    folder = tmp_path / "model_card"
    old = tmp_path / "model_card.old"
    old.mkdir()
    (old / "index.md").write_text("old")  # the live folder renamed away, the new not yet in
    with pytest.raises(RuntimeError), replacing_folder(folder):
        assert _files(folder) == {"index.md": "old"}  # back before anything else happens
        raise RuntimeError("this run fails too")
    assert _files(folder) == {"index.md": "old"}


def test_the_folder_is_as_readable_as_mkdir_would_make_it(tmp_path):
    folder = tmp_path / "profiles"
    with replacing_folder(folder):
        pass
    reference = tmp_path / "reference"
    reference.mkdir()
    assert folder.stat().st_mode == reference.stat().st_mode
