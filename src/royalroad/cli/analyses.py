"""The analysis commands: ``goals``, ``paths`` and ``next``."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from royalroad.cli.common import (
    AdjustOpt,
    Format,
    FormatOpt,
    GoalOptions,
    Inputs,
    LangOpt,
    app,
    guarded,
    split,
    stderr,
    stdout,
    with_groups,
)
from royalroad.i18n import t

if TYPE_CHECKING:
    from royalroad.analysis.goals_result import GoalResult
    from royalroad.engine import Workspace


class PathFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command(help=t("cli.cmd.goals"))
@guarded
@with_groups(inputs=Inputs, search=GoalOptions)
def goals(
    inputs: Inputs,
    search: GoalOptions,
    alpha: Annotated[float, typer.Option("--alpha", help=t("cli.opt.alpha"))] = 0.05,
    min_lift: Annotated[float, typer.Option("--min-lift", help=t("cli.opt.min_lift"))] = 1.5,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top"))] = 15,
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Find the intermediate goal (中間ゴール): the milestone after which winning is likely."""
    from royalroad.analysis.goals import discover_goals

    ws = inputs.open()
    with stderr().status(t("goal.step")):
        result = discover_goals(ws, **search.kwargs(), alpha=alpha, min_lift=min_lift)
    if format is Format.json:
        typer.echo(result.to_json())
    else:
        from royalroad.presenters.goals_terminal import render_goals

        render_goals(result, stdout(), top=top)
    ws.close()


def goal_for(
    ws: Workspace, adjust: tuple[str, ...] = ()
) -> tuple[GoalResult, list[str], list[str]]:
    """The goal, the proxies and the confounded activities the journey analyses need."""
    from royalroad.analysis.goals import discover_goals

    result = discover_goals(ws, pairs=6, adjust=adjust)
    return result, [p.activity for p in result.proxies], result.avoided()


@app.command(help=t("cli.cmd.paths"))
@guarded
@with_groups(inputs=Inputs)
def paths(
    inputs: Inputs,
    adjust: AdjustOpt = None,
    path_file: Annotated[
        Path | None, typer.Option("--path-file", help=t("cli.opt.path_file"))
    ] = None,
    scope: Annotated[str, typer.Option("--scope", help=t("cli.opt.scope"))] = "before_close",
    order: Annotated[int, typer.Option("--order", help=t("cli.opt.order"))] = 1,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top_variants"))] = 20,
    coverage: Annotated[float, typer.Option("--coverage", help=t("cli.opt.coverage"))] = 0.8,
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Winning paths: variants, directly-follows graph, exact Markov model and the royal road."""
    if path_file is not None:
        from royalroad.analysis.pathfile import analyse_path_file
        from royalroad.presenters.paths_terminal import render_path_file

        res = analyse_path_file(path_file)
        if format is Format.json:
            typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        else:
            render_path_file(res, stdout())
        return
    from royalroad.analysis.paths import analyse_paths
    from royalroad.presenters.paths_terminal import render_paths

    ws = inputs.open()
    with stderr().status(t("paths.step")):
        goals_result, proxies, confounded = goal_for(ws, split(adjust))
        result = analyse_paths(
            ws,
            goal=goals_result.recommended,
            exclude=proxies,
            avoid=confounded,
            scope=scope,
            order=order,
            top=top,
            coverage=coverage,
        )
    if format is Format.json:
        typer.echo(result.to_json())
    else:
        render_paths(result, goals_result, stdout())
    ws.close()


@app.command("next", help=t("cli.cmd.next"))
@guarded
@with_groups(inputs=Inputs)
def next_(
    inputs: Inputs,
    adjust: AdjustOpt = None,
    min_evidence: Annotated[
        int, typer.Option("--min-evidence", help=t("cli.opt.min_evidence"))
    ] = 10,
    horizon: Annotated[int, typer.Option("--horizon", help=t("cli.opt.horizon"))] = 90,
    owner_column: Annotated[
        str | None, typer.Option("--owner-column", help=t("cli.opt.owner_column"))
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help=t("cli.opt.owner"))] = None,
    by_owner: Annotated[bool, typer.Option("--by-owner", help=t("cli.opt.by_owner"))] = False,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.opt.next_out"))] = None,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top_leads"))] = 20,
    format: Annotated[
        PathFormat, typer.Option("--format", "-f", help=t("cli.opt.next_format"))
    ] = PathFormat.table,
    lang: LangOpt = None,
) -> None:
    """Hand-off and next best action for every open lead (table, JSON or CSV for CRM import)."""
    from royalroad.analysis.nba import next_best_actions
    from royalroad.errors import InputError
    from royalroad.presenters.nba_csv import write_by_owner, write_next_csv

    if by_owner and out is None:
        raise InputError("nba.by_owner_needs_out")
    ws = inputs.open()
    with stderr().status(t("nba.step")):
        goals_result, proxies, confounded = goal_for(ws, split(adjust))
        result = next_best_actions(
            ws,
            goal=goals_result.recommended,
            exclude=proxies,
            avoid=confounded,
            min_evidence=min_evidence,
            horizon=horizon,
            owner=owner_column,
        )
    ws.close()
    if owner is not None and owner not in result.owners():
        known = ", ".join(o for o in result.owners() if o is not None) or "-"
        raise InputError("nba.unknown_owner_value", value=owner, allowed=known)
    written = []
    if out is not None and by_owner:
        written = list(write_by_owner(result, out).values())
    elif out is not None:
        write_next_csv(result, out, owner=owner)
        written = [out]
    if format is PathFormat.csv:
        if out is None:
            write_next_csv(result, sys.stdout, owner=owner)
    elif format is PathFormat.json:
        data = result.to_dict()
        if owner is not None:
            data["leads"] = [r for r in data["leads"] if r["owner"] == owner]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        from royalroad.presenters.nba_terminal import render_next

        render_next(result, stdout(), top=top, owner=owner)
        for path in written:
            stdout().print(t("nba.written", path=escape(str(path))))
