"""A profile opened in a real headless browser: no console errors, no broken images, and a
screenshot. Chromium is part of the project's set-up; without it this test fails."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reports.devtools import Browser

INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)), true);
const _err = console.error;
console.error = (...a) => { window.__errors.push(a.join(' ')); _err(...a); };
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const d = document.createElement('div');
  d.id = 'test-status';
  d.setAttribute('data-images', imgs.length);
  d.setAttribute('data-broken', broken);
  d.setAttribute('data-errors', window.__errors.length);
  document.body.appendChild(d);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"Chromium is not installed; the project's set-up installs it with: {INSTALL}")


def run(args: list[str], profile_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile_dir}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def pcn_page(hostile_profiles, hostile_extract) -> Path:
    _, pcn = hostile_extract  # the PCN whose names carry markup
    return hostile_profiles / f"pcn_{pcn}.html"


def test_profile_loads_with_every_image_and_no_console_error(pcn_page, tmp_path):
    # A test-only copy with a probe script (the page's own policy forbids scripts).
    page = pcn_page.read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = run(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path / "p1")
    status = re.search(
        r'id="test-status" data-images="(\d+)" data-broken="(\d+)" data-errors="(\d+)"', done.stdout
    )
    assert status, f"the page did not finish loading (chromium exit {done.returncode})"
    images, broken, errors = map(int, status.groups())
    assert images >= 10
    assert broken == 0
    assert errors == 0
    # markup in the PCN and practice names was shown as text, never made into elements
    assert 'src="x"' not in done.stdout
    assert "alert(1)" in done.stdout  # ...but the text is there


def test_profile_as_shipped_logs_nothing_and_screenshots(pcn_page, tmp_path):
    shot = tmp_path / "profile.png"
    done = run(
        [
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            pcn_page.as_uri(),
        ],
        tmp_path / "p2",
    )
    console = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "Refused to" in line
    ]
    assert console == []
    assert shot.is_file() and shot.stat().st_size > 10_000


# --------------------------------------------------------------------------------------------
# Accessibility: axe-core (npm) with the WCAG 2.0, 2.1 and 2.2 A and AA rules on every page.
# The pages' own policy forbids every script, so the audit runs on a test-only copy of each page
# with the policy removed and axe injected; the copy is otherwise byte for byte the page. One
# Chromium, kept open for the module, loads them one after another (tests/reports/devtools.py).
# --------------------------------------------------------------------------------------------
AXE_DIR = Path(__file__).resolve().parents[2] / ".axe"
AXE_INSTALL = f"npm install --prefix {AXE_DIR} axe-core@4.11 (or: make browser)"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AUDIT = """<script>
window.addEventListener('load', async () => {
  const out = document.createElement('pre');
  out.id = 'axe-result';
  try {
    const r = await axe.run(document, {runOnly: {type: 'tag', values: %s},
                                       resultTypes: ['violations']});
    out.textContent = JSON.stringify(r.violations.map(v => ({
      id: v.id, impact: v.impact, nodes: v.nodes.length,
      first: v.nodes.slice(0, 3).map(n => n.target.join(' '))})));
  } catch (e) { out.textContent = JSON.stringify([{id: 'axe-error', first: [String(e)]}]); }
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for every audit of the module (tests/reports/devtools.py)."""
    opened = Browser(chromium(), FLAGS + ["--window-size=1280,1000"], tmp_path_factory.mktemp("b"))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    path = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        pytest.fail(f"axe-core is not installed; install it with: {AXE_INSTALL}")
    return path.read_text(encoding="utf-8")


def _audit(page: Path, axe: str, tmp_path: Path, browser: Browser) -> list[dict]:
    html_text = re.sub(
        r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8")
    )
    audit = "<script>" + axe + "</script>" + AUDIT % json.dumps(WCAG_TAGS)
    copy = tmp_path / page.name
    copy.write_text(html_text.replace("</body>", audit + "</body>", 1), encoding="utf-8")
    return json.loads(browser.text_of(copy.as_uri(), "axe-result"))


def test_every_page_passes_axe_wcag_22_a_and_aa(hostile_profiles, axe_source, browser, tmp_path):
    pages = sorted(hostile_profiles.glob("*.html"))
    assert len(pages) >= 10  # index, overview, places and PCNs
    failures = {}
    for page in pages:
        violations = _audit(page, axe_source, tmp_path, browser)
        if violations:
            failures[page.name] = violations
    assert failures == {}


def test_the_pages_of_a_two_ics_extract_pass_axe(two_ics_profiles, axe_source, browser, tmp_path):
    """The index grouped by ICS (headings one level deeper) and each ICS's page."""
    pages = [two_ics_profiles / "index.html", *sorted(two_ics_profiles.glob("ics_*.html"))]
    assert len(pages) == 3
    failures = {p.name: v for p in pages if (v := _audit(p, axe_source, tmp_path, browser))}
    assert failures == {}


def test_axe_finds_a_violation_where_there_is_one(axe_source, browser, tmp_path):
    """The audit can fail: an image without alternative text is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:image/png;base64,iVBORw0KGgo="></main></body></html>',
        encoding="utf-8",
    )
    assert "image-alt" in {v["id"] for v in _audit(page, axe_source, tmp_path, browser)}
