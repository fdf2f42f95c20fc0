"""The KPI commands: ``plan`` (a revenue target back to leads, goals and wins by month)
and ``track`` (a plan file beside the data as they are now).

``plan`` works with data (files or ``--workspace``) or, for a team starting out,
without: ``--preset manufacturing --won-amount 5000000`` plans from the article's
benchmark and the preset's stated assumptions. ``--preset`` takes the industry presets
(saas, manufacturing, education, consulting) besides the column presets of the input
files; repeat it for both (``--preset hubspot --preset saas``).

Amounts accept ``120000000``, ``120,000,000``, ``120M``, ``1.2億`` or ``1200万``; rates
``0.35`` or ``35%``; what-ifs ``+5pt``. A bad value is one line and exit code 2.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Annotated, Any

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
    split,
    stdout,
    with_groups,
)
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.errors import InputError
from royalroad.i18n import t

_UNITS = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "万": 1e4, "億": 1e8, "千": 1e3}
_AMOUNT = re.compile(
    r"^\s*([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(k|m|b|万|億|千)?\s*(?:円|yen)?\s*$"
)


def parse_amount(text: str | None, option: str) -> float | None:
    """``120000000``, ``120,000,000``, ``120M``, ``1.2億``, ``1200万`` → 120000000.0.

    >>> parse_amount("1.2億", "--target"), parse_amount("120,000,000", "--target")
    (120000000.0, 120000000.0)
    """
    if text is None:
        return None
    found = _AMOUNT.match(str(text).replace(",", "").replace("_", "").lower())
    if not found:
        raise InputError("plan.bad_amount", option=option, value=text)
    value = float(found.group(1)) * _UNITS[found.group(2) or ""]
    if not math.isfinite(value) or value <= 0:
        raise InputError("plan.bad_amount", option=option, value=text)
    return value


def parse_rate(text: str | None, option: str) -> float | None:
    """``0.35`` or ``35%`` → 0.35; outside (0, 1] is one line, exit code 2."""
    if text is None:
        return None
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise InputError("plan.bad_rate", option=option, value=text) from None
    if not (0 < value <= 1):
        raise InputError("plan.bad_rate", option=option, value=text)
    return value


PresetsOpt = Annotated[list[str] | None, typer.Option("--preset", help=t("plan.opt.preset"))]


@dataclasses.dataclass(frozen=True)
class PlanInputs(Inputs):
    """The analysis inputs, with ``--preset`` also taking an industry preset."""

    preset: PresetsOpt = None  # type: ignore[assignment]

    def split_presets(self) -> tuple[Inputs, str | None]:
        """The input options with the column preset alone, and the industry preset."""
        from royalroad.analysis.plan_presets import is_preset, presets
        from royalroad.io.mapping import presets as column_presets

        names = split(self.preset)
        kpi = [n for n in names if is_preset(n)]
        columns = [n for n in names if not is_preset(n)]
        for name in columns:
            if name not in column_presets():
                allowed = ", ".join([*presets(), *column_presets()])
                raise InputError("plan.unknown_preset", value=name, allowed=allowed)
        if len(kpi) > 1 or len(columns) > 1:
            raise InputError("plan.preset_twice", value=", ".join(names))
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(Inputs)}
        fields["preset"] = columns[0] if columns else None
        return Inputs(**fields), (kpi[0] if kpi else None)


def _volume(text: str | None) -> float | None:
    """``--leads-per-month 300`` (``300.5``, ``1,200``): a number of leads, 0 or more."""
    if text is None:
        return None
    try:
        value = float(str(text).replace(",", ""))
    except ValueError:
        raise InputError("plan.bad_volume", value=text) from None
    if not math.isfinite(value) or value < 0:
        raise InputError("plan.bad_volume", value=text)
    return value


def _has_data(inputs: Inputs) -> bool:
    """Files, a workspace, or tables on another engine (``--engine spark`` / a URL)."""
    return inputs.given or inputs.workspace is not None or inputs.engine != "duckdb"


@app.command(help=t("plan.cmd.plan"))
@guarded
@with_groups(inputs=PlanInputs, search=GoalOptions)
def plan(
    inputs: PlanInputs,
    search: GoalOptions,
    target: Annotated[str | None, typer.Option("--target", help=t("plan.opt.target"))] = None,
    period: Annotated[str | None, typer.Option("--period", help=t("plan.opt.period"))] = None,
    by: Annotated[str, typer.Option("--by", help=t("plan.opt.by"))] = "month",
    goal: Annotated[str | None, typer.Option("--goal", help=t("plan.opt.goal"))] = None,
    segment: Annotated[str | None, typer.Option("--segment", help=t("plan.opt.segment"))] = None,
    won_amount: Annotated[
        str | None, typer.Option("--won-amount", help=t("plan.opt.won_amount"))
    ] = None,
    p_goal_given_lead: Annotated[
        str | None, typer.Option("--p-goal-given-lead", help=t("plan.opt.p_goal"))
    ] = None,
    p_win_given_goal: Annotated[
        str | None, typer.Option("--p-win-given-goal", help=t("plan.opt.p_win"))
    ] = None,
    benchmark_to: Annotated[
        str | None, typer.Option("--benchmark-to", help=t("plan.opt.benchmark_to"))
    ] = None,
    leads_per_month: Annotated[
        str | None, typer.Option("--leads-per-month", help=t("plan.opt.leads_per_month"))
    ] = None,
    reach: Annotated[str | None, typer.Option("--reach", help=t("plan.opt.reach"))] = None,
    post_goal: Annotated[
        str | None, typer.Option("--post-goal", help=t("plan.opt.post_goal"))
    ] = None,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Plan leads, intermediate goals and wins by month from a revenue target."""
    from royalroad.analysis.plan import parse_period, parse_points
    from royalroad.analysis.plan import plan as run

    if target is None:
        raise InputError("plan.needs_target")
    data, kpi = inputs.split_presets()
    kwargs: dict[str, Any] = {
        "target": parse_amount(target, "--target"),
        "period": period,
        "by": by,
        "goal": goal,
        "preset": kpi,
        "won_amount": parse_amount(won_amount, "--won-amount"),
        "p_goal_given_lead": parse_rate(p_goal_given_lead, "--p-goal-given-lead"),
        "p_win_given_goal": parse_rate(p_win_given_goal, "--p-win-given-goal"),
        "benchmark_to": benchmark_to,
        "segment": segment,
        "reach": reach,
        "post_goal": post_goal,
        "leads_per_month": _volume(leads_per_month),
    }
    parse_points(reach, "--reach")  # bad values are reported before any data is read
    parse_points(post_goal, "--post-goal")
    if period is not None:
        parse_period(period)
    if by not in ("month", "quarter"):
        raise InputError("plan.bad_by", value=by, allowed="month, quarter")
    if _has_data(data):
        from royalroad.analysis.goals import discover_goals
        from royalroad.pipeline import check_max_activities

        check_max_activities(max_activities)
        with (
            Progress(quiet=quiet) as progress,
            data.open(progress) as ws,
            ws.activity_cap(max_activities),
        ):
            from royalroad.pipeline import check_enough_closed

            check_enough_closed(ws)
            progress.update("plan.step.goal")
            goals = discover_goals(ws, **search.kwargs())
            result = run(ws, goals=goals, on_step=progress.update, **kwargs)
    else:
        result = run(None, **kwargs)
    if format is Format.json:
        typer.echo(result.to_json(), nl=False)
    elif not quiet:
        from royalroad.presenters.plan_terminal import render_plan

        render_plan(result, stdout())


@app.command(help=t("plan.cmd.track"))
@guarded
@with_groups(inputs=Inputs, search=GoalOptions)
def track(
    inputs: Inputs,
    search: GoalOptions,
    plan_file: Annotated[Path | None, typer.Option("--plan", help=t("plan.opt.plan_file"))] = None,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Actual vs planned leads, goals and wins, the pace and the goals needed to catch up."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.track import load_plan
    from royalroad.analysis.track import track as run
    from royalroad.pipeline import check_enough_closed, check_max_activities

    if plan_file is None:
        raise InputError("track.needs_plan")
    planned = load_plan(plan_file)  # a bad plan file is reported before any data is read
    if not _has_data(inputs):
        raise InputError("track.needs_data")
    check_max_activities(max_activities)
    with (
        Progress(quiet=quiet) as progress,
        inputs.open(progress) as ws,
        ws.activity_cap(max_activities),
    ):
        check_enough_closed(ws)
        progress.update("plan.step.goal")
        goals = discover_goals(ws, **search.kwargs())
        result = run(ws, planned, goals=goals, on_step=progress.update)
    if format is Format.json:
        typer.echo(result.to_json(), nl=False)
    elif not quiet:
        from royalroad.presenters.plan_terminal import render_track

        render_track(result, stdout())
