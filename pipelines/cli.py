"""`phm`: the command line for people who are not Dagster experts.

    phm run [--extract DIR] [--outputs DIR] [--warehouse FILE] [--config FILE]  the pipeline
    phm validate DIR [--config FILE] [--engine E]     check an extract, list every problem
    phm synth --out DIR [--scale X] [--seed N] [--format parquet|csv] [--config YAML]
    phm bench [--scale X] [--config YAML] [--extract DIR] [--no-html]
                                                      per-stage time, CPU and peak memory
    phm restore [--outputs DIR] [--warehouse FILE]    bring back the previous publication
    phm calibrate [--scale X] [--seed N]              synthetic population vs LLR figures
    phm docs                                          regenerate docs/data-dictionary.md

A mistake in the user's own input or configuration is reported in plain words with exit
status 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from phm.config import REPO_ROOT, load_config
from phm.errors import PhmError
from phm.failures import DISK_FAULTS, classify

EXIT_OK, EXIT_USER_ERROR = 0, 1

# Before any OpenMP library loads: spinning OpenMP waits made gradient boosting 20x slower
# on two busy cores (see Makefile). A value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Where PySpark is installed, Great Expectations imports it on every run, polars ones too, and
# PySpark warns about pandas 3 on import. The pipeline hands Spark Arrow batches, not pandas
# frames (phm/engines/spark.py), so the warning says nothing about this run.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except PhmError as exc:
        print(f"phm {args.command}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:  # the machine failed (a disk, a lock, memory): say how, in one line
        fault = classify(exc)
        if fault is None:
            raise
        fault = replace(
            fault,
            outcome=_UNFINISHED.get(args.command),
            path=fault.path or (_output_of(args) if fault.kind in DISK_FAULTS else None),
            elsewhere="--out" if args.command == "synth" else fault.elsewhere,
        )
        print(f"phm {args.command}: {fault.message()}", file=sys.stderr)
        sys.unraisablehook = _quiet  # writers closed at exit fail again the same way: said
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"phm {args.command}: interrupted; nothing was published.", file=sys.stderr)
        return 130


# What a command leaves behind when the machine fails it (a run: nothing published).
_UNFINISHED = {
    "restore": "the live warehouse and its previous version are unchanged",
    "synth": "the extract written so far is incomplete",
    "validate": "the extract was not fully checked",
}


def _output_of(args: argparse.Namespace) -> str | None:
    """Where a command writes, to name when an error lost its path (a failed write())."""
    target = getattr(args, "out", None) or getattr(args, "warehouse", None)
    return str(target) if target else None


def _quiet(_unraisable) -> None:
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phm", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole pipeline and publish the warehouse")
    run.add_argument("--extract", type=Path, help="extract folder (default: synthetic LLR)")
    run.add_argument(
        "--outputs",
        type=Path,
        help="folder for every output of the run, patient-level ones in its owner-only "
        "restricted/ (default: outputs.dir, the checkout's outputs/)",
    )
    run.add_argument(
        "--warehouse",
        type=Path,
        help="the published DuckDB file, aggregates only (default: <outputs>/warehouse/"
        "llr_phm.duckdb)",
    )
    run.add_argument(
        "--config", type=Path, help="YAML configuration (default: configs/default.yaml)"
    )
    run.add_argument("--verbose", action="store_true", help="show Dagster's step logs")
    run.add_argument(
        "--engine",
        choices=("polars", "spark"),
        help="where the row-level transforms run (default: the configured engine, polars)",
    )
    run.set_defaults(handler=_run)

    validate = sub.add_parser("validate", help="check an extract against the data contract")
    validate.add_argument("extract", type=Path)
    validate.add_argument("--config", type=Path)
    validate.add_argument(
        "--engine",
        choices=("polars", "spark"),
        help="spark: the snapshots (Parquet) read and checked by Spark, GX included "
        "(default: polars, in this process)",
    )
    validate.set_defaults(handler=_validate)

    synth = sub.add_parser("synth", help="write a synthetic LLR extract")
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--scale", type=float, default=1.0)
    synth.add_argument("--seed", type=int, default=42)
    synth.add_argument("--snapshots", type=int, default=3)
    synth.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    synth.add_argument(
        "--ics-copies",
        type=int,
        help="copies of LLR under made-up ICS codes, together --scale times LLR (default: "
        "one ICS up to scale 1, then one copy per whole LLR: --scale 10 writes ten)",
    )
    synth.add_argument(
        "--config", type=Path, help="take the condition list (ltc_columns) from this configuration"
    )
    synth.set_defaults(handler=_synth)

    bench = sub.add_parser("bench", help="time each stage and measure peak memory")
    bench.add_argument("--scale", type=float, default=1.0)
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--engine", choices=("polars", "spark"), help="default: as configured")
    bench.add_argument("--config", type=Path, help="configuration to run (default: default.yaml)")
    bench.add_argument(
        "--extract", type=Path, help="an extract folder to run on (default: synthetic, generated)"
    )
    bench.add_argument(
        "--html",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw the HTML profiles (default: as configured)",
    )
    bench.set_defaults(handler=_bench)

    restore = sub.add_parser(
        "restore", help="make the previously published warehouse live again (run twice: undo)"
    )
    restore.add_argument("--warehouse", type=Path, help="default: the configured warehouse")
    restore.add_argument(
        "--outputs", type=Path, help="the run's outputs folder, holding the restricted store"
    )
    restore.add_argument("--config", type=Path)
    restore.set_defaults(handler=_restore)

    calibrate = sub.add_parser(
        "calibrate", help="compare the synthetic population with the published LLR figures"
    )
    calibrate.add_argument("--scale", type=float, default=1.0)
    calibrate.add_argument("--seed", type=int, default=42)
    calibrate.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "calibration-report.md")
    calibrate.set_defaults(handler=_calibrate)

    docs = sub.add_parser("docs", help="regenerate docs/data-dictionary.md from the declarations")
    docs.set_defaults(handler=_docs)
    return parser


def _run(args: argparse.Namespace) -> int:
    from phm.restricted import spark_patient_risk_dir
    from phm.warehouse.publish import restricted_store_path
    from pipelines.supervisor import supervised_run

    config = _configured(args)
    extract = args.extract.resolve() if args.extract else None
    if extract and args.outputs is None:
        _refuse_outputs_in_checkout(config.outputs.dir)
    warehouse = config.warehouse.path
    source = str(extract) if extract else "the synthetic LLR population (seed "
    if not extract:
        source += f"{config.synthetic.seed}, scale {config.synthetic.scale:g})"
    print(f"phm run: {source}")
    _say_conditions(config, extract or config.synthetic_extract_dir)
    if not extract and config.uses_synthetic_default and not config.synthetic_extract_dir.is_dir():
        print(
            f"  generating it first (once per seed and scale) into "
            f"{config.synthetic_extract_dir.parent}"
        )
    outcome = supervised_run(  # in a child process: running out of memory is an outcome too
        verbose=args.verbose,
        config_path=args.config,
        extract=extract,
        warehouse=warehouse,
        outputs=config.outputs.dir,
        engine=args.engine,
    )
    for stage in outcome.stages:
        print(f"  {stage.stage:<32} {stage.seconds:7.1f} s")
    if outcome.peak_mib and outcome.patient_rows:
        print(f"  peak memory {outcome.peak_mib} MiB, {outcome.patient_rows:,} patient rows read")
    failed = _failure(outcome, "run")
    if failed is not None:
        return failed
    headline = outcome.metadata.get("risk_model_evaluation", {})
    if headline:
        print(f"Risk model: {headline.get('tiering_model')}, {headline.get('validation_design')}")
        print(
            f"  AUROC {headline.get('auroc')}, Brier {headline.get('brier')}, calibration "
            f"slope {headline.get('calibration_slope')}, observed/expected "
            f"{headline.get('observed_expected')}, PPV in top 5% {headline.get('ppv_top5pct')}"
        )
        print(f"  over the CMS baseline: {headline.get('gain_over_cms_baseline')}")
        if headline.get("inputs_missing", "none") != "none":
            print(f"  inputs the extract lacks: {headline['inputs_missing']}")
    outputs = config.outputs.dir
    print("Outputs:")
    print(f"  warehouse        {warehouse}")
    print("                   published.*: disclosure-controlled aggregates, for BI tools")
    print(f"  restricted store {restricted_store_path(config)}")
    print("                   restricted.*: patient-level risk, tiers, ILT cohort (owner-only)")
    print(f"  PCN profiles     {outputs / 'profiles' / 'index.html'}")
    print(f"  case-finding     {outputs / 'restricted' / 'case_finding'}  (owner-only)")
    print(f"  model card       {outputs / 'model_card' / 'index.md'}")
    if (args.engine or config.engine) == "spark":
        patient_risk = spark_patient_risk_dir(outputs)
        print(f"  Spark tiers      {patient_risk}  (Parquet by ICS and snapshot, owner-only)")
    return EXIT_OK


def _say_conditions(config, folder: Path) -> None:
    """With `ltc_columns: all`, say which condition columns the extract gave."""
    from phm.contract import ALL_LTCS, DEFAULT_LTCS
    from phm.extract import resolve_ltc_columns

    if config.ltc_columns != ALL_LTCS:
        return
    found = resolve_ltc_columns(folder, ALL_LTCS)
    if not found and config.uses_synthetic_default:
        found = DEFAULT_LTCS  # not generated yet: the generator writes every condition it models
    names = ", ".join(c.removeprefix("ltc_") for c in found)
    print(f"conditions: taken from the extract: {len(found)} columns ({names})")


def _validate(args: argparse.Namespace) -> int:
    from phm.validation import check_extract

    config = load_config(args.config)
    _say_conditions(config, args.extract)
    spark = None
    if args.engine == "spark":
        from phm.engines import require_spark

        require_spark()
        from phm.engines.spark import spark_session

        spark = spark_session(config.spark.master, config.spark.conf)
    report = check_extract(args.extract, config.ltc_columns, spark=spark)
    if report.ok:
        print(f"phm validate: {args.extract} meets the data contract.")
        return EXIT_OK
    print(
        f"phm validate: {args.extract} breaks the data contract ({len(report.problems)} problems):"
    )
    for problem in report.problems:
        print(f"  - {problem}")
    return EXIT_USER_ERROR


def _synth(args: argparse.Namespace) -> int:
    from phm.synth import generate_extract
    from phm.synth.geography import synthetic_icss

    summary = generate_extract(
        args.out,
        scale=args.scale,
        seed=args.seed,
        n_snapshots=args.snapshots,
        file_format=args.format,
        ltc_columns=load_config(args.config).ltc_columns,
        progress=lambda msg: print(f"  {msg}", file=sys.stderr),
        ics_copies=args.ics_copies,
    )
    print(f"phm synth: wrote {summary.out_dir} (truth kept apart in {summary.truth_path})")
    copies = synthetic_icss(args.scale, args.ics_copies)
    if copies:
        print(
            f"  {len(copies)} synthetic ICSs ({copies[0].code}..{copies[-1].code}): copies of "
            "LLR's practice list under made-up ICS, place, PCN and practice codes, each with "
            "its own synthetic patients; not real organisations"
        )
    return EXIT_OK


def _failure(outcome, command: str) -> int | None:
    """The exit status of a run that did not succeed, its causes said on stderr (a PhmError
    raised, for main to say in one line); None for a run that succeeded."""
    if outcome.failed_checks:
        print(
            f"phm {command}: the extract breaks the data contract; nothing was published:",
            file=sys.stderr,
        )
        for check, problems in outcome.failed_checks.items():
            for problem in problems or [f"check {check} failed"]:
                print(f"  - {problem}", file=sys.stderr)
        return EXIT_USER_ERROR
    if outcome.error is not None:
        raise outcome.error
    if not outcome.success:
        print(
            f"phm {command}: the run failed; nothing was published. Re-run with --verbose.",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    return None


def _bench(args: argparse.Namespace) -> int:
    from pipelines.bench import benchmark

    outcome = benchmark(
        scale=args.scale,
        seed=args.seed,
        engine=args.engine,
        config_path=args.config.resolve() if args.config else None,
        extract=args.extract.resolve() if args.extract else None,
        html=args.html,
    )
    return _failure(outcome, "bench") or EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from phm.warehouse.publish import restore_previous, restricted_store_path

    config = _configured(args)
    restricted = restricted_store_path(config)
    restore_previous(config.warehouse.path, restricted)
    print(
        f"phm restore: {config.warehouse.path} and its restricted store {restricted} are the "
        "previous publication again (the versions they replaced are kept as .previous; run "
        "again to undo)."
    )
    return EXIT_OK


def _refuse_outputs_in_checkout(outputs: Path) -> None:
    """A real extract's patient rows stay out of the code checkout unless asked: the
    configured outputs folder may be the checkout's only because nobody changed it."""
    if outputs.resolve().is_relative_to(REPO_ROOT):
        raise PhmError(
            f"a run on a real extract would write patient-level output into the code "
            f"checkout ({outputs}). Say where its outputs go with --outputs DIR, a private "
            f"folder outside {REPO_ROOT} (or outputs.dir in your --config); pass --outputs "
            f"{outputs} to keep them there after all."
        )


def _configured(args: argparse.Namespace):
    """The configuration with --outputs and --warehouse applied (the default warehouse
    follows --outputs)."""
    return load_config(args.config).with_overrides(
        outputs__dir=args.outputs.resolve() if args.outputs else None,
        warehouse__path=args.warehouse.resolve() if args.warehouse else None,
    )


def _calibrate(args: argparse.Namespace) -> int:
    import tempfile

    from phm.synth import generate_extract
    from phm.synth.calibration import calibration_report, write_calibration_report

    with tempfile.TemporaryDirectory(prefix="phm-calibrate-") as tmp:
        summary = generate_extract(Path(tmp) / "extract", scale=args.scale, seed=args.seed)
        report = calibration_report(summary.out_dir, summary.truth_path)
    duckdb_path = load_config().outputs.dir / "calibration" / "calibration_report.duckdb"
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_calibration_report(report, args.out, duckdb_path, seed=args.seed, scale=args.scale)
    missed = report.filter(~report["within"]).height
    print(
        f"phm calibrate: {report.height - missed} of {report.height} targets within tolerance; "
        f"wrote {args.out} and the table calibration_report in {duckdb_path}"
    )
    return EXIT_OK


def _docs(args: argparse.Namespace) -> int:
    from phm.docs import write_data_dictionary

    path = write_data_dictionary(REPO_ROOT / "docs" / "data-dictionary.md")
    print(f"phm docs: wrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
