"""The Cambridge Multimorbidity Score's conditions and published weights (Payne et al. 2020,
appendix 5), read from the package data phm/reference/cms_conditions.csv.

One reader for the places that use them: the CMS baseline model (phm/models), and the
synthetic population's true risk (phm/synth/health.py) and prevalence targets
(phm/synth/conditions.py), so the numbers are typed once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class CmsCondition:
    code: str  # e.g. "ANX+DEP"
    name: str  # e.g. "Anxiety or depression"
    columns: tuple[str, ...]  # the contract's flag(s); any one set counts the condition
    weight: float  # 1-year unplanned admission
    prevalence_pct: float  # recorded in the paper's adult CPRD sample


@cache
def cms_conditions() -> tuple[CmsCondition, ...]:
    """The 37 CMS conditions with their unplanned-admission weights (package data)."""
    text = resources.files("phm").joinpath("reference/cms_conditions.csv").read_text("utf-8")
    return tuple(
        CmsCondition(
            code=row["cms_code"],
            name=row["condition"],
            columns=tuple(row["contract_column"].split("|")),
            weight=float(row["weight_unplanned_admission"]),
            prevalence_pct=float(row["prevalence_pct"]),
        )
        for row in csv.DictReader(text.splitlines())
    )
