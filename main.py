"""EnvGrid composition root: ``envgrid`` opens the window, ``envgrid COMMAND`` runs a command.

The window needs only ``--db`` (or nothing: the last workspace, else the demo);
anything else goes to ``gis.cli`` with the desktop commands added. argparse would
reject a bare ``envgrid`` ("required sub-command"), so argv is looked at first.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

_NOT_A_WINDOW = object()


def _window_db(argv: list[str]):
    """The ``--db`` value when argv asks for the window (None: not given), else a sentinel."""
    if not argv:
        return None
    if len(argv) == 2 and argv[0] == "--db":
        return argv[1]
    if len(argv) == 1 and argv[0].startswith("--db="):
        return argv[0].split("=", 1)[1]
    return _NOT_A_WINDOW


def run_window(db: str | None) -> int:
    from desktop.app import create_application, prepare_workspace, report_startup_time
    from desktop.main_window import MainWindow
    from gis.storage.store import StoreError
    from PySide6.QtWidgets import QMessageBox

    app = create_application(sys.argv[:1])
    try:
        store = prepare_workspace(db, use_last=db is None)
    except (StoreError, RuntimeError) as exc:
        print(f"envgrid: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "EnvGrid 无法启动", f"无法打开工作空间：\n{exc}")
        return 2
    from desktop.login_dialog import LoginCancelled, ask_for_session
    from desktop.session_ui import end_session

    try:  # a shared workspace, or one with accounts: log in (or create the administrator) first
        session = ask_for_session(store)
    except LoginCancelled:
        store.close()
        return 1
    except Exception as exc:  # the server went away between opening and logging in
        store.close()
        QMessageBox.critical(None, "EnvGrid 无法启动", f"无法登录：\n{exc}")
        return 2
    window = MainWindow(store, session=session)
    window.mapReady.connect(report_startup_time)
    window.show()
    try:
        return app.exec()
    finally:
        end_session(window)  # the logout's audit row
        window.store.close()  # the window may have switched workspaces


def cli(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    db = _window_db(args)
    if db is not _NOT_A_WINDOW:
        return run_window(db)
    from desktop.commands import register_desktop_commands
    from gis.cli import main

    return main(args, extra=[register_desktop_commands])


if __name__ == "__main__":
    sys.exit(cli())
