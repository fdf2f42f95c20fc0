"""The ``triggers`` command: decision triggers in the notes.

It opens the workspace read-only (or reads the files in memory), stops at once, in
one line, when there are too few closed leads to learn from, finds the goal (the
stages are placed against it), mines the notes and, unless ``--no-milestones``, runs
the goals grid again with "notes mention X" milestones beside the activities. The goal
search's options (``--adjust``, ``--windows``, ``--pairs``…) apply to both searches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from royalroad.cli.common import (
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
    stdout,
    with_groups,
)
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.errors import InputError
from royalroad.i18n import t

TriggersOpt = Annotated[Path | None, typer.Option("--triggers", help=t("triggers.opt.triggers"))]


@app.command("triggers", help=t("triggers.cmd"))
@guarded
@with_groups(inputs=Inputs, search=GoalOptions)
def triggers_command(
    inputs: Inputs,
    search: GoalOptions,
    triggers: TriggersOpt = None,
    min_count: Annotated[int, typer.Option("--min-count", help=t("triggers.opt.min_count"))] = 10,
    prior: Annotated[float, typer.Option("--prior", help=t("triggers.opt.prior"))] = 0.1,
    alpha: Annotated[float, typer.Option("--alpha", help=t("cli.opt.alpha"))] = 0.05,
    top: Annotated[int, typer.Option("--top", help=t("triggers.opt.top"))] = 10,
    no_snippets: Annotated[
        bool, typer.Option("--no-snippets", help=t("triggers.opt.no_snippets"))
    ] = False,
    no_milestones: Annotated[
        bool, typer.Option("--no-milestones", help=t("triggers.opt.no_milestones"))
    ] = False,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Decision triggers in the notes: terms and categories against the outcome."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.triggers import check_options, has_notes
    from royalroad.analysis.triggers import triggers as run
    from royalroad.cli.analyses import _open_for_journeys
    from royalroad.text.dictionary import load

    check_options(min_count, prior, alpha)  # bad options and a bad dictionary are one
    dictionary = load(triggers)  # line each, before anything heavy runs
    with (
        Progress(quiet=quiet) as progress,
        _open_for_journeys(inputs, progress, max_activities) as ws,
        ws.activity_cap(max_activities),
    ):
        if not has_notes(ws):  # before the goal search: nothing to mine
            raise InputError("triggers.no_notes")
        progress.update("goal.step")
        goals = discover_goals(ws, **search.kwargs(), alpha=alpha)
        progress.update("triggers.step")
        result = run(
            ws,
            dictionary=dictionary,
            min_count=min_count,
            prior=prior,
            alpha=alpha,
            top=top,
            snippets=not no_snippets,
            goals=goals,
            milestones=not no_milestones,
            goal_options={**search.kwargs(), "alpha": alpha},
        )
    if format is Format.json:
        typer.echo(result.to_json(), nl=False)
    elif not quiet:
        from royalroad.presenters.triggers_terminal import render_triggers

        render_triggers(result, stdout(), top=top)
