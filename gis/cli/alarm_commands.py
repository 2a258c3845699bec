"""``envgrid alarms rules|set-rules|evaluate``: the monitoring alarm rules and offline checks."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    alarms = subparsers.add_parser("alarms", help="monitoring alarm rules: list, set from a file, evaluate")
    commands = alarms.add_subparsers(dest="alarms_command", required=True, metavar="ACTION")

    rules = commands.add_parser("rules", help="list the alarm rules")
    add_db_argument(rules)
    rules.add_argument("--json", action="store_true", help="print JSON")
    rules.set_defaults(handler=run_rules)

    set_rules = commands.add_parser("set-rules", help="add or update rules (by code) from a JSON or TOML file; "
                                                      "all or nothing")
    add_db_argument(set_rules)
    set_rules.add_argument("file", nargs="?", help="rules file (.json: a list or {\"rules\": [...]}; "
                                                   ".toml: [[rule]] tables)")
    set_rules.add_argument("--replace", action="store_true", help="disable the rules the file does not name")
    set_rules.add_argument("--as", dest="as_user", metavar="USER",
                           help="log in as USER (required once the workspace has user accounts; 管理员 only; "
                                "password from ENVGRID_PASSWORD or asked)")
    set_rules.add_argument("--defaults", action="store_true",
                           help="install the default rules (GB 3095-2012 二级, typical outlet limits) not yet present")
    set_rules.set_defaults(handler=run_set_rules)

    evaluate = commands.add_parser("evaluate", help="apply the rules to recent readings and check stations offline")
    add_db_argument(evaluate)
    evaluate.add_argument("--at", metavar="ISO", help="evaluate as of this time (default now)")
    evaluate.add_argument("--hours", type=float, default=24.0,
                          help="readings with data times in the HOURS before --at (default 24)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=run_evaluate)


def _time(text: str | None, option: str) -> datetime:
    from gis.cli import CliError

    if text is None:
        return datetime.now().replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: not an ISO date-time: {text!r} (e.g. 2024-05-01T08:00)") from None
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value


def run_rules(args) -> int:
    from gis.monitoring.rules import read_rules
    from gis.storage.store import open_store

    store = open_store(args.db)
    try:
        with store.engine.connect() as connection:
            rules = read_rules(connection)
    finally:
        store.close()
    if args.json:
        print(json.dumps([r.to_json() for r in rules], ensure_ascii=False))
        return 0
    for rule in rules:
        params = " ".join(f"{k}={v}" for k, v in rule.params.items())
        print(f"{'on ' if rule.enabled else 'off'} {rule.code:<16} {rule.kind:<9} {rule.pollutant or '-':<8} "
              f"{rule.station_kind or 'any':<6} {params}  {rule.name}")
    if not rules:
        print("no alarm rules (envgrid alarms set-rules --defaults installs the default ones)", file=sys.stderr)
    return 0


def run_set_rules(args) -> int:
    from gis.cli import CliError
    from gis.monitoring.rules import RuleError, install_default_rules, read_rules_file, save_rules
    from gis.storage.store import open_store

    if bool(args.file) == bool(args.defaults):
        raise CliError("give a rules FILE or --defaults (one of them)")
    if args.defaults and args.replace:
        raise CliError("--replace goes with a FILE, not with --defaults")
    rules = None
    if args.file:
        try:
            rules = read_rules_file(args.file)  # every problem at once, before the database is opened
        except RuleError as exc:
            raise CliError(*exc.problems) from None
    from gis.security.cli_login import login_for_cli
    from gis.security.permissions import PermissionDenied
    from gis.security.users import AccountError

    store = open_store(args.db)
    try:
        session = login_for_cli(store.engine, args.as_user, writes=True)
        with store.engine.begin() as connection:
            if rules is None:
                from gis.security.edit_guard import check_alarm_rules_write

                check_alarm_rules_write(connection, session)
                counts = install_default_rules(connection)
            else:
                counts = save_rules(connection, rules, replace=args.replace, actor=session)
    except (PermissionDenied, AccountError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    print(f"alarm rules: {counts['added']} added, {counts['updated']} updated, {counts['disabled']} disabled")
    return 0


def run_evaluate(args) -> int:
    from gis.cli import CliError
    from gis.monitoring.engine import AlarmEngine
    from gis.storage.store import open_store

    at = _time(args.at, "--at")
    if args.hours < 0:
        raise CliError(f"--hours must be 0 or more, got {args.hours:g}")
    store = open_store(args.db)
    try:
        with store.engine.begin() as connection:
            outcomes = AlarmEngine().evaluate_window(connection, at - timedelta(hours=args.hours), at, now=at)
    finally:
        store.close()
    if args.json:
        print(json.dumps([o.to_json() for o in outcomes if o.action != "seen"], ensure_ascii=False))
        return 0
    raised = [o for o in outcomes if o.action == "raised"]
    merged = [o for o in outcomes if o.action == "merged"]
    for o in raised:
        print(f"报警 {o.alarm_id}  {o.station_mn}  {o.pollutant}  规则 {o.rule_code}  → 案件 {o.case_number}")
    noted = sum(1 for o in outcomes if o.event_id is not None)
    print(f"{len(raised)} alarms raised, {len(merged)} repeats merged into open alarms, "
          f"{noted} repeat events written to their cases", file=sys.stderr)
    return 0
