"""Run tags over snapshot partitions follow Dagster's registration order of dynamic keys."""

import pytest

from phm.errors import PhmError
from pipelines.partitions import RANGE_END, RANGE_START, run_tags


def test_a_whole_extract_is_one_range_from_its_oldest_to_its_newest_snapshot():
    tags = run_tags(["2023-04-01", "2021-04-01", "2022-04-01"])
    assert (tags[RANGE_START], tags[RANGE_END]) == ("2021-04-01", "2023-04-01")


def test_a_snapshot_backfilled_after_newer_ones_sorts_last_in_the_range():
    registered = ["2021-04-01", "2022-04-01", "2020-04-01"]
    tags = run_tags(["2022-04-01", "2020-04-01"], registered)
    assert (tags[RANGE_START], tags[RANGE_END]) == ("2022-04-01", "2020-04-01")


def test_snapshots_that_are_not_one_block_of_the_registered_order_are_refused():
    registered = ["2021-04-01", "2022-04-01", "2023-04-01", "2020-04-01"]
    with pytest.raises(PhmError, match="not one block"):
        run_tags(["2020-04-01", "2021-04-01"], registered)  # the range would take 2022, 2023
    with pytest.raises(PhmError, match="not one block"):
        run_tags(["2019-04-01"], registered)  # not registered at all
