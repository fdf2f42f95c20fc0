"""Intermediate-goal discovery (中間ゴール): ranked, honest, leakage-proof.

How it works (``docs/statistics.md`` explains it for users):

1. **Candidates.** Every activity × at least k times (1…K) × within d days of
   creation (a grid, plus "any time"), and ordered pairs "A then B" among the most
   frequent activities. Counts come from the engine in a few set-based queries
   (:mod:`royalroad.analysis.milestones`); only events strictly before the close
   (or the as-of date for open leads) count.
2. **Evidence** (:mod:`~royalroad.analysis.goals_select`). Among *closed* leads
   (open leads are censored, never lost): win rate with a Wilson interval, lift,
   recall, PPV/NPV/specificity, MCC, odds ratio with interval, Fisher exact p, and a
   Benjamini–Hochberg q over every candidate tried. With ``adjust``, a
   Mantel–Haenszel odds ratio stratified by segments
   (:mod:`~royalroad.analysis.goals_strata`).
3. **Proxies.** Activities that are part of the outcome (nearly one class only,
   concentrated at the close, or logged after it) are flagged and never
   recommended.
4. **Recommendation.** Eligible = not a proxy, q < alpha, enough wins, adjusted
   effect holds, not a stage (base-aware lift floor), passed by at least
   ``min_recall`` of wins with MCC ≥ ``min_mcc``. Ranked by MCC; within
   ``near_equal`` of the best, the simplest variant and then the earliest wins. The
   top of the ranking must also hold within creation quarters (cohorts), else it
   drifted in with the times and is passed over. Without a goal, the best real but
   not goal-sized effect is the *lead to watch*.
5. **After the choice.** Every candidate's odds ratio among the goal's reachers
   (:mod:`~royalroad.analysis.goals_followers`), and, without ``adjust``, a hint
   naming a segment within which the top candidates' effects shrink a lot.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import goals_select as sel
from royalroad.analysis import goals_strata as strata_
from royalroad.analysis import milestones as m
from royalroad.analysis.goals_followers import given_goal
from royalroad.analysis.goals_result import (
    Candidate,
    Caveat,
    GoalResult,
    Incidence,
    ProxyFlag,
)
from royalroad.engine import Workspace
from royalroad.errors import InputError

DEFAULT_WINDOWS: tuple[int, ...] = (7, 14, 30, 60, 90, 180)
DEFAULT_MIN_LIFT = sel.DEFAULT_MIN_LIFT
DEFAULT_MIN_RECALL = sel.DEFAULT_MIN_RECALL
DEFAULT_MIN_MCC = sel.DEFAULT_MIN_MCC
PERIOD_SEGMENTS = m.PERIOD_SEGMENTS
MIN_CLOSED = sel.MIN_CLOSED
MIN_PER_CLASS = sel.MIN_PER_CLASS
PROXY_PURITY = 0.98
PROXY_PURITY_MIN_N = 20
PROXY_AT_CLOSE_DAYS = 1.0
PROXY_AT_CLOSE_POSITION = 0.8
PROXY_AFTER_CLOSE_SHARE = 0.5
COHORT_BATCH = 10
"""Eligible candidates (best of each family, beyond the near-equals) checked within
creation cohorts per engine query."""
HINT_FAMILIES = 8
"""Top families (significant, positive, not proxies) checked for a confounding hint."""


def discover_goals(
    ws: Workspace,
    *,
    max_count: int = 5,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    pairs: int = 12,
    adjust: Sequence[str] = (),
    not_proxy: Sequence[str] = (),
    alpha: float = 0.05,
    min_lift: float = DEFAULT_MIN_LIFT,
    min_recall: float = DEFAULT_MIN_RECALL,
    min_mcc: float = DEFAULT_MIN_MCC,
    min_wins: int = 10,
    near_equal: float = 0.03,
    horizons: Sequence[int] = (30, 90, 180),
    single_only: Sequence[str] = (),
) -> GoalResult:
    """Find the intermediate goal: the milestone after which winning is highly probable.

    Parameters
    ----------
    ws : Workspace
        Canonical tables (see :func:`royalroad.ingest`).
    max_count : int
        Largest k in "at least k times".
    windows : sequence of int
        Day windows "within d days of creation"; "any time" is always added.
    pairs : int
        Ordered pairs "A then B" are tried among this many most frequent activities
        (0 turns pairs off).
    adjust : sequence of str
        Segments (lead columns, or ``created_quarter`` / ``created_month`` derived
        from ``created_at``) to stratify by for a Mantel–Haenszel odds ratio.
    not_proxy : sequence of str
        Activities never to flag as outcome proxies.
    min_lift : float
        The lift a goal needs at a low base rate; at base rate b the floor is
        ``1 + (min_lift − 1)(1 − b)`` (see :func:`goals_select.required_lift`).
    min_recall : float
        Share of all wins that must have passed the goal.
    min_mcc : float
        Smallest MCC (balance of precision and coverage of wins) of a goal.
    single_only : sequence of str
        Activities tried on their own but never in pairs, e.g. the milestones
        "notes mention X" (:mod:`royalroad.analysis.triggers_goals`): they would
        otherwise push logged activities out of the pairs tried.

    Examples
    --------
    >>> from royalroad.analysis.goals import discover_goals     # doctest: +SKIP
    >>> result = discover_goals(ws, adjust=["industry"])        # doctest: +SKIP
    >>> print(result.sentence("en"))                            # doctest: +SKIP
    """
    windows = _check(ws, max_count, windows, adjust, alpha, min_recall, min_mcc)
    floors = sel.Floors(alpha, min_lift, min_recall, min_mcc, min_wins, near_equal)
    grid: list[int | None] = [*windows, None]
    events = ws.table("events")
    leads = m.with_periods(ws.table("leads"), [*PERIOD_SEGMENTS])

    base = m.base_counts(leads).execute()
    totals = {o: int(base.loc[base.outcome == o, "n"].sum()) for o in m.OUTCOMES}
    won, lost = totals["won"], totals["lost"]
    closed = won + lost
    base_rate, base_ci = stats.win_rate(won, lost)

    e = m.journey(events, leads)
    # Several queries read the numbered occurrences and the pairs: build them once.
    with contextlib.ExitStack() as stack:
        numbered = m.with_occurrence(e, max_count)
        numbered = numbered.select(
            "lead_key", "activity", "pos", "outcome", "day", "close_day", "k"
        )
        occ = stack.enter_context(ws.materialized(numbered, "occ"))
        singles = m.single_counts(occ, grid)
        profile = m.activity_profile(events, leads).execute()
        proxies = _proxies(singles, profile, len(grid) - 1, set(not_proxy))
        proxy_acts = {p.activity: p for p in proxies}

        top = _frequent(singles, len(grid) - 1, pairs, set(proxy_acts) | set(single_only))
        preach = (
            stack.enter_context(ws.materialized(m.pair_reach(e, occ, top), "pairs"))
            if len(top) > 1
            else None
        )
        pair_df = m.pair_counts(preach, grid) if preach is not None else None

        adj = strata_.adjusted(ws, max_count, grid, top, adjust) if adjust else None

        rows = _rows(singles, pair_df, grid)
        cands = sel.evaluate(rows, won, lost, base_rate, adj, proxy_acts, floors, bool(adjust))
        by_period = any(a in PERIOD_SEGMENTS for a in adjust)
        segments = [] if adjust else strata_.hint_segments(ws, leads)
        ranked, checked, drifting = _cohorts(
            ws, occ, preach, leads, cands, grid, floors, by_period, segments, _introduced(e)
        )

        recommended, reason, reason_params, watch = sel.recommend(
            ranked, closed, won, lost, grid, floors
        )
        if recommended is not None:
            ranked = given_goal(occ, preach, recommended, ranked, grid)
            recommended = next(c for c in ranked if c.key == recommended.key)
        caveats = sel.caveats(ranked, recommended, closed, won, totals["open"], base_rate)
        if not adjust and closed:
            caveats += _hints(ws, occ, preach, leads, ranked, recommended, watch, checked, segments)
        drifted = [c for c in ranked if c.why_not == "drift"]
        if drifted:
            caveats.append(_drift_caveat(drifted, checked))
        runner_ups = sel.runner_ups(ranked, recommended, floors, grid, base_rate, drifting)
        incidence = _incidence(ws, e, occ, recommended, top, horizons) if recommended else None
    return GoalResult(
        closed=closed,
        won=won,
        lost=lost,
        open=totals["open"],
        base_rate=base_rate,
        base_rate_ci=base_ci,
        candidates=tuple(ranked),
        recommended=recommended,
        watch=watch,
        reason=reason,
        reason_params=reason_params,
        runner_ups=tuple(runner_ups),
        proxies=tuple(proxies),
        incidence=incidence,
        caveats=tuple(caveats),
        settings={
            "max_count": max_count,
            "windows": list(windows),
            "pairs_among": list(top),
            "adjust": list(adjust),
            "not_proxy": list(not_proxy),
            "alpha": alpha,
            "min_lift": min_lift,
            "required_lift": sel.required_lift(min_lift, base_rate)
            if math.isfinite(base_rate)
            else None,
            "min_recall": min_recall,
            "min_mcc": min_mcc,
            "min_wins": min_wins,
            "near_equal": near_equal,
            "horizons": list(horizons),
            "hint_segments": [*segments, strata_.COHORT] if not adjust else [],
            "as_of": ws.meta().get("as_of"),
        },
    )


def _check(
    ws: Workspace,
    max_count: int,
    windows: Sequence[int],
    adjust: Sequence[str],
    alpha: float,
    min_recall: float,
    min_mcc: float,
) -> list[int]:
    if not 1 <= max_count <= 20:
        raise InputError("goal.bad_max_count", value=max_count)
    clean = sorted({int(w) for w in windows})
    if any(w <= 0 for w in clean):
        raise InputError("goal.bad_windows", value=", ".join(str(w) for w in windows))
    if not 0 < alpha < 1:
        raise InputError("goal.bad_alpha", value=alpha)
    if not 0 <= min_recall <= 1:
        raise InputError("goal.bad_min_recall", value=min_recall)
    if not -1 <= min_mcc <= 1:
        raise InputError("goal.bad_min_mcc", value=min_mcc)
    known = ws.segments()
    for seg in adjust:
        if seg not in known and seg not in PERIOD_SEGMENTS:
            allowed = ", ".join([*known, *PERIOD_SEGMENTS])
            raise InputError("goal.unknown_segment", value=seg, allowed=allowed)
    return clean


def _introduced(e, share: float = 0.15) -> set[str]:
    """Activities whose first lead was created well after the data's first (a new offer,
    a new campaign): the ones a change over time can make look like causes. Every
    significant milestone built of one is checked within creation quarters."""
    per = e.group_by("activity").agg(first=e.created_at.min()).execute()
    span = e.aggregate(lo=e.created_at.min(), hi=e.created_at.max()).execute()
    lo, hi = span.lo.iloc[0], span.hi.iloc[0]
    if pd.isna(lo) or pd.isna(hi) or hi <= lo:
        return set()
    late = per[(per["first"] - lo) > share * (hi - lo)]
    return {str(a) for a in late.activity}


def _cohorts(ws, occ, preach, leads, cands, grid, floors, by_period, segments, introduced=()):
    """Rank, and check the top of the ranking within creation quarters.

    The near-equals and the lead to watch (and the best of the next few eligible
    families) are stratified by ``created_quarter``, together with the single
    activities they are built of. One whose Mantel–Haenszel interval covers 1 loses
    eligibility (why-not ``drift``), and so does every milestone containing an
    activity whose own significant effect disappears within quarters (its windows
    and pairs would otherwise be tried one by one until one passed by chance or by
    timing). The ranking is redone until the near-equals and the lead to watch all
    hold. The first batch also stratifies the top families by the hint ``segments``,
    so the hints usually need no query of their own. With ``--adjust
    created_quarter`` (or ``created_month``) the adjusted odds ratio does this job.

    Returns the ranking, the strata counted and the drifting activities.
    """
    ranked = sel.rank(cands, grid)
    checked: strata_.Strata = {}
    if by_period:
        return ranked, checked, set()
    by_key = {c.key: c for c in cands}
    first = True
    while True:
        near = [*sel.near_set(ranked, floors.near_equal), sel.watch_of(ranked)]
        todo = [c for c in near if c is not None and c.key not in checked]
        if not todo:
            est = {
                k: strata_.pooled(v[strata_.COHORT])
                for k, v in checked.items()
                if strata_.COHORT in v
            }
            return ranked, checked, _drifting(by_key, est, floors)
        # Batch what later rounds would ask for: the activities they are built of,
        # every variant of the families being checked, the next eligible families and
        # the next leads to watch.
        fams = {c.family for c in todo}
        acts = {a for c in todo for a in (c.activity, c.then) if a is not None}
        extra = [by_key[(a, None, 1, None)] for a in sorted(acts) if (a, None, 1, None) in by_key]
        extra += [c for c in ranked if c.family in fams]
        extra += _family_heads([c for c in ranked if c.eligible], COHORT_BATCH)
        extra += _family_heads([c for c in ranked if c.why_not in sel.FLOOR_REASONS], COHORT_BATCH)
        if first:
            extra += _family_heads(_hintable(ranked), HINT_FAMILIES)
            extra += [
                c
                for c in ranked
                if c.why_not in (None, *sel.FLOOR_REASONS)
                and {c.activity, c.then} & set(introduced)
            ]
        batch = _unique([*todo, *extra], checked)
        segs = [strata_.COHORT, *segments] if first else [strata_.COHORT]
        checked.update(strata_.stratify(ws, occ, preach, leads, batch, segs))
        first = False
        est = {
            k: strata_.pooled(v[strata_.COHORT]) for k, v in checked.items() if strata_.COHORT in v
        }
        failed = {k for k, v in est.items() if strata_.covers_one(v)}
        drifting = _drifting(by_key, est, floors)
        ranked = sel.rank(sel.mark_drift(ranked, failed, est, drifting), grid)


def _drifting(by_key: dict, est: dict, floors: sel.Floors) -> set[str]:
    """Activities with a significant positive effect of their own ("≥1× A", any time)
    that disappears within creation quarters."""
    out = set()
    for key, value in est.items():
        activity, then, k, within = key
        if then is not None or k != 1 or within is not None:
            continue
        c = by_key[key]
        real = c.q_value < floors.alpha and (stats.finite(c.odds_ratio) or 0) > 1
        if real and not c.outcome_proxy and strata_.covers_one(value):
            out.add(activity)
    return out


def _hintable(ranked: list[Candidate]) -> list[Candidate]:
    """Significant, positive, non-proxy candidates (goal-sized or not), in rank order."""
    ok = {None, "drift", *sel.FLOOR_REASONS}
    return [c for c in ranked if c.why_not in ok]


def _family_heads(cands: list[Candidate], n: int) -> list[Candidate]:
    """The first ``n`` distinct milestones: one per family, and no pair containing an
    activity already listed on its own (as the runner-ups: variants, not rivals)."""
    out: list[Candidate] = []
    fams: set = set()
    acts: set[str] = set()
    for c in cands:
        if c.family in fams or (c.then is not None and acts & {c.activity, c.then}):
            continue
        fams.add(c.family)
        if c.then is None:
            acts.add(c.activity)
        out.append(c)
        if len(out) >= n:
            break
    return out


def _unique(cands: list[Candidate], skip) -> list[Candidate]:
    seen = set(skip)
    out = []
    for c in cands:
        if c.key not in seen:
            seen.add(c.key)
            out.append(c)
    return out


def _hints(ws, occ, preach, leads, ranked, goal, watch, checked, segments):
    """Confounding hints for the goal (or the lead to watch) and the top families."""
    heads = _family_heads(_hintable(ranked), HINT_FAMILIES)
    first = [c for c in (goal, watch) if c is not None]
    cands = _unique([*first, *heads], ())
    segs = [strata_.COHORT, *segments]
    todo = [c for c in cands if not set(segs) <= set(checked.get(c.key, {}))]
    if todo:
        checked = {**checked, **strata_.stratify(ws, occ, preach, leads, todo, segs)}
    return strata_.hints(cands, checked)


def _drift_caveat(drifted: list[Candidate], checked) -> Caveat:
    """The candidates passed over because their effect disappears within creation quarters."""
    first = next((c for c in drifted if strata_.COHORT in checked.get(c.key, {})), None)
    start = strata_.first_period(checked[first.key][strata_.COHORT]) if first else None
    fams = sel._one_per_family(drifted)
    if start:
        return Caveat("goal.caveat.drift_from", start, milestones=tuple(fams))
    return Caveat("goal.caveat.drift", {}, milestones=tuple(fams))


def _frequent(singles: pd.DataFrame, any_idx: int, n: int, exclude: set[str]) -> list[str]:
    """The n activities reached by most closed leads (pairs are tried among them)."""
    if n <= 1:
        return []
    k1 = singles[singles.k == 1].copy()
    k1["closed"] = k1[f"won_{any_idx}"] + k1[f"lost_{any_idx}"]
    k1 = k1[~k1.activity.isin(exclude) & (k1.closed > 0)]
    k1 = k1.sort_values(["closed", "activity"], ascending=[False, True])
    return sorted(k1.activity.head(n).tolist())


def _proxies(
    singles: pd.DataFrame, profile: pd.DataFrame, any_idx: int, keep: set[str]
) -> list[ProxyFlag]:
    """Activities that are part of the outcome rather than a step toward it."""
    flags: list[ProxyFlag] = []
    k1 = singles[singles.k == 1].set_index("activity")
    prof = profile.set_index("activity")
    for act in sorted(set(k1.index) | set(prof.index)):
        if act in keep:
            continue
        if act in prof.index:
            occ, after = int(prof.at[act, "occurrences"]), int(prof.at[act, "after_close"])
            if occ >= 5 and after / occ >= PROXY_AFTER_CLOSE_SHARE:
                flags.append(ProxyFlag(act, "after_close", {"share": f"{after / occ:.0%}"}))
                continue
        if act not in k1.index:
            continue
        w, lo = int(k1.at[act, f"won_{any_idx}"]), int(k1.at[act, f"lost_{any_idx}"])
        n = w + lo
        to_close = k1.at[act, f"toclose_{any_idx}"]
        position = k1.at[act, "position"]
        if (
            n >= 5
            and _num(to_close) is not None
            and to_close < PROXY_AT_CLOSE_DAYS
            and (_num(position) is not None and position >= PROXY_AT_CLOSE_POSITION)
        ):
            flags.append(ProxyFlag(act, "at_close", {"hours": f"{24 * to_close:.1f}"}))
            continue
        if n >= PROXY_PURITY_MIN_N and max(w, lo) / n >= PROXY_PURITY:
            cls = "won" if w >= lo else "lost"
            flags.append(
                ProxyFlag(act, f"one_class_{cls}", {"share": f"{max(w, lo) / n:.1%}", "n": n})
            )
    return flags


_num = stats.finite


def _rows(
    singles: pd.DataFrame, pairs: pd.DataFrame | None, grid: list[int | None]
) -> pd.DataFrame:
    """Long table: one row per candidate with won/lost/open reach counts and medians."""
    parts = []
    for i, d in enumerate(grid):
        s = pd.DataFrame(
            {
                "activity": singles.activity,
                "then": None,
                "min_count": singles.k.astype(int),
                "within_days": d,
                "a": singles[f"won_{i}"],
                "b": singles[f"lost_{i}"],
                "o": singles[f"open_{i}"],
                "reach": singles[f"reach_{i}"],
                "toclose": singles[f"toclose_{i}"],
            }
        )
        parts.append(s)
        if pairs is not None and len(pairs):
            parts.append(
                pd.DataFrame(
                    {
                        "activity": pairs.a,
                        "then": pairs.b,
                        "min_count": 1,
                        "within_days": d,
                        "a": pairs[f"won_{i}"],
                        "b": pairs[f"lost_{i}"],
                        "o": pairs[f"open_{i}"],
                        "reach": pairs[f"reach_{i}"],
                        "toclose": pairs[f"toclose_{i}"],
                    }
                )
            )
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[(rows.a + rows.b + rows.o) > 0]
    rows["within_days"] = rows.within_days.astype(object).where(rows.within_days.notna(), None)
    return rows.sort_values(
        ["activity", "then", "min_count", "within_days"],
        na_position="last",
        key=lambda s: s.fillna("") if s.name == "then" else s,
    ).reset_index(drop=True)


def _incidence(ws: Workspace, e, occ, goal: Candidate, top, horizons) -> Incidence | None:
    leads = ws.table("leads")
    if goal.then is None:
        reached = m.reached_single(occ, goal.activity, goal.min_count, goal.within_days)
    else:
        reached = m.reached_pair(
            m.pair_reach(e, occ, [goal.activity, goal.then]),
            goal.activity,
            goal.then,
            goal.within_days,
        )
    df = m.incidence_counts(leads, reached, ws.as_of).execute()
    values = {}
    sizes = {}
    for flag in (True, False):
        g = df[df.reached == flag]
        sizes[flag] = int(g.n.sum())
        if g.empty:
            values[flag] = tuple(math.nan for _ in horizons)
            continue
        wide = g.pivot_table(
            index="t", columns="outcome", values="n", aggfunc="sum", fill_value=0
        ).sort_index()
        won, lost, open_ = (
            wide[o].to_numpy() if o in wide.columns else np.zeros(len(wide))
            for o in ("won", "lost", "open")
        )
        times, cif_w, _ = stats.aalen_johansen(wide.index.to_numpy(), won, lost, open_)
        values[flag] = tuple(stats.value_at(times, cif_w, h) for h in horizons)
    return Incidence(
        tuple(int(h) for h in horizons), values[True], values[False], sizes[True], sizes[False]
    )


__all__ = ["DEFAULT_WINDOWS", "discover_goals"]
