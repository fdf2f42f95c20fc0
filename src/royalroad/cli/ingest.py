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
