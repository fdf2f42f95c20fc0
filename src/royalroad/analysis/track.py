"""Tracking pace: a plan file beside the data as they are now.

1. **Actuals.** Leads created, goals reached (the plan's goal milestone, counted in
   the month the lead reached it) and wins closed (count and revenue) per month, from
   the engine, summed into the plan's periods.
2. **Pace.** Actual ÷ planned so far, where a period under way counts the planned
   figure in proportion to its days gone. Leads and goals count every period of the
   plan (the lead-in months too); wins and revenue the target's periods only.
3. **Projection.** Revenue booked so far in the period, plus the open pipeline as it is
   now (each open lead's P(win) and timing), plus the plan's volume of new leads for
   the months left, at the rates the data show now — with its 80% band and the
   probability of reaching the target (:mod:`~royalroad.analysis.plan_project`).
4. **The gap** in the unit a team manages: the intermediate goals needed per
   remaining month. A goal reached in month j brings P(win | goal) × (the share of
   goal → win lags that end by the period's end) wins of the mean amount; the
   shortfall divided by that, spread evenly over the months left, is the extra goals
   a month, on top of those the projection already expects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from royalroad.analysis import plan_data as pdata
from royalroad.analysis import plan_project as proj
from royalroad.analysis.plan import parse_period, same_goal
from royalroad.analysis.plan_model import GoalRef, month_index, month_label
from royalroad.analysis.plan_result import PLAN_KIND
from royalroad.analysis.track_result import TrackPeriod, TrackResult
from royalroad.engine import Workspace
from royalroad.errors import InputError

MIN_MONTHS_LEFT = 7 / (365.25 / 12)
"""Below a week left in the period, no number of goals a month is a plan: "too late"."""


@dataclass(frozen=True)
class PlanFile:
    """What ``track`` reads from a plan file (``plan --format json``)."""

    target: float
    start: int
    end: int
    goal: GoalRef
    periods: tuple[dict, ...]
    leads_per_month: float
    creation: tuple[int, int] | None

    @classmethod
    def from_dict(cls, d: Any, file: str = "-") -> PlanFile:
        def bad(detail: str) -> InputError:
            return InputError("track.bad_plan_file", file=file, detail=detail)

        if not isinstance(d, dict) or d.get("kind") != PLAN_KIND:
            raise bad("kind ≠ royalroad.plan")
        try:
            target = float(d["target"])
            start, end = parse_period(f"{d['period']['start']}..{d['period']['end']}")
            g = d["goal"]
            goal = GoalRef(
                str(g["activity"]),
                g.get("then"),
                int(g.get("min_count") or 1),
                g.get("within_days"),
                str(g.get("label") or g["activity"]),
                str(g.get("label_ja") or g.get("label") or g["activity"]),
            )
            periods = tuple(
                {
                    "period": str(p["period"]),
                    "start": parse_period(str(p["start"]))[0],
                    "end": parse_period(str(p["end"]))[0],
                    "in_target": bool(p["in_target"]),
                    **{k: float(p[k] or 0.0) for k in ("leads", "goals", "wins", "revenue")},
                }
                for p in d["periods"]
            )
            x = float(d["leads_per_month"] or 0.0)
            cm = d.get("creation_months") or {}
            creation = (
                (parse_period(cm["first"])[0], parse_period(cm["last"])[0])
                if cm.get("first")
                else None
            )
        except (KeyError, TypeError, ValueError, InputError) as exc:
            detail = exc.args[0] if isinstance(exc, KeyError) else type(exc).__name__
            raise bad(f"{detail}") from None
        if not (math.isfinite(target) and target > 0) or not periods or not math.isfinite(x):
            raise bad("target, periods or leads_per_month")
        return cls(target, start, end, goal, periods, x, creation)


def load_plan(path: str | Path) -> PlanFile:
    """Read and check a plan file; anything else is one line, exit code 2."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("track.no_plan_file", file=str(p)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("track.bad_plan_file", file=str(p), detail=type(exc).__name__) from None
    return PlanFile.from_dict(data, str(p))


def _elapsed(month: int, as_of: datetime) -> float:
    """Share of the calendar month ``month`` before ``as_of`` (0 … 1)."""
    y, m = divmod(month, 12)
    first = datetime(y, m + 1, 1)
    y2, m2 = divmod(month + 1, 12)
    last = datetime(y2, m2 + 1, 1)
    moment = as_of.replace(tzinfo=None)
    share = (moment - first).total_seconds() / (last - first).total_seconds()
    return min(max(share, 0.0), 1.0)


def _period_elapsed(p: dict, as_of: datetime) -> float:
    return float(np.mean([_elapsed(m, as_of) for m in range(p["start"], p["end"] + 1)]))


def track(
    ws: Workspace,
    plan: PlanFile | dict | str | Path,
    *,
    goals=None,
    actions=None,
    on_step: Callable[[str], None] | None = None,
) -> TrackResult:
    """Actual vs planned leads, goals and wins per period, the pace, the projected result
    and the goals needed per remaining month to get back on plan.

    Examples
    --------
    >>> import royalroad as rr                                   # doctest: +SKIP
    >>> p = rr.plan(ws_last_year, target=8e9, period="2025-04..2026-03")  # doctest: +SKIP
    >>> rr.track(ws_now, p.to_dict()).sentence("en")               # doctest: +SKIP
    """
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.nba import next_best_actions
    from royalroad.pipeline import check_enough_closed

    if isinstance(plan, dict):
        plan = PlanFile.from_dict(plan)
    elif not isinstance(plan, PlanFile):
        plan = load_plan(plan)
    step = on_step or (lambda key: None)
    check_enough_closed(ws)
    step("plan.step.goal")
    goals = goals if goals is not None else discover_goals(ws)
    g = plan.goal
    key = (g.activity, g.then, g.min_count, g.within_days)
    cand = next((c for c in goals.candidates if c.key == key), None)
    if cand is None or cand.outcome_proxy:
        raise InputError("track.goal_not_found", goal=g.label())
    step("plan.step.actions")
    if not same_goal(actions, cand):
        actions = next_best_actions(ws, goals=goals, goal=cand)
    step("plan.step.track")
    parts = pdata.from_data(ws, goals, cand, actions, start=plan.start)
    return _result(plan, parts, ws.as_of)


def _actual(parts: pdata.DataParts, what: str) -> dict[int, tuple[float, float]]:
    a = parts.actuals[parts.actuals.what == what]
    return {int(r.month): (float(r.n), float(r.amount)) for r in a.itertuples()}


def _result(plan: PlanFile, parts: pdata.DataParts, as_of: datetime) -> TrackResult:
    model = parts.model
    now = month_index(as_of)
    window = list(range(plan.start, plan.end + 1))
    acts = {w: _actual(parts, w) for w in ("leads", "goals", "wins")}
    booked = (
        sum(acts["wins"].get(m, (0.0, 0.0))[0] for m in window),
        sum(acts["wins"].get(m, (0.0, 0.0))[1] for m in window),
    )
    volumes: dict[int, float] = {}
    if plan.creation is not None:
        for m in range(max(plan.creation[0], now), plan.creation[1] + 1):
            left = 1.0 - _elapsed(m, as_of)
            if left > 0:
                volumes[m] = plan.leads_per_month * left
    total = proj.outlook(model, volumes, window, booked)
    periods, to_date = (
        [],
        dict.fromkeys(
            [
                f"{k}_{w}"
                for k in ("planned", "actual")
                for w in ("leads", "goals", "wins", "revenue")
            ],
            0.0,
        ),
    )
    for p in plan.periods:
        months = list(range(p["start"], p["end"] + 1))
        elapsed = _period_elapsed(p, as_of)
        status = "done" if elapsed >= 1 else ("ahead" if elapsed <= 0 else "current")
        actual: dict[str, float | None] = dict.fromkeys(("leads", "goals", "wins", "revenue"))
        if status != "ahead":
            actual = {
                "leads": sum(acts["leads"].get(m, (0.0, 0.0))[0] for m in months),
                "goals": sum(acts["goals"].get(m, (0.0, 0.0))[0] for m in months),
                "wins": sum(acts["wins"].get(m, (0.0, 0.0))[0] for m in months),
                "revenue": sum(acts["wins"].get(m, (0.0, 0.0))[1] for m in months),
            }
        rest = (
            proj.outlook(model, volumes, [m for m in months if m >= now]) if elapsed < 1 else None
        )
        periods.append(
            TrackPeriod(
                period=p["period"],
                start=month_label(p["start"]),
                end=month_label(p["end"]),
                in_target=p["in_target"],
                status=status,
                elapsed=elapsed,
                planned_leads=p["leads"],
                planned_goals=p["goals"],
                planned_wins=p["wins"],
                planned_revenue=p["revenue"],
                actual_leads=actual["leads"],
                actual_goals=actual["goals"],
                actual_wins=actual["wins"],
                actual_revenue=actual["revenue"],
                expected_wins=rest.wins if rest else 0.0,
                expected_revenue=rest.revenue if rest else 0.0,
            )
        )
        for w in ("leads", "goals", "wins", "revenue"):
            if w in ("wins", "revenue") and not p["in_target"]:
                continue
            to_date[f"planned_{w}"] += p[w] * elapsed
            to_date[f"actual_{w}"] += actual[w] or 0.0
    pace = {
        w: (to_date[f"actual_{w}"] / to_date[f"planned_{w}"]) if to_date[f"planned_{w}"] else None
        for w in ("leads", "goals", "wins", "revenue")
    }
    wl, wh = total.wins_band()
    rl, rh = total.revenue_band()
    projected = {
        "revenue": total.revenue,
        "revenue_low": rl,
        "revenue_high": rh,
        "wins": total.wins,
        "wins_low": wl,
        "wins_high": wh,
        "booked_wins": booked[0],
        "booked_revenue": booked[1],
        "from_open_pipeline": total.pipeline_revenue,
        "from_new_leads": total.new_revenue,
    }
    return TrackResult(
        target=plan.target,
        start=month_label(plan.start),
        end=month_label(plan.end),
        as_of=str(as_of),
        goal=plan.goal.label("en"),
        goal_ja=plan.goal.label("ja"),
        periods=tuple(periods),
        to_date=to_date,
        pace=pace,
        projected=projected,
        p_reach_target=total.p_reach(plan.target),
        gap=_gap(plan, model, volumes, now, as_of, total),
    )


def _gap(plan: PlanFile, model, volumes, now: int, as_of: datetime, total) -> dict:
    """Extra goals per remaining month that close the projected shortfall in time.

    The months left are the period's months not over yet, the current one counted by the
    share of its days still to come; a goal reached in month m brings P(win | goal) ×
    (the share of goal → win lags that end by the period's end) wins of the mean amount.
    """
    left = {m: 1 - _elapsed(m, as_of) for m in range(max(plan.start, now), plan.end + 1)}
    left = {m: share for m, share in left.items() if share > 0}
    months_left = sum(left.values())
    shortfall = plan.target - total.revenue
    planned = sum(
        p["goals"] * (1 - _period_elapsed(p, as_of)) for p in plan.periods if p["in_target"]
    )
    expected = proj.outlook(model, volumes, list(left)).goals if left else 0.0
    mu = model.amount.mean
    out: dict[str, Any] = {
        "shortfall": shortfall,
        "extra_wins": max(shortfall, 0.0) / mu if mu > 0 else None,
        "remaining_months": months_left,
        "goals_per_month_planned": planned / months_left if months_left > 0 else None,
        "goals_per_month_expected": expected / months_left if months_left > 0 else None,
        "extra_goals_per_month": None,
        "goals_per_month_needed": None,
    }
    if months_left < MIN_MONTHS_LEFT:
        return out
    closes = np.cumsum(model.shape_goal_win)
    value = mu * model.p_win_goal.estimate
    per_goal = sum(
        share * value * float(closes[min(plan.end - m, closes.size - 1)])
        for m, share in left.items()
    )
    if per_goal <= 0:
        return out
    extra = max(shortfall, 0.0) / per_goal
    out["extra_goals_per_month"] = extra
    out["goals_per_month_needed"] = (out["goals_per_month_expected"] or 0.0) + extra
    return out


__all__ = ["PlanFile", "load_plan", "track"]
