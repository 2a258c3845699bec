"""``envgrid hj212-listen`` (receive monitoring data) and ``envgrid readings`` (look at it)."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime

DATA_CN_CHOICES = ("2011", "2051", "2061", "2031")


def register(subparsers) -> None:
    import argparse

    from gis.cli import add_db_argument

    listen = subparsers.add_parser("hj212-listen", help="receive HJ 212-2017 data from monitoring devices over TCP")
    add_db_argument(listen)
    listen.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    listen.add_argument("--port", default="9212", help="TCP port (default 9212; 0 picks a free one)")
    listen.add_argument("--stats-interval", type=float, default=60.0, help=argparse.SUPPRESS)
    listen.set_defaults(handler=run_listen)

    show = subparsers.add_parser("readings", help="readings per station and data time, with AQI for air stations")
    add_db_argument(show)
    show.add_argument("--station", metavar="MN", help="only this device (its MN)")
    show.add_argument("--since", metavar="ISO", help="only data times at or after this, e.g. 2024-05-01T08:00")
    show.add_argument("--cn", choices=DATA_CN_CHOICES, help="only 2011 real-time, 2051 minute, 2061 hourly "
                                                            "or 2031 daily data")
    show.add_argument("--limit", type=int, default=200, help="the latest N station/time groups (default 200, 0 = all)")
    show.add_argument("--as", dest="as_user", metavar="USER", help="log in as USER: a user restricted to a grid "
                      "sees only its stations (password from ENVGRID_PASSWORD, else asked)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_readings)

    load = subparsers.add_parser("import-readings", help="import readings from a CSV or Excel file "
                                                         "(columns mn/station, time, pollutant, value, flag, cn)")
    load.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx file")
    add_db_argument(load)
    load.add_argument("--no-alarms", action="store_true", help="do not evaluate the alarm rules afterwards")
    load.set_defaults(handler=run_import_readings)


def _port(text: str) -> int:
    from gis.cli import CliError

    if not text.isdigit() or int(text) > 65535:
        raise CliError(f"--port must be a TCP port number 0-65535, got {text!r}")
    return int(text)


def run_listen(args) -> int:
    import asyncio
    import logging

    from gis.storage.store import open_store

    port = _port(args.port)  # before opening anything
    logger = logging.getLogger("gis.hj212")
    if not logger.handlers and not logging.getLogger().handlers:  # the receiver's log only, not alembic's
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    store = open_store(args.db)
    try:
        return asyncio.run(_listen(store, args.host, port, args.stats_interval))
    except KeyboardInterrupt:  # Ctrl+C where the loop cannot take signals (Windows): already flushed
        return 0
    finally:
        store.close()


async def _listen(store, host: str, port: int, interval: float) -> int:
    import asyncio
    import signal

    from gis.cli import CliError
    from gis.hj212.receiver import Hj212Receiver

    receiver = Hj212Receiver(store, host, port)
    try:
        await receiver.start()
    except OSError as exc:
        # asyncio's bind error repeats the address; the plain errno text is the clear part.
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else (exc.strerror or str(exc))
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from exc
    print(f"envgrid hj212-listen: listening on {host}:{receiver.port}, writing to {store.display_name}; "
          "Ctrl+C or SIGTERM stops", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass  # Windows: Ctrl+C cancels this task instead, and the finally below still flushes
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                print(f"{datetime.now():%Y-%m-%d %H:%M:%S} {receiver.stats.line()}", file=sys.stderr, flush=True)
    finally:
        await receiver.stop()
        print(f"envgrid hj212-listen: stopped; {receiver.stats.line()}", file=sys.stderr, flush=True)
    return 0


def _since(text: str | None) -> datetime | None:
    from gis.cli import CliError

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since: not an ISO date or date-time: {text!r} (e.g. 2024-05-01 or 2024-05-01T08:00)") from None
    # Data times are stored as the devices' local time without zone; compare like with like.
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value


def run_readings(args) -> int:
    from gis.cli import CliError
    from gis.hj212.readings import add_aqi, read_reading_groups
    from gis.storage.store import open_store

    since = _since(args.since)
    if args.limit < 0:
        raise CliError(f"--limit must be 0 (all) or more, got {args.limit}")
    from gis.security.cli_login import login_for_cli
    from gis.security.permissions import PermissionDenied
    from gis.security.users import AccountError

    store = open_store(args.db)
    try:
        viewer = login_for_cli(store.engine, args.as_user, writes=False)
        with store.engine.connect() as connection:
            groups = read_reading_groups(connection, mn=args.station, since=since, cn=args.cn, limit=args.limit,
                                         viewer=viewer)
    except (PermissionDenied, AccountError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    with_aqi = add_aqi(groups)
    if args.json:
        print(json.dumps([g.to_json() for g in groups], ensure_ascii=False))
        return 0
    if not with_aqi:
        print("envgrid readings: note: gis.aqi is not available, no AQI shown", file=sys.stderr)
    for group in groups:
        print(_text_line(group))
    if not groups:
        print("no readings", file=sys.stderr)
    return 0


def _text_line(group) -> str:
    station = group.station or "(未登记站点)"
    values = []
    for code, v in group.values.items():
        value = v["rtd"] if v["rtd"] is not None else v["avg"]
        text = f"{code}={'-' if value is None else f'{value:g}'}"
        if v["flag"] not in (None, "N"):
            text += f"({v['flag']})"
        values.append(text)
    line = f"{group.mn}  {station}  {group.cn}  {group.data_time:%Y-%m-%d %H:%M:%S}  {' '.join(values)}"
    if group.aqi:
        if group.aqi["aqi"] is None:
            line += f"  AQI -  ({group.aqi.get('aqi_note', '')})"
        else:
            primary = "、".join(group.aqi["primary"]) or "无"
            line += f"  AQI {group.aqi['aqi']} {group.aqi['level']} 首要污染物 {primary}"
    return line


def run_import_readings(args) -> int:
    from gis.cli import CliError
    from gis.hj212.writer import insert_readings
    from gis.monitoring.engine import AlarmEngine
    from gis.monitoring.importer import ReadingsFileError, read_readings_file
    from gis.storage.store import open_store

    store = open_store(args.db)
    try:
        try:
            with store.engine.begin() as connection:  # all or nothing
                rows = read_readings_file(connection, args.file)
                stored = insert_readings(connection, rows)
        except ReadingsFileError as exc:
            raise CliError(*exc.problems) from None
        raised = 0
        if not args.no_alarms:
            with store.engine.begin() as connection:
                outcomes = AlarmEngine().evaluate_rows(connection, sorted(rows, key=lambda r: r["data_time"]))
            raised = sum(o.action == "raised" for o in outcomes)
    finally:
        store.close()
    print(f"{args.file}: {stored} readings stored, {len(rows) - stored} already present; {raised} alarms raised")
    return 0
