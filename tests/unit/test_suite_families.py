"""The fixture families the xdist scheduler keeps together (tests/conftest.py) name real files."""

from phm.config import REPO_ROOT
from tests.conftest import SHARED_FIXTURE_FAMILIES, fixture_family


def test_every_family_member_exists():
    for prefix in SHARED_FIXTURE_FAMILIES:
        assert (REPO_ROOT / prefix).exists(), f"{prefix} is in a fixture family but not on disk"


def test_files_of_a_family_share_a_unit_and_others_stay_their_own():
    assert fixture_family("tests/reports/test_browser.py") == fixture_family(
        "tests/reports/test_many_ics.py"
    )
    assert fixture_family("tests/integration/test_pipeline.py") == fixture_family(
        "tests/integration/test_bad_input.py"
    )
    assert fixture_family("tests/integration/test_cli.py") == "tests/integration/test_cli.py"
