"""HTML building blocks: every string from the extract goes through `esc`, nothing else is
interpolated but our own constants and formatted numbers.

Pages are self-contained (CSS inline, charts as data: URIs) and carry a Content-Security-Policy
that forbids every script and every remote resource: even a name that escaped escaping
could not run or fetch anything.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from phm.reports import palette as P

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
SUPPRESSED = "<8"  # a count of 1-7
NOT_SHOWN = "–"  # a rate or mean whose numerator or denominator is below 8


def esc(value: object) -> str:
    """Text as HTML: markup in a name is shown as text and never runs."""
    return html.escape("" if value is None else str(value), quote=True)


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


def table(frame: pl.DataFrame, columns: Sequence[Col], caption: str) -> str:
    head = "".join(f'<th scope="col">{esc(c.header)}</th>' for c in columns)
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for i, c in enumerate(columns):
            text = esc(fmt(row.get(c.name), c.kind))
            cls = ' class="n"' if c.kind != "text" else ""
            cells.append(f'<th scope="row">{text}</th>' if i == 0 else f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def section(
    anchor: str, title: str, takeaway: str, chart_html: str, table_html: str, note: str = ""
) -> str:
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    return (
        f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>'
        f'<p class="takeaway">{esc(takeaway)}</p>'
        f"<figure>{chart_html}</figure>{note_html}"
        f"<details><summary>Show the table behind this chart</summary>{table_html}</details>"
        "</section>"
    )


def bullet_list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def link(href: str, text: str) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


STYLE = f"""
:root {{ --blue: {P.NHS_BLUE}; --dark: {P.NHS_DARK_BLUE}; --grey: {P.NHS_DARK_GREY};
  --pale: {P.NHS_PALE_GREY}; }}
* {{ box-sizing: border-box; }}
body {{ font-family: Arial, "Liberation Sans", Helvetica, sans-serif; color: #231f20;
  margin: 0; background: #f0f4f5; line-height: 1.45; }}
header {{ background: var(--blue); color: white; padding: 1rem 1.5rem; }}
header h1 {{ margin: 0 0 .25rem; font-size: 1.6rem; }}
header p {{ margin: 0; }}
header a {{ color: white; }}
main {{ max-width: 58rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; background: white; }}
h2 {{ color: var(--dark); font-size: 1.25rem; margin: 1.8rem 0 .3rem;
  border-top: 4px solid var(--blue); padding-top: .6rem; }}
.takeaway {{ font-weight: bold; margin: .2rem 0 .5rem; }}
.note {{ font-size: .85rem; color: var(--grey); }}
figure {{ margin: .5rem 0; }}
img {{ max-width: 100%; height: auto; display: block; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr));
  gap: .6rem; margin: 1rem 0; }}
.card {{ border-left: 6px solid var(--blue); background: var(--pale); padding: .5rem .7rem; }}
.card b {{ display: block; font-size: 1.35rem; color: var(--dark); }}
.card span {{ font-size: .8rem; }}
.summary {{ border: 2px solid var(--blue); padding: .4rem 1rem; margin: 1rem 0; }}
.summary h2 {{ border: 0; margin-top: .4rem; padding-top: 0; }}
details {{ margin: .3rem 0 1rem; }}
summary {{ cursor: pointer; color: var(--blue); }}
table {{ border-collapse: collapse; font-size: .8rem; margin: .5rem 0; width: 100%; }}
caption {{ text-align: left; font-weight: bold; padding: .2rem 0; }}
th, td {{ border-bottom: 1px solid #cdd5d8; padding: .2rem .4rem; text-align: left; }}
thead th {{ background: var(--pale); }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
nav ul {{ columns: 2; }}
footer {{ font-size: .8rem; color: var(--grey); margin-top: 2rem; }}
@page {{ size: A4; margin: 12mm; }}
@media print {{
  body {{ background: white; font-size: 10pt; }}
  header {{ background: white; color: black; border-bottom: 3px solid var(--blue);
           padding: 0 0 .4rem; }}
  header a {{ color: black; }}
  main {{ max-width: none; padding: 0; }}
  section, figure, .summary, .cards {{ break-inside: avoid; }}
  summary {{ display: none; }}
  details::details-content {{ content-visibility: visible; display: block; }}
  details > table {{ display: table; }}
}}
"""


def page(title: str, subtitle_html: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{subtitle_html}</p></header>"
        f"<main>{body}</main></body></html>\n"
    )
