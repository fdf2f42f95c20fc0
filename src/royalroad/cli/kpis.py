"""The KPI commands built on the goal: ``funnel``.

``funnel`` opens the workspace read-only (or reads the files in memory), checks its
options before anything heavy runs (a stage that is not an activity is one line, exit
code 2), finds the goal, the royal road when the stages are not named, and counts the
funnel in the engine.
"""

from __future__ import annotations

from typing import Annotated

import typer

from royalroad.cli.common import (
    AdjustOpt,
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
from royalroad.errors import InputError
from royalroad.i18n import t


def _days(value: str | None) -> tuple[int, ...]:
    """``"30,90,180"`` → ``(30, 90, 180)``; a bad list is one line and exit code 2."""
    from royalroad.analysis.funnel import DEFAULT_WITHIN

    if not value or not value.strip():
        return DEFAULT_WITHIN
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError("funnel.bad_within", value=value) from None


@app.command(help=t("funnel.cmd"))
@guarded
@with_groups(inputs=Inputs)
def funnel(
    inputs: Inputs,
    stages: Annotated[
        list[str] | None, typer.Option("--stages", help=t("funnel.opt.stages"))
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help=t("funnel.opt.mode"))] = "strict",
    within: Annotated[str | None, typer.Option("--within", help=t("funnel.opt.within"))] = None,
    cohort: Annotated[str, typer.Option("--cohort", help=t("funnel.opt.cohort"))] = "month",
    by: Annotated[str | None, typer.Option("--by", help=t("funnel.opt.by"))] = None,
    adjust: AdjustOpt = None,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Funnel: leads at each stage from creation to the win, with honest rates."""
    from royalroad.analysis.funnel import check_options
    from royalroad.analysis.funnel import funnel as run
    from royalroad.cli.analyses import _grouping_note, _open_for_journeys, goal_for
    from royalroad.pipeline import check_max_activities

    check_max_activities(max_activities)
    named_stages = split(stages)
    days = _days(within)
    with Progress(quiet=quiet) as progress:
        ws = (
            inputs.open(progress)
            if named_stages
            else _open_for_journeys(inputs, progress, max_activities)
        )
        with ws, ws.activity_cap(max_activities) as grouping:
            named, *_ = check_options(ws, named_stages, mode, days, cohort, by)
            progress.update("goal.step")
            goals, proxies, avoid = goal_for(ws, split(adjust), grouping)
            paths = None
            if not named:
                from royalroad.analysis.paths import analyse_paths

                progress.update("paths.step")
                paths = analyse_paths(ws, goal=goals.recommended, exclude=proxies, avoid=avoid)
            progress.update("funnel.step")
            result = run(
                ws,
                named,
                mode=mode,
                goals=goals,
                paths=paths,
                within=days,
                cohort=cohort,
                by=by,
            )
    if format is Format.json:
        typer.echo(result.to_json(), nl=False)
    elif not quiet:
        from royalroad.presenters.funnel_terminal import render_funnel

        render_funnel(result, stdout())
    _grouping_note(grouping, quiet=quiet, table=format is Format.table)
