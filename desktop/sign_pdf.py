"""Public signs (公示牌) as PDF: one page per grid, A4 or A3 portrait, vector text and map.

The layout is designed once in millimetres on an A4 page; A3 is the same page scaled by √2, as a
print shop would enlarge it. Content comes from `gis.signs`; the grid map uses the map's own
level colours (`GRID_STYLES`) so the sign matches what staff see on screen. Text stays text, and
copies out as the characters printed (`desktop.pdf_text`), so a sign's PDF can be searched.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import shapely
from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPainterPath, QPdfWriter, QPen, QPolygonF,
)

from desktop.pdf_text import fix_pdf_text
from desktop.widgets.map_layers import GRID_STYLES
from gis.report.files import OutputError, atomic_output
from gis.signs import Sign, display_phone, sign_extent

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "A3": QPageSize.PageSizeId.A3}
_A4_W, _A4_H = 210.0, 297.0
_U = 10.0  # drawing units per millimetre (fonts need integer pixel sizes; 0.1 mm is fine enough)
FONT_FAMILIES = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "WenQuanYi Micro Hei"]
SERIF_FAMILIES = ["Noto Serif CJK SC", "Source Han Serif SC", "SimSun", *FONT_FAMILIES]

RED = QColor("#b3161b")
DARK = QColor("#212121")
MUTED = QColor("#5f6b73")
RULE = QColor("#d7c9a7")
PAPER = QColor("#fffdf7")
SIDE_COLOURS = {"东": "#c62828", "南": "#ef6c00", "西": "#2e7d32", "北": "#1565c0"}


class SignPdfError(RuntimeError):
    """The PDF could not be written (the message names the file)."""


def _font(size_mm: float, *, bold: bool = False, serif: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(SERIF_FAMILIES if serif else FONT_FAMILIES)
    font.setPixelSize(max(1, round(size_mm * _U)))
    font.setBold(bold)
    return font


def _r(x: float, y: float, w: float, h: float) -> QRectF:
    """A rectangle given in millimetres, in drawing units."""
    return QRectF(x * _U, y * _U, w * _U, h * _U)


def _fit(text: str, size_mm: float, width_mm: float, *, bold=False, serif=False, min_mm: float = 3.0) -> QFont:
    """The largest font up to ``size_mm`` in which ``text`` fits on one line of ``width_mm``."""
    size = size_mm
    while size > min_mm:
        font = _font(size, bold=bold, serif=serif)
        if QFontMetricsF(font).horizontalAdvance(text) <= width_mm * _U:
            return font
        size *= 0.93
    return _font(min_mm, bold=bold, serif=serif)


def write_signs_pdf(signs: Sequence[Sign], out, size: str = "A4", *, resolution: int = 300) -> int:
    """Write one page per sign to ``out``; returns the number of pages.

    Raises
    ------
    ValueError
        No signs, or a page size other than A4/A3.
    SignPdfError
        The file cannot be written.
    """
    size = size.upper()
    if size not in PAGE_SIZES:
        raise ValueError(f"page size must be A4 or A3, got {size!r}")
    if not signs:
        raise ValueError("no signs to write")
    out = Path(out)
    if not out.parent.is_dir():
        raise SignPdfError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        with atomic_output(out) as temporary:
            _write_pages(signs, temporary, size, resolution)
            fix_pdf_text(temporary, FONT_FAMILIES, SERIF_FAMILIES)
    except OutputError as exc:
        raise SignPdfError(str(exc)) from exc
    return len(signs)


def _write_pages(signs: Sequence[Sign], path: str, size: str, resolution: int) -> None:
    writer = QPdfWriter(path)
    writer.setResolution(resolution)
    writer.setTitle(f"{signs[0].title}（{len(signs)} 页）")
    writer.setCreator("EnvGrid")
    writer.setPageLayout(QPageLayout(QPageSize(PAGE_SIZES[size]), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(writer):
        raise SignPdfError(f"cannot write {path}")
    try:
        page_mm = QPageSize(PAGE_SIZES[size]).size(QPageSize.Unit.Millimeter)
        scale = resolution / 25.4 * page_mm.width() / _A4_W / _U  # device pixels per drawing unit
        for number, sign in enumerate(signs):
            if number:
                writer.newPage()
            painter.save()
            painter.scale(scale, scale)
            paint_sign(painter, sign)
            painter.restore()
    finally:
        painter.end()


def paint_sign(painter: QPainter, sign: Sign) -> None:
    """Draw one sign on an A4 page in drawing units (0.1 mm); also used for on-screen previews."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(_r(0, 0, _A4_W, _A4_H), PAPER)
    # Double frame in the title colour, as enamel signs have.
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(RED, 1.2 * _U))
    painter.drawRect(_r(5, 5, _A4_W - 10, _A4_H - 10))
    painter.setPen(QPen(RED, 0.3 * _U))
    painter.drawRect(_r(7.5, 7.5, _A4_W - 15, _A4_H - 15))

    _title_band(painter, sign)
    y = _name_block(painter, sign, 47)
    footer_top = 262.0
    y = _map_and_bounds(painter, sign, y + 3, map_height(sign, y + 3, footer_top))
    y = _people(painter, sign, y + 4, footer_top)
    _duties(painter, sign, y + 3, footer_top - 3)
    _hotline(painter, sign, footer_top)


def _title_band(painter: QPainter, sign: Sign) -> None:
    painter.fillRect(_r(10, 10, _A4_W - 20, 33), RED)
    painter.setPen(QColor("#ffe9a8"))
    painter.setFont(_font(5.0, bold=True))
    issuer = f"{sign.district}生态环境网格化监管" if sign.district else "生态环境网格化监管"
    painter.drawText(_r(10, 12.5, _A4_W - 20, 8), Qt.AlignmentFlag.AlignCenter, issuer)
    painter.setPen(QColor("white"))
    painter.setFont(_fit(sign.title, 13.0, _A4_W - 34, bold=True, serif=True))
    painter.drawText(_r(10, 20.5, _A4_W - 20, 20), Qt.AlignmentFlag.AlignCenter, sign.title)


def _name_block(painter: QPainter, sign: Sign, top: float) -> float:
    painter.setPen(DARK)
    name_font = _fit(sign.name, 14.0, _A4_W - 60, bold=True)
    painter.setFont(name_font)
    painter.drawText(_r(12, top, _A4_W - 60, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, sign.name)
    # Level badge at the right, in the level's map colour.
    colour = QColor(GRID_STYLES.get(sign.level, GRID_STYLES[4]).colour if sign.level in GRID_STYLES else "#6d4c41")
    badge = _r(_A4_W - 46, top + 3, 34, 12)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(badge, 1.5 * _U, 1.5 * _U)
    painter.setPen(QColor("white"))
    painter.setFont(_fit(sign.level_name, 6.0, 30, bold=True))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, sign.level_name)
    facts = [f"网格编码 {sign.code}"]
    if sign.parent_name:
        facts.append(f"上级网格 {sign.parent_name}")
    if sign.area_km2:
        facts.append(f"面积 {sign.area_km2:.2f} 平方公里")
    painter.setPen(MUTED)
    painter.setFont(_fit("    ".join(facts), 4.2, _A4_W - 24))
    painter.drawText(_r(12, top + 18, _A4_W - 24, 7), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     "    ".join(facts))
    painter.setPen(QPen(RULE, 0.4 * _U))
    painter.drawLine(QPointF(12 * _U, (top + 27) * _U), QPointF((_A4_W - 12) * _U, (top + 27) * _U))
    return top + 27


MAP_W, MAP_H = 112.0, 100.0
MAP_H_MAX = 150.0
_DUTIES_ROOM = 28.0  # header and about four lines


def map_height(sign: Sign, top: float, bottom: float) -> float:
    """The map takes what the people table and the duties leave over (at least ``MAP_H``)."""
    rows = math.ceil(len(sign.people) / (1 if len(sign.people) <= 5 else 2)) if sign.people else 1
    people = 15 + rows * 12
    return max(MAP_H, min(MAP_H_MAX, bottom - top - people - _DUTIES_ROOM - 7))


def _map_and_bounds(painter: QPainter, sign: Sign, top: float, height: float = MAP_H) -> float:
    frame = _r(12, top, MAP_W, height)
    paint_sign_map(painter, sign, frame)
    left = 12 + MAP_W + 5
    width = _A4_W - 12 - left
    _section_header(painter, "四至范围", left, top, width)
    row_h = min((height - 10) / 4, 26.0)
    for i, phrase in enumerate(sign.bounds_phrases()):
        y = top + 10 + i * row_h
        side, text = phrase[:2], phrase[2:]
        chip = _r(left, y + 1.5, 14, 14)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(SIDE_COLOURS[side[0]]))
        painter.drawEllipse(chip)
        painter.setPen(QColor("white"))
        painter.setFont(_font(6.5, bold=True))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, side[0])
        painter.setPen(DARK if "待核定" not in text else MUTED)
        _wrapped(painter, f"{side}{text}", _r(left + 17, y, width - 17, row_h - 1), 5.6, min_mm=3.2)
    return top + height


def _wrapped(painter: QPainter, text: str, rect: QRectF, size_mm: float, *, bold=False, min_mm=2.8,
             align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter) -> None:
    """Word-wrapped text shrunk until it fits ``rect``."""
    size = size_mm
    flags = int(align) | int(Qt.TextFlag.TextWordWrap)
    while True:
        font = _font(size, bold=bold)
        need = QFontMetricsF(font).boundingRect(QRectF(0, 0, rect.width(), 1e6), flags, text)
        if need.height() <= rect.height() or size <= min_mm:
            break
        size *= 0.93
    painter.setFont(font)
    painter.drawText(rect, flags, text)


def _section_header(painter: QPainter, text: str, x: float, y: float, width: float) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(RED)
    painter.drawRect(_r(x, y + 1, 1.6, 6.5))
    painter.setPen(RED)
    painter.setFont(_font(5.4, bold=True))
    painter.drawText(_r(x + 3.5, y, width - 3.5, 8.5), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
    painter.setPen(QPen(RULE, 0.3 * _U))
    painter.drawLine(QPointF(x * _U, (y + 9) * _U), QPointF((x + width) * _U, (y + 9) * _U))


def paint_sign_map(painter: QPainter, sign: Sign, frame: QRectF) -> None:
    """The grid, its neighbours (labelled) and its parent's border inside ``frame``."""
    extent = sign_extent(sign.boundary, aspect=frame.width() / frame.height())
    x0, y0, x1, y1 = extent

    def to_xy(coords) -> QPolygonF:
        return QPolygonF([QPointF(frame.left() + (x - x0) / (x1 - x0) * frame.width(),
                                  frame.top() + (y1 - y) / (y1 - y0) * frame.height()) for x, y in coords])

    def path_of(geom) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for part in shapely.get_parts(geom):
            if isinstance(part, shapely.Polygon):
                for ring in [part.exterior, *part.interiors]:
                    path.addPolygon(to_xy(ring.coords))
                    path.closeSubpath()
        return path

    painter.save()
    painter.fillRect(frame, QColor("#f4f1e8"))
    painter.setClipRect(frame)
    style = GRID_STYLES.get(sign.level, GRID_STYLES[4])
    level_colour = QColor(style.colour)
    for n in sign.neighbours:
        painter.setPen(QPen(QColor("#9e9e9e"), 0.35 * _U))
        painter.setBrush(QColor("#e6e2d6"))
        painter.drawPath(path_of(n.boundary))
    if sign.parent_boundary is not None:
        parent_style = GRID_STYLES.get(sign.level - 1)
        pen = QPen(QColor(parent_style.colour if parent_style else "#6a1b9a"), 0.8 * _U, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path_of(sign.parent_boundary))
    fill = QColor(level_colour)
    fill.setAlpha(70)
    if isinstance(sign.boundary, (shapely.Polygon, shapely.MultiPolygon)):
        painter.setPen(QPen(RED, 1.1 * _U))
        painter.setBrush(fill)
        painter.drawPath(path_of(sign.boundary))
    else:
        p = to_xy(shapely.get_coordinates(sign.boundary)[:1])[0]
        painter.setPen(QPen(QColor("white"), 0.6 * _U))
        painter.setBrush(RED)
        painter.drawEllipse(p, 3 * _U, 3 * _U)
    # Labels last so no fill covers them: the grid's own first (dark, larger), then neighbours by
    # visible size, each only where it overlaps no label already placed (nor the north arrow).
    taken = [QRectF(frame.right() - 13 * _U, frame.top() + 2 * _U, 10 * _U, 16 * _U),  # north arrow
             QRectF(frame.left() + 2 * _U, frame.bottom() - 11 * _U, 34 * _U, 9 * _U)]   # scale bar
    at = to_xy(shapely.get_coordinates(shapely.point_on_surface(sign.boundary)))[0]
    if not isinstance(sign.boundary, (shapely.Polygon, shapely.MultiPolygon)):
        at += QPointF(0, -7 * _U)
    _map_label(painter, sign.name, at, 4.6, QColor("#7f0000"), frame, taken, bold=True, always=True)
    box = shapely.box(*extent)
    visible = [(shapely.intersection(n.boundary, box), n.name) for n in sign.neighbours]
    for part, name in sorted(visible, key=lambda item: -item[0].area):
        if part.is_empty or part.area < 0.02 * box.area:
            continue
        _map_label(painter, name, to_xy(shapely.get_coordinates(shapely.point_on_surface(part)))[0], 3.4,
                   QColor("#616161"), frame, taken)
    painter.setClipping(False)
    _north_arrow(painter, QPointF(frame.right() - 8 * _U, frame.top() + 5 * _U))
    _scale_bar(painter, extent, frame)
    painter.setPen(QPen(QColor("#8d8d8d"), 0.3 * _U))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(frame)
    painter.restore()


def _map_label(painter, text, at: QPointF, size_mm, colour, frame: QRectF, taken: list[QRectF], *, bold=False,
               always: bool = False) -> None:
    font = _font(size_mm, bold=bold)
    metrics = QFontMetricsF(font)
    w, h = metrics.horizontalAdvance(text), metrics.height()
    rect = QRectF(at.x() - w / 2, at.y() - h / 2, w, h)
    rect.moveLeft(min(max(rect.left(), frame.left() + _U), frame.right() - w - _U))
    rect.moveTop(min(max(rect.top(), frame.top() + _U), frame.bottom() - h - _U))
    if not always and any(rect.intersects(other) for other in taken):
        return
    taken.append(rect.adjusted(-_U, -0.5 * _U, _U, 0.5 * _U))
    # A soft plate rather than a glyph-outline halo: outlines would make every label a large path in the PDF.
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 170))
    painter.drawRoundedRect(rect.adjusted(-0.6 * _U, -0.1 * _U, 0.6 * _U, 0.1 * _U), 0.8 * _U, 0.8 * _U)
    painter.setPen(colour)
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _north_arrow(painter: QPainter, tip: QPointF) -> None:
    s = _U
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 215))
    painter.drawRoundedRect(QRectF(tip.x() - 4.5 * s, tip.y() - 1.5 * s, 9 * s, 13.5 * s), s, s)
    painter.setPen(QPen(DARK, 0.2 * s))
    painter.setBrush(DARK)
    painter.drawPolygon(QPolygonF([tip, tip + QPointF(2.6 * s, 7 * s), tip + QPointF(0, 5.4 * s)]))
    painter.setBrush(QColor("white"))
    painter.drawPolygon(QPolygonF([tip, tip + QPointF(-2.6 * s, 7 * s), tip + QPointF(0, 5.4 * s)]))
    painter.setPen(DARK)
    painter.setFont(_font(3.2, bold=True))
    painter.drawText(QRectF(tip.x() - 4 * s, tip.y() + 7 * s, 8 * s, 4.5 * s), Qt.AlignmentFlag.AlignCenter, "北")


def _scale_bar(painter: QPainter, extent, frame: QRectF) -> None:
    x0, y0, x1, _ = extent
    metres_wide = (x1 - x0) * 111_320.0 * math.cos(math.radians(y0))
    per_unit = metres_wide / frame.width()
    target = per_unit * frame.width() / 4
    step = 10 ** math.floor(math.log10(max(target, 1)))
    length_m = max(m * step for m in (1, 2, 5) if m * step <= target) if target >= 1 else 1
    length = length_m / per_unit
    base = QPointF(frame.left() + 4 * _U, frame.bottom() - 4 * _U)
    painter.setPen(QPen(DARK, 0.5 * _U))
    painter.drawLine(base, base + QPointF(length, 0))
    for x in (0, length):
        painter.drawLine(base + QPointF(x, 0), base + QPointF(x, -1.5 * _U))
    painter.setFont(_font(3.0))
    text = f"{length_m / 1000:g} 公里" if length_m >= 1000 else f"{length_m:g} 米"
    painter.drawText(QRectF(base.x(), base.y() - 6 * _U, length, 4.5 * _U), Qt.AlignmentFlag.AlignCenter, text)


def _people(painter: QPainter, sign: Sign, top: float, bottom: float) -> float:
    width = _A4_W - 24
    _section_header(painter, "网格责任人及联系电话", 12, top, width)
    y = top + 11
    people = list(sign.people)
    if not people:
        painter.setPen(MUTED)
        painter.setFont(_font(5))
        painter.drawText(_r(14, y, width, 10), Qt.AlignmentFlag.AlignVCenter, "（责任人待配置）")
        return y + 10
    columns = 1 if len(people) <= 5 else 2
    rows = math.ceil(len(people) / columns)
    # Leave at least ~28 mm for duties; rows shrink (down to 8 mm) before anything is dropped.
    row_h = max(8.0, min(12.0, (bottom - 28 - y) / rows))
    col_w = width / columns
    for i, person in enumerate(people):
        col, row = divmod(i, rows)
        x, ry = 12 + col * col_w, y + row * row_h
        if row % 2 == 0:
            painter.fillRect(_r(x, ry, col_w - (2 if columns > 1 else 0), row_h), QColor("#f6efe0"))
        scale = row_h / 12.0
        role_w = 30 if columns == 1 else 24
        painter.setPen(RED)
        painter.setFont(_fit(person.role, 5.0 * scale, role_w - 3, bold=True))
        painter.drawText(_r(x + 2, ry, role_w, row_h), Qt.AlignmentFlag.AlignVCenter, person.role)
        name_w = (col_w - role_w) * 0.42
        painter.setPen(DARK)
        painter.setFont(_fit(person.name, 7.2 * scale, name_w - 2, bold=True))
        painter.drawText(_r(x + role_w, ry, name_w, row_h), Qt.AlignmentFlag.AlignVCenter, person.name)
        phone = display_phone(person.phone) or "—"
        phone_w = col_w - role_w - name_w - 4
        painter.setFont(_fit(phone, 7.2 * scale, phone_w, bold=True))
        painter.drawText(_r(x + role_w + name_w, ry, phone_w, row_h),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, phone)
    return y + rows * row_h


def _duties(painter: QPainter, sign: Sign, top: float, bottom: float) -> None:
    if not sign.duties or bottom - top < 14:
        return
    _section_header(painter, "工作职责", 12, top, _A4_W - 24)
    painter.setPen(DARK)
    option_rect = _r(14, top + 11, _A4_W - 28, bottom - top - 11)
    _wrapped(painter, sign.duties, option_rect, 4.6, min_mm=2.6,
             align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)


def _hotline(painter: QPainter, sign: Sign, top: float) -> None:
    band = _r(10, top, _A4_W - 20, 20)
    painter.fillRect(band, RED)
    painter.setPen(QColor("#ffe9a8"))
    painter.setFont(_font(5.0, bold=True))
    painter.drawText(_r(16, top, 70, 20), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                     "发现环境问题\n请拨打举报热线")
    painter.setPen(QColor("white"))
    painter.setFont(_font(13, bold=True))
    painter.drawText(_r(70, top, _A4_W - 86, 20), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                     f"环保热线 {sign.hotline}")
    painter.setPen(MUTED)
    painter.setFont(_font(3.0))
    issued = f"{sign.issued.year}年{sign.issued.month}月{sign.issued.day}日"
    painter.drawText(_r(12, top + 21, _A4_W - 24, 5), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                     f"公示日期：{issued}    接受社会监督")
