"""The one resource: where configuration comes from, with optional overrides."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from phm.config import DEFAULT_CONFIG, PipelineConfig, load_config


class PhmSettings(dg.ConfigurableResource):
    """The pipeline configuration: a YAML file in configs/, optionally overridden."""

    config_path: str = str(DEFAULT_CONFIG)
    extract_path: str | None = None
    warehouse_path: str | None = None
    outputs_dir: str | None = None
    engine: str | None = None  # polars or spark; None: as configured

    def load(self) -> PipelineConfig:
        config = load_config(Path(self.config_path))
        return config.with_overrides(
            extract__path=_absolute(self.extract_path),
            warehouse__path=_absolute(self.warehouse_path),
            outputs__dir=_absolute(self.outputs_dir),
            engine=self.engine,
        )

    def spark_session(self):
        """The Spark session of `engine: spark`, from the configured master and settings
        (started once per process; pyspark is imported only here)."""
        from phm.engines import require_spark

        require_spark()
        from phm.engines.spark import spark_session

        s = self.load().spark
        return spark_session(s.master, s.conf)

    @contextmanager
    def spark_staging(self, step: str) -> Iterator[Path]:
        """Where a step on Spark stages this process's patient rows as Parquet for Spark to
        read: owner-only, in the restricted store (`<outputs>/restricted/spark/staged/<step>`),
        and deleted when the step is done with them, failed or not."""
        from phm.restricted import private_folder, restricted_dir

        folder = restricted_dir(self.load().outputs.dir)
        for part in ("spark", "staged", step):
            folder = private_folder(folder) / part
        shutil.rmtree(folder, ignore_errors=True)  # a killed run's leftovers
        try:
            yield private_folder(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _absolute(path: str | None) -> Path | None:
    return None if path is None else Path(path).resolve()
