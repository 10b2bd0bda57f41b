"""The code location loads, and its asset graph is the one the docs describe."""

import dagster as dg

from pipelines.definitions import defs

EXPECTED_GRAPH = {
    "patient_extract": set(),
    "patient_features": {"patient_extract"},
    "risk_model_evaluation": {"patient_features", "patient_extract"},
    "tiering_model": {"patient_features", "risk_model_evaluation"},
    "emergency_admission_risk": {"patient_extract", "tiering_model"},
    "kaiser_tiers": {"emergency_admission_risk", "patient_extract"},
    "next_year_cost": {"patient_extract", "patient_features"},
    "integrated_locality_cohort": {"next_year_cost", "patient_extract"},
    "case_finding": {
        "kaiser_tiers",
        "tiering_model",
        "patient_extract",
        "next_year_cost",
        "integrated_locality_cohort",
    },
    "model_card": {"risk_model_evaluation", "next_year_cost", "patient_extract"},
    "pcn_profiles": {"kaiser_tiers", "patient_extract"},
    "pcn_profile_tables": {
        "integrated_locality_cohort",
        "kaiser_tiers",
        "next_year_cost",
        "patient_extract",
    },
    "case_finding_lists": {"case_finding", "patient_extract"},
    "pcn_profile_reports": {"patient_extract", "pcn_profile_tables"},
    "warehouse": {  # published last: after the outputs that are not in it (tests/faults)
        "model_card",
        "case_finding_lists",
        "pcn_profile_reports",
        "kaiser_tiers",
        "pcn_profiles",
        "risk_model_evaluation",
        "case_finding",
        "integrated_locality_cohort",
        "next_year_cost",
        "pcn_profile_tables",
    },
}

# Per snapshot: read, validate, model, score, tier. Everything else uses every snapshot.
PARTITIONED = {"patient_extract", "tiering_model", "emergency_admission_risk", "kaiser_tiers"}


def test_definitions_load_and_validate():
    d = defs()
    dg.Definitions.validate_loadable(d)
    assert d.resolve_job_def("__ASSET_JOB") is not None


def test_asset_graph_snapshot():
    graph = defs().resolve_asset_graph()
    found = {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert found == EXPECTED_GRAPH


def test_every_asset_has_a_description_and_the_extract_a_blocking_check():
    d = defs()
    graph = d.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key} has no description"
    specs = [spec for c in d.asset_checks for spec in c.check_specs]
    assert {(s.asset_key.to_user_string(), s.name, s.blocking) for s in specs} == {
        ("patient_extract", "extract_meets_contract", True)
    }


def test_the_per_snapshot_assets_and_the_check_are_partitioned_by_snapshot():
    d = defs()
    graph = d.resolve_asset_graph()
    partitioned = {
        key.to_user_string(): graph.get(key).partitions_def
        for key in graph.get_all_asset_keys()
        if graph.get(key).partitions_def is not None
    }
    assert set(partitioned) == PARTITIONED
    assert {p.name for p in partitioned.values()} == {"snapshots"}
    # every asset takes a whole range of snapshots in one run, so `dg launch --partition-range`
    # can run an extract from the shell
    for key in graph.get_all_asset_keys():
        assert graph.get(key).backfill_policy == dg.BackfillPolicy.single_run(), key
    check = next(c for c in d.asset_checks if c.check_specs)
    assert all(s.partitions_def.name == "snapshots" for s in check.check_specs)
