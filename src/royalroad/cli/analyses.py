"""The analysis commands: ``goals``, ``paths`` and ``next``.

Each opens the workspace read-only (or reads the files in memory), analyses at most
``--max-activities`` activities one by one, and shows its steps on stderr
(:class:`~royalroad.cli.common.Progress`). ``paths`` and ``next`` stop at once, in
one line, when there are too few closed leads to learn from; ``goals`` then says so
in its result ("no intermediate goal yet"), which is the answer it exists to give.
"""

from __future__ import annotations

import dataclasses
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
    MaxActivitiesOpt,
    Progress,
    QuietOpt,
    app,
    guarded,
    print_note,
    split,
    stdout,
    with_groups,
)
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.i18n import t

if TYPE_CHECKING:
    from royalroad.analysis.goals_result import GoalResult
    from royalroad.engine import ActivityGrouping, Workspace


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
    with_triggers: Annotated[
        bool, typer.Option("--with-triggers", help=t("triggers.opt.with_triggers"))
    ] = False,
    triggers: Annotated[
        Path | None, typer.Option("--triggers", help=t("triggers.opt.triggers"))
    ] = None,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Find the intermediate goal (中間ゴール): the milestone after which winning is likely."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.pipeline import check_max_activities, with_grouping

    check_max_activities(max_activities)
    notes = None
    if with_triggers or triggers is not None:  # "notes mention X" milestones too
        from royalroad.text.dictionary import load

        notes = load(triggers)
    with Progress(quiet=quiet) as progress, inputs.open(progress) as ws:
        progress.update("goal.step")
        with ws.activity_cap(max_activities) as grouping:
            if notes is not None:
                from royalroad.analysis.triggers_goals import discover_goals_with_triggers

                result = discover_goals_with_triggers(
                    ws, notes, **search.kwargs(), alpha=alpha, min_lift=min_lift
                )
            else:
                result = discover_goals(ws, **search.kwargs(), alpha=alpha, min_lift=min_lift)
    result = with_grouping(result, grouping)
    if format is Format.json:
        typer.echo(result.to_json())
    elif not quiet:
        from royalroad.presenters.goals_terminal import render_goals

        render_goals(result, stdout(), top=top)


def goal_for(
    ws: Workspace, adjust: tuple[str, ...] = (), grouping: ActivityGrouping | None = None
) -> tuple[GoalResult, list[str], list[str]]:
    """The goal, the proxies and the activities never to advise (confounded ones and
    the grouped "(other activities)") that the journey analyses need."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.pipeline import never_advised

    result = discover_goals(ws, pairs=6, adjust=adjust)
    avoid = never_advised(result.avoided(), grouping)
    return result, [p.activity for p in result.proxies], avoid


def _open_for_journeys(inputs: Inputs, progress: Progress, max_activities: int) -> Workspace:
    """The workspace, once it is clear there are enough closed leads to learn from."""
    from royalroad.pipeline import check_enough_closed, check_max_activities

    check_max_activities(max_activities)
    ws = inputs.open(progress)
    try:
        check_enough_closed(ws)
    except BaseException:
        ws.close()
        raise
    return ws


def _grouping_note(grouping: ActivityGrouping | None, *, quiet: bool, table: bool) -> None:
    """Say that rare activities were grouped: after a table on stdout, else on stderr
    (stdout then holds JSON or CSV)."""
    if grouping is None or quiet:
        return
    from royalroad.pipeline import grouping_caveat

    text = grouping_caveat(grouping).text()
    if table:
        stdout().print(escape(text))
    else:
        print_note(text)


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
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Winning paths: variants, directly-follows graph, exact Markov model and the royal road."""
    if path_file is not None:
        from royalroad.analysis.pathfile import analyse_path_file
        from royalroad.presenters.paths_terminal import render_path_file

        res = analyse_path_file(path_file)
        if format is Format.json:
            typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        elif not quiet:
            render_path_file(res, stdout())
        return
    from royalroad.analysis.paths import analyse_paths
    from royalroad.pipeline import with_grouping

    with (
        Progress(quiet=quiet) as progress,
        _open_for_journeys(inputs, progress, max_activities) as ws,
        ws.activity_cap(max_activities) as grouping,
    ):
        progress.update("goal.step")
        goals_result, proxies, avoid = goal_for(ws, split(adjust), grouping)
        progress.update("paths.step")
        result = analyse_paths(
            ws,
            goal=goals_result.recommended,
            exclude=proxies,
            avoid=avoid,
            scope=scope,
            order=order,
            top=top,
            coverage=coverage,
        )
    if format is Format.json:
        typer.echo(result.to_json())
    elif not quiet:
        from royalroad.presenters.paths_terminal import render_paths

        render_paths(result, with_grouping(goals_result, grouping), stdout())
    _grouping_note(grouping, quiet=quiet, table=format is Format.table)


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
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: Annotated[
        PathFormat, typer.Option("--format", "-f", help=t("cli.opt.next_format"))
    ] = PathFormat.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Hand-off and next best action for every open lead (table, JSON or CSV for CRM import)."""
    from royalroad.analysis.nba import next_best_actions
    from royalroad.errors import InputError
    from royalroad.presenters.nba_csv import write_by_owner, write_next_csv

    if by_owner and out is None:
        raise InputError("nba.by_owner_needs_out")
    # Options the analysis would reject, rejected before it runs rather than after.
    if min_evidence < 1:
        raise InputError("nba.bad_min_evidence", value=min_evidence)
    if horizon < 1:
        raise InputError("nba.bad_horizon", value=horizon)
    with (
        Progress(quiet=quiet) as progress,
        _open_for_journeys(inputs, progress, max_activities) as ws,
    ):
        _check_owner(ws, owner_column, owner)
        with ws.activity_cap(max_activities) as grouping:
            progress.update("goal.step")
            goals_result, proxies, avoid = goal_for(ws, split(adjust), grouping)
            progress.update("nba.step")
            result = next_best_actions(
                ws,
                goal=goals_result.recommended,
                exclude=proxies,
                avoid=avoid,
                min_evidence=min_evidence,
                horizon=horizon,
                owner=owner_column,
            )
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
    elif not quiet:
        from royalroad.presenters.nba_terminal import render_next

        render_next(result, stdout(), top=top, owner=owner)
        for path in written:
            stdout().print(t("nba.written", path=escape(str(path))))
    _grouping_note(grouping, quiet=quiet, table=format is PathFormat.table)


def _check_owner(ws: Workspace, column: str | None, owner: str | None) -> None:
    """``--owner-column`` names a lead column and ``--owner`` owns an open lead: checked
    in one small query, before the analysis, with the messages the analysis would give."""
    from royalroad.analysis.owner import owner_column as find_owner
    from royalroad.errors import InputError

    col = find_owner(ws, column)
    if owner is None:
        return
    known: list[str] = []
    if col is not None:
        leads = ws.table("leads")
        open_ = leads.filter(leads.outcome == "open")
        values = open_.select(v=open_[col].cast("string")).distinct().execute()["v"]
        known = sorted(str(v) for v in values if v is not None and v == v)
    if owner not in known:
        raise InputError("nba.unknown_owner_value", value=owner, allowed=", ".join(known) or "-")


@dataclasses.dataclass(frozen=True)
class PastInputs(Inputs):
    """The inputs of ``backtest``: the data are read to their end, and ``--as-of`` is the
    moment to go back to (the cut-off), as ``next --as-of`` would look at it."""

    as_of: Annotated[
        str | None, typer.Option("--as-of", "--cutoff", help=t("cli.opt.backtest_as_of"))
    ] = None


@app.command(help=t("cli.cmd.backtest"))
@guarded
@with_groups(inputs=PastInputs)
def backtest(
    inputs: PastInputs,
    adjust: AdjustOpt = None,
    min_evidence: Annotated[
        int, typer.Option("--min-evidence", help=t("cli.opt.min_evidence"))
    ] = 10,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """How far to trust P(win): rebuild it as of an earlier date and score it."""
    from royalroad.analysis.backtest import backtest as run

    with Progress(quiet=quiet) as progress:
        ws = _open_for_journeys(dataclasses.replace(inputs, as_of=None), progress, max_activities)
        try:
            progress.update("backtest.step")
            result = run(
                ws,
                inputs.as_of,
                adjust=split(adjust),
                min_evidence=min_evidence,
                max_activities=max_activities,
            )
        finally:
            ws.close()
    if format is Format.json:
        typer.echo(result.to_json())
    elif not quiet:
        from royalroad.presenters.backtest_terminal import render_backtest

        render_backtest(result, stdout())
