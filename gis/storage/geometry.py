"""A geometry column type that is PostGIS ``geometry`` on PostgreSQL and WKB on SQLite.

PostGIS reads and writes hex EWKB as text, so no SQL function wrapping is needed and
the same bound values work in bulk inserts. QGIS sees a typed, SRID-tagged column.
"""
from __future__ import annotations

import shapely
from sqlalchemy.types import LargeBinary, TypeDecorator, UserDefinedType

SRID = 4490  # CGCS2000 geographic; identical to WGS84 at map precision


class _PostGISGeometry(UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID):
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **kw):
        return f"geometry({self.geometry_type},{self.srid})"


class Geometry(TypeDecorator):
    """Shapely geometry in lon/lat; ``geometry_type`` is the PostGIS type modifier."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID):
        super().__init__()
        self.geometry_type = geometry_type
        self.srid = srid

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, self.srid), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return shapely.from_wkb(value)

    def __repr__(self):
        return f"Geometry({self.geometry_type!r}, srid={self.srid})"
