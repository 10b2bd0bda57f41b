"""Test-wide settings, applied before any OpenMP library loads (see the Makefile), and how the
suite is shared between pytest-xdist workers."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# `make test` runs `--dist loadfile`: each file whole on one worker, so a module's fixtures are
# built once. Session fixtures are built once per *worker*, though, and these files share
# costly ones: left apart, both workers built each (measured: `published`, a pipeline run,
# 48 and 37 s; the report pages 43 and 50 s). Each family below is one unit of work instead.
SHARED_FIXTURE_FAMILIES = {
    # `published` (tests/integration/conftest.py): one pipeline run, read by these files
    "tests/integration/test_bad_input.py": "integration: published",
    "tests/integration/test_models_card.py": "integration: published",
    "tests/integration/test_pipeline.py": "integration: published",
    "tests/integration/test_profiles_pipeline.py": "integration: published",
    "tests/integration/test_no_patient_data_leaks.py": "integration: published",
    # the hostile, like-with-like and two-ICS extracts and pages (tests/reports/conftest.py)
    "tests/reports/": "reports",
    # the two-ICS extract, its fitted model and the SparkSession (tests/parity/conftest.py)
    "tests/parity/": "parity",
    # the scale-0.35 sample at seed 7 (tests/synth/conftest.py, `second_sample`)
    "tests/synth/test_calibration.py": "synth: samples",
    "tests/synth/test_city_table_from_files.py": "synth: samples",
}


def fixture_family(file: str) -> str:
    """The unit of work a test file belongs to: its family, or the file itself."""
    for prefix, family in SHARED_FIXTURE_FAMILIES.items():
        if file.startswith(prefix):
            return family
    return file


def pytest_xdist_make_scheduler(config, log):
    """With --dist loadfile, files of one fixture family go to the same worker."""
    if config.getoption("dist", None) != "loadfile":
        return None  # any other mode: xdist's own scheduler
    from xdist.scheduler import LoadFileScheduling

    class ByFixtureFamily(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return fixture_family(super()._split_scope(nodeid))

    return ByFixtureFamily(config, log)
