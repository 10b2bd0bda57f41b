"""The Spark engine: a session from validated settings, and fitted models over Arrow batches.

Model fitting stays scikit-learn on a seeded sample collected to one process; the fitted model
is captured in the closure of a `mapInArrow` function (Spark Connect, as on Databricks
serverless, has no SparkContext to broadcast with), and every batch goes through the same
function the polars engine runs (a risk score, a predicted cost, the reasons for a score).
The results are persisted before they are ranked or joined: a Python function re-runs on
every action otherwise (stack-notes).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.storagelevel import StorageLevel


def spark_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A Spark session for the pipeline: the workers run this venv's Python, one OpenMP
    thread each (a model's threads would fight Spark's own), dates and times in UTC."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("phm")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
        .config("spark.executorEnv.PYSPARK_PYTHON", sys.executable)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars in phm's output
        .config("spark.sql.shuffle.partitions", "8")
        # writing one snapshot's partition replaces that partition only
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        # the restricted.patient_risk files Spark writes (Hadoop's file system, which applies
        # its own umask) are owner-only, as phm's own files
        .config("spark.hadoop.fs.permissions.umask-mode", "077")
    )
    for k, v in (conf or {}).items():
        builder = builder.config(k, str(v))
    from phm.restricted import owner_only_files

    # a JVM started here inherits the umask: its scratch files (cached and shuffled patient
    # rows, under spark.local.dir) are owner-only too
    with owner_only_files():
        session = builder.getOrCreate()
    with contextlib.suppress(Exception):  # Spark Connect has no SparkContext to quieten
        session.sparkContext.setLogLevel("ERROR")
    return session


def in_arrow_batches(frame: DataFrame, rows_of, schema: Mapping[str, pl.DataType]) -> DataFrame:
    """`rows_of` (polars rows in, a polars frame of `schema`'s columns out) over every Arrow
    batch of `frame`, persisted: a Python function is re-run by every action otherwise."""
    arrow = _arrow_schema(schema)

    def each_batch(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        os.environ["OMP_NUM_THREADS"] = "1"  # one thread a task: Spark runs tasks side by side
        for batch in batches:
            if batch.num_rows == 0:
                continue
            yield from rows_of(pl.from_arrow(batch)).to_arrow().cast(arrow).to_batches()

    return persisted(frame.mapInArrow(each_batch, from_arrow_schema(arrow)))


def _arrow_schema(schema: Mapping[str, pl.DataType]) -> pa.Schema:
    """`schema` in Arrow as Spark declares it: polars hands out large strings, Spark's are
    plain ones."""
    fields = pl.DataFrame(schema=dict(schema)).to_arrow().schema
    return pa.schema(
        pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
        for f in fields
    )


def persisted(frame: DataFrame) -> DataFrame:
    """`frame` computed once and kept (memory, then disk) for the actions that follow."""
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    frame.count()
    return frame


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Enum columns (Column.memory_type) as text: Spark reads no Arrow dictionary."""
    import polars.selectors as cs

    return frame.with_columns(cs.enum().cast(pl.String), cs.categorical().cast(pl.String))


def to_spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """A small polars frame (practices, a cohort) as a Spark DataFrame, through Arrow."""
    return spark.createDataFrame(_as_text(frame).to_arrow())


def read_snapshot(spark: SparkSession, path) -> DataFrame:
    """A validated Parquet snapshot as a Spark DataFrame (an SDE reads its tables likewise)."""
    return spark.read.parquet(str(path))


def write_partitioned(frame: DataFrame, folder) -> None:
    """Patient-level output as Parquet partitioned by ICS and snapshot (restricted store)."""
    frame.write.mode("overwrite").partitionBy("ics_code", "snapshot_date").parquet(str(folder))


def write_snapshot(frame: DataFrame, folder, snapshot_date: date) -> None:
    """One snapshot's rows written partitioned by ICS, replacing every earlier write of that
    snapshot: Spark's dynamic overwrite replaces only the ICSs written now, so an ICS an
    earlier extract had (a run into the same outputs) would otherwise still be read back."""
    import shutil

    folder = Path(folder)
    for part in folder.glob(f"ics_code=*/snapshot_date={snapshot_date.isoformat()}"):
        shutil.rmtree(part)
    for leftover in [*folder.glob(".spark-staging-*"), *folder.glob("_temporary")]:
        shutil.rmtree(leftover)  # a killed write's: Spark reads past them, polars would not
    write_partitioned(frame, folder)


def read_partitioned(
    spark: SparkSession, folder, schema: Mapping[str, pl.DataType], snapshot_date: date
) -> DataFrame:
    """One snapshot's rows of what `write_partitioned` wrote, with the declared columns and
    types (a partition value such as an all-digit ICS code would otherwise be read as a
    number): a plan over the files, not rows in memory."""
    from pyspark.sql import functions as F

    declared = from_arrow_schema(_arrow_schema(schema))
    rows = spark.read.schema(declared).option("basePath", str(folder)).parquet(str(folder))
    return rows.filter(F.col("snapshot_date") == F.lit(snapshot_date)).select(*schema)


def collected(frame: DataFrame) -> pl.DataFrame:
    """A Spark DataFrame back in one process, through Arrow: for the small published
    aggregates, and for patient rows only where a one-process step (the warehouse) needs them."""
    return pl.from_arrow(frame.toArrow())


def collected_sample(frame: DataFrame, max_rows: int, seed: int) -> pl.DataFrame:
    """About `max_rows` rows (every row if there are no more), chosen by a seeded hash of
    each patient's pseudonym, collected and sorted by patient_id. Not Spark's `sample()`: it
    draws partition by partition, so the same files split another way (2 cores, a cluster)
    would give another sample, and another model."""
    from pyspark.sql import functions as F

    rows = frame.count()
    if rows > max_rows:
        per_million = int(max_rows / rows * 1_000_000)
        hashed = F.xxhash64(F.col("patient_id"), F.lit(seed))
        frame = frame.filter(F.pmod(hashed, F.lit(1_000_000)) < per_million)
    return collected(frame).sort("patient_id")
