"""``envgrid watch``: one line per change as it happens, for people and for integrations.

With ``--json`` each line is ``{"id", "at" (UTC), "table", "row_id", "op", "info"}``, flushed at
once, so an SMS gateway can read the pipe line by line. To resume without gaps after a restart,
an integration passes the last id it handled as ``--since``. Connection trouble is reported on
stderr and does not end the command: it reconnects and catches up by itself. If changes it has
not printed were pruned, ``--json`` prints ``{"resync": true, "after_id", "resume_after"}``.
"""
from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    watch = subparsers.add_parser("watch", help="print every change to cases, alarms, grids… as it is committed")
    add_db_argument(watch)
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--since", type=int, metavar="ID",
                       help="first print the changes after this id (the last one you handled), then follow")
    watch.set_defaults(handler=run_watch)


def run_watch(args) -> int:
    import signal

    from gis.cli import CliError
    from gis.storage.changes import ChangeFeedGap, ChangeFollower
    from gis.storage.store import open_store

    if args.since is not None and args.since < 0:
        raise CliError(f"--since must be a change id (0 or more), got {args.since}")
    store = open_store(args.db, create=False)  # a clear error now for a wrong URL or an old schema
    url, shown = store.url, store.display_name
    store.close()

    def on_state(state) -> None:
        print(f"envgrid watch: {state.describe()}", file=sys.stderr, flush=True)

    def stop(_signum, _frame):
        raise KeyboardInterrupt  # the same way out as Ctrl+C

    previous = signal.signal(signal.SIGTERM, stop)
    follower = ChangeFollower(url, after_id=args.since, on_state=on_state)
    print(f"envgrid watch: following {shown}", file=sys.stderr, flush=True)
    try:
        while True:
            try:
                found = follower.poll(timeout=1.0)
            except ChangeFeedGap as gap:
                print(f"envgrid watch: {gap}", file=sys.stderr, flush=True)
                if args.json:
                    _emit({"resync": True, "after_id": gap.after_id, "resume_after": gap.resume_after})
                continue
            for change in found:
                _emit(change.to_json()) if args.json else _emit_text(change)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    finally:
        follower.close()
        signal.signal(signal.SIGTERM, previous)


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _emit_text(change) -> None:
    details = " ".join(f"{key}={value}" for key, value in change.info.items())
    at = change.at.astimezone()
    print(f"#{change.id} {at:%Y-%m-%d %H:%M:%S} {change.table} {change.row_id} {change.op} {details}".rstrip(),
          flush=True)
