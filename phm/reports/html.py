"""Pages from Jinja2 templates (phm/reports/templates) with autoescaping: every value from the
extract is escaped by the template engine; the templates hold the only markup.

Pages are self-contained (CSS inline, charts as data: URIs) and carry a Content-Security-Policy
that forbids every script and every remote resource: even a name that escaped escaping
could not run or fetch anything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jinja2
import polars as pl

from phm.reports import palette as P

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
SUPPRESSED = "<8"  # a count of 1-7
NOT_SHOWN = "–"  # a rate or mean whose numerator or denominator is below 8


@cache
def environment() -> jinja2.Environment:
    """One per process (pages are drawn in worker processes). Autoescape on for every
    template, whatever its name; an undefined name is an error, not an empty string."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("phm.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context) -> str:
    return environment().get_template(template).render(csp=CSP, palette=P, **context) + "\n"


@dataclass(frozen=True)
class Col:
    """A table column: source column, header, and how its values are formatted."""

    name: str
    header: str
    kind: str = "text"  # text, count, pct, num, gbp, ratio


def fmt(value: object, kind: str) -> str:
    if kind == "count":
        return SUPPRESSED if value is None else f"{int(value):,}"
    if value is None:
        return NOT_SHOWN
    if kind == "pct":
        return f"{float(value):.1f}%"
    if kind == "num":
        return f"{float(value):.2f}"
    if kind == "ratio":
        return f"{float(value):.2f}"
    if kind == "gbp":
        return f"£{float(value):,.0f}"
    return str(value)


def table(frame: pl.DataFrame, columns: Sequence[Col], caption: str, suffix: str = "") -> dict:
    """A table for the `data_table` macro: headers, and each cell as (text, numeric)."""
    rows = [
        [(fmt(row.get(c.name), c.kind), c.kind != "text") for c in columns]
        for row in frame.iter_rows(named=True)
    ]
    return {
        "caption": caption,
        "headers": [c.header for c in columns],
        "rows": rows,
        "summary_suffix": suffix,
    }


def image(png: bytes, alt: str) -> dict:
    return {"data": base64.b64encode(png).decode("ascii"), "alt": alt}
