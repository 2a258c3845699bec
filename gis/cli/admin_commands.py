"""``envgrid user add|list|passwd|lock|unlock``, ``envgrid db-roles``, ``envgrid audit``, ``envgrid backup``,
``envgrid restore``.

Passwords are never taken from the command line (``ps`` and shell history would show them): they
are asked with getpass, or read from standard input with ``--password-stdin``, one per line in
the order they would be asked — the acting administrator's (``--as``) first, then the new one.

Once a workspace has accounts, every ``user`` command and ``db-roles`` need ``--as`` an
administrator (a user may also ``passwd`` themselves). On an empty workspace, ``user add``
creates the first administrator. A PostgreSQL password for ``--db`` comes from the URL, the
keyring (if installed) or, with ``--ask-db-password``, a prompt.
"""
from __future__ import annotations

import getpass
import json
import sys


def register(subparsers) -> None:
    from gis.cli import add_db_argument
    from gis.security.users import ROLE_LABELS

    user = subparsers.add_parser("user", help="用户: add, list, change password, lock and unlock accounts")
    commands = user.add_subparsers(dest="user_command", required=True, metavar="SUBCOMMAND")
    roles = "、".join(f"{label} ({role})" for role, label in ROLE_LABELS.items())

    add = commands.add_parser("add", help="add an account (the first one becomes the administrator)")
    add.add_argument("username")
    add.add_argument("--role", help=f"{roles}; the first account is always admin")
    add.add_argument("--display-name", default="", help="name shown in the app and in case histories")
    add.add_argument("--scope", metavar="GRID_CODE", help="restrict to this second-level grid and below")
    _common(add, add_db_argument)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _common(listing, add_db_argument)
    listing.set_defaults(handler=run_list)

    for name, handler, text in (("passwd", run_passwd, "set a new password (also the database login's)"),
                                ("lock", run_lock, "disable an account until unlocked"),
                                ("unlock", run_unlock, "re-enable an account and clear a failed-login lockout")):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("username")
        _common(parser, add_db_argument)
        parser.set_defaults(handler=handler)

    roles_parser = subparsers.add_parser("db-roles", help="PostgreSQL: create group roles, GRANTs and login roles "
                                                          "for every account (administrators only)")
    roles_parser.add_argument("--prefix", help="role name prefix (default: as installed, else envgrid)")
    roles_parser.add_argument("--dry-run", action="store_true", help="print the statements, change nothing")
    _common(roles_parser, add_db_argument)
    roles_parser.set_defaults(handler=run_db_roles)

    audit = subparsers.add_parser("audit", help="the audit log, newest first: logins, logouts, changes "
                                                "(administrators only)")
    audit.add_argument("--user", help="only this user name")
    audit.add_argument("--action", help="only this action, e.g. login, login_failed, logout, case.派发")
    audit.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    _common(audit, add_db_argument)
    audit.set_defaults(handler=run_audit)

    backup = subparsers.add_parser("backup", help="back up a workspace to OUT (+ OUT.manifest.json)")
    add_db_argument(backup)
    backup.add_argument("out", metavar="OUT")
    backup.add_argument("--ask-db-password", action="store_true", help="prompt for the PostgreSQL password")
    backup.set_defaults(handler=run_backup)

    restore = subparsers.add_parser("restore", help="restore a backup into an EMPTY workspace and check counts")
    restore.add_argument("inp", metavar="IN")
    add_db_argument(restore)
    restore.add_argument("--ask-db-password", action="store_true", help="prompt for the PostgreSQL password")
    restore.set_defaults(handler=run_restore)


def _common(parser, add_db_argument) -> None:
    add_db_argument(parser)
    parser.add_argument("--as", dest="as_user", metavar="ADMIN", help="act as this administrator (asks its password)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read passwords from standard input, one per line (--as's first, then the new one)")
    parser.add_argument("--ask-db-password", action="store_true", help="prompt for the PostgreSQL password")


class _Passwords:
    """Passwords from getpass (new ones typed twice) or from stdin lines, in asking order."""

    def __init__(self, from_stdin: bool):
        self.lines = iter(sys.stdin.read().splitlines()) if from_stdin else None

    def ask(self, prompt: str, *, new: bool = False) -> str:
        from gis.cli import CliError

        if self.lines is not None:
            try:
                return next(self.lines)
            except StopIteration:
                raise CliError(f"--password-stdin: no line left for {prompt.rstrip(': ')}") from None
        password = getpass.getpass(prompt)
        if new and getpass.getpass("再次输入新密码: ") != password:
            raise CliError("两次输入的密码不一致")
        return password


def _url(args):
    from gis.security.credentials import url_with_password
    from gis.storage.store import resolve_db_url

    ask = getpass.getpass if getattr(args, "ask_db_password", False) else None
    return url_with_password(resolve_db_url(args.db), ask)


def _refusals():
    from gis.backup import BackupError
    from gis.security.passwords import WeakPassword
    from gis.security.permissions import PermissionDenied
    from gis.security.pg_roles import PgRoleError
    from gis.security.users import AccountError

    return AccountError, PermissionDenied, WeakPassword, PgRoleError, BackupError


def _run(args, work, *, create: bool = False):
    """Open the workspace, log in ``--as`` if accounts exist, run ``work(connection, session, passwords)``
    in one transaction; refusals become CliError."""
    from gis.cli import CliError
    from gis.security.authentication import login
    from gis.security.users import user_count
    from gis.storage.store import open_store

    passwords = _Passwords(args.password_stdin)
    store = open_store(_url(args), create=create)
    try:
        with store.engine.connect() as connection:
            has_users = user_count(connection) > 0
        session = None
        if has_users:
            if not args.as_user:
                raise CliError("this workspace has accounts: give --as NAME (an administrator, or yourself for passwd)")
            session = login(store.engine, args.as_user, passwords.ask(f"{args.as_user} 的密码: "))
        with store.engine.begin() as connection:
            return work(connection, session, passwords)
    except _refusals() as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _say(notes) -> None:
    for note in notes:
        if note:
            print(f"注意: {note}", file=sys.stderr)


def run_add(args) -> int:
    from gis.cli import CliError
    from gis.security import accounts, pg_roles
    from gis.security.users import ROLE_LABELS, UserRole, parse_role
    from gis.storage.grids import grid_ids_by_code

    def work(connection, session, passwords):
        if session is None:  # first run: no accounts yet
            if args.role and parse_role(args.role) is not UserRole.ADMIN:
                raise CliError("the first account must be the administrator (--role admin or no --role)")
            if args.scope:
                raise CliError("the administrator cannot be restricted to a grid (--scope)")
            password = passwords.ask(f"{args.username} 的新密码: ", new=True)
            user = accounts.create_first_admin(connection, args.username, password, display_name=args.display_name)
        else:
            if not args.role:
                raise CliError("--role is required: " + "、".join(f"{v} ({k})" for k, v in ROLE_LABELS.items()))
            scope = None
            if args.scope:
                scope = grid_ids_by_code(connection).get(args.scope)
                if scope is None:
                    raise CliError(f"--scope: no grid with code {args.scope!r}")
            password = passwords.ask(f"{args.username} 的新密码: ", new=True)
            user = accounts.create_user(connection, session, args.username, password, args.role,
                                        display_name=args.display_name, scope_grid_id=scope)
        _say([pg_roles.sync_account(connection, user, password)])
        return user

    user = _run(args, work, create=True)  # first run may start from nothing
    print(f"用户 {user.username} 已创建（{ROLE_LABELS[user.role]}）")
    return 0


def run_list(args) -> int:
    from datetime import datetime

    from sqlalchemy import select

    from gis.security import accounts
    from gis.security.users import ROLE_LABELS
    from gis.storage.schema import grids

    def work(connection, session, _passwords):
        if session is None:
            return [], {}
        found = accounts.list_users(connection, session)
        codes = dict(connection.execute(select(grids.c.id, grids.c.code)).all()) if any(
            u.scope_grid_id for u in found) else {}
        return found, codes

    found, codes = _run(args, work)
    now = datetime.now()
    rows = [{"username": u.username, "display_name": u.display_name, "role": str(u.role),
             "scope": codes.get(u.scope_grid_id), "active": u.active, "locked_until":
             u.locked_until.isoformat(timespec="minutes") if u.locked_at(now) else None,
             "last_login": u.last_login.isoformat(timespec="minutes") if u.last_login else None} for u in found]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print("还没有用户账户；创建管理员: envgrid user add NAME --db …")
    for r in rows:
        state = "已停用" if not r["active"] else (f"锁定至 {r['locked_until']}" if r["locked_until"] else "正常")
        print(f"{r['username']:<16} {r['display_name']:<10} {ROLE_LABELS[r['role']]:<6} "
              f"{('范围 ' + r['scope']) if r['scope'] else '':<16} {state}  上次登录 {r['last_login'] or '—'}")
    return 0


def _change(args, change, message: str, *, new_password: bool = False) -> int:
    from gis.cli import CliError
    from gis.security import pg_roles

    def work(connection, session, passwords):
        if session is None:
            raise CliError(f"用户「{args.username}」不存在（还没有任何账户）")
        password = passwords.ask(f"{args.username} 的新密码: ", new=True) if new_password else None
        user = change(connection, session, password)
        _say([pg_roles.sync_account(connection, user, password)])
        return user

    user = _run(args, work)
    print(message.format(user=user.username))
    return 0


def run_passwd(args) -> int:
    from gis.security.accounts import set_password

    return _change(args, lambda c, s, p: set_password(c, s, args.username, p), "用户 {user} 的密码已更新",
                   new_password=True)


def run_lock(args) -> int:
    from gis.security.accounts import lock_user

    return _change(args, lambda c, s, _p: lock_user(c, s, args.username), "用户 {user} 已停用")


def run_unlock(args) -> int:
    from gis.security.accounts import unlock_user

    return _change(args, lambda c, s, _p: unlock_user(c, s, args.username), "用户 {user} 已启用并解除锁定")


def run_db_roles(args) -> int:
    from gis.security import pg_roles
    from gis.security.permissions import Permission, require

    def work(connection, session, _passwords):
        if session is not None:
            require(session, Permission.USERS_MANAGE, connection=connection)
        names = pg_roles.RoleNames(args.prefix) if args.prefix else (
            pg_roles.installed_names(connection) or pg_roles.RoleNames())
        statements = pg_roles.install(connection, names, dry_run=args.dry_run)
        notes = {} if args.dry_run else pg_roles.sync_all(connection, names)
        return names, statements, notes

    names, statements, notes = _run(args, work)
    if args.dry_run:
        print(";\n".join(statements) + ";")
        return 0
    _say(notes.values())
    print(f"数据库角色已安装（前缀 {names.prefix}）: {len(statements)} 条语句；"
          f"组角色 {', '.join(names.groups)}；已同步 {len(notes)} 个用户的登录角色")
    return 0


def run_audit(args) -> int:
    from gis.cli import CliError
    from gis.security.audit import read_audit

    if args.limit < 1:
        raise CliError(f"--limit must be at least 1, got {args.limit}")

    def work(connection, session, _passwords):
        if session is None:
            raise CliError("此工作空间还没有用户账户，审计日志只记录系统操作；请先创建管理员（envgrid user add）")
        return read_audit(connection, session, user_name=args.user, action=args.action, limit=args.limit)

    for entry in _run(args, work):
        if args.json:
            print(json.dumps({"id": entry.id, "at": entry.at.isoformat(timespec="seconds"), "user": entry.user_name,
                              "host": entry.host, "action": entry.action, "table": entry.table_name,
                              "row_id": entry.row_id, "before": entry.before, "after": entry.after},
                             ensure_ascii=False))
        else:
            print(f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.user_name:<12} {entry.action:<16} {entry.host}"
                  + (f"  {entry.table_name}#{entry.row_id}" if entry.row_id is not None else ""))
    return 0


def run_backup(args) -> int:
    from gis.backup import BackupError, backup, manifest_path
    from gis.cli import CliError

    try:
        manifest = backup(_url(args), args.out)
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    rows = sum(manifest.tables.values())
    print(f"backup written: {args.out} ({manifest.size} bytes, schema {manifest.schema_revision}, "
          f"{len(manifest.tables)} tables, {rows} rows); manifest {manifest_path(args.out)}")
    return 0


def run_restore(args) -> int:
    from gis.backup import BackupError, restore
    from gis.cli import CliError

    try:
        result = restore(args.inp, _url(args))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    rows = sum(result.counts.values())
    migrated = "" if result.revision_after == result.manifest.schema_revision else \
        f", migrated {result.manifest.schema_revision} → {result.revision_after}"
    print(f"restored {args.inp}: row counts match the manifest for all {len(result.counts)} tables "
          f"({rows} rows){migrated}")
    _say(result.notes)
    return 0
