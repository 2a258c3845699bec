"""``envgrid case new|act|show|overdue``: the case workflow from the command line.

Thin wrappers over :mod:`gis.workflow`; one transaction per command. A refused action
(wrong state, missing reason, someone else was faster) is one error line and changes nothing.
"""
from __future__ import annotations

import argparse
import json
from datetime import date, datetime

from gis.domain import CaseAction, CaseSource

LEADER_ROLES = ("网格长", "副网格长", "第一网格长")


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    case = subparsers.add_parser("case", help="案件: register, act on, show and supervise cases")
    commands = case.add_subparsers(dest="case_command", required=True, metavar="SUBCOMMAND")

    new = commands.add_parser("new", help="register a case; prints its number, grid and leaders")
    add_db_argument(new)
    new.add_argument("--source", required=True, help="、".join(CaseSource) + " (also 12369, 督察…)")
    new.add_argument("--category", default="其他", help="category name or code (default 其他)")
    new.add_argument("--lon", type=float, required=True, help="longitude, CGCS2000/WGS84 degrees")
    new.add_argument("--lat", type=float, required=True, help="latitude, CGCS2000/WGS84 degrees")
    new.add_argument("--desc", required=True, help="what was reported")
    new.add_argument("--address", default="", help="address as reported")
    new.add_argument("--reporter-name", default="")
    new.add_argument("--reporter-phone", default="")
    new.add_argument("--grid", help="grid code to use instead of routing by the point")
    new.add_argument("--photo", nargs="+", action="extend", default=[], metavar="FILE", help="photos to attach")
    _actor_and_json(new)
    new.set_defaults(handler=run_new)

    act = commands.add_parser("act", help="apply an action (派发, 签收处置, 上报上级, 整改完成…)",
                              formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_table_epilog())
    act.add_argument("number", help="case number, e.g. AJ20261120001")
    act.add_argument("action", help="action name (派发, 签收处置, 上报上级…) or its English name (dispatch…)")
    add_db_argument(act)
    act.add_argument("--note", default="", help="note / rectification (整改) description / feedback text")
    act.add_argument("--reason", default="", help="reason (退回, 误报, 复查不通过)")
    act.add_argument("--photo", nargs="+", action="extend", default=[], metavar="FILE", help="photos to attach")
    act.add_argument("--duplicate-of", help="number of the earlier case (重复)")
    act.add_argument("--department", help="department (转办, or 派发 to a department)")
    act.add_argument("--grid", help="grid code to dispatch to (派发; default: the case's grid)")
    act.add_argument("--expected-version", type=int, help="refuse if the case is no longer at this version")
    _actor_and_json(act)
    act.set_defaults(handler=run_act)

    show = commands.add_parser("show", help="a case with its full history")
    show.add_argument("number")
    add_db_argument(show)
    show.add_argument("--reporter", action="store_true", help="only what the reporter is told")
    _as_user(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_show)

    overdue = commands.add_parser("overdue", help="open cases past their deadline (and 督办 them)")
    add_db_argument(overdue)
    overdue.add_argument("--remind", action="store_true",
                         help="record a 督办 on each (unless reminded in the last 24 h)")
    overdue.add_argument("--now", help="evaluate at this time (ISO, default now)")
    _actor_and_json(overdue)
    overdue.set_defaults(handler=run_overdue)


def _table_epilog() -> str:
    from gis.workflow.transitions import table_rows

    rows = [r for r in table_rows() if r[1] not in (CaseAction.NOTE, CaseAction.FEEDBACK, CaseAction.REMIND)]
    lines = [f"  {state:<6} {action:<6} → {to:<6} {needs}" for state, action, to, needs in rows]
    return ("state × action → new state (needs):\n" + "\n".join(lines)
            + "\n  备注/反馈 in any state (--note); 督办 while open")


def _actor_and_json(parser) -> None:
    parser.add_argument("--actor", help="who is acting on a workspace without accounts (default: the login name)")
    _as_user(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def _as_user(parser) -> None:
    parser.add_argument("--as", dest="as_user", metavar="USER",
                        help="log in as USER (required for changes once the workspace has accounts; a user "
                             "restricted to a grid sees only its cases; password from ENVGRID_PASSWORD, else asked)")


def _actor(args):
    if getattr(args, "session", None) is not None:  # logged in with --as: checked and audited as that user
        return args.session
    if args.actor:
        return args.actor
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some service environments
        return "命令行"


def _photos(paths):
    from gis.cli import CliError
    from gis.workflow.attachments import NewAttachment

    files = []
    for path in paths:
        try:
            files.append(NewAttachment.from_path(path))
        except OSError as exc:
            raise CliError(f"--photo {path}: {exc.strerror or exc}") from exc
    return files


def _grid_id(connection, code: str | None) -> int | None:
    from gis.cli import CliError
    from gis.storage.grids import grid_ids_by_code

    if code is None:
        return None
    grid_id = grid_ids_by_code(connection).get(code)
    if grid_id is None:
        raise CliError(f"--grid: no grid with code {code!r}")
    return grid_id


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()
    raise TypeError(type(value).__name__)


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, default=_jsonable))


def _run(args, work):
    """Open the workspace, run ``work(connection)`` in one transaction, turn refusals into CliError."""
    from gis.cli import CliError
    from gis.storage.store import open_store
    from gis.workflow.transitions import WorkflowError

    from gis.security.cli_login import login_for_cli
    from gis.security.permissions import PermissionDenied
    from gis.security.users import AccountError

    store = open_store(args.db)
    try:
        writes = hasattr(args, "actor") and getattr(args, "remind", True)  # new, act, overdue --remind
        args.session = login_for_cli(store.engine, getattr(args, "as_user", None), writes=writes)
        with store.engine.begin() as connection:
            return work(connection)
    except (WorkflowError, PermissionDenied, AccountError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _leaders(connection, grid_id, on: date) -> list[dict]:
    from gis.storage.people import current_staff

    staff = current_staff(connection, [grid_id], on=on).get(grid_id, [])
    chosen = [(r, p) for r, p in staff if r in LEADER_ROLES] or staff
    return [{"role": str(role), "name": person.name, "phone": person.phone} for role, person in chosen]


def run_new(args) -> int:
    from gis.workflow.cases import create_case

    photos = _photos(args.photo)
    now = datetime.now()

    def work(connection):
        new = create_case(connection, source=args.source, category=args.category, description=args.desc,
                          actor=_actor(args), lon=args.lon, lat=args.lat, address=args.address,
                          reporter_name=args.reporter_name, reporter_phone=args.reporter_phone,
                          grid_id=_grid_id(connection, args.grid), attachments=photos, now=now)
        route = new.route
        return {
            "id": new.id, "number": new.number, "state": "待受理", "due_at": new.due_at,
            "grid": None if new.grid is None else {"id": new.grid.id, "code": new.grid.code,
                                                   "name": new.grid.name, "level": new.grid.level},
            "leaders": _leaders(connection, new.grid.id, now.date()) if new.grid else [],
            "distance_to_border_m": None if route is None or route.distance_to_border_m is None
            else round(route.distance_to_border_m, 1),
            "near_border": [] if route is None else [
                {"id": g.id, "code": g.code, "name": g.name, "distance_m": round(d, 1)}
                for g, d in zip(route.candidates_near_border, route.candidate_distances_m)],
            "duplicates": [{"number": d.number, "state": d.state, "distance_m": round(d.distance_m, 1),
                            "created_at": d.created_at, "description": d.description} for d in new.duplicates],
        }

    data = _run(args, work)
    if args.json:
        _print_json(data)
        return 0
    print(f"{data['number']}  待受理  期限 {data['due_at']:%Y-%m-%d %H:%M}")
    grid = data["grid"]
    if grid is None:
        print("网格: 不在任何网格内，请人工指定")
    else:
        print(f"网格: {grid['name']} ({grid['code']}, {grid['level']}级)")
        for leader in data["leaders"]:
            print(f"  {leader['role']} {leader['name']} {leader['phone']}")
    if data["near_border"]:
        others = "、".join(f"{c['name']} ({c['code']}, {c['distance_m']:.0f} m)" for c in data["near_border"])
        print(f"注意: 距网格边界 {data['distance_to_border_m']:.0f} m，也可能属于: {others}")
    for dup in data["duplicates"]:
        print(f"可能重复: {dup['number']} ({dup['state']}, {dup['distance_m']:.0f} m) {dup['description']}")
    return 0


def run_act(args) -> int:
    from gis.workflow.cases import apply_action

    photos = _photos(args.photo)

    def work(connection):
        result = apply_action(connection, args.number, args.action, _actor(args), note=args.note,
                              reason=args.reason, grid_id=_grid_id(connection, args.grid),
                              department=args.department, duplicate_of=args.duplicate_of, attachments=photos,
                              expected_version=args.expected_version)
        return {"number": result.number, "action": result.action, "from_state": result.from_state,
                "to_state": result.to_state, "version": result.version, "event_id": result.event_id,
                "grid_id": result.grid_id, "department": result.department,
                "attachments": list(result.attachment_ids)}

    data = _run(args, work)
    if args.json:
        _print_json(data)
    else:
        arrow = data["to_state"] if data["to_state"] == data["from_state"] else \
            f"{data['from_state']} → {data['to_state']}"
        print(f"{data['number']} {data['action']}: {arrow} (版本 {data['version']})")
    return 0


def run_show(args) -> int:
    from gis.workflow.cases import read_case_detail, reporter_trail
    from gis.workflow.deadlines import describe_time_left, time_left

    now = datetime.now()

    def work(connection):
        detail = read_case_detail(connection, args.number, now, viewer=args.session)
        return detail, reporter_trail(connection, detail.id, viewer=args.session) if args.reporter else None

    detail, trail = _run(args, work)
    if args.reporter:
        if args.json:
            _print_json({"number": detail.number, "state": detail.state,
                         "steps": [{"at": s.at, "action": s.action, "state": s.state, "text": s.text}
                                   for s in trail]})
        else:
            print(f"{detail.number}  {detail.state}")
            for step in trail:
                print(f"  {step.at:%Y-%m-%d %H:%M}  {step.text}")
        return 0
    if args.json:
        _print_json(_detail_json(detail))
        return 0
    grid = f"{detail.grid.name} ({detail.grid_code}, {detail.grid.level}级)" if detail.grid else "—"
    print(f"{detail.number}  {detail.source} / {detail.category}  状态: {detail.state}  版本 {detail.version}")
    where = f"{detail.lon:.6f}, {detail.lat:.6f}" if detail.lon is not None else "—"
    print(f"位置: {where} {detail.address}  网格: {grid}" + (f"  部门: {detail.department}" if detail.department else ""))
    if detail.reporter_name or detail.reporter_phone:
        print(f"举报人: {detail.reporter_name} {detail.reporter_phone}")
    due = f"{detail.due_at:%Y-%m-%d %H:%M} ({describe_time_left(time_left(detail, now))})" if detail.due_at else "—"
    closed = f"  销号 {detail.closed_at:%Y-%m-%d %H:%M}" if detail.closed_at else ""
    print(f"登记 {detail.created_at:%Y-%m-%d %H:%M}  期限 {due}{closed}")
    if detail.duplicate_of:
        print(f"重复于: {detail.duplicate_of}")
    for role, person in detail.staff:
        if role in LEADER_ROLES:
            print(f"{role}: {person.name} {person.phone}")
    print(f"描述: {detail.description}")
    print("历史:")
    for event in detail.events:
        move = f"{event.from_state or ''} → {event.to_state}" if event.from_state != event.to_state else ""
        flag = " (内部)" if event.internal else ""
        place = event.grid_name or event.payload.get("department") or ""
        print(f"  {event.at:%Y-%m-%d %H:%M}  {event.actor}  {event.action}{flag}  {move}  [{place}]  {event.note}")
        for info in event.attachments:
            print(f"      附件 {info.filename} {info.size} B sha256 {info.sha256[:16]}…")
    return 0


def _detail_json(detail) -> dict:
    def attachment(info):
        return {"id": info.id, "filename": info.filename, "mime": info.mime, "sha256": info.sha256, "size": info.size}

    return {
        "id": detail.id, "number": detail.number, "source": detail.source, "category": detail.category,
        "description": detail.description, "lon": detail.lon, "lat": detail.lat, "address": detail.address,
        "grid": None if detail.grid is None else {"id": detail.grid.id, "code": detail.grid_code,
                                                  "name": detail.grid.name, "level": detail.grid.level},
        "department": detail.department, "state": detail.state, "version": detail.version,
        "reporter_name": detail.reporter_name, "reporter_phone": detail.reporter_phone,
        "duplicate_of": detail.duplicate_of, "created_at": detail.created_at, "due_at": detail.due_at,
        "closed_at": detail.closed_at,
        "leaders": [{"role": str(r), "name": p.name, "phone": p.phone} for r, p in detail.staff if r in LEADER_ROLES],
        "events": [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "from_state": e.from_state,
                    "to_state": e.to_state, "grid_id": e.grid_id, "grid_name": e.grid_name, "note": e.note,
                    "internal": e.internal, "payload": e.payload,
                    "attachments": [attachment(a) for a in e.attachments]} for e in detail.events],
    }


def run_overdue(args) -> int:
    from gis.cli import CliError
    from gis.workflow.deadlines import describe_time_left, overdue_cases, remind_overdue

    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now()
    except ValueError as exc:
        raise CliError(f"--now: not an ISO date/time: {args.now!r}") from exc

    def work(connection):
        reminded = remind_overdue(connection, _actor(args), now) if args.remind else []
        return overdue_cases(connection, now, viewer=args.session), reminded

    cases, reminded = _run(args, work)
    if args.json:
        _print_json({"now": now, "reminded": [r.number for r in reminded], "cases": [
            {"number": c.number, "state": c.state, "source": c.source, "category": c.category,
             "grid": c.grid_name, "department": c.department, "due_at": c.due_at,
             "overdue_hours": round(c.overdue_by.total_seconds() / 3600, 1), "holder": c.holder,
             "leader": c.leader.name if c.leader else None, "phone": c.leader.phone if c.leader else None,
             "last_reminded_at": c.last_reminded_at} for c in cases]})
        return 0
    for c in cases:
        phone = f" {c.leader.phone}" if c.leader else ""
        print(f"{c.number}  {describe_time_left(-c.overdue_by)}  {c.state}  {c.category}  {c.holder}{phone}")
    print(f"超期 {len(cases)} 件" + (f"，已督办 {len(reminded)} 件" if args.remind else ""))
    return 0
