"""``royalroad ingest`` and ``royalroad validate``: read exports, check them, store them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from royalroad.cli.common import (
    FileOptions,
    Format,
    FormatOpt,
    Inputs,
    LangOpt,
    Progress,
    QuietOpt,
    app,
    guarded,
    stdout,
    with_groups,
)
from royalroad.i18n import t

if TYPE_CHECKING:
    from royalroad.engine import Workspace


def print_summary(ws: Workspace, fmt: Format, *, quiet: bool = False) -> None:
    from royalroad.presenters.terminal import render_summary
    from royalroad.quality import summarise

    if quiet and fmt is not Format.json:
        return
    summary = summarise(ws)
    if fmt is Format.json:
        typer.echo(summary.to_json())
    else:
        render_summary(summary, stdout())


@app.command(help=t("cli.cmd.ingest"))
@guarded
@with_groups(files=FileOptions)
def ingest(
    files: FileOptions,
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help=t("cli.opt.workspace_out"))
    ] = Path("royalroad.duckdb"),
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Read CRM exports, validate them and store them in a DuckDB workspace."""
    with Progress(quiet=quiet) as progress:
        ws = files.ingest(workspace, progress)
    with ws:
        print_summary(ws, format, quiet=quiet)
        if format is Format.table and not quiet:
            stdout().print(t("cli.ingest.done", path=escape(str(workspace))))


@app.command(help=t("cli.cmd.validate"))
@guarded
@with_groups(inputs=Inputs)
def validate(
    inputs: Inputs,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Check input files (or a workspace) and report what is wrong; writes nothing."""
    with Progress(quiet=quiet) as progress:
        ws = inputs.open(progress)
    with ws:
        print_summary(ws, format, quiet=quiet)


@app.command(help=t("cli.cmd.export"))
@guarded
def export(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help=t("cli.opt.workspace"))
    ] = Path("royalroad.duckdb"),
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help=t("cli.opt.export_parquet"))
    ] = None,
    url: Annotated[str | None, typer.Option("--to", help=t("cli.opt.export_to"))] = None,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Write a workspace's validated tables where Spark or a warehouse reads them."""
    from royalroad.engine import open_workspace
    from royalroad.errors import InputError
    from royalroad.remote import _redacted, copy_tables, export_parquet

    if parquet is None and url is None:
        raise InputError("remote.export_where")
    with open_workspace(workspace, read_only=True) as ws:
        written = [str(p) for p in export_parquet(ws, parquet).values()] if parquet else []
        if url is not None:
            written += [f"{_redacted(url)} {name}" for name in copy_tables(ws, url)]
    if not quiet:
        for item in written:
            stdout().print(escape(item), soft_wrap=True)
