"""A simulated district for demos and soak tests (``envgrid simulate``): readings with daily cycles
and episodes, patrol and complaint cases, cases moving through the workflow."""
from gis.simulate.runner import SimConfig, SimStats, Simulator

__all__ = ["SimConfig", "SimStats", "Simulator"]
