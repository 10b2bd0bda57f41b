"""Configuration enters here: YAML in configs/, validated by pydantic, overridden by flags.

No module reads environment variables at import time; paths are resolved once, against the
repository root (or the folder of the YAML file when it lives elsewhere).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from phm.contract import ALL_LTCS, DEFAULT_LTCS
from phm.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtractConfig(_Strict):
    path: Path | None = None


class SyntheticConfig(_Strict):
    scale: float = Field(1.0, gt=0, le=20)
    seed: int = 42
    n_snapshots: int = Field(3, ge=2, le=10)
    first_snapshot: date = date(2021, 4, 1)


class ModelConfig(_Strict):
    candidates: tuple[str, ...] = ("ltc_count_lookup", "logistic", "gradient_boosting")
    tiering_model: str = "logistic"
    seed: int = 42
    # Models given a Platt step fitted on a held-out 20% of the training snapshot.
    recalibrate: tuple[str, ...] = ()
    # Add to every score the log-odds shift that made mean risk equal the observed rate on the
    # model's training snapshot (phm/risk.py): case-mix change after it stays in the scores.
    period_shift: bool = True

    @model_validator(mode="after")
    def _tiering_model_is_a_candidate(self) -> ModelConfig:
        if self.tiering_model not in self.candidates:
            raise ValueError(f"tiering_model '{self.tiering_model}' is not among the candidates")
        unknown = [m for m in self.recalibrate if m not in self.candidates]
        if unknown:
            raise ValueError(f"recalibrate names {unknown}, which are not among the candidates")
        return self


class TieringConfig(_Strict):
    scope: Literal["ics", "pcn"] = "ics"
    level3_share: float = Field(0.05, gt=0, lt=1)
    level2_share: float = Field(0.15, gt=0, lt=1)


class SparkConfig(_Strict):
    """Where Spark runs when `engine: spark`: local[2] is the tested default; a cluster is a
    master URL (spark://..., yarn) and its settings (docs/operations.md, Databricks)."""

    master: str = Field("local[2]", min_length=1)
    conf: dict[str, str] = {}  # spark.* settings, e.g. spark.driver.memory: 4g

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not k.startswith("spark.")]
        if bad:
            raise ValueError(f"Spark settings must start with 'spark.': {', '.join(bad)}")
        return v


class DisclosureConfig(_Strict):
    suppress_below: int = Field(8, ge=1)
    round_to: int = Field(5, ge=1)


WAREHOUSE_FILE = Path("warehouse/llr_phm.duckdb")


class WarehouseConfig(_Strict):
    # The published file (aggregates only). Left out, it is <outputs.dir>/warehouse/
    # llr_phm.duckdb, and follows --outputs.
    path: Path

    @field_validator("path")
    @classmethod
    def _stem_is_not_a_schema(cls, v: Path) -> Path:
        if v.stem in {"restricted", "published", "main"}:
            raise ValueError(f"the file stem '{v.stem}' equals a schema name; rename the file")
        return v


class OutputsConfig(_Strict):
    dir: Path = Path("outputs")
    # Draw the HTML profile pages (most of a small run's time: 29 of 44 s at scale 0.005).
    # The published tables behind them are built either way; false suits runs that only feed
    # BI tools, and the operations tests.
    html_profiles: bool = True


class LandingConfig(_Strict):
    """Where new extracts arrive (docs/operations.md): validated, then accepted or quarantined."""

    dir: Path = Path("outputs/landing/incoming")
    accepted_dir: Path = Path("outputs/landing/accepted")
    quarantine_dir: Path = Path("outputs/landing/quarantine")
    ready_marker: str = Field("_READY", min_length=1)
    sensor_enabled: bool = False  # the Dagster sensor starts stopped unless this is true
    schedule_enabled: bool = False  # likewise the monthly schedule
    schedule_cron: str = "0 6 2 * *"  # 06:00 on the 2nd of each month, Europe/London


class ValidationConfig(_Strict):
    # Great Expectations Data Docs for the extract check, rebuilt each run in
    # <outputs.dir>/validation/data_docs (about 3 s a run, measured at scale
    # 0.005 on 2 loaded cores); false skips them.
    data_docs: bool = True


class PipelineConfig(_Strict):
    extract: ExtractConfig = ExtractConfig()
    synthetic: SyntheticConfig = SyntheticConfig()
    # A list of ltc_ flag columns, or "all": every ltc_ column of the extract's first snapshot.
    ltc_columns: Literal["all"] | tuple[str, ...] = DEFAULT_LTCS
    model: ModelConfig = ModelConfig()
    tiering: TieringConfig = TieringConfig()
    # Where the row-level transforms run: polars in this process, or Spark (the optional
    # spark dependency group, and Java); the published output is the same.
    engine: Literal["polars", "spark"] = "polars"
    spark: SparkConfig = SparkConfig()
    disclosure: DisclosureConfig = DisclosureConfig()
    warehouse: WarehouseConfig
    outputs: OutputsConfig = OutputsConfig()
    landing: LandingConfig = LandingConfig()
    validation: ValidationConfig = ValidationConfig()

    @model_validator(mode="before")
    @classmethod
    def _warehouse_under_outputs(cls, data: object) -> object:
        """No warehouse.path: the published file goes under the outputs folder."""
        if not isinstance(data, dict):
            return data
        warehouse = data.get("warehouse") or {}
        if isinstance(warehouse, dict) and warehouse.get("path") is None:
            outputs = data.get("outputs") or {}
            folder = outputs.dir if isinstance(outputs, OutputsConfig) else outputs.get("dir")
            path = Path(folder or OutputsConfig().dir) / WAREHOUSE_FILE
            data = {**data, "warehouse": {**warehouse, "path": path}}
        return data

    @field_validator("ltc_columns")
    @classmethod
    def _ltc_names(cls, v: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if v == ALL_LTCS:
            return v
        bad = [c for c in v if not c.startswith("ltc_") or c == "ltc_count"]
        if bad or not v:
            raise ValueError("ltc_columns must be a non-empty list of ltc_<condition> names")
        if len(set(v)) != len(v):
            raise ValueError("ltc_columns lists a condition twice")
        return v

    def resolved(self, base: Path) -> PipelineConfig:
        """The same configuration with every relative path made absolute against `base`."""

        def absolute(p: Path | None) -> Path | None:
            return None if p is None else (p if p.is_absolute() else (base / p).resolve())

        return self.model_copy(
            update={
                # model_copy, not a new section: keep the section's other settings
                "extract": self.extract.model_copy(update={"path": absolute(self.extract.path)}),
                "warehouse": self.warehouse.model_copy(
                    update={"path": absolute(self.warehouse.path)}
                ),
                "outputs": self.outputs.model_copy(update={"dir": absolute(self.outputs.dir)}),
                "landing": self.landing.model_copy(
                    update={
                        "dir": absolute(self.landing.dir),
                        "accepted_dir": absolute(self.landing.accepted_dir),
                        "quarantine_dir": absolute(self.landing.quarantine_dir),
                    }
                ),
            }
        )

    def with_overrides(self, **dotted: object) -> PipelineConfig:
        """Override keys given as `section__key=value` (None means: keep the configured value)."""
        data = self.model_dump()
        if (
            dotted.get("outputs__dir") is not None
            and dotted.get("warehouse__path") is None
            and self.warehouse.path == self.outputs.dir / WAREHOUSE_FILE
        ):
            data["warehouse"]["path"] = None  # the default warehouse follows --outputs
        for key, value in dotted.items():
            if value is None:
                continue
            section, _, field = key.partition("__")
            if field:
                data[section][field] = value
            else:
                data[section] = value
        return _validate(data, "command-line flags")

    @property
    def synthetic_extract_dir(self) -> Path:
        s = self.synthetic
        return self.outputs.dir / "synthetic" / f"llr_seed{s.seed}_scale{s.scale:g}" / "extract"

    @property
    def uses_synthetic_default(self) -> bool:
        return self.extract.path is None


def load_config(path: Path | None = None) -> PipelineConfig:
    """Read and validate a YAML configuration; relative paths resolve against the repo root."""
    path = Path(path) if path else DEFAULT_CONFIG
    data = _read_yaml(path)
    base = REPO_ROOT if path.resolve().parent == DEFAULT_CONFIG.parent else path.resolve().parent
    return _validate(data, str(path)).resolved(base)


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A YAML file's settings; `extends: other.yaml` (beside it) starts from that file's
    settings, each section merged key by key (so a variant states only what differs)."""
    if not path.is_file():
        raise ConfigError(f"Configuration file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "extends" not in data:
        return data
    parent = (path.parent / str(data.pop("extends"))).resolve()
    if parent in seen or parent == path.resolve():
        raise ConfigError(f"Configuration file {path} extends itself (through {parent.name}).")
    merged = _read_yaml(parent, (*seen, path.resolve()))
    for key, value in data.items():
        both = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = {**merged[key], **value} if both else value
    return merged


def _validate(data: object, source: str) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"Configuration in {source} is invalid:"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  - {where}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
