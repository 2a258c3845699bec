"""``envgrid briefing OUT.html``: the offline briefing map (folium, everything inlined)."""
from __future__ import annotations

from datetime import date


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    parser = subparsers.add_parser(
        "briefing", help="write a self-contained HTML briefing map (grids, sources, cases of a period, AQI)")
    parser.add_argument("out", metavar="OUT.html", help="the HTML file to write")
    add_db_argument(parser)
    parser.add_argument("--from", dest="first", metavar="DATE", help="first day of the period, YYYY-MM-DD "
                                                                      "(default: 29 days before --to)")
    parser.add_argument("--to", dest="last", metavar="DATE", help="last day of the period (default: today)")
    parser.add_argument("--grid", metavar="CODE", help="only this grid and the grids below it, zoomed to it")
    parser.add_argument("--tiles", metavar="URL", help="a basemap tile URL template ({z}/{x}/{y}); "
                                                       "none by default, so the file needs no network")
    parser.set_defaults(handler=run_briefing)


def _day(text: str | None, option: str) -> date | None:
    from gis.cli import CliError

    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def run_briefing(args) -> int:
    from pathlib import Path

    from gis.briefing import BriefingError, Period, write_briefing
    from gis.cli import CliError
    from gis.storage.store import open_store

    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise CliError(f"OUT must end in .html, got {args.out!r}")
    if not out.parent.is_dir():
        raise CliError(f"{out.parent}: no such folder for {out.name}")
    if args.tiles and not all(part in args.tiles for part in ("{z}", "{x}", "{y}")):
        raise CliError(f"--tiles must be a URL template with {{z}}, {{x}} and {{y}}, got {args.tiles!r}")
    try:
        period = Period.of(first, last)
        store = open_store(args.db, create=False)
        try:
            data = write_briefing(store, out, period, grid_code=args.grid, tiles=args.tiles)
        finally:
            store.close()
    except BriefingError as exc:
        raise CliError(str(exc)) from None
    area = sum(1 for g in data.grids if g.level < 5)
    print(f"{out}: {data.title_place}, {period.label()}: {area} grids, {len(data.sources)} sources, "
          f"{len(data.cases)} cases ({data.unlocated_cases} without coordinates), {len(data.stations)} stations; "
          f"{out.stat().st_size / 1e6:.1f} MB")
    return 0
