"""The `course` command: the instructor's tools, one subcommand each.

    course publish DEST      write the student edition to DEST
    course SUBCOMMAND --help the options of one subcommand

The subcommands are data: `COMMANDS` lists them, each with its summary, its arguments and the
function that runs it. To add one, write those two small functions and append a `Command`.

Errors are for people: a problem the user can fix (a ValueError, such as PublishError, or an
OSError such as a missing file) prints one line, `course NAME: error: ...`, and exits 1. Any
other exception is a bug: one line too, unless `course --debug ...` asks for the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line summary, its arguments and what it runs."""

    name: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


# --- publish ---------------------------------------------------------------------------------


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dest",
        metavar="DEST",
        type=Path,
        help="folder to write (new, empty, or written by an earlier publish; .git is kept)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the course repository (default: the one around the current folder)",
    )
    parser.add_argument(
        "--allow-placeholders",
        action="store_true",
        help="publish even though _config.yml's repository or hub are still the template's "
        "example values (a preview: its launch links lead nowhere)",
    )


def _publish_run(args: argparse.Namespace) -> int:
    from coursekit.publish import publish

    edition = publish(args.dest, source=args.source, allow_placeholders=args.allow_placeholders)
    print(edition.summary())
    return 0


# --- release, collect, grade, release-feedback: each in its own module (coursekit.release,
# .collect, .batch, .exchange) ------------------------------------------------------------------
# Those modules import nbgrader only when they run, so building this parser stays fast.

from coursekit import collect, exchange, release  # noqa: E402
from coursekit.batch import command as grade  # noqa: E402

# --- The registry ----------------------------------------------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command(
        name="publish",
        summary="write the student edition (book, released assignments, library) to DEST",
        add_arguments=_publish_arguments,
        run=_publish_run,
    ),
    Command("release", release.SUMMARY, release.add_arguments, release.run),
    Command("collect", collect.SUMMARY, collect.add_arguments, collect.run),
    Command("grade", grade.SUMMARY, grade.add_arguments, grade.run),
    Command(
        "release-feedback",
        exchange.FEEDBACK_SUMMARY,
        exchange.add_feedback_arguments,
        exchange.feedback_run,
    ),
)


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line and a pointer to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="course",
        description="Instructor tools for the course.",
        epilog="Run `course SUBCOMMAND --help` for the options of one subcommand.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    for command in commands:
        one = sub.add_parser(command.name, help=command.summary, description=command.summary)
        command.add_arguments(one)
        one.set_defaults(run=command.run)
    return parser


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error) or type(error).__name__


def main(argv: Sequence[str] | None = None, commands: Sequence[Command] = COMMANDS) -> int:
    """Run the `course` command line; return the exit status."""
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    name = f"course {args.command}"
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as error:
        if args.debug:
            raise
        print(f"{name}: error: {_describe(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so in one line, traceback on request
        if args.debug:
            raise
        print(
            f"{name}: internal error: {type(error).__name__}: {_describe(error)} "
            "(run `course --debug ...` for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
