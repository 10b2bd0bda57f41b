"""Where the engines differ, and nowhere else: the row-level transforms in `phm/` are written
once with Narwhals and take polars or PySpark frames. The seams an engine supplies: a Python
function over rows (a fitted scikit-learn model's scores, costs or reasons: `per_batch`),
the rows a model is fitted and evaluated on in one process (`in_one_process`), and counting
and bringing back small results (`row_count`, `value`, `to_polars`).

`phm.engines.spark` is imported only when a Spark frame is handed in: pyspark is an
optional dependency (`pip install -e '.[spark]'`).
"""

from __future__ import annotations

from datetime import date

import narwhals as nw
import polars as pl
import polars.selectors as cs


def require_spark() -> None:
    """Say plainly what `engine: spark` needs, before a run gets as far as starting it."""
    import importlib.util
    import shutil

    from phm.errors import ConfigError

    missing = [
        what
        for what, found in (
            ("PySpark (pip install -e '.[spark]')", importlib.util.find_spec("pyspark")),
            ("Java 17 (Debian: apt-get install openjdk-17-jre-headless)", shutil.which("java")),
        )
        if not found
    ]
    if missing:
        raise ConfigError("engine: spark needs " + " and ".join(missing) + "; or use polars.")


def is_spark(frame) -> bool:
    """Whether a native frame is a PySpark DataFrame (classic or Spark Connect)."""
    return type(frame).__module__.startswith("pyspark.")


def row_count(frame) -> int:
    """Rows of any Narwhals-supported frame (a lazy one is counted, not collected)."""
    return int(value(frame, nw.len()))


def lazy(frame) -> nw.LazyFrame:
    """Any frame (native or Narwhals, eager or lazy) as a Narwhals LazyFrame, so that what
    follows is planned, not run step by step."""
    rows = nw.from_native(frame)
    return rows.lazy() if isinstance(rows, nw.DataFrame) else rows


def distinct(frame, column: str) -> list:
    """The sorted distinct values of one column of any frame (a few values come back)."""
    found = lazy(frame).select(column).unique().collect()
    return sorted(found.get_column(column).to_list())


def collect(frame) -> nw.DataFrame:
    """A Narwhals LazyFrame's rows, on polars by its streaming engine (the rows flow through
    in batches: a join feeding a group-by is never held whole), elsewhere as the engine does."""
    if frame.implementation.is_polars():
        return frame.collect(engine="streaming")
    return frame.collect()


def collect_small(frames) -> pl.DataFrame:
    """Narwhals LazyFrames of small aggregates, with the same columns, back in one process as
    one polars frame, stacked: on polars run side by side by the streaming engine (one pass
    each), elsewhere as one union.
    Integer columns come back as Int64 whichever engine counted (polars counts in UInt32,
    Spark in Int64), and Enum keys as text, so that both engines give the same frame."""
    frames = list(frames)
    if frames and frames[0].implementation.is_polars():
        out = pl.concat(
            pl.collect_all([f.to_native() for f in frames], engine="streaming"),
            how="vertical_relaxed",
        )
    else:  # one union, one job: on Spark each action has a fixed cost of its own
        out = nw.concat(frames, how="vertical").collect(backend="polars").to_native()
    return out.with_columns(
        cs.integer().cast(pl.Int64), cs.enum().cast(pl.String), cs.categorical().cast(pl.String)
    )


def in_one_process(frame, max_rows: int, seed: int) -> pl.DataFrame:
    """The rows a step that runs in one process (fitting, evaluating) is given: a polars frame
    as it is (the embedded engine holds it already); a Spark frame's rows collected through
    Arrow, a seeded sample of about `max_rows` of them if it has more, in patient_id order
    (Spark's rows have no order of their own)."""
    if not is_spark(frame):
        return frame
    from phm.engines.spark import collected_sample

    return collected_sample(frame, max_rows, seed)


def to_polars(frame) -> pl.DataFrame:
    """A small result of any engine (an aggregate; the level-3 list) as a polars frame in
    this process: a Spark DataFrame collected through Arrow, a Narwhals frame unwrapped, a
    polars LazyFrame collected."""
    if isinstance(frame, nw.DataFrame | nw.LazyFrame):
        frame = frame.to_native()
    if is_spark(frame):
        from phm.engines.spark import collected

        return collected(frame)
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def scan_partitioned(folder, schema: dict[str, pl.DataType], snapshot_dates) -> pl.LazyFrame:
    """The rows Spark wrote partitioned by ICS and snapshot (`ics_code=`/`snapshot_date=`
    folders), of the given snapshots, as a polars scan with the declared columns and types:
    read in batches by whatever consumes it (the restricted store), never whole."""
    from pathlib import Path

    # the partition folders' files only: not what a killed write left in Spark's hidden
    # staging folders (.spark-staging-*, _temporary), which would read as duplicate rows
    rows = pl.scan_parquet(
        Path(folder) / "ics_code=*" / "snapshot_date=*" / "*.parquet",
        hive_partitioning=True,
        hive_schema={"ics_code": pl.String, "snapshot_date": pl.Date},
    )
    wanted = rows.filter(pl.col("snapshot_date").is_in(list(snapshot_dates)))
    return wanted.select(pl.col(c).cast(t) for c, t in schema.items())


def held(frame):
    """A frame that several aggregations will read: on Spark persisted and computed once (a
    plan is otherwise re-run, joins and all, by every action), elsewhere as it is."""
    if is_spark(frame):
        from phm.engines.spark import persisted

        return persisted(frame)
    return frame


def let_go(*frames) -> None:
    """Free what `held` kept (Spark's cached blocks); nothing to do for polars frames."""
    for frame in frames:
        if frame is not None and is_spark(frame):
            frame.unpersist()


def alike(frame, small):
    """A small polars frame (areas, a cohort's ids) as a frame of `frame`'s engine, to join
    (a frame already on Spark is left as it is)."""
    if is_spark(frame) and not is_spark(small):
        from phm.engines.spark import to_spark

        return to_spark(frame.sparkSession, small)
    return small


def per_batch(frame, rows_of, schema: dict[str, pl.DataType]):
    """`rows_of` (polars rows in, a polars frame of `schema`'s columns out: a fitted model's
    prediction, say) over any engine's rows: a polars frame's at once (`rows_of` batches its
    own matrices), a Spark frame's one Arrow batch at a time (mapInArrow), persisted. A Python
    function over rows is the one seam every engine supplies its own way."""
    if is_spark(frame):
        from phm.engines.spark import in_arrow_batches

        return in_arrow_batches(frame, rows_of, schema)
    return rows_of(frame)


def value(frame, expr: nw.Expr):
    """The one value of an aggregate expression (a mean, a sum) over any engine's frame."""
    found = nw.from_native(frame).select(expr)
    if isinstance(found, nw.LazyFrame):
        found = found.collect()
    return found.item()


def score(frame, snapshot_date: date, spec, model):
    """phm.risk.score_snapshot on any engine: polars in one process, Spark in Arrow batches."""
    from phm.risk import SCORES, score_snapshot

    return per_batch(frame, lambda rows: score_snapshot(rows, snapshot_date, spec, model), SCORES)
