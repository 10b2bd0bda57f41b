"""Test-wide settings, applied before any OpenMP library loads (see the Makefile)."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
