"""User-supplied admin-1 boundaries (GeoJSON or shapefile) and point lookup.

Country totals hide where people actually leave from; a flood in one province
says little about another. Agencies usually hold their own district or province
boundaries, so tipsom takes them as files rather than shipping a global admin-1
layer. Points (conflict events, incidents) are assigned to the polygon that
contains them, and the same boundaries can draw a sub-national map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapefile
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from tipsom.context.sources import ContextInputError


@dataclass(frozen=True)
class Unit:
    """One boundary polygon with its identifier and display name."""

    unit_id: str
    name: str
    geometry: BaseGeometry


class Boundaries:
    """Polygons keyed by an identifier field, with a spatial index for lookups."""

    def __init__(self, units: list[Unit], source: Path) -> None:
        if not units:
            raise ContextInputError(f"{source}: no polygons found")
        self.units = units
        self.source = source
        self._tree = STRtree([u.geometry for u in units])

    @classmethod
    def load(cls, path: Path, id_field: str, name_field: str | None = None) -> Boundaries:
        """Read GeoJSON (``.geojson``/``.json``) or a shapefile (``.shp``)."""
        if path.suffix.lower() in {".geojson", ".json"}:
            features = _geojson_features(path)
        elif path.suffix.lower() == ".shp":
            features = _shapefile_features(path)
        else:
            raise ContextInputError(f"{path}: boundaries must be GeoJSON (.geojson) or a shapefile (.shp)")
        units = []
        for number, (props, geometry) in enumerate(features, start=1):
            if id_field not in props:
                raise ContextInputError(
                    f"{path}: feature {number} has no property {id_field!r}; properties: {sorted(props)}"
                )
            if geometry is None:
                raise ContextInputError(f"{path}: feature {number} ({props[id_field]}) has no geometry")
            unit_id = str(props[id_field])
            name = str(props.get(name_field, unit_id)) if name_field else unit_id
            units.append(Unit(unit_id, name, shape(geometry)))
        return cls(units, path)

    def locate(self, lon: float, lat: float) -> Unit | None:
        """The unit containing the point, or None when it lies outside every polygon."""
        point = Point(lon, lat)
        for index in self._tree.query(point, predicate="intersects"):
            return self.units[int(index)]
        return None

    def write_shapefile(self, out: Path) -> Path:
        """Write the units as a shapefile whose first field is the unit id (for maps)."""
        writer = shapefile.Writer(str(out), shapeType=shapefile.POLYGON)
        writer.field("unit_id", "C", size=80)
        for unit in self.units:
            rings: list[list[tuple[float, float]]] = []
            geoms = getattr(unit.geometry, "geoms", [unit.geometry])
            for poly in geoms:
                rings.append([(float(x), float(y)) for x, y in poly.exterior.coords])
                rings.extend([(float(x), float(y)) for x, y in hole.coords] for hole in poly.interiors)
            writer.poly(rings)
            writer.record(unit.unit_id)
        writer.close()
        return out.with_suffix(".shp")


def _geojson_features(path: Path) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContextInputError(f"{path}: not valid GeoJSON: {exc}") from exc
    if data.get("type") != "FeatureCollection":
        raise ContextInputError(f"{path}: expected a GeoJSON FeatureCollection")
    return [(dict(f.get("properties") or {}), f.get("geometry")) for f in data["features"]]


def _shapefile_features(path: Path) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    try:
        reader = shapefile.Reader(str(path))
    except shapefile.ShapefileException as exc:
        raise ContextInputError(f"{path}: cannot read shapefile: {exc}") from exc
    fields = [f[0] for f in reader.fields[1:]]
    out = []
    for record, shp in zip(reader.records(), reader.shapes(), strict=True):
        geometry = shp.__geo_interface__ if shp.points else None
        out.append((dict(zip(fields, list(record), strict=True)), geometry))
    return out
