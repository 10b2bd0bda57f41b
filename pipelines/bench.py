"""The benchmark: per-stage wall time, CPU time and peak resident memory of a full run.

It measures and prints; it asserts nothing (a timed test would be flaky on a shared 2-core
machine). Memory is the resident set of the process and its children (on Spark: the JVM and
its Python workers), sampled every 20 ms and attributed to the stage running at the time, so
native (polars, numpy) allocations are counted too. CPU time (user + system, every thread of
the process and its children, from /proc) is sampled the same way: on a machine other work
shares it moves far less than wall time, so two runs compare on it.

`--config` benchmarks another configuration (e.g. configs/qof_registers.yaml), `--extract`
an extract already on disk instead of generating the synthetic one, and `--no-html` leaves
out drawing the HTML profiles.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import yaml

from phm.config import PipelineConfig, load_config
from phm.sources import ensure_synthetic_extract
from pipelines.memory import RssSampler
from pipelines.outcome import RunOutcome


def benchmark(
    scale: float = 1.0,
    seed: int = 42,
    engine: str | None = None,
    config_path: Path | None = None,
    extract: Path | None = None,
    html: bool | None = None,
) -> RunOutcome:
    """Run the pipeline once in a temporary folder and print each stage's figures.

    config_path: the configuration to run (default configs/default.yaml); extract: an
    extract folder to run on (default: the synthetic one at `scale` and `seed`, generated
    and timed); html: draw the HTML profiles (None: as configured)."""
    from pipelines.runner import run_pipeline

    base = load_config(config_path)
    with tempfile.TemporaryDirectory(prefix="phm-bench-") as tmp:
        config = base.with_overrides(
            synthetic__scale=scale, synthetic__seed=seed, outputs__dir=Path(tmp)
        )
        if html is not None:
            config = config.with_overrides(outputs__html_profiles=html)
        run_config = bench_config_file(config, Path(tmp))
        print(
            f"phm bench: {f'extract {extract}' if extract else f'scale {scale:g} (seed {seed})'}"
            f", config {config_path or 'default'}, {_ltc_count(config)} conditions, "
            f"HTML {'on' if config.outputs.html_profiles else 'off'}, on {os.cpu_count()} "
            f"cores, engine {engine or base.engine}"
        )
        with RssSampler() as sampler:
            t0 = time.time()
            generated = extract is None
            if generated:
                extract = ensure_synthetic_extract(config)
            t1 = time.time()
            outcome = run_pipeline(
                config_path=run_config,
                extract=extract,
                warehouse=Path(tmp) / "bench.duckdb",
                outputs=Path(tmp) / "out",
                engine=engine,
            )
            t2 = time.time()
        _report(sampler, t0, t1, t2, outcome, generated)
    return outcome


def bench_config_file(config: PipelineConfig, folder: Path) -> Path:
    """The benchmarked configuration written out whole (every path absolute), for the run."""
    path = folder / "bench-config.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def _ltc_count(config: PipelineConfig) -> str:
    return "all" if config.ltc_columns == "all" else str(len(config.ltc_columns))


def _report(sampler: RssSampler, t0, t1, t2, outcome, generated: bool) -> None:
    mib = 1024 * 1024

    def line(name: str, start: float, end: float) -> str:
        return (
            f"  {name:<40}{end - start:>9.1f}{sampler.cpu(start, end):>9.1f}"
            f"{sampler.peak(start, end) / mib:>15.0f}"
            f"{sampler.peak(start, end, own=True) / mib:>12.0f}"
        )

    # peak RSS: this process and its children (on Spark the JVM and its Python workers);
    # of which phm: this process alone (on Spark, what the driver's Python holds)
    print(f"  {'stage':<40}{'seconds':>9}{'CPU s':>9}{'peak RSS MiB':>15}{'of it phm':>12}")
    if generated:  # an extract given with --extract is read by the run, not timed apart
        print(line("synthetic extract (generate)", t0, t1))
    for stage in outcome.stages:
        print(line(stage.stage, stage.start, stage.end))
    print(line("pipeline total (incl. Dagster)", t1, t2))
    print(line("end to end", t0, t2))
    for text in model_figures(outcome.metadata):
        print(f"  {text}")
    if not outcome.success:
        print("  (the run did not succeed: figures cover the stages that ran)")


# The evaluation figures a run records (on data the models never saw), printed beside the
# times so that a change which makes the run faster shows what it did to the models.
_RISK_FIGURES = (
    "tiering_model",
    "auroc",
    "calibration_slope",
    "observed_expected",
    "ppv_top5pct",
    "models_auroc",
    "gain_over_cms_baseline",
)
_COST_FIGURES = ("r_squared", "observed_predicted", "cost_share_top5pct")


def model_figures(metadata: dict[str, dict[str, str]]) -> list[str]:
    """One line each for the risk and cost models' validation figures, if the run got there."""
    lines = []
    for asset, names in (
        ("risk_model_evaluation", _RISK_FIGURES),
        ("next_year_cost", _COST_FIGURES),
    ):
        found = metadata.get(asset, {})
        shown = [f"{n} {found[n]}" for n in names if n in found]
        if shown:
            lines.append(f"{asset}: " + "; ".join(shown))
    return lines
