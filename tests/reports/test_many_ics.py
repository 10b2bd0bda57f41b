"""An extract of two ICSs: each ICS is its own area, counts only its own patients, and every
place and PCN is compared with its own ICS (see the two_ics fixtures in conftest)."""

import re

import polars as pl
import pytest
from markupsafe import escape

from phm.warehouse.tables import PROFILE_TABLES
from tests.reports.conftest import ICS_A, ICS_B

SUMMARY = "published.profile_summary"


def _ics_of_pcn(extract) -> dict[str, str]:
    return dict(extract.practices.select("pcn_code", "ics_code").unique().iter_rows())


def _patients_per_ics(inputs) -> dict[str, int]:
    areas = inputs.areas.select("practice_code", pl.col("ics_code").cast(pl.String))
    rows = inputs.current.join(areas, on="practice_code", how="left")
    return dict(rows.group_by("ics_code").len().iter_rows())


def test_each_ics_is_one_area_row_named_from_the_practices(two_ics_tables):
    _, exact = two_ics_tables
    ics = exact[SUMMARY].filter(pl.col("area_type") == "ics")
    assert sorted(ics.select("area_code", "area_name").iter_rows()) == [ICS_A, ICS_B]
    assert (ics["ics_code"] == ics["area_code"]).all()


def test_an_ics_row_counts_only_its_own_patients_and_is_the_sum_of_its_pcns(
    two_ics_tables, two_ics_inputs
):
    _, exact = two_ics_tables
    summary = exact[SUMMARY]
    counts = [c for c in summary.columns if c.endswith("_patients")]
    own = _patients_per_ics(two_ics_inputs)
    assert len(own) == 2 and len(set(own.values())) == 2
    for code, patients in own.items():
        ics = summary.filter(pl.col("area_code") == code)
        assert ics["registered_patients"].item() == patients
        for kind in ("place", "pcn"):
            parts = summary.filter(pl.col("area_type") == kind, pl.col("ics_code") == code)
            assert parts.height >= 1
            for c in counts:
                assert parts[c].sum() == ics[c].item(), (code, kind, c)


@pytest.mark.parametrize(
    "table, dims",
    [
        ("published.profile_age_sex", ["age_band", "sex"]),
        ("published.profile_kaiser", ["kaiser_level"]),
        ("published.profile_multimorbidity", ["age_band"]),
        ("published.profile_inequalities", ["dimension", "group_name"]),
        ("published.profile_tier_movement", ["from_level", "to_level"]),
    ],
)
def test_every_ics_row_of_a_table_is_the_sum_of_its_own_pcns(two_ics_tables, table, dims):
    _, exact = two_ics_tables
    frame = exact[table]
    ics = frame.filter(pl.col("area_type") == "ics").select("ics_code", *dims, "patients")
    pcns = (
        frame.filter(pl.col("area_type") == "pcn")
        .group_by("ics_code", *dims)
        .agg(pl.col("patients").sum())
    )
    joined = ics.join(pcns, on=["ics_code", *dims], how="full", coalesce=True, nulls_equal=True)
    assert joined.height == ics.height
    assert (joined["patients"] == joined["patients_right"]).all(), table


def test_every_row_of_every_published_profile_table_names_its_ics(two_ics_tables, two_ics_extract):
    published, _ = two_ics_tables
    pcn_ics = _ics_of_pcn(two_ics_extract)
    for table in PROFILE_TABLES:
        assert "ics_code" in table.column_names, table.name
        frame = published[table.name]
        assert frame.height and frame["ics_code"].null_count() == 0, table.name
        ics = frame.filter(pl.col("area_type") == "ics")
        assert (ics["ics_code"] == ics["area_code"]).all(), table.name
        pcns = frame.filter(pl.col("area_type") == "pcn")
        assert pcns["ics_code"].to_list() == [pcn_ics[c] for c in pcns["area_code"]], table.name


def test_prevalence_compares_a_pcn_with_its_own_ics_not_a_pool(two_ics_tables):
    _, exact = two_ics_tables
    diabetes = exact["published.profile_prevalence"].filter(pl.col("register") == "ltc_diabetes")
    by_ics = dict(
        diabetes.filter(pl.col("area_type") == "ics").select("area_code", "prevalence_pct").rows()
    )
    assert by_ics[ICS_B[0]] == 0 and by_ics[ICS_A[0]] > 3  # a pool of both would be about half
    b_pcns = diabetes.filter(pl.col("area_type") == "pcn", pl.col("ics_code") == ICS_B[0])
    assert b_pcns.height >= 2
    # against the pool every one of B's PCNs would be lower; against B itself none can be
    assert b_pcns["compared_with_llr"].to_list() == ["similar"] * b_pcns.height
    for r in diabetes.filter(pl.col("area_type") != "ics").iter_rows(named=True):
        own = by_ics[r["ics_code"]]
        expected = (
            "higher" if r["ci_low_pct"] > own else "lower" if r["ci_high_pct"] < own else "similar"
        )
        if abs(r["ci_low_pct"] - own) > 0.01 and abs(r["ci_high_pct"] - own) > 0.01:
            assert r["compared_with_llr"] == expected, r["area_code"]


def test_the_funnel_target_of_every_area_is_its_own_icss_ratio(two_ics_tables):
    for tables in two_ics_tables:
        funnel = tables["published.profile_emergency_admissions"]
        target = dict(
            funnel.filter(pl.col("area_type") == "ics")
            .select("area_code", "observed_expected_ratio")
            .rows()
        )
        assert len(set(target.values())) == 2  # the two ICSs' ratios differ
        for r in funnel.iter_rows(named=True):
            assert r["llr_ratio"] == target[r["ics_code"]], r["area_code"]


def test_cost_concentration_ranks_each_ics_own_patients(two_ics_tables, two_ics_inputs):
    _, exact = two_ics_tables
    cost = exact["published.profile_cost_concentration"]
    for code, patients in _patients_per_ics(two_ics_inputs).items():
        mine = cost.filter(pl.col("area_code") == code)
        assert mine["patients"].sum() == patients
        top = mine.filter(pl.col("population_band") == "top 0.5%")["patients"].item()
        assert top == int(patients * 0.005)  # rank / n <= 0.005 within this ICS alone
        assert mine["cumulative_cost_share_pct"][-1] == pytest.approx(100, abs=0.2)


def test_an_extract_without_ics_columns_is_one_ics_llr(hostile_tables):
    tables, _ = hostile_tables
    for name, frame in tables.items():
        assert frame["ics_code"].unique().to_list() == ["LLR"], name
        assert frame.filter(pl.col("area_type") == "ics")["area_code"].unique().to_list() == [
            "LLR"
        ], name


# --------------------------------------------------------------------------------------------
# The pages: one per ICS, each place and PCN beside its own ICS, the index grouped by ICS.
# --------------------------------------------------------------------------------------------


def _pcn_names(extract, ics: str) -> list[str]:
    pcns = extract.practices.filter(pl.col("ics_code") == ics)
    return pcns["pcn_name"].unique().sort().to_list()


def _page(folder, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def test_there_is_one_ics_page_per_ics_and_no_single_overview(two_ics_profiles):
    pages = sorted(p.name for p in two_ics_profiles.glob("ics_*.html"))
    assert pages == [f"ics_{ICS_A[0]}.html", f"ics_{ICS_B[0]}.html"]
    assert not (two_ics_profiles / "overview.html").exists()


def test_an_ics_page_shows_its_own_pcns_and_no_other_icss(two_ics_profiles, two_ics_extract):
    for (mine, name), (theirs, other) in ((ICS_A, ICS_B), (ICS_B, ICS_A)):
        page = _page(two_ics_profiles, f"ics_{mine}.html")
        own = _pcn_names(two_ics_extract, mine)
        assert f"<h1>{escape(name)}: overview</h1>" in page
        for pcn in own:
            assert escape(pcn) in page, (mine, pcn)
        for pcn in _pcn_names(two_ics_extract, theirs):
            assert escape(pcn) not in page, (mine, pcn)
        assert escape(other) not in page
        # its spine chart and funnel are of its own PCNs only
        assert "PCNs differ significantly from the ICS" in page
        assert re.search(rf"\d+ of {len(own)} PCNs differ significantly", page), mine


def test_a_pcn_page_is_compared_with_its_own_ics(two_ics_profiles, two_ics_extract):
    for (mine, name), (_, other) in ((ICS_A, ICS_B), (ICS_B, ICS_A)):
        own = two_ics_extract.practices.filter(pl.col("ics_code") == mine)
        pcn = own["pcn_code"].sort()[0]
        page = _page(two_ics_profiles, f"pcn_{pcn}.html")
        assert f"compared with the {mine} average" in page
        assert escape(name) in page  # its ICS's rows stand beside its own in the tables
        assert escape(other) not in page
        n_pcns = own["pcn_code"].n_unique()
        assert f"it is compared with all {n_pcns} PCNs" in page, mine


def test_the_index_lists_both_icss_each_with_its_own_pcns(two_ics_profiles, two_ics_extract):
    index = _page(two_ics_profiles, "index.html")
    assert "Neighbourhood profiles: 2 Integrated Care Systems" in index
    groups = {}
    for part in index.split("<h2>")[1:]:
        href = re.search(r'href="(ics_[^"]+)"', part).group(1)
        groups[href] = set(re.findall(r'href="pcn_([^".]+)\.html"', part))
    assert set(groups) == {f"ics_{ICS_A[0]}.html", f"ics_{ICS_B[0]}.html"}
    for code, _ in (ICS_A, ICS_B):
        own = two_ics_extract.practices.filter(pl.col("ics_code") == code)
        assert groups[f"ics_{code}.html"] == set(own["pcn_code"]), code


def test_a_one_ics_index_keeps_its_layout(hostile_profiles):
    index = _page(hostile_profiles, "index.html")
    assert "Neighbourhood profiles: Leicester, Leicestershire and Rutland" in index
    assert '<a href="overview.html">The LLR overview</a>' in index
    assert "<h3>" not in index and index.count("<h2>") == 3  # the three places
