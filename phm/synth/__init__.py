"""Synthetic LLR population: a seeded cohort of registered patients followed over annual
snapshots, written in the shape of the data contract (see generate.generate_extract)."""

from phm.synth.generate import SynthSummary, generate_extract

__all__ = ["SynthSummary", "generate_extract"]
