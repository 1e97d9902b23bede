"""The `renderowl` command: the SDK from a shell, with --json on every command for scripts.

Exit codes:
    0  success
    1  the API refused the request for another reason (conflict, rate limit, server error after retries)
    2  usage: a bad option or argument, an unreadable @file, invalid JSON, no or a non-http(s) base URL
    3  authentication: no API key, or the API refused it (401)
    4  not found (404)
    5  the render or asset ended failed or cancelled (with --wait)
    6  the API could not be reached (connection error or timeout, after retries)
    7  the request is invalid (refused before sending, or 400/422 from the API)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from . import _errors
from ._cli_support import (
    EXIT_FAILED,
    Context,
    check_writable,
    emit,
    exit_code_for,
    json_option,
    print_list,
    progress_bar,
    read_json_argument,
    stderr,
    stdout,
)
from ._version import __version__


class RenderowlGroup(click.Group):
    """Turns SDK errors into a message (or a problem document with --json) and a documented exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _errors.RenderowlError as error:
            obj = ctx.find_object(Context)
            if obj is not None and obj.as_json:
                click.echo(json.dumps(error.to_dict(), indent=2, default=str), err=True)
            else:
                stderr.print(Text.assemble(("error: ", "red"), str(error)), highlight=False)
                for item in error.errors:
                    stderr.print(f"  {item.get('field') or '(request)'}: {item.get('message')}", highlight=False)
            ctx.exit(exit_code_for(error))


@click.group(cls=RenderowlGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: 0 ok, 1 API error, 2 usage, 3 authentication, 4 not found, "
                    "5 render or asset failed, 6 API unreachable, 7 invalid request.")
@click.option("--api-key", envvar="RENDEROWL_API_KEY", help="API key (default: $RENDEROWL_API_KEY).")
@click.option("--base-url", envvar="RENDEROWL_BASE_URL", help="API base URL (default: $RENDEROWL_BASE_URL).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.version_option(__version__, prog_name="renderowl")
@click.pass_context
def cli(ctx, api_key, base_url, as_json):
    """Renderowl from the command line: projects, assets, renders and automations."""
    ctx.obj = Context(api_key, base_url, as_json)
    ctx.call_on_close(lambda: ctx.obj._client and ctx.obj._client.close())


pass_context = click.make_pass_decorator(Context)


# -- projects --------------------------------------------------------------------------------------

@cli.group()
def projects():
    """Create, list, get and delete projects."""


@projects.command("create")
@click.argument("name")
@click.option("--slug", help="Lowercase letters, digits and hyphens; derived from NAME when left out.")
@click.option("--description", default=None)
@json_option
@pass_context
def projects_create(ctx, name, slug, description):
    """Create a project named NAME (prints its webhook secret, shown only now)."""
    fields = {key: value for key, value in {"slug": slug, "description": description}.items() if value is not None}
    project = ctx.client.projects.create(name=name, **fields)
    emit(ctx, project)


@projects.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="Page size.")
@click.option("--all", "walk", is_flag=True, help="Every page, not just the first.")
@json_option
@pass_context
def projects_list(ctx, limit, walk):
    """List projects, newest first."""
    page = ctx.client.projects.list(limit=limit)
    items = list(page) if walk else page.data
    emit(ctx, {"data": [p.to_dict() for p in items], "hasMore": False if walk else page.has_more,
               "nextCursor": None if walk else page.next_cursor},
         lambda: print_list(items, ["id", "name", "slug", "createdAt"]))


@projects.command("get")
@click.argument("project_id")
@json_option
@pass_context
def projects_get(ctx, project_id):
    """Show a project."""
    emit(ctx, ctx.client.projects.get(project_id))


@projects.command("delete")
@click.argument("project_id")
@json_option
@pass_context
def projects_delete(ctx, project_id):
    """Delete a project (its assets are orphaned, its queued renders cancelled)."""
    ctx.client.projects.delete(project_id)
    emit(ctx, {"id": project_id, "deleted": True}, lambda: stdout.print(f"deleted {project_id}"))


# -- assets ----------------------------------------------------------------------------------------

@cli.group()
def assets():
    """Upload, list and get assets."""


@assets.command("upload")
@click.argument("project_id", metavar="PROJECT")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "asset_type", type=click.Choice(["video", "image", "audio", "font", "template"]),
              help="Asset type (guessed from the file name when left out).")
@click.option("--name", help="Asset name (default: the file's name).")
@click.option("--content-type", help="Content type (guessed from the file name when left out).")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--wait", is_flag=True, help="Wait until the asset is ready or failed (exit 5 if failed).")
@json_option
@pass_context
def assets_upload(ctx, project_id, file, asset_type, name, content_type, tags, wait):
    """Upload FILE as a new asset of PROJECT."""
    extra = {"tags": list(tags)} if tags else {}
    with progress_bar(ctx, transfer=True) as progress:
        task = progress.add_task(f"uploading {file.name}", total=file.stat().st_size) if progress else None
        asset = ctx.client.assets.upload(
            project_id, file, type=asset_type, name=name, content_type=content_type, wait=False, **extra,
            on_progress=(lambda sent, total: progress.update(task, completed=sent)) if progress else None,
        )
        if wait:
            if progress:
                progress.update(task, description=f"processing {file.name}")
            asset = ctx.client.assets.wait(asset.id)
    emit(ctx, asset, lambda: stdout.print(f"{asset.id} {asset.status} ({asset.type}, {asset.size} bytes)"
                                          + (f": {asset.error.message}" if asset.error else "")))
    if wait and asset.status == "failed":
        raise SystemExit(EXIT_FAILED)


@assets.command("get")
@click.argument("asset_id")
@click.option("--download-url", is_flag=True, help="Include a signed download URL.")
@json_option
@pass_context
def assets_get(ctx, asset_id, download_url):
    """Show an asset."""
    emit(ctx, ctx.client.assets.get(asset_id, include_download_url=download_url))


@assets.command("list")
@click.argument("project_id", metavar="PROJECT")
@click.option("--type", "asset_type", help="Only this type.")
@click.option("--status", help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@pass_context
def assets_list(ctx, project_id, asset_type, status, limit):
    """List a project's assets (first page)."""
    page = ctx.client.assets.list(project_id, type=asset_type, status=status, limit=limit)
    emit(ctx, {"data": [a.to_dict() for a in page.data], "hasMore": page.has_more, "nextCursor": page.next_cursor},
         lambda: print_list(page.data, ["id", "type", "name", "status", "size"]))


# -- renders ---------------------------------------------------------------------------------------

@cli.group()
def renders():
    """Submit, follow, get, list, cancel and download renders."""


@renders.command("submit")
@click.argument("project_id", metavar="PROJECT")
@click.option("--template", "template_id", required=True, metavar="AST", help="The template asset id.")
@click.option("--props", default=None, metavar="JSON|@FILE", help="inputProps as JSON, or @file.json.")
@click.option("--format", "output_format", type=click.Choice(["mp4", "webm", "gif", "png", "jpg"]),
              help="Output format (default: the template's, mp4).")
@click.option("--width", type=int)
@click.option("--height", type=int)
@click.option("--fps", type=int)
@click.option("--priority", type=click.Choice(["low", "normal", "high"]))
@click.option("--wait", is_flag=True, help="Follow the render to its end with a progress bar (exit 5 if it fails).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Download the output to this file (implies --wait).")
@json_option
@pass_context
def renders_submit(ctx, project_id, template_id, props, output_format, width, height, fps, priority, wait, out):
    """Render a template asset of PROJECT with props."""
    if out is not None:
        check_writable(out, "--out")  # before the render is made, not after it finished
    input_props = read_json_argument(props, "--props") if props is not None else None
    if input_props is not None and not isinstance(input_props, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--props")
    output = {key: value for key, value in {"format": output_format, "width": width, "height": height,
                                             "fps": fps}.items() if value is not None}
    fields: dict[str, Any] = {}
    if input_props is not None:
        fields["input_props"] = input_props
    if output:
        fields["output"] = output
    if priority:
        fields["priority"] = priority
    job = ctx.client.renders.submit(project_id, template_id=template_id, **fields)
    if wait or out:
        job = _follow_render(ctx, job)
    if out and job.status == "completed":
        size = ctx.client.renders.download(job.id, out)
        if not ctx.as_json:
            stderr.print(f"saved {out} ({size} bytes)", highlight=False)
    emit(ctx, job, lambda: _render_summary(job))
    if (wait or out) and job.status != "completed":
        raise SystemExit(EXIT_FAILED)


def _follow_render(ctx, job):
    with progress_bar(ctx) as progress:
        task = progress.add_task(f"{job.id} {job.status}", total=1.0) if progress else None

        def show(current):
            if progress:
                label = f"{current.id} {current.status}" + (f" ({current.stage})" if current.stage else "")
                progress.update(task, completed=current.progress or 0.0, description=label)

        return ctx.client.renders.wait(job.id, on_progress=show)


def _render_summary(job):
    line = f"{job.id} {job.status}"
    if job.error:
        line += f": {job.error.code}: {job.error.message}"
    if job.status == "completed" and getattr(job, "output_url", None):
        line += f"\noutput: {job.output_url}"
    stdout.print(line, highlight=False)


@renders.command("get")
@click.argument("render_id")
@json_option
@pass_context
def renders_get(ctx, render_id):
    """Show a render (with a fresh output URL once completed)."""
    emit(ctx, ctx.client.renders.get(render_id))


@renders.command("list")
@click.argument("project_id", metavar="PROJECT")
@click.option("--status", help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@pass_context
def renders_list(ctx, project_id, status, limit):
    """List a project's renders (first page), newest first."""
    page = ctx.client.renders.list(project_id, status=status, limit=limit)
    emit(ctx, {"data": [r.to_dict() for r in page.data], "hasMore": page.has_more, "nextCursor": page.next_cursor},
         lambda: print_list(page.data, ["id", "status", "progress", "createdAt"]))


@renders.command("cancel")
@click.argument("render_id")
@json_option
@pass_context
def renders_cancel(ctx, render_id):
    """Cancel a pending or queued render."""
    job = ctx.client.renders.cancel(render_id)
    emit(ctx, job, lambda: _render_summary(job))


@renders.command("download")
@click.argument("render_id")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_context
def renders_download(ctx, render_id, out):
    """Download a completed render's output to OUT."""
    check_writable(out, "OUT")
    size = ctx.client.renders.download(render_id, out)
    emit(ctx, {"id": render_id, "path": str(out), "size": size}, lambda: stdout.print(f"saved {out} ({size} bytes)"))


# -- automations -----------------------------------------------------------------------------------

@cli.group()
def automations():
    """Fire automations by hand and read their runs."""


@automations.command("trigger")
@click.argument("automation_id")
@click.option("--payload", default="{}", show_default=True, metavar="JSON|@FILE",
              help="The payload the mapping reads, as JSON or @file.json.")
@click.option("--dry-run", is_flag=True, help="Only show the props the mapping makes; nothing is created.")
@json_option
@pass_context
def automations_trigger(ctx, automation_id, payload, dry_run):
    """Fire automation ID with a payload; prints the run."""
    data = read_json_argument(payload, "--payload")
    if dry_run:
        emit(ctx, ctx.client.automations.trigger_dry_run(automation_id, payload=data))
        return
    run = ctx.client.automations.trigger(automation_id, payload=data)
    emit(ctx, run, lambda: stdout.print(f"{run.id} {run.status}", highlight=False))


@automations.command("runs")
@click.argument("automation_id")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@pass_context
def automations_runs(ctx, automation_id, limit):
    """List an automation's runs (first page), newest first."""
    page = ctx.client.automations.runs(automation_id, limit=limit)
    emit(ctx, {"data": [r.to_dict() for r in page.data], "hasMore": page.has_more, "nextCursor": page.next_cursor},
         lambda: print_list(page.data, ["id", "trigger", "status", "renderId", "createdAt"]))


def main(argv=None):
    """The console script's entry point."""
    try:
        cli.main(args=argv, prog_name="renderowl", standalone_mode=True)
    except _errors.RenderowlError as error:  # raised while building the client, before a command ran
        click.echo(f"error: {error}", err=True)
        sys.exit(exit_code_for(error))


if __name__ == "__main__":
    main()
