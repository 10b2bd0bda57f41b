"""Where the extract comes from: a configured folder, or the embedded synthetic default.

The synthetic default is generated on first use for a given seed and scale, into a temporary
folder renamed into place when complete, so an interrupted generation is never mistaken for
a finished one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from phm.config import PipelineConfig
from phm.contract import annual_snapshot_dates
from phm.errors import ConfigError
from phm.extract import snapshot_dates_in


def locate_extract(config: PipelineConfig, progress: Callable[[str], None] | None = None) -> Path:
    """The extract folder to run on, generating the synthetic default if it is missing."""
    if not config.uses_synthetic_default:
        folder = Path(config.extract.path)
        if not folder.is_dir():
            raise ConfigError(
                f"The extract folder {folder} does not exist. Point extract.path (or --extract) "
                "at a folder holding practices.csv and patients_<YYYY-MM-DD> files."
            )
        return folder
    return ensure_synthetic_extract(config, progress)


def offered_snapshots(config: PipelineConfig) -> list[date]:
    """The snapshot dates the configured extract offers, without reading or generating it:
    the configured folder's snapshot file names, or the synthetic default's annual dates."""
    if config.uses_synthetic_default:
        s = config.synthetic
        return list(annual_snapshot_dates(s.first_snapshot, s.n_snapshots))
    return snapshot_dates_in(config.extract.path)


def synthetic_truth_dir(config: PipelineConfig) -> Path:
    """The generator's true risks: beside the extract, never inside it, never trained on."""
    return config.synthetic_extract_dir.parent / "truth"


def ensure_synthetic_extract(
    config: PipelineConfig, progress: Callable[[str], None] | None = None
) -> Path:
    from phm.synth import generate_extract  # the generator is only needed on first use

    target = config.synthetic_extract_dir
    if target.is_dir():
        return target
    s = config.synthetic
    staging = target.parent.with_name(target.parent.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    generate_extract(
        staging / "extract",
        scale=s.scale,
        seed=s.seed,
        n_snapshots=s.n_snapshots,
        first_snapshot=s.first_snapshot,
        ltc_columns=config.ltc_columns,
        truth_dir=staging / "truth",
        progress=progress,
    )
    shutil.rmtree(target.parent, ignore_errors=True)
    staging.rename(target.parent)
    return target
