"""The QGIS side of the map benchmark: the same layers from a GeoPackage, rendered by PyQGIS offscreen.

Runs with the *system* Python and Debian's QGIS 3.22 (``apt-get install -y qgis python3-qgis``),
not the project's venv. Styles mirror EnvGrid's (line colours and pixel widths per level,
the district fill, level-2 names with a halo, sources by category with a shape per group,
open cases); the map is EPSG:3857 at the same size and extent. Each view renders once to
warm up, then ``--runs`` times with ``QgsMapRendererParallelJob`` and
``QgsMapRendererSequentialJob``; medians in ms go to stdout as JSON.

    /usr/bin/python3 benchmarks/qgis_render.py /tmp/big10k.gpkg [--mode all|lod] [--runs 9] [--save /tmp/q]
    /usr/bin/python3 benchmarks/qgis_render.py /tmp/big10k.gpkg --once /tmp/q.png   # one render, for whole-process timing

Modes: ``all`` draws all four levels and every point (a plain QGIS project); ``lod`` gives
levels 3/4 and their names the same scale limits as EnvGrid and clusters the sources with
QgsPointClusterRenderer (64-px cells like ours).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsCategorizedSymbolRenderer, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
    QgsFillSymbol, QgsMapRendererParallelJob, QgsMapRendererSequentialJob, QgsMapSettings, QgsMarkerSymbol,
    QgsPalLayerSettings, QgsPointClusterRenderer, QgsProject, QgsRectangle, QgsRendererCategory,
    QgsSingleSymbolRenderer, QgsTextBufferSettings, QgsTextFormat, QgsUnitTypes, QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QFont  # noqa: E402

LEVELS = {1: ("#6a1b9a", 3.0), 2: ("#1565c0", 2.0), 3: ("#2e7d32", 1.0), 4: ("#9ccc65", 1.0)}
MIN_PX = {3: 26, 4: 34}          # EnvGrid GRID_STYLES min_feature_px
LABEL_PX = {2: (60, 11, True), 3: (110, 9, False), 4: (90, 8, False)}  # label_min_px, pt, bold
SYMBOLS = {"industrial": ("square", "#1f5fa8"), "vocs": ("square", "#8e44ad"), "boiler": ("square", "#5d4037"),
           "sanluanwu": ("square", "#757575"), "hazardous_waste": ("cross_fill", "#c62828"),
           "medical": ("cross_fill", "#00897b"), "catering": ("circle", "#ef6c00"),
           "auto_repair": ("circle", "#3949ab"), "construction": ("triangle", "#f9a825"),
           "road_dust": ("triangle", "#a1887f"), "material_yard": ("triangle", "#455a64"),
           "water_source": ("diamond", "#0288d1"), "livestock": ("diamond", "#689f38")}
OPEN_STATES = {"待受理": "#fb8c00", "退回": "#fb8c00", "上报上级": "#fb8c00", "已派发": "#1e88e5", "转办": "#1e88e5",
               "处置中": "#00897b", "已整改": "#00897b", "待复查": "#00897b"}
WIDTH, HEIGHT = 1920, 1080
MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")
PX_MM = 25.4 / 96


def marker(shape, colour, size_px):
    return QgsMarkerSymbol.createSimple({
        "name": shape, "color": colour, "size": str(size_px), "size_unit": "Pixel",
        "outline_color": QColor(colour).darker(170).name(), "outline_width": "0.8", "outline_width_unit": "Pixel"})


def grid_layer(gpkg, level, fill=None, outline=True):
    layer = QgsVectorLayer(f"{gpkg}|layername=grids", f"grid-{level}", "ogr")
    layer.setSubsetString(f'"level" = {level}')
    colour, width = LEVELS[level]
    symbol = QgsFillSymbol.createSimple({
        "color": fill or "0,0,0,0", "style": "solid" if fill else "no",
        "outline_color": colour if outline else "0,0,0,0", "outline_style": "solid" if outline else "no",
        "outline_width": str(width), "outline_width_unit": "Pixel"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    return layer


def median_size_m(layer, to_merc):
    sizes = sorted(max(b.width(), b.height()) for b in
                   (to_merc.transformBoundingBox(f.geometry().boundingBox()) for f in layer.getFeatures()))
    return sizes[len(sizes) // 2] if sizes else 0.0


def scale_for_px(size_m, px, lat):
    """The 1:N at which a feature ``size_m`` (mercator) is ``px`` wide on a 96-dpi screen."""
    return size_m / px * math.cos(math.radians(lat)) / (0.0254 / 96)


def add_labels(layer, pt, bold, max_denominator=None):
    settings = QgsPalLayerSettings()
    settings.fieldName = "name"
    text = QgsTextFormat()
    font = QFont("Noto Sans CJK SC")
    font.setBold(bold)
    text.setFont(font)
    text.setSize(pt)
    text.setColor(QColor(LEVELS[int(layer.name()[-1])][0]).darker(135))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(1.5)
    buffer.setSizeUnit(QgsUnitTypes.RenderPixels)
    text.setBuffer(buffer)
    settings.setFormat(text)
    if max_denominator:
        settings.scaleVisibility = True
        settings.minimumScale = max_denominator
        settings.maximumScale = 1
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def beside(gpkg, name):
    """The points exported next to the grids (benchmarks/export_for_qgis.py)."""
    stem, _ = os.path.splitext(gpkg)
    return f"{stem}-{name}.gpkg"


def build_layers(gpkg, mode):
    to_merc = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4490"), MERCATOR, QgsProject.instance())
    district = grid_layer(gpkg, 1, fill="#fbfaf4", outline=False)
    lat = district.extent().center().y()
    grids = {level: grid_layer(gpkg, level) for level in (4, 3, 2, 1)}
    for level, (min_px, pt, bold) in LABEL_PX.items():
        size = median_size_m(grids[level], to_merc)
        add_labels(grids[level], pt, bold, scale_for_px(size, min_px, lat) if (mode == "lod" or level > 2) else None)
        if mode == "lod" and level in MIN_PX:
            grids[level].setScaleBasedVisibility(True)
            grids[level].setMinimumScale(scale_for_px(size, MIN_PX[level], lat))
            grids[level].setMaximumScale(0)
    sources = QgsVectorLayer(f"{beside(gpkg, 'sources')}|layername=sources", "sources", "ogr")
    categories = [QgsRendererCategory(code, marker(shape, colour, 7), code) for code, (shape, colour) in SYMBOLS.items()]
    renderer = QgsCategorizedSymbolRenderer("category", categories)
    if mode == "lod":
        cluster = QgsPointClusterRenderer()
        cluster.setEmbeddedRenderer(renderer)
        cluster.setTolerance(32)
        cluster.setToleranceUnit(QgsUnitTypes.RenderPixels)
        renderer = cluster
    sources.setRenderer(renderer)
    cases = QgsVectorLayer(f"{beside(gpkg, 'cases')}|layername=cases", "cases", "ogr")
    states = ",".join(f"'{s}'" for s in OPEN_STATES)
    cases.setSubsetString(f'"state" IN ({states})')  # EnvGrid hides closed cases by default
    cases.setRenderer(QgsCategorizedSymbolRenderer("state", [
        QgsRendererCategory(state, marker("circle", colour, 11), state) for state, colour in OPEN_STATES.items()]))
    # QgsMapSettings.layers(): top first, as EnvGrid stacks them (labels are always on top in QGIS).
    return [cases, sources, grids[1], grids[2], grids[3], grids[4], district], to_merc, lat


def views(layers, to_merc, lat, zooms):
    grids = layers[-1]
    box = to_merc.transformBoundingBox(grids.extent())
    box.grow(max(box.width(), box.height()) * 0.03)
    result = [("full", box)]
    fourth = layers[-2]  # level 4
    features = sorted(fourth.getFeatures(), key=lambda f: f["code"])
    for n in range(zooms):
        f = features[int(round(n * (len(features) - 1) / max(zooms - 1, 1)))]
        point = f.geometry().pointOnSurface().asPoint()
        centre = to_merc.transform(point)
        res = 2000.0 / WIDTH / math.cos(math.radians(point.y()))
        result.append((f"2km-{n}", QgsRectangle(centre.x() - WIDTH / 2 * res, centre.y() - HEIGHT / 2 * res,
                                                centre.x() + WIDTH / 2 * res, centre.y() + HEIGHT / 2 * res)))
    return result


def settings_for(layers, extent):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(MERCATOR)
    settings.setOutputSize(QSize(WIDTH, HEIGHT))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor("#e6eaee"))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    settings.setExtent(extent)
    return settings


def render(settings, job_class):
    job = job_class(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gpkg")
    parser.add_argument("--mode", choices=("all", "lod"), default="all")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--zooms", type=int, default=5)
    parser.add_argument("--save", help="write PREFIX-full.png and PREFIX-2km.png")
    parser.add_argument("--once", help="render the full extent once into this PNG and exit")
    args = parser.parse_args()
    app = QgsApplication([], False)
    app.initQgis()
    layers, to_merc, lat = build_layers(args.gpkg, args.mode)
    named = views(layers, to_merc, lat, 0 if args.once else args.zooms)
    if args.once:
        image = render(settings_for(layers, named[0][1]), QgsMapRendererParallelJob)
        image.save(args.once, "PNG")
        print(f"wrote {args.once} ({image.width()}x{image.height()})")
        return 0
    result = {"mode": args.mode}
    for job_name, job_class in (("parallel", QgsMapRendererParallelJob), ("sequential", QgsMapRendererSequentialJob)):
        for kind in ("full", "2km"):
            per_view = []
            for name, extent in named:
                if not name.startswith(kind):
                    continue
                settings = settings_for(layers, extent)
                image = render(settings, job_class)  # warm-up
                if args.save and job_name == "parallel" and name in ("full", f"2km-{args.zooms // 2}"):
                    image.save(f"{args.save}-{kind}.png", "PNG")
                times = []
                for _ in range(args.runs if kind == "full" else max(3, args.runs // 2)):
                    started = time.perf_counter()
                    render(settings, job_class)
                    times.append((time.perf_counter() - started) * 1000)
                per_view.append(statistics.median(times))
            result[f"{kind}_{job_name}"] = statistics.median(per_view)
    print(json.dumps(result))
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
