"""The ``reps`` command: reps (or any segment) compared fairly on the royal road.

It opens the workspace read-only (or reads the files in memory), checks ``--by`` and
``--adjust`` before anything heavy runs (an unknown column is one line, exit code 2),
finds the goal and the royal road as ``paths`` does, then compares. ``--anonymise``
replaces every name by a stable label before anything is printed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from royalroad.cli.common import (
    Format,
    FormatOpt,
    Inputs,
    LangOpt,
    MaxActivitiesOpt,
    Progress,
    QuietOpt,
    app,
    guarded,
    split,
    stdout,
    with_groups,
)
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.i18n import t


@app.command(help=t("reps.cmd"))
@guarded
@with_groups(inputs=Inputs)
def reps(
    inputs: Inputs,
    by: Annotated[str | None, typer.Option("--by", help=t("reps.opt.by"))] = None,
    adjust: Annotated[list[str] | None, typer.Option("--adjust", help=t("reps.opt.adjust"))] = None,
    horizon: Annotated[int, typer.Option("--horizon", help=t("reps.opt.horizon"))] = 90,
    anonymise: Annotated[
        bool, typer.Option("--anonymise", "--anonymize", help=t("reps.opt.anonymise"))
    ] = False,
    top: Annotated[int, typer.Option("--top", help=t("reps.opt.top"))] = 10,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Reps (属人化): reach, conversion, shrinkage, funnel plot, decomposition, practices."""
    from royalroad.analysis.reps import analyse_reps, check_options
    from royalroad.cli.analyses import _grouping_note, _open_for_journeys, goal_for
    from royalroad.pipeline import check_max_activities

    check_max_activities(max_activities)
    segments = split(adjust)
    with Progress(quiet=quiet) as progress:
        ws = _open_for_journeys(inputs, progress, max_activities)
        with ws, ws.activity_cap(max_activities) as grouping:
            check_options(ws, by, segments, horizon)
            progress.update("goal.step")
            goals, proxies, avoid = goal_for(ws, segments, grouping)
            paths = None
            if goals.recommended is not None:
                from royalroad.analysis.paths import analyse_paths

                progress.update("paths.step")
                paths = analyse_paths(ws, goal=goals.recommended, exclude=proxies, avoid=avoid)
            progress.update("reps.step")
            result = analyse_reps(
                ws, by=by, adjust=segments, goals=goals, paths=paths, horizon=horizon
            )
    if anonymise:
        from royalroad.analysis.reps_anon import anonymise as hide

        result = hide(result)
    if format is Format.json:
        typer.echo(result.to_json(), nl=False)
    elif not quiet:
        from royalroad.presenters.reps_terminal import render_reps

        render_reps(result, stdout(), top=top)
    _grouping_note(grouping, quiet=quiet, table=format is Format.table)
