"""The funnel (ファネル): leads from creation to the win, stage by stage.

How it works (``docs/statistics.md`` explains it for users):

1. **Stages.** By default the royal road's milestones, in road order, between every
   lead (``▶start``) and the win (``■won``); a road step that opens nearly every
   journey it is in (a trade-show card exchange, ≥ 90%) is how leads arrive, not a
   stage, and is left out (``sources``). Or the user's own list of activities.
2. **Counts in the engine** (:mod:`royalroad.analysis.funnel_queries`): one row per
   lead with when it reached each stage — *strict*: in order, each stage after the one
   before; *any*: each stage on its own — then one aggregate row of per-stage counts
   and medians, and per-day counts for the censored estimates. Only events strictly
   before the close (not after the as-of date) count.
3. **Rates.** Step conversion (of the leads at the stage before, the share that reached
   this one), cumulative conversion (share of all leads) and the win rate among the
   closed leads at the stage, each with a Wilson interval. Open leads have not had
   the time closed ones had, so "within d days" rates are cumulative incidences
   (Aalen–Johansen; closing without the stage is the competing event, open leads are
   censored), with a Wilson interval at the effective sample size.
4. **Cohorts** by creation month or quarter (and by a segment): reaching the goal
   and winning by day d, censored the same way; and **pipeline velocity**.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import funnel_queries as q
from royalroad.analysis.funnel_result import (
    COHORTS,
    MODES,
    Cohort,
    FunnelResult,
    Stage,
    Velocity,
    Within,
)
from royalroad.analysis.history import ENTRY_SHARE
from royalroad.analysis.journeys import START, WON
from royalroad.engine import Workspace
from royalroad.errors import InputError

DEFAULT_WITHIN: tuple[int, ...] = (30, 90, 180)
SHOWN_ACTIVITIES = 40
"""Activities listed in the "unknown stage" message, at most."""


def funnel(
    ws: Workspace,
    stages: Sequence[str] | None = None,
    *,
    mode: str = "strict",
    goals=None,
    paths=None,
    within: Sequence[int] = DEFAULT_WITHIN,
    cohort: str = "month",
    by: str | None = None,
) -> FunnelResult:
    """Leads at each stage from creation to the win, with honest rates.

    Parameters
    ----------
    ws : Workspace
        Canonical tables (see :func:`royalroad.ingest`).
    stages : sequence of str, optional
        Activities in funnel order; default the royal road's milestones.
    mode : {"strict", "any"}
        *strict*: a lead counts at a stage only if it passed every earlier one, in
        order; *any*: at every stage it reached.
    goals : GoalResult, optional
        The goal search's result (found here when not given): its goal is marked and
        its reach is followed by cohort.
    paths : PathsResult, optional
        The journey analysis (run here when needed for the default stages).
    within : sequence of int
        Days d of the censored rates "within d days".
    cohort : {"month", "quarter"}
        Creation period of the cohorts.
    by : str, optional
        A lead column (segment) to compare cohorts by as well.

    Examples
    --------
    >>> import royalroad as rr                                        # doctest: +SKIP
    >>> f = rr.funnel(ws, ["資料送付", "技術打合せ", "見積依頼"])       # doctest: +SKIP
    >>> f.stage("技術打合せ").step_rate                                 # doctest: +SKIP
    """
    named, mode, horizons, cohort = check_options(ws, stages, mode, within, cohort, by)
    events, leads = ws.table("events"), ws.table("leads")
    if goals is None:
        from royalroad.analysis.goals import discover_goals

        goals = discover_goals(ws)
    goal = goals.recommended
    sources: list[str] = []
    if named:
        chosen = named
    else:
        if paths is None:
            from royalroad.analysis.paths import analyse_paths

            paths = analyse_paths(ws, goals=goals)
        road = list(dict.fromkeys(s.activity for s in paths.royal_road if s.activity != WON))
        entries = _entries(events, road)
        chosen = [a for a in road if a not in entries]
        sources = [a for a in road if a in entries]
    k = len(chosen)
    goal_stage = None
    if goal is not None:
        target = goal.then or goal.activity
        goal_stage = target if target in chosen else None
    goal_times = q.goal_times(events, leads, goal) if goal is not None else None
    table = q.lead_stages(
        events,
        leads,
        chosen,
        mode,
        cohort=f"created_{cohort}",
        segment=by,
        goal=goal_times,
    )
    with ws.materialized(table, "funnel") as lt:
        row = q.summary(lt, k, mode).to_pyarrow().to_pylist()[0]
        inc = q.incidence(
            lt, k, mode, ws.as_of, goal=goal is not None, segment=by is not None
        ).execute()
    estimates = _estimates(inc, horizons)
    names = [START, *chosen, WON]
    result_stages = tuple(
        _stage(i, names, row, estimates, horizons, goal_stage) for i in range(k + 2)
    )
    proxies = {p.activity for p in goals.proxies}
    return FunnelResult(
        mode=mode,
        stages=result_stages,
        within=horizons,
        goal=goal,
        goal_stage=goal_stage,
        custom=bool(named),
        sources=tuple(sources),
        proxies=tuple(a for a in chosen if a in proxies),
        cohort_by=cohort,
        cohorts=_cohorts(estimates, "cohort", horizons, goal is not None),
        segment=by,
        segments=_cohorts(estimates, "segment", horizons, goal is not None) if by else (),
        velocity=_velocity(row),
        as_of=ws.meta().get("as_of"),
    )


def check_options(
    ws: Workspace,
    stages: Sequence[str] | None,
    mode: str,
    within: Sequence[int],
    cohort: str,
    by: str | None,
) -> tuple[list[str], str, tuple[int, ...], str]:
    """The options checked (one :class:`InputError` line each) and normalised: the named
    stages (empty for the default), the mode, the sorted days and the cohort period.
    The command line calls it before the goal search, so a typo fails at once."""
    if mode not in MODES:
        raise InputError("funnel.bad_mode", value=mode, allowed=", ".join(MODES))
    try:
        days = sorted({int(d) for d in within})
    except (TypeError, ValueError):
        raise InputError("funnel.bad_within", value=", ".join(map(str, within))) from None
    if not days or any(d <= 0 for d in days):
        raise InputError("funnel.bad_within", value=", ".join(map(str, within)))
    if cohort not in COHORTS:
        raise InputError("funnel.bad_cohort", value=cohort, allowed=", ".join(COHORTS))
    if by is not None and by not in ws.segments():
        raise InputError(
            "funnel.unknown_segment", value=by, allowed=", ".join(ws.segments()) or "-"
        )
    named = _known_stages(ws.table("events"), stages) if stages else []
    return named, mode, tuple(days), cohort


def _known_stages(events, stages: Sequence[str]) -> list[str]:
    """The user's stages, checked against the activities the analyses see."""
    chosen = [s.strip() for s in stages if s and s.strip()]
    known = set(q.known_activities(events).execute()["activity"].dropna().astype(str))
    for s in chosen:
        if s not in known:
            names = sorted(known)
            shown = ", ".join(names[:SHOWN_ACTIVITIES])
            if len(names) > SHOWN_ACTIVITIES:
                shown += ", …"
            raise InputError("funnel.unknown_stage", value=s, allowed=shown or "-")
    seen: set[str] = set()
    for s in chosen:
        if s in seen:
            raise InputError("funnel.duplicate_stage", value=s)
        seen.add(s)
    return chosen


def _entries(events, road: list[str]) -> set[str]:
    """Road steps that open at least ``ENTRY_SHARE`` of the journeys they are in."""
    if not road:
        return set()
    prof = q.entry_profile(events, road).execute()
    return {
        str(r.activity)
        for r in prof.itertuples()
        if r.leads > 0 and r.opened >= ENTRY_SHARE * r.leads
    }


Key = tuple[str, int, str | None]


def _estimates(inc: pd.DataFrame, horizons: tuple[int, ...]) -> dict[Key, dict]:
    """Per (series, stage, group): counts by status and the censored rates by day d."""
    out: dict[Key, dict] = {}
    inc = inc[inc.t.notna()]
    grp = inc.grp.astype(object).where(inc.grp.notna(), None)
    inc = inc.assign(grp=grp)
    for (series, stage, group), g in inc.groupby(["series", "stage", "grp"], dropna=False):
        key = (str(series), int(stage), None if _missing(group) else str(group))
        out[key] = incidence_estimate(g, horizons)
    return out


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def incidence_estimate(g: pd.DataFrame, horizons: Sequence[int]) -> dict:
    """Counts by status (``event``, ``competing``, ``censored``) and the cumulative
    incidence of the event by each horizon, from ``t, status, n`` rows."""
    wide = g.pivot_table(index="t", columns="status", values="n", aggfunc="sum", fill_value=0)
    wide = wide.sort_index()
    cols = {s: (wide[s].to_numpy(float) if s in wide else np.zeros(len(wide))) for s in q.STATUSES}
    counts = {s: int(cols[s].sum()) for s in q.STATUSES}
    n = sum(counts.values())
    times = wide.index.to_numpy(float)
    rates: list[Within] = []
    complete = False
    if n:
        _, cif, cif_other = stats.aalen_johansen(
            times, cols["event"], cols["competing"], cols["censored"]
        )
        se = stats.aalen_johansen_se(times, cols["event"], cols["competing"], cols["censored"])
        complete = 1.0 - cif[-1] - cif_other[-1] <= 1e-12  # every lead's story has ended
    for h in horizons:
        if not n or not (complete or times.max() >= h):
            rates.append(Within(int(h), None, None))
            continue
        rate = stats.value_at(times, cif, h)
        ci = stats.incidence_interval(rate, stats.value_at(times, se, h), n)
        rates.append(Within(int(h), rate, ci))
    return {**counts, "n": n, "within": tuple(rates)}


def _rate(k: int, n: int) -> tuple[float | None, tuple[float, float] | None]:
    if n <= 0:
        return None, None
    lo, hi = stats.wilson(k, n)
    return k / n, (float(lo), float(hi))


def _stage(
    i: int,
    names: list[str],
    row: dict,
    est: dict[Key, dict],
    horizons: tuple[int, ...],
    goal_stage: str | None,
) -> Stage:
    last = len(names) - 1
    n, n0 = int(row[f"n{i}"]), int(row["n0"])
    won, lost = int(row[f"won{i}"]), int(row[f"lost{i}"])
    previous = converted = drop = None
    step = step_ci = None
    if i > 0:
        previous, converted = int(row[f"n{i - 1}"]), int(row[f"conv{i}"])
        drop = previous - converted
        step, step_ci = _rate(converted, previous)
    cum, cum_ci = _rate(n, n0)
    win, win_ci = _rate(won, won + lost)
    empty = tuple(Within(h, None, None) for h in horizons)
    cumulative = est.get(("cumulative", i, None), {}).get("within", empty) if i else ()
    step_within = est.get(("step", i, None), {}).get("within", empty) if i > 1 else cumulative
    return Stage(
        stage=names[i],
        kind="start" if i == 0 else ("won" if i == last else "activity"),
        is_goal=names[i] == goal_stage,
        leads=n,
        won=won,
        lost=lost,
        open=int(row[f"open{i}"]),
        previous=previous,
        converted=converted,
        drop_off=drop,
        step_rate=step,
        step_rate_ci=step_ci,
        cumulative_rate=cum if cum is not None else math.nan,
        cumulative_rate_ci=cum_ci or (math.nan, math.nan),
        win_rate=win,
        win_rate_ci=win_ci,
        median_days=stats.finite(row.get(f"med{i}")),
        median_days_from_start=stats.finite(row.get(f"start{i}")),
        step_within=tuple(step_within),
        cumulative_within=tuple(cumulative),
    )


def _cohorts(
    est: dict[Key, dict], name: str, horizons: tuple[int, ...], has_goal: bool
) -> tuple[Cohort, ...]:
    groups = sorted(
        {g for (series, _, g) in est if series == f"{name}_win"},
        key=lambda g: (g is None, g or ""),
    )
    out = []
    for g in groups:
        win = est[(f"{name}_win", 0, g)]
        goal = est.get((f"{name}_goal", 0, g)) if has_goal else None
        out.append(
            Cohort(
                group=g,
                leads=win["n"],
                won=win["event"],
                lost=win["competing"],
                open=win["censored"],
                reached_goal=goal["event"] if goal else None,
                goal_within=goal["within"] if goal else (),
                win_within=win["within"],
            )
        )
    return tuple(out)


def _velocity(row: dict) -> Velocity:
    """Open leads × win rate × mean won amount ÷ median cycle days (revenue per day)."""
    won, lost, open_ = int(row["won0"]), int(row["lost0"]), int(row["open0"])
    rate, rate_ci = _rate(won, won + lost)
    amount_n = int(row["amount_n"] or 0)
    mean = stats.finite(row["amount_mean"]) if amount_n else None
    mean_ci = None
    sd = stats.finite(row["amount_sd"])
    if mean is not None and amount_n > 1 and sd is not None:
        from scipy.stats import t as student

        half = float(student.ppf(0.975, amount_n - 1)) * sd / math.sqrt(amount_n)
        mean_ci = (mean - half, mean + half)
    cycle = stats.finite(row["cycle_median"])
    per_day = per_range = None
    if rate is not None and rate_ci is not None and mean is not None and cycle and cycle > 0:
        per_day = open_ * rate * mean / cycle
        per_range = (open_ * rate_ci[0] * mean / cycle, open_ * rate_ci[1] * mean / cycle)
    return Velocity(
        open_leads=open_,
        won=won,
        lost=lost,
        win_rate=rate,
        win_rate_ci=rate_ci,
        mean_won_amount=mean,
        mean_won_amount_ci=mean_ci,
        amount_n=amount_n,
        median_cycle_days=cycle,
        cycle_n=int(row["cycle_n"] or 0),
        per_day=per_day,
        per_day_range=per_range,
    )


__all__ = ["DEFAULT_WITHIN", "check_options", "funnel"]
