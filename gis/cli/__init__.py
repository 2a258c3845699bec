"""``envgrid`` / ``python -m gis``: every command that needs no window.

Each module in this package registers its sub-commands with ``register(subparsers)``;
a handler takes the parsed arguments and returns the exit code. ``main.py`` adds the
commands that open windows (``screenshot``) on top of these.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from gis.cli import (admin_commands, case_commands, grid_commands, io_commands, monitoring_commands,
                     watch_commands, workspace_commands)
from gis.cli import alarm_commands, simulate_commands
from gis.cli import briefing_commands
from gis.storage.store import StoreError

COMMAND_MODULES = (workspace_commands, io_commands, grid_commands, case_commands, monitoring_commands,
                   watch_commands, admin_commands, alarm_commands, simulate_commands, briefing_commands)


class CliError(Exception):
    """Bad input on the command line or in a file: one line per problem, nothing changed."""

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = problems


def build_parser(extra: Sequence[Callable] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="envgrid", description="EnvGrid 网格化环境监管 — command line")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    for register in extra:
        register(subparsers)
    return parser


def add_db_argument(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--db", required=required,
                        help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://user@host/db)")


def main(argv: Sequence[str] | None = None, extra: Sequence[Callable] = ()) -> int:
    args = build_parser(extra).parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        for problem in exc.problems:
            print(f"envgrid {args.command}: {problem}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"envgrid {args.command}: {exc}", file=sys.stderr)
        return 2
