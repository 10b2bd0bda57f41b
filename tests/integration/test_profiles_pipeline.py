"""The profiles in a whole run: published tables, disclosure control over every published
count, and the pages and case-finding files the run reports."""

from pathlib import Path

import polars as pl
import pytest

from phm.profiles import PYRAMID_BANDS
from phm.warehouse import read_table
from phm.warehouse.tables import PROFILE_TABLES, PUBLISHED_TABLES
from tests.disclosure import assert_counts_disclosure_controlled


@pytest.mark.parametrize("table", PUBLISHED_TABLES, ids=lambda t: t.name)
def test_every_published_count_is_0_or_at_least_8_and_a_multiple_of_5(published, table):
    warehouse, _ = published
    frame = read_table(warehouse, table.name)
    assert_counts_disclosure_controlled(frame, table)


def test_profile_tables_cover_the_ics_3_places_and_25_pcns(published):
    warehouse, _ = published
    for table in PROFILE_TABLES:
        frame = read_table(warehouse, table.name)
        assert frame.columns == table.column_names
        codes = frame.select("area_type", "area_code").unique()
        by = dict(codes.group_by("area_type").len().iter_rows())
        assert by == {"ics": 1, "place": 3, "pcn": 25}, table.name


def test_the_run_writes_every_profile_page_and_a_case_finding_file_per_pcn(published):
    _, outcome = published
    reports = outcome.metadata["pcn_profile_reports"]
    assert int(reports["pages"]) == 25 + 3 + 1 + 1  # PCNs, places, overview, index
    lists = outcome.metadata["case_finding_lists"]
    assert int(lists["pcn_files"]) == 25


def test_each_case_finding_file_names_age_bands_sex_and_conditions_in_words(published):
    _, outcome = published
    folder = outcome.metadata["case_finding_lists"]["folder"]
    rows = pl.concat(
        [pl.read_csv(f, infer_schema=False) for f in sorted(Path(str(folder)).glob("*.csv"))]
    )
    assert rows.height > 0
    assert set(rows["age_band"]) <= set(PYRAMID_BANDS)
    assert set(rows["sex"]) <= {"F", "M", "U"}
    listed = rows["conditions"].drop_nulls()
    assert listed.filter(listed != "").str.contains("[A-Za-z]").all()  # "" for no condition
