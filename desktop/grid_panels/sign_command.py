"""``envgrid signs OUT.pdf --db URL [--grid CODE | --level N] [--parent CODE] [--size A4|A3]``."""
from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    signs = subparsers.add_parser("signs", help="public signs (公示牌) as a PDF, one page per grid")
    signs.add_argument("out", help="PDF file to write")
    add_db_argument(signs)
    which = signs.add_mutually_exclusive_group()
    which.add_argument("--grid", metavar="CODE", help="the sign of this grid")
    which.add_argument("--parent", metavar="CODE", help="the signs of this grid's children (with --level: of that level)")
    signs.add_argument("--level", type=int, help="every grid of this level (1–5)")
    signs.add_argument("--size", default="A4", help="page size A4 or A3 (default A4)")
    signs.set_defaults(handler=run_signs)


def run_signs(args) -> int:
    from gis.cli import CliError
    from gis.signs import SignError, read_signs
    from gis.storage.store import StoreError, open_store

    size = (args.size or "").upper()
    if size not in ("A4", "A3"):
        raise CliError(f"--size: expected A4 or A3, got {args.size!r}")
    if args.grid and args.level is not None:
        raise CliError("--grid names one grid; leave out --level (or use --level with --parent)")
    if not (args.grid or args.parent or args.level is not None):
        raise CliError("choose the grids: --grid CODE, --level N or --parent CODE")
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise CliError(f"{out}: the output must be a .pdf file")
    if not out.parent.is_dir():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist")

    from desktop.app import ensure_display

    ensure_display()
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts need it
    from desktop.sign_pdf import MAP_H, MAP_W, SignPdfError, write_signs_pdf

    try:
        store = open_store(args.db, create=False)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    try:
        with store.engine.connect() as connection:
            signs = read_signs(connection, grid_code=args.grid, level=args.level, parent_code=args.parent,
                               aspect=MAP_W / MAP_H)
    except SignError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    try:
        pages = write_signs_pdf(signs, out, size)
    except SignPdfError as exc:
        raise CliError(str(exc)) from exc
    print(f"wrote {out} ({pages} page{'s' if pages != 1 else ''}, {size})")
    return 0
