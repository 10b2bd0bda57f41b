"""Cross-column and cross-file rules that a per-column Great Expectations suite cannot say.

Each rule takes conformed frames of either engine (polars, or PySpark in an SDE) and returns
`Problem`s: counts, and 1-based data row numbers where rows have an order (a file read into
polars; a Spark table's rows have none, so its problems name no rows). Never a value. They
are written once with Narwhals and vectorised: no Python loop over rows.

`column_rule_failed` also evaluates four kinds of the per-column expectations derived from
the declarations (not null, unique, one of a set, finite) for phm/validation/expectations.py,
which routes them here: they are one vectorised pass in all, but cost GX a pandas copy of the
whole frame and a full-frame filter per expectation (on 3 x 1.17M rows: GX 8.6 s for these 35
expectations per snapshot, polars 0.2 s in all). The rules still come from the one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import narwhals as nw

from phm.engines import alike, collect, distinct, lazy
from phm.errors import Problem
from phm.extract import EXAMPLE_ROWS  # row numbers quoted per problem, as the reader does

ROW = "__phm_row"  # the data row number of an ordered frame (a name no contract column has)

# Data contract, "Numbers": every float column holds finite values; a null is the one way to
# say unknown. GX has no such expectation (its pandas frames cannot tell NaN from null), so the
# rule is ours, evaluated here, for every float column.
FINITE = "ExpectColumnValuesToBeFinite"

# The GX expectation kinds evaluated here, with the same meaning GX gives them: a null is never
# "not unique" or "not in the set" (nulls are the not-null expectation's business).
COUNTED_KINDS = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToBeInSet",
        FINITE,
    }
)


def column_rule_failed(column: str, kind: str, kwargs: Mapping[str, object]) -> nw.Expr:
    """True on the rows that break one declared column rule (a kind in COUNTED_KINDS)."""
    values = nw.col(column)
    if kind == "ExpectColumnValuesToNotBeNull":
        return values.is_null()
    if kind == "ExpectColumnValuesToBeUnique":
        return values.is_duplicated() & ~values.is_null()  # every copy counts, as in GX
    if kind == "ExpectColumnValuesToBeInSet":
        return ~values.is_null() & ~values.is_in(list(kwargs["value_set"]))
    if kind == FINITE:  # NaN, inf and -inf; a null is not a number at all, so it passes
        return ~values.is_null() & ~values.is_finite()
    raise ValueError(f"{kind} is not a rule counted here")


Failures = dict[str, tuple[int, tuple[int, ...]]]  # rule key -> (rows that fail, example rows)


def failures(
    frame,
    failed: Mapping[str, nw.Expr],
    prepare: Callable[[nw.LazyFrame], nw.LazyFrame] | None = None,
) -> Failures:
    """How many rows of `frame` break each rule (true in its `failed` expression), counted in
    one pass on the frame's engine, and for each rule broken the first few data row numbers
    where the rows have an order. `prepare` adds what the expressions read (a join, say); the
    row numbers are taken before it, so they stay the file's."""
    rows = nw.from_native(frame)
    ordered = isinstance(rows, nw.DataFrame)  # an eager frame keeps its file's row order
    plan = lazy(rows.with_row_index(ROW) if ordered else rows)
    if prepare is not None:
        plan = prepare(plan)
    if not failed:
        return {}
    # flags first, then sums: Spark cannot sum a boolean, nor a window inside an aggregate
    flags = plan.select(*([ROW] if ordered else []), **{k: e for k, e in failed.items()})
    counts = collect(
        flags.select(nw.col(k).fill_null(False).cast(nw.Int64).sum() for k in failed)
    ).row(0)
    found: Failures = {}
    for k, n in zip(failed, counts, strict=True):
        if n:
            found[k] = (int(n), _first_rows(flags, k) if ordered else ())
    return found


def _first_rows(flags: nw.LazyFrame, rule: str) -> tuple[int, ...]:
    hits = flags.filter(nw.col(rule).fill_null(False)).select(ROW).sort(ROW).head(EXAMPLE_ROWS)
    return tuple(int(r) + 1 for r in collect(hits).get_column(ROW).to_list())


def _problem(file: str, column: str, rule: str, found: Failures) -> list[Problem]:
    if column not in found:
        return []
    count, rows = found[column]
    return [Problem(file, column, rule, count, rows)]


def practice_codes_exist(patients, practices, file: str) -> list[Problem]:
    """Every patient's practice_code is a practice_code of practices.csv."""
    # a blank code is the not-null rule's business; here it is no practice at all
    listed = lazy(practices).filter(~nw.col("practice_code").is_null())
    known = distinct(listed, "practice_code")
    code = nw.col("practice_code")
    found = failures(patients, {"practice_code": ~code.is_null() & ~code.is_in(known)})
    return _problem(file, "practice_code", "practice_code must exist in practices.csv", found)


def ltc_count_matches_flags(patients, ltc_columns: Sequence[str], file: str) -> list[Problem]:
    """ltc_count equals the number of true ltc_ flags (rows with a null on either side are
    left to the not-null expectation)."""
    flags = (
        nw.sum_horizontal(*(nw.col(c).cast(nw.Int64) for c in ltc_columns))
        if ltc_columns
        else nw.lit(0, dtype=nw.Int64)
    )
    any_null = nw.any_horizontal(
        *(nw.col(c).is_null() for c in [*ltc_columns, "ltc_count"]), ignore_nulls=True
    )
    found = failures(patients, {"ltc_count": (nw.col("ltc_count") != flags) & ~any_null})
    return _problem(file, "ltc_count", "ltc_count must equal the sum of the ltc_ flags", found)


def deaths_before_snapshot(patients, snapshot: date, deaths, file: str) -> list[Problem]:
    """A patient still registered in a snapshot cannot have died before the snapshot date.

    Reported as a problem like the others; a BI team may see it when death registrations and
    list cleaning lag each other, and should fix the extract or the death date.
    """
    died = (
        lazy(alike(patients, deaths))
        .filter(nw.col("date_of_death") < snapshot)
        .select("patient_id")
        .unique()
        .with_columns(nw.lit(True).alias("died_before"))
    )

    def with_deaths(rows: nw.LazyFrame) -> nw.LazyFrame:  # a join: deaths can be many
        return rows.join(died, on="patient_id", how="left")

    found = failures(
        patients, {"patient_id": ~nw.col("died_before").is_null()}, prepare=with_deaths
    )
    return _problem(
        file,
        "patient_id",
        "a patient in the snapshot has a death recorded before the snapshot date (warning)",
        found,
    )
