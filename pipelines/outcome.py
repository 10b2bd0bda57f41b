"""How a run ended: what the in-process runner returns and the supervisor hands back.

Its own module, free of Dagster's imports, so that the supervising `phm run` process (which
never imports Dagster: three seconds of a small run) and the runner share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phm.errors import PhmError


@dataclass(frozen=True)
class StageTiming:
    stage: str
    seconds: float
    start: float
    end: float


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    stages: list[StageTiming] = field(default_factory=list)
    failed_checks: dict[str, list[str]] = field(default_factory=dict)
    error: PhmError | None = None
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)  # asset -> label -> text
    peak_mib: int | None = None  # the run's peak resident memory (set by the supervisor)
    patient_rows: int | None = None  # patient rows read, every snapshot (likewise)
