"""Names from the extract are shown as text: markup in them never reaches the page as markup."""

import html

from tests.reports.conftest import IMG_NAME, SCRIPT_NAME


def test_pcn_and_practice_names_with_markup_are_escaped(hostile_profiles, hostile_extract):
    _, pcn = hostile_extract
    page = (hostile_profiles / f"pcn_{pcn}.html").read_text(encoding="utf-8")
    index = (hostile_profiles / "index.html").read_text(encoding="utf-8")
    for text in (page, index):
        assert html.escape(SCRIPT_NAME) in text
        assert "<script" not in text.lower()
    assert html.escape(IMG_NAME) in page
    for p in hostile_profiles.glob("*.html"):
        text = p.read_text(encoding="utf-8").lower()
        assert "<script" not in text, p.name
        assert "<img src=x" not in text, p.name
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", ""), p.name


def test_every_page_forbids_scripts(hostile_profiles):
    for p in hostile_profiles.glob("*.html"):
        assert "Content-Security-Policy" in p.read_text(encoding="utf-8"), p.name
