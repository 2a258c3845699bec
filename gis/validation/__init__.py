"""Validation of the grid hierarchy (全面覆盖、无缝隙), pure Python, no Qt.

``validate_workspace(connection)`` or ``validate_grids(grids, roles=...)`` return a list of
`Problem`; ``problems_to_json`` gives the ``envgrid validate --json`` document.
"""
from gis.validation.coverage import check_siblings
from gis.validation.geometry import check_geometry
from gis.validation.problems import (
    DEFAULT_TOLERANCE_M2,
    ERROR,
    WARNING,
    Problem,
    has_errors,
    problems_to_json,
    sort_problems,
)
from gis.validation.run import validate_grids, validate_workspace
from gis.validation.staff import check_staff

__all__ = [
    "DEFAULT_TOLERANCE_M2", "ERROR", "WARNING", "Problem", "check_geometry", "check_siblings", "check_staff",
    "has_errors", "problems_to_json", "sort_problems", "validate_grids", "validate_workspace",
]
