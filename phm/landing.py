"""The landing folder: new extracts arrive, are validated, and are accepted or quarantined.

An extract is a folder dropped into `landing.dir` (e.g. `incoming/llr_2025-04/`). It counts as
complete when its marker file (`landing.ready_marker`, `_READY` by default) exists: the
uploader writes the marker after the last data file. A marker was chosen over "unchanged for
N seconds" because a copy over SMB or SFTP can stall for longer than any N we would pick
(a stalled half-copy would then be validated and quarantined as broken), and because waiting
N seconds delays every run; a marker is explicit, costs one `stat`, and is what Hadoop/Spark
(`_SUCCESS`) and most transfer tools already write.

`process_landing` validates each complete folder with `phm.validation.check_extract`, then
moves it, with one rename on the same filesystem:
- valid: to `accepted_dir/<name>__<fingerprint[:12]>/`, ready to run (the fingerprint makes
  the name unique, so an extract dropped twice under one name is never overwritten);
- invalid: to `quarantine_dir/<name>__<fingerprint[:12]>/` with `validation_report.md` beside
  the data: every problem as file, column, rule and count, never a value.

No Dagster here: the landing sensor (pipelines/defs/automation.py) calls this, and so can a
notebook or a cron job. This module reads patient files (through `check_extract`) but
writes nothing patient-level: the report holds counts and row numbers only. The accepted and
quarantine folders it creates are owner-only (0700; phm/restricted.py): what it moves into
them is patient data.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phm.config import LandingConfig
from phm.restricted import private_folder
from phm.validation import ValidationReport, check_extract
from phm.warehouse.publish import extract_fingerprint

REPORT_NAME = "validation_report.md"


@dataclass(frozen=True)
class Landed:
    """One extract taken from the landing folder, and where it went."""

    name: str  # the folder name it arrived under
    fingerprint: str  # SHA-256 of its data files (phm.warehouse.publish.extract_fingerprint)
    accepted: bool
    folder: Path  # its new home: under accepted_dir or quarantine_dir
    problems: int

    @property
    def run_key(self) -> str:
        """Unique per content: the same extract landed twice is run once."""
        return self.folder.name


def ready_extracts(landing: LandingConfig) -> list[Path]:
    """Complete extract folders waiting in the landing folder, in name order."""
    if not landing.dir.is_dir():
        return []
    return sorted(
        p
        for p in landing.dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / landing.ready_marker).is_file()
    )


def process_landing(landing: LandingConfig, ltc_columns: Sequence[str]) -> list[Landed]:
    """Validate every complete extract in the landing folder and accept or quarantine it."""
    return [process_one(folder, landing, ltc_columns) for folder in ready_extracts(landing)]


def process_one(folder: Path, landing: LandingConfig, ltc_columns: Sequence[str]) -> Landed:
    fingerprint = extract_fingerprint(folder)
    report = check_extract(folder, ltc_columns)
    target_root = landing.accepted_dir if report.ok else landing.quarantine_dir
    target = target_root / f"{folder.name}__{fingerprint[:12]}"
    private_folder(target_root)  # accepted and quarantined extracts are patient rows
    if target.exists():
        # The same content arrived before under the same name: keep the first, drop this copy.
        shutil.rmtree(folder)
    else:
        _move(folder, target)
    if not report.ok:
        (target / REPORT_NAME).write_text(
            report_markdown(folder.name, fingerprint, report), encoding="utf-8"
        )
    return Landed(folder.name, fingerprint, report.ok, target, len(report.problems))


def _move(source: Path, target: Path) -> None:
    """One rename when on the same filesystem (the usual case); otherwise copy, then rename."""
    try:
        source.rename(target)
    except OSError:
        staging = target.with_name(f".{target.name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging)
        staging.rename(target)
        shutil.rmtree(source)


def report_markdown(name: str, fingerprint: str, report: ValidationReport) -> str:
    """A readable report of every problem: where (file, column), which rule, how many rows."""
    lines = [
        f"# Validation report: `{name}`",
        "",
        f"The extract breaks the data contract ({len(report.problems)} problem"
        f"{'' if len(report.problems) == 1 else 's'}); it was quarantined and nothing was "
        "published from it. Fix the extract at source and drop a corrected copy into the "
        "landing folder (docs/operations.md, 'When a check fails'). The contract is in "
        "docs/data-dictionary.md.",
        "",
        f"Content fingerprint: `{fingerprint}`",
        "",
        "| file | column | rule | rows | example data rows |",
        "|---|---|---|---|---|",
    ]
    for p in report.problems:
        rows = ", ".join(str(r) for r in p.example_rows)
        lines.append(
            f"| {_cell(p.file)} | {_cell(p.column)} | {_cell(p.rule)} | {p.count} | {rows} |"
        )
    if report.warnings:
        lines += [
            "",
            "## Warnings (reported, not failing)",
            "",
            "| file | column | rule | rows |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(w.file)} | {_cell(w.column)} | {_cell(w.rule)} | {w.count} |"
            for w in report.warnings
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")
