"""Make a PDF's Chinese text copy and search as the characters it shows (period report, public signs).

Qt writes a ToUnicode map for each embedded font subset by looking up, for each glyph, the
*first* code point the font maps to it. Noto Sans CJK draws 网 (U+7F51) and the Kangxi radical ⽹
(U+2F79) with the same glyph, so copied text and ``pdftotext`` gave ⽹格 instead of 网格, and a
search for 网格 found nothing. This pass rewrites those maps: every code point in the radical
blocks (and CJK Extension A) that shares its glyph with a unified ideograph (U+4E00–U+9FFF) is
replaced by that ideograph. The rest of the file is kept byte for byte; the cross-reference
table is shifted to match. Every PDF the app draws with QPdfWriter goes through `fix_pdf_text`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache

RADICAL_BLOCKS = ((0x2E80, 0x2FDF), (0x3400, 0x4DBF))
UNIFIED = (0x4E00, 0x9FFF)
_TOUNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def shared_glyph_map(families: tuple[str, ...]) -> dict[int, int]:
    """Radical / Extension A code point → the unified ideograph drawn with the same glyph."""
    from PySide6.QtGui import QFont, QRawFont

    font = QFont()
    font.setFamilies(list(families))
    raw = QRawFont.fromFont(font)
    if not raw.isValid():
        return {}
    unified = "".join(chr(c) for c in range(UNIFIED[0], UNIFIED[1] + 1))
    by_glyph: dict[int, int] = {}
    for code, glyph in zip(range(UNIFIED[0], UNIFIED[1] + 1), raw.glyphIndexesForString(unified)):
        if glyph:
            by_glyph.setdefault(glyph, code)
    result = {}
    for first, last in RADICAL_BLOCKS:
        text = "".join(chr(c) for c in range(first, last + 1))
        for code, glyph in zip(range(first, last + 1), raw.glyphIndexesForString(text)):
            if glyph and glyph in by_glyph:
                result[code] = by_glyph[glyph]
    return result


def _decode(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="replace")


def _encode(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _mappings(cmap: bytes) -> dict[int, str]:
    """CID → text of a ToUnicode CMap (bfchar and bfrange, including the array form)."""
    result: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        values = _HEX.findall(block)
        for src, dst in zip(values[::2], values[1::2]):
            result[int(src, 16)] = _decode(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for line in re.findall(rb"<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\s*(?:\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            values = _HEX.findall(line)
            low, high = int(values[0], 16), int(values[1], 16)
            if b"[" in line:
                for k, dst in enumerate(values[2:]):
                    result[low + k] = _decode(dst)
            else:
                start = _decode(values[2])
                for k in range(high - low + 1):
                    result[low + k] = start[:-1] + chr(ord(start[-1]) + k)
    return result


def _cmap(mappings: dict[int, str], width: int) -> bytes:
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", f"<{'0' * width}> <{'F' * width}>", "endcodespacerange"]
    items = sorted(mappings.items())
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{cid:0{width}X}> {_encode(text)}" for cid, text in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode()


def _object_span(data: bytes, offset: int) -> tuple[int, int, bytes]:
    """(start, end, stream bytes) of the stream object at ``offset`` (end: after ``endobj``)."""
    head = re.compile(rb"(\d+) 0 obj\s*<<\s*/Length (\d+)\s*>>\s*stream\r?\n").match(data, offset)
    if head is None:
        raise ValueError(f"no simple stream object at byte {offset}")
    body_start = head.end()
    body_end = body_start + int(head[2])
    end = data.index(b"endobj", body_end) + len(b"endobj")
    return offset, end, data[body_start:body_end]


def fix_to_unicode(data: bytes, remap: dict[int, int]) -> bytes:
    """``data`` (a PDF as Qt writes it) with its ToUnicode maps corrected by ``remap``."""
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    table = re.compile(rb"xref\s+0 (\d+)\s+").match(data, startxref)
    if table is None or not remap:
        return data
    count, entries_at = int(table[1]), table.end()
    offsets = [int(data[entries_at + 20 * i: entries_at + 20 * i + 10]) for i in range(count)]
    edits = []  # (start, end, replacement)
    for number in sorted({int(n) for n in _TOUNICODE.findall(data)}):
        start, end, stream = _object_span(data, offsets[number])
        mappings = _mappings(stream)
        fixed = {cid: "".join(chr(remap.get(ord(ch), ord(ch))) for ch in text) for cid, text in mappings.items()}
        if fixed == mappings:
            continue
        width = 4 if re.search(rb"<0000> <FFFF>", stream) else 2
        body = _cmap(fixed, width)
        edits.append((start, end, f"{number} 0 obj\n<< /Length {len(body)} >>\nstream\n".encode() + body
                      + b"\nendstream\nendobj"))
    if not edits:
        return data
    out, shifts, cursor = bytearray(), [], 0
    for start, end, replacement in sorted(edits):
        out += data[cursor:start] + replacement
        shifts.append((start, len(replacement) - (end - start)))
        cursor = end
    out += data[cursor:startxref]

    def moved(offset: int) -> int:
        return offset + sum(delta for at, delta in shifts if at < offset)

    entries = bytearray(data[startxref:entries_at])
    for i in range(count):
        entry = data[entries_at + 20 * i: entries_at + 20 * (i + 1)]
        if entry[17:18] == b"n":
            entry = f"{moved(int(entry[:10])):010d}".encode() + entry[10:]
        entries += entry
    tail = data[entries_at + 20 * count:]
    tail = re.sub(rb"startxref\s+\d+", f"startxref\n{moved(startxref)}".encode(), tail)
    return bytes(out + entries + tail)


def fix_pdf_text(path: str, *font_families: Sequence[str]) -> None:
    """Rewrite the PDF at ``path`` in place, for text drawn with each of the ``font_families`` lists.

    Qt has closed the file; write to a temporary path and rename it after this, so a reader never
    sees the file between Qt's write and this one.
    """
    remap: dict[int, int] = {}
    for families in font_families:
        # The CJK fonts that get this far (Noto/Source Han Sans and Serif) share the same pairs.
        remap = shared_glyph_map(tuple(families)) | remap
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        fixed = fix_to_unicode(data, remap)
    except (ValueError, IndexError):  # a layout this pass does not know: keep Qt's file as it is
        log.warning("could not rewrite the ToUnicode maps of %s; copied text may show radicals", path, exc_info=True)
        return
    if fixed is not data:
        with open(path, "wb") as handle:
            handle.write(fixed)
