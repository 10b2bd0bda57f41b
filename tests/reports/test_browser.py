"""A profile opened in a real headless browser: no console errors, no broken images, and a
screenshot. Chromium is part of the project's set-up; without it this test fails."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
