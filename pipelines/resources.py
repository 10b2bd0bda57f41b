"""The one resource: where configuration comes from, with optional overrides."""

from __future__ import annotations

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


def _absolute(path: str | None) -> Path | None:
    return None if path is None else Path(path).resolve()
