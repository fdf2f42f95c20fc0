"""The plan's parts beside its timing: the chain before the pipeline, the optimistic and
pessimistic scenarios, the benchmark test, the what-ifs, the notes, and what the plan
file keeps for ``track`` (the lag shapes and the rates' variances)."""

from __future__ import annotations

import math
from dataclasses import replace

from royalroad import stats
from royalroad.analysis import plan_project as proj
from royalroad.analysis.plan_model import PlanModel, month_label
from royalroad.analysis.plan_presets import KpiPreset
from royalroad.analysis.plan_result import Benchmark, PlanNote, Scenario, WhatIf


def projection(o: proj.Outlook) -> dict:
    """The period's forecast at the plan's volumes: means and variances (for any
    target's P(reaching it)) and the 80% bands."""
    wl, wh = o.wins_band()
    rl, rh = o.revenue_band()
    return {
        "wins": o.wins,
        "wins_var": o.wins_var,
        "wins_low": wl,
        "wins_high": wh,
        "revenue": o.revenue,
        "revenue_var": o.revenue_var,
        "revenue_low": rl,
        "revenue_high": rh,
        "booked_wins": o.booked_wins,
        "booked_revenue": o.booked_revenue,
    }


def scenario(name, model, m_s, x, creation, window, booked, target) -> Scenario:
    vols = {c: x for c in creation}
    judged = proj.outlook(model, vols, window, booked)
    under = proj.outlook(m_s, vols, window, booked)
    return Scenario(
        name=name,
        leads_per_month=x,
        new_leads=x * len(creation),
        goals=under.goals,
        wins=under.wins,
        p_reach_target=judged.p_reach(target),
    )


def p_win_lead(model: PlanModel) -> tuple[float, float, float]:
    p = model.p_win_lead
    sd = math.sqrt(model.var_p_win_lead)
    return p, max(p - stats.Z95 * sd, 0.0), min(p + stats.Z95 * sd, 1.0)


def needed(model: PlanModel, target: float) -> dict:
    """The chain before the pipeline and timing: base, optimistic and pessimistic."""

    def chain(m: PlanModel) -> tuple[float, float, float]:
        wins = target / m.amount.mean
        leads = wins / m.p_win_lead if m.p_win_lead > 0 else math.inf
        return wins, leads * m.p_goal.estimate, leads

    base, hi, lo = chain(model), chain(model.scenario("high")), chain(model.scenario("low"))

    def trio(i: int) -> tuple[float, float, float]:
        return base[i], min(hi[i], lo[i], base[i]), max(hi[i], lo[i], base[i])

    return {"wins_needed": trio(0), "goals_needed": trio(1), "leads_needed": trio(2)}


def benchmark(model, kp: KpiPreset | None, counts, bench_to) -> Benchmark | None:
    if kp is None:
        return None
    from scipy.stats import binomtest

    to = bench_to or kp.benchmark_to
    step_from = model.goal.label("ja") if model.source == "data" else kp.goal
    if model.source != "data":
        return Benchmark(
            kp.name,
            step_from,
            to,
            kp.benchmark_rate,
            None,
            None,
            None,
            None,
            None,
            None,
            measured=False,
        )
    k, n, found = counts
    if not found or n == 0:
        return Benchmark(
            kp.name, step_from, to, kp.benchmark_rate, None, None, None, None, None, None, found
        )
    lo, hi = stats.wilson(k, n)
    p = float(binomtest(k, n, kp.benchmark_rate).pvalue)
    return Benchmark(
        kp.name, step_from, to, kp.benchmark_rate, k, n, k / n, (float(lo), float(hi)), p, p < 0.05
    )


def what_ifs(model, volumes, window, creation, booked, target, total, d_reach, d_post):
    out = []
    for change, points in (("reach", d_reach), ("post_goal", d_post)):
        if points is None:
            continue
        field = "p_goal" if change == "reach" else "p_win_goal"
        before = getattr(model, field)
        moved = replace(model, **{field: before.shifted(points)})
        o = proj.outlook(moved, volumes, window, booked)
        out.append(
            WhatIf(
                change=change,
                points=points,
                before=before.estimate,
                after=getattr(moved, field).estimate,
                wins_effect=o.wins - total.wins,
                revenue_effect=o.revenue - total.revenue,
                leads_per_month_after=proj.steady_volume(moved, target, window, creation, booked),
                p_reach_after=o.p_reach(target),
            )
        )
    return tuple(out)


def notes(model, x, booked, first_new, start, creation, scenarios) -> list[PlanNote]:
    notes = []
    if model.assumptions():
        notes.append(PlanNote("plan.note.assumed"))
    if not creation:
        notes.append(PlanNote("plan.note.no_months"))
    elif x == 0:
        notes.append(PlanNote("plan.note.pipeline_covers"))
    if booked[0] > 0:
        notes.append(
            PlanNote(
                "plan.note.booked", {"wins": f"{booked[0]:,.0f}", "revenue": f"{booked[1]:,.0f}"}
            )
        )
    if creation and first_new < start:
        notes.append(
            PlanNote(
                "plan.note.lead_in", {"first": month_label(first_new), "start": month_label(start)}
            )
        )
    if model.source == "data" and model.amount.n < 30:
        notes.append(PlanNote("plan.note.few_wins", {"n": model.amount.n}))
    pess = next(s for s in scenarios if s.name == "pessimistic")
    base = next(s for s in scenarios if s.name == "base")
    if x > 0 and pess.leads_per_month <= base.leads_per_month:
        notes.append(
            PlanNote("plan.note.coin_flip_only", {"p": f"{100 * base.p_reach_target:.0f}%"})
        )
    elif x > 0:
        notes.append(
            PlanNote(
                "plan.note.coin_flip",
                {
                    "p": f"{100 * base.p_reach_target:.0f}%",
                    "leads": f"{pess.leads_per_month:,.1f}",
                    "p_pess": f"{100 * pess.p_reach_target:.0f}%",
                },
            )
        )
    if model.source == "data":
        notes.append(PlanNote("plan.note.stationary"))
    return notes


def _round(values) -> list[float]:
    return [round(float(v), 6) for v in values]


def lag_dict(model: PlanModel) -> dict:
    return {
        "median_days": {
            k: model.medians.get(k) for k in ("lead_to_goal", "goal_to_win", "lead_to_win")
        },
        "lead_to_win_by_month": _round(model.shape_win),
        "lead_to_goal_by_month": _round(model.shape_goal),
        "goal_to_win_by_month": _round(model.shape_goal_win),
    }


def model_dict(model: PlanModel) -> dict:
    return {
        "p_goal_given_lead_var": model.p_goal.var,
        "p_win_given_goal_var": model.p_win_goal.var,
        "p_win_without_goal_var": model.p_win_no_goal.var,
        "p_goal_given_lead_n": model.p_goal.n,
        "p_win_given_goal_n": model.p_win_goal.n,
        "p_win_without_goal_n": model.p_win_no_goal.n,
        "won_amount_sd": model.amount.sd,
        "won_amount_var_mean": model.amount.var_mean,
        "closed": model.closed,
        "won": model.won,
    }
