"""What the `renderowl` command's subcommands share: output (text or --json), progress bars, JSON arguments,
and the exit code for each kind of error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import _errors
from ._client import Renderowl

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_INVALID = range(8)

# No console markup: names, details and messages come from users and the API, and may hold "[…]".
stdout = Console(soft_wrap=True, markup=False)
stderr = Console(stderr=True, soft_wrap=True, markup=False)


class Context:
    def __init__(self, api_key, base_url, as_json):
        self.api_key = api_key
        self.base_url = base_url
        self.as_json = as_json
        self._client = None

    @property
    def client(self) -> Renderowl:
        if self._client is None:
            self._client = Renderowl(api_key=self.api_key, base_url=self.base_url)
        return self._client


def json_option(command):
    """--json on every command: print the API's JSON instead of a summary (also accepted before the command)."""

    def remember(ctx, param, value):
        if value:
            ctx.find_object(Context).as_json = True
        return value

    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=remember,
                        help="Print the result as JSON (errors as a problem document on stderr).")(command)


def emit(ctx: Context, obj: Any, summary=None) -> None:
    if ctx.as_json:
        data = obj.to_dict() if hasattr(obj, "to_dict") else obj
        click.echo(json.dumps(data, indent=2, default=str))
    elif summary is not None:
        summary()
    else:
        print_object(obj)


def print_object(obj) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in (obj.to_dict() if hasattr(obj, "to_dict") else obj).items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        table.add_row(Text(key, style="bold"), "" if value is None else str(value))
    stdout.print(table)


def print_list(items, columns) -> None:
    table = Table(*columns)
    for item in items:
        data = item.to_dict()
        table.add_row(*("" if data.get(c) is None else str(data.get(c)) for c in columns))
    stdout.print(table)


def read_json_argument(value: str, option: str) -> Any:
    """JSON given inline, or @path to read it from a file (@- for stdin)."""
    if value.startswith("@"):
        path = value[1:]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint=option) from exc
        except UnicodeDecodeError as exc:
            raise click.BadParameter(f"{path} is not UTF-8 text (JSON must be)", param_hint=option) from exc
    else:
        text = value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=option) from exc


def check_writable(path: Path, option: str) -> None:
    """A usage error now, rather than a traceback once the output has been rendered, for a file that cannot be made."""
    directory = path.parent
    if not directory.is_dir():
        raise click.BadParameter(f"{directory} is not an existing directory", param_hint=option)
    if not os.access(directory, os.W_OK):
        raise click.BadParameter(f"cannot write in {directory}", param_hint=option)


def exit_code_for(error: _errors.RenderowlError) -> int:
    if isinstance(error, _errors.AuthenticationError):
        return EXIT_AUTH
    if isinstance(error, _errors.NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, _errors.ValidationError):
        return EXIT_INVALID
    if isinstance(error, _errors.APIConnectionError):
        return EXIT_UNREACHABLE
    if error.code in ("missing_base_url", "invalid_base_url"):
        return EXIT_USAGE
    return EXIT_API


class progress_bar:
    """A Rich progress bar on stderr, or None with --json (stdout stays clean for scripts)."""

    def __init__(self, ctx, transfer=False):
        self.enabled = not ctx.as_json
        columns = [TextColumn("{task.description}"), BarColumn()]
        columns += [DownloadColumn()] if transfer else [TaskProgressColumn()]
        self.progress = Progress(*columns, TimeElapsedColumn(), console=stderr, transient=False) if self.enabled else None

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self.progress

    def __exit__(self, *exc_info):
        if self.progress:
            self.progress.stop()
