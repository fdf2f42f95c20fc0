"""The reverse plan: from a revenue target back to wins, goals and leads, by month.

How it works (``docs/statistics.md``, "Reverse plan", explains it for users):

1. **The chain.** wins needed = target ÷ mean won amount; leads needed = wins ÷
   P(win | lead), with P(win | lead) = g·w₁ + (1 − g)·w₀ (g = P(goal | lead), censored
   by cumulative incidence; w₁ = P(win | goal); w₀ = P(win | no goal)); goals needed =
   leads × g — the wins that pass the goal ÷ P(win | goal). Each carries a band from
   the rates' 95% intervals.
2. **Timing.** New leads are created at the same volume every month, from the first
   month whose leads still close in the period (the lag) or the month after the data
   end, to the period's end; what each month's leads bring to each later month is the
   whole lag distribution, convolved with the creation days
   (:mod:`~royalroad.analysis.plan_lags`).
3. **The open pipeline** brings its expected wins in the months it is expected to
   close; revenue already booked in the period counts. The volume of new leads is what
   makes the expected revenue equal to the target.
4. **Uncertainty** is computed (:mod:`~royalroad.analysis.plan_project`): outcomes,
   estimated rates and amounts, so the same data give the same bytes. The optimistic
   and pessimistic plans put every estimated rate at one end of its interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from royalroad.analysis import plan_data as pdata
from royalroad.analysis import plan_parts as parts
from royalroad.analysis import plan_project as proj
from royalroad.analysis.plan_model import PlanModel, month_index, month_label
from royalroad.analysis.plan_presets import preset as get_preset
from royalroad.analysis.plan_result import (
    Assumption,
    PlanPeriod,
    PlanResult,
)
from royalroad.analysis.plan_segments import segment_rows
from royalroad.engine import Workspace
from royalroad.errors import InputError

MAX_MONTHS = 60
BY = ("month", "quarter")
_PERIOD = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*(?:\.\.\s*(\d{4})-(\d{1,2})\s*)?$")


def parse_period(text: str) -> tuple[int, int]:
    """``2026-04..2027-03`` (or one month, ``2026-04``) → first and last month index.

    >>> [month_label(m) for m in parse_period("2026-04..2027-03")]
    ['2026-04', '2027-03']
    """
    found = _PERIOD.match(text or "")
    if not found:
        raise InputError("plan.bad_period", value=text, max=MAX_MONTHS)
    y1, m1, y2, m2 = found.groups()
    y2, m2 = (y2, m2) if y2 else (y1, m1)
    if not (1 <= int(m1) <= 12 and 1 <= int(m2) <= 12):
        raise InputError("plan.bad_period", value=text, max=MAX_MONTHS)
    start, end = int(y1) * 12 + int(m1) - 1, int(y2) * 12 + int(m2) - 1
    if end < start or end - start + 1 > MAX_MONTHS:
        raise InputError("plan.bad_period", value=text, max=MAX_MONTHS)
    return start, end


def parse_points(text: str | float | None, option: str) -> float | None:
    """``+5pt`` / ``-2.5`` / ``5`` (percentage points) → 0.05 / −0.025 / 0.05."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text) / 100
    found = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*(?:pt|pts|points?|ポイント)?\s*", str(text))
    if not found or abs(float(found.group(1))) > 100:
        raise InputError("plan.bad_points", option=option, value=text)
    return float(found.group(1)) / 100


def _check(target, by, won_amount, p_goal, p_win) -> None:
    if not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise InputError("plan.bad_target", value=target)
    if by not in BY:
        raise InputError("plan.bad_by", value=by, allowed=", ".join(BY))
    if won_amount is not None and (not math.isfinite(won_amount) or won_amount <= 0):
        raise InputError("plan.bad_won_amount", value=won_amount)
    for option, value in (("--p-goal-given-lead", p_goal), ("--p-win-given-goal", p_win)):
        if value is not None and not (0 < value <= 1):
            raise InputError("plan.bad_rate", option=option, value=value)


def plan(
    ws: Workspace | None = None,
    *,
    target: float,
    period: str | None = None,
    by: str = "month",
    goals=None,
    actions=None,
    goal: str | None = None,
    preset: str | None = None,
    won_amount: float | None = None,
    p_goal_given_lead: float | None = None,
    p_win_given_goal: float | None = None,
    benchmark_to: str | None = None,
    segment: str | None = None,
    reach: str | float | None = None,
    post_goal: str | float | None = None,
    leads_per_month: float | Mapping[str, float] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> PlanResult:
    """Plan the leads, intermediate goals and wins a revenue target needs, month by month.

    Parameters
    ----------
    ws : Workspace, optional
        The data. Without it, ``preset`` and ``won_amount`` build the plan from the
        article's benchmark and the preset's stated assumptions.
    target : float
        Revenue to book in the period.
    period : str
        ``2026-04..2027-03``; default: the twelve months after the data end.
    by : {"month", "quarter"}
    goals, actions : GoalResult, NextResult, optional
        The goal search's and the next best action's results when they have run
        already (:func:`royalroad.analyse` has both); else they run here.
    goal : str, optional
        Plan for this activity ("at least once") instead of the recommended goal.
    preset : {"saas", "manufacturing", "education", "consulting"}, optional
        With data: compare the team's rate with the article's benchmark. Without:
        the rates the plan assumes.
    won_amount, p_goal_given_lead, p_win_given_goal : float, optional
        The user's own numbers: they replace the data's (or the preset's) and are
        labelled as assumptions.
    benchmark_to : str, optional
        The activity the benchmark step leads to, when the data name it differently.
    segment : str, optional
        A lead column: the plan broken down by its values, each with its own rates.
    reach, post_goal : str or float, optional
        What-if: move P(goal | lead) or P(win | goal) by points (``"+5pt"``).
    leads_per_month : float or mapping, optional
        The new leads the team will create (a number a month, or ``{"2026-04": 310,
        …}``) instead of the volume the target needs: the plan then says what that
        volume is expected to bring and how likely it reaches the target.
    on_step : callable, optional
        Called with a catalogue key as each step starts (a progress display).

    Examples
    --------
    >>> import royalroad as rr
    >>> p = rr.plan(target=120_000_000, period="2026-04..2027-03",
    ...             preset="manufacturing", won_amount=5_000_000)
    >>> round(p.wins_needed[0])
    24
    """
    _check(target, by, won_amount, p_goal_given_lead, p_win_given_goal)
    kp = get_preset(preset) if preset else None
    d_reach, d_post = parse_points(reach, "--reach"), parse_points(post_goal, "--post-goal")
    booked: dict[int, tuple[float, float]] = {}
    bench_counts = seg = None
    if ws is None:
        if kp is None:
            raise InputError("plan.needs_input")
        if won_amount is None:
            raise InputError("plan.needs_won_amount", preset=kp.name)
        if period is None:
            raise InputError("plan.needs_period")
        start, end = parse_period(period)
        model = pdata.from_preset(kp, won_amount, p_goal_given_lead, p_win_given_goal)
        first_new = start - proj.lead_in(model.shape_win)
    else:
        cand, goals, actions = _goal(ws, goals, actions, goal, on_step or (lambda key: None))
        first_new = pdata.first_new_month(ws.as_of)
        start, end = parse_period(period) if period else (first_new, first_new + 11)
        if end < month_index(ws.as_of):
            raise InputError("plan.period_in_past", value=period, as_of=f"{ws.as_of:%Y-%m-%d}")
        bench_to = benchmark_to or (kp.benchmark_to if kp else None)
        parts = pdata.from_data(
            ws,
            goals,
            cand,
            actions,
            start=start,
            segment=_segment(ws, segment),
            bench_activity=bench_to if bench_to and bench_to != "won" else None,
        )
        model, booked, bench_counts, seg = parts.model, parts.booked, parts.bench, parts.segments
        if bench_to == "won":
            bench_counts = (cand.won, cand.won + cand.lost, True)
        model = _override(model, won_amount, p_goal_given_lead, p_win_given_goal)
        first_new = max(first_new, start - proj.lead_in(model.shape_win))
    if not model.amount.mean > 0:  # no amounts in the data, and none given
        raise InputError("plan.no_amount")
    if not model.p_win_lead > 0:
        raise InputError("plan.nothing_wins", goal=model.goal.label())
    return _build(
        model,
        target,
        start,
        end,
        by,
        first_new,
        booked,
        kp,
        bench_counts,
        benchmark_to,
        seg,
        segment,
        d_reach,
        d_post,
        leads_per_month,
    )


def _goal(ws: Workspace, goals, actions, name: str | None, step: Callable[[str], None]):
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.nba import next_best_actions
    from royalroad.pipeline import check_enough_closed

    check_enough_closed(ws)
    step("plan.step.goal")
    goals = goals if goals is not None else discover_goals(ws)
    if name is None:
        cand = goals.recommended
        if cand is None:
            raise InputError("plan.no_goal", reason=goals.sentence())
    else:
        cand = next((c for c in goals.candidates if c.key == (name, None, 1, None)), None)
        if cand is None:
            known = sorted({c.activity for c in goals.candidates if c.then is None})
            raise InputError("plan.unknown_goal", value=name, allowed=", ".join(known[:20]))
        if cand.outcome_proxy:
            raise InputError("plan.goal_is_proxy", value=name)
    if not same_goal(actions, cand):
        step("plan.step.actions")
        actions = next_best_actions(ws, goals=goals, goal=cand)
    step("plan.step.plan")
    return cand, goals, actions


def same_goal(actions, cand) -> bool:
    """Whether a next-best-action result was computed for the goal ``cand``."""
    return actions is not None and actions.goal in (cand.label("en"), cand.label("ja"))


def _segment(ws: Workspace, segment: str | None) -> str | None:
    if segment is None:
        return None
    known = ws.segments()
    if segment not in known:
        raise InputError("plan.unknown_segment", value=segment, allowed=", ".join(known) or "-")
    return segment


def _override(model: PlanModel, amount, p_goal, p_win) -> PlanModel:
    from royalroad.analysis.plan_model import Amount, Rate

    if amount is not None:
        a = model.amount
        cv = a.sd / a.mean if a.mean and math.isfinite(a.mean) else 0.0
        model = replace(model, amount=Amount.assume(amount, cv, "user"))
    if p_goal is not None:
        model = replace(model, p_goal=Rate.assume(p_goal, "user"))
    if p_win is not None:
        model = replace(model, p_win_goal=Rate.assume(p_win, "user"))
    return model


def _chunks(months: list[int], start: int, by: str) -> list[list[int]]:
    """Months grouped into periods: one each, or quarters counted from the period's start
    (the lead-in months before it grouped backwards the same way)."""
    if by == "month":
        return [[m] for m in months]
    groups: dict[int, list[int]] = {}
    for m in months:
        groups.setdefault((m - start) // 3, []).append(m)
    return [groups[k] for k in sorted(groups)]


def _label(chunk: list[int]) -> str:
    a, b = month_label(chunk[0]), month_label(chunk[-1])
    return a if a == b else f"{a}..{b}"


def _volumes(given, creation: list[int]) -> dict[int, float]:
    """The user's volume of new leads per creation month (a number, or by month)."""
    if isinstance(given, Mapping):
        by_month = {parse_period(str(k))[0]: float(v) for k, v in given.items()}
        out = {c: by_month.get(c, 0.0) for c in creation}
    else:
        out = dict.fromkeys(creation, float(given))
    if any(not math.isfinite(v) or v < 0 for v in out.values()):
        raise InputError("plan.bad_volume", value=given)
    return out


def _build(
    model,
    target,
    start,
    end,
    by,
    first_new,
    booked,
    kp,
    bench_counts,
    bench_to,
    seg,
    segment,
    d_reach,
    d_post,
    given=None,
) -> PlanResult:
    window = list(range(start, end + 1))
    creation = list(range(first_new, end + 1))
    booked_total = (
        sum(v[0] for m, v in booked.items() if m in window),
        sum(v[1] for m, v in booked.items() if m in window),
    )
    if given is None:
        x = proj.steady_volume(model, target, window, creation, booked_total)
        if not math.isfinite(x):
            raise InputError("plan.nothing_wins", goal=model.goal.label())
        volumes = {c: x for c in creation}
    else:
        volumes = _volumes(given, creation)
        x = sum(volumes.values()) / len(creation) if creation else 0.0
    total = proj.outlook(model, volumes, window, booked_total)
    scenarios = [parts.scenario("base", model, model, x, creation, window, booked_total, target)]
    for name, end_ in (("optimistic", "high"), ("pessimistic", "low")):
        m_s = model.scenario(end_)
        x_s = proj.steady_volume(m_s, target, window, creation, booked_total)
        scenarios.append(
            parts.scenario(name, model, m_s, x_s, creation, window, booked_total, target)
        )
    periods = []
    shown = sorted(set(creation) | set(window))
    for chunk in _chunks(shown, start, by):
        b = (
            sum(booked.get(m, (0.0, 0.0))[0] for m in chunk),
            sum(booked.get(m, (0.0, 0.0))[1] for m in chunk),
        )
        o = proj.outlook(model, volumes, chunk, b)
        wl, wh = o.wins_band()
        rl, rh = o.revenue_band()
        periods.append(
            PlanPeriod(
                period=_label(chunk),
                start=month_label(chunk[0]),
                end=month_label(chunk[-1]),
                in_target=chunk[0] >= start,
                leads=sum(volumes.get(m, 0.0) for m in chunk),
                goals=o.goals,
                wins=o.wins,
                wins_low=wl,
                wins_high=wh,
                wins_from_pipeline=o.pipeline_wins,
                wins_from_new=o.new_wins,
                revenue=o.revenue,
                revenue_low=rl,
                revenue_high=rh,
                revenue_from_pipeline=o.pipeline_revenue,
                revenue_from_new=o.new_revenue,
                booked_revenue=b[1],
            )
        )
    new_goals = proj.outlook(replace(model, pipeline=None), volumes, window).goals
    pipe = model.pipeline
    pw, pr = total.pipeline_wins_band(), total.pipeline_revenue_band()
    pipeline = {
        "leads": pipe.leads if pipe else 0,
        "sales_ready": pipe.sales_ready if pipe else 0,
        "wins": total.pipeline_wins,
        "wins_low": pw[0],
        "wins_high": pw[1],
        "revenue": total.pipeline_revenue,
        "revenue_low": pr[0],
        "revenue_high": pr[1],
        "wins_any_time": pipe.wins if pipe else 0.0,
        "revenue_any_time": pipe.revenue if pipe else 0.0,
    }
    new = {
        "leads_per_month": x,
        "given": given is not None,
        "leads": sum(volumes.values()),
        "months": len(creation),
        "goals": new_goals,
        "wins": total.new_wins,
        "revenue": total.new_revenue,
    }
    benchmark = parts.benchmark(model, kp, bench_counts, bench_to)
    what_if = parts.what_ifs(
        model, volumes, window, creation, booked_total, target, total, d_reach, d_post
    )
    rows = segment_rows(seg, x * len(creation), target) if seg is not None else ()
    notes = parts.notes(model, x, booked_total, first_new, start, creation, scenarios)
    return PlanResult(
        target=float(target),
        start=month_label(start),
        end=month_label(end),
        by=by,
        as_of=str(model.as_of) if model.as_of else None,
        source=model.source,
        preset=kp.name if kp else None,
        goal=model.goal,
        amount=model.amount,
        p_goal=model.p_goal,
        p_win_goal=model.p_win_goal,
        p_win_no_goal=model.p_win_no_goal,
        p_win_lead=parts.p_win_lead(model),
        share_via_goal=model.share_via_goal,
        **parts.needed(model, target),
        booked=booked_total,
        pipeline=pipeline,
        new=new,
        p_reach_target=total.p_reach(target),
        projection=parts.projection(total),
        scenarios=tuple(scenarios),
        periods=tuple(periods),
        creation=(month_label(creation[0]), month_label(creation[-1])) if creation else ("", ""),
        lags=parts.lag_dict(model),
        assumptions=tuple(Assumption(n, v, s) for n, v, s in model.assumptions()),
        model=parts.model_dict(model),
        benchmark=benchmark,
        what_if=what_if,
        segment=segment,
        segments=tuple(rows),
        notes=tuple(notes),
    )


__all__ = ["parse_period", "parse_points", "plan"]
