"""Neighbourhood profiles as static, self-contained HTML (charts embedded), built from the
disclosure-controlled profile tables; no Dagster here."""

from phm.reports.build import ReportFiles, profile_page, write_profiles

__all__ = ["ReportFiles", "profile_page", "write_profiles"]
