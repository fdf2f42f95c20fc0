"""Intermediate-goal discovery (中間ゴール): ranked, honest, leakage-proof.

How it works (the README explains it for users):

1. **Candidates.** Every activity × at least k times (1…K) × within d days of
   creation (a grid, plus "any time"), and ordered pairs "A then B" among the most
   frequent activities. Counts come from the engine in a few set-based queries
   (:mod:`royalroad.analysis.milestones`); only events strictly before the close
   (or the as-of date for open leads) count.
2. **Evidence.** Among *closed* leads (open leads are censored, never lost): win
   rate with a Wilson interval, lift, recall, PPV/NPV/specificity, MCC, odds ratio
   with interval, Fisher exact p, and a Benjamini–Hochberg q over every candidate
   tried. With ``adjust``, a Mantel–Haenszel odds ratio stratified by segments.
3. **Proxies.** Activities that are part of the outcome (nearly one class only,
   concentrated at the close, or logged after it) are flagged and never
   recommended.
4. **Recommendation.** Eligible = not a proxy, q < alpha, lift ≥ min_lift, enough
   wins, adjusted effect holds. Eligible candidates are ranked by MCC (balance of
   precision and coverage of wins); within ``near_equal`` of the best, the simplest
   variant (single activity, fewest repetitions, no window) and then the earliest
   (median days to reach) wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import milestones as m
from royalroad.analysis.goals_result import (
    Candidate,
    Caveat,
    GoalResult,
    Incidence,
    ProxyFlag,
    RunnerUp,
)
from royalroad.engine import Workspace
from royalroad.errors import InputError

DEFAULT_WINDOWS: tuple[int, ...] = (7, 14, 30, 60, 90, 180)
MIN_CLOSED = 30
MIN_PER_CLASS = 10
PROXY_PURITY = 0.98
PROXY_PURITY_MIN_N = 20
PROXY_AT_CLOSE_DAYS = 1.0
PROXY_AT_CLOSE_POSITION = 0.8
PROXY_AFTER_CLOSE_SHARE = 0.5


def discover_goals(
    ws: Workspace,
    *,
    max_count: int = 5,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    pairs: int = 12,
    adjust: Sequence[str] = (),
    not_proxy: Sequence[str] = (),
    alpha: float = 0.05,
    min_lift: float = 1.5,
    min_wins: int = 10,
    near_equal: float = 0.03,
    horizons: Sequence[int] = (30, 90, 180),
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
        Segments (lead columns) to stratify by for a Mantel–Haenszel odds ratio.
    not_proxy : sequence of str
        Activities never to flag as outcome proxies.

    Examples
    --------
    >>> from royalroad.analysis.goals import discover_goals     # doctest: +SKIP
    >>> result = discover_goals(ws, adjust=["industry"])        # doctest: +SKIP
    >>> print(result.sentence("en"))                            # doctest: +SKIP
    """
    windows = _check(ws, max_count, windows, adjust, alpha)
    grid: list[int | None] = [*windows, None]
    events, leads = ws.table("events"), ws.table("leads")

    base = m.base_counts(leads).execute()
    totals = {o: int(base.loc[base.outcome == o, "n"].sum()) for o in m.OUTCOMES}
    won, lost = totals["won"], totals["lost"]
    closed = won + lost
    base_rate, base_ci = stats.win_rate(won, lost)

    e = m.journey(events, leads)
    occ = m.with_occurrence(e, max_count)
    singles = m.single_counts(occ, grid).execute()
    profile = m.activity_profile(events, leads).execute()
    proxies = _proxies(singles, profile, len(grid) - 1, set(not_proxy))
    proxy_acts = {p.activity: p for p in proxies}

    top = _frequent(singles, len(grid) - 1, pairs, set(proxy_acts))
    pair_df = m.pair_counts(m.pair_reach(e, occ, top), grid).execute() if len(top) > 1 else None

    strata = _strata(ws, max_count, grid, top, adjust) if adjust else None

    rows = _rows(singles, pair_df, grid)
    cands = _evaluate(
        rows, won, lost, base_rate, strata, proxy_acts, alpha, min_lift, min_wins, bool(adjust)
    )
    ranked = sorted(
        cands,
        key=lambda c: (not c.eligible, -round(c.mcc, 12), _complexity(c, grid), c.label("en")),
    )

    recommended, reason, reason_params = _recommend(ranked, closed, won, lost, grid, near_equal)
    runner_ups = _runner_ups(ranked, recommended, near_equal, grid)
    incidence = _incidence(ws, e, occ, recommended, top, horizons) if recommended else None
    caveats = _caveats(ranked, recommended, closed, won, totals["open"], base_rate)
    return GoalResult(
        closed=closed,
        won=won,
        lost=lost,
        open=totals["open"],
        base_rate=base_rate,
        base_rate_ci=base_ci,
        candidates=tuple(ranked),
        recommended=recommended,
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
            "min_wins": min_wins,
            "near_equal": near_equal,
            "horizons": list(horizons),
            "as_of": ws.meta().get("as_of"),
        },
    )


def _check(
    ws: Workspace, max_count: int, windows: Sequence[int], adjust: Sequence[str], alpha: float
) -> list[int]:
    if not 1 <= max_count <= 20:
        raise InputError("goal.bad_max_count", value=max_count)
    clean = sorted({int(w) for w in windows})
    if any(w <= 0 for w in clean):
        raise InputError("goal.bad_windows", value=", ".join(str(w) for w in windows))
    if not 0 < alpha < 1:
        raise InputError("goal.bad_alpha", value=alpha)
    known = ws.segments()
    for seg in adjust:
        if seg not in known:
            raise InputError("goal.unknown_segment", value=seg, allowed=", ".join(known) or "-")
    return clean


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


def _evaluate(
    rows: pd.DataFrame,
    won: int,
    lost: int,
    base_rate: float,
    strata,
    proxy_acts: dict,
    alpha: float,
    min_lift: float,
    min_wins: int,
    adjusted: bool,
) -> list[Candidate]:
    a = rows.a.to_numpy(dtype=float)
    b = rows.b.to_numpy(dtype=float)
    lo, hi = stats.wilson(a, a + b)
    cache: dict[tuple[int, int, int, int], tuple[float, tuple[float, float, float]]] = {}
    pvals, ors = [], []
    for ai, bi in zip(a.astype(int), b.astype(int), strict=True):
        key = (ai, bi, won - ai, lost - bi)
        if key not in cache:
            cache[key] = (stats.fisher_p(*key), stats.odds_ratio(*key))
        p, or_ci = cache[key]
        pvals.append(p)
        ors.append(or_ci)
    q = stats.bh(pvals)
    out = []
    for i, r in enumerate(rows.itertuples(index=False)):
        ai, bi, oi = int(r.a), int(r.b), int(r.o)
        c_, d_ = won - ai, lost - bi
        rate = ai / (ai + bi) if ai + bi else math.nan
        orr, or_lo, or_hi = ors[i]
        adj = (
            strata.get((r.activity, r.then, r.min_count, r.within_days))
            if strata is not None
            else None
        )
        proxy = proxy_acts.get(r.activity) or (proxy_acts.get(r.then) if r.then else None)
        significant_pos = q[i] < alpha and _num(orr) is not None and orr > 1
        # Confounded: the adjusted interval is estimable and covers 1. An adjusted odds
        # ratio that cannot be estimated (a stratum with no lost reacher makes it
        # infinite) is no evidence of confounding.
        confounded = bool(
            adjusted
            and significant_pos
            and adj is not None
            and _num(adj[1]) is not None
            and _num(adj[2]) is not None
            and adj[1] <= 1
        )
        why = None
        if proxy is not None:
            why = "proxy"
        elif ai < min_wins:
            why = "too_few"
        elif not (_num(orr) is not None and orr > 1):
            why = "negative"
        elif q[i] >= alpha:
            why = "not_significant"
        elif confounded:
            why = "confounded"
        elif rate / base_rate < min_lift:
            why = "low_lift"
        out.append(
            Candidate(
                activity=r.activity,
                then=r.then,
                min_count=int(r.min_count),
                within_days=r.within_days,
                leads=ai + bi + oi,
                won=ai,
                lost=bi,
                open=oi,
                win_rate=rate,
                win_rate_ci=(float(lo[i]), float(hi[i])),
                lift=rate / base_rate if base_rate else math.nan,
                recall=ai / won if won else math.nan,
                precision=rate,
                npv=d_ / (c_ + d_) if c_ + d_ else math.nan,
                specificity=d_ / lost if lost else math.nan,
                mcc=stats.mcc(ai, bi, c_, d_),
                odds_ratio=orr,
                odds_ratio_ci=(or_lo, or_hi),
                p_value=pvals[i],
                q_value=float(q[i]),
                adjusted_odds_ratio=adj[0] if adj else None,
                adjusted_odds_ratio_ci=(adj[1], adj[2]) if adj else None,
                median_days_to_reach=_num(r.reach),
                median_days_to_close=_num(r.toclose),
                outcome_proxy=proxy is not None,
                proxy_reason=proxy.reason if proxy else None,
                confounded=confounded,
                eligible=why is None,
                why_not=why,
            )
        )
    return out


def _complexity(c: Candidate, grid: list[int | None]) -> tuple[int, int, int]:
    """Simpler milestones first: single activity, fewer repetitions, no (or a wider) window."""
    narrow = 0 if c.within_days is None else len(grid) - grid.index(c.within_days)
    return (c.then is not None, c.min_count, narrow)


def _recommend(ranked: list[Candidate], closed: int, won: int, lost: int, grid, near_equal: float):
    if closed < MIN_CLOSED or won < MIN_PER_CLASS or lost < MIN_PER_CLASS:
        return (
            None,
            "too_few_closed",
            {
                "closed": closed,
                "won": won,
                "lost": lost,
                "min_closed": MIN_CLOSED,
                "min_class": MIN_PER_CLASS,
            },
        )
    eligible = [c for c in ranked if c.eligible]
    if not ranked:
        return None, "no_events", {}
    if not eligible:
        positive = [
            c for c in ranked if c.why_not not in ("negative", "not_significant", "too_few")
        ]
        if not positive:
            return None, "nothing_significant", {"n": len(ranked)}
        counts = {
            w: sum(1 for c in positive if c.why_not == w)
            for w in ("proxy", "confounded", "low_lift")
        }
        why = max(counts, key=lambda w: (counts[w], w))
        return (
            None,
            {"proxy": "only_proxies", "confounded": "confounded", "low_lift": "weak"}[why],
            {"n": len(ranked)},
        )
    best = eligible[0].mcc
    near = [c for c in eligible if c.mcc >= best - near_equal]
    choice = min(
        near,
        key=lambda c: (
            _complexity(c, grid),
            c.median_days_to_reach if c.median_days_to_reach is not None else math.inf,
            -c.mcc,
            c.label("en"),
        ),
    )
    return choice, "ok", {"n": len(ranked), "eligible": len(eligible)}


def _runner_ups(
    ranked: list[Candidate], goal: Candidate | None, near_equal: float, grid, n: int = 5
) -> list[RunnerUp]:
    seen: set = {goal.family, (goal.won, goal.lost, goal.open)} if goal else set()
    out: list[RunnerUp] = []
    if goal is not None:
        sibling = next(
            (
                c
                for c in ranked
                if c.family == goal.family
                and c.key != goal.key
                and c.eligible
                and c.mcc > goal.mcc + 1e-12
            ),
            None,
        )
        if sibling is not None:
            out.append(
                RunnerUp(
                    sibling,
                    "narrower",
                    {"mcc": f"{sibling.mcc:.3f}", "goal_mcc": f"{goal.mcc:.3f}"},
                )
            )
    goal_acts = {goal.activity, goal.then} - {None} if goal else set()
    for c in sorted(ranked, key=lambda c: (-round(c.mcc, 12), _complexity(c, grid), c.label("en"))):
        if len(out) >= n:
            break
        # Pairs that contain the goal's own activity are variants of it, not rivals.
        sig = (c.won, c.lost, c.open)
        # Pairs containing an activity already shown are variants of it, not rivals.
        if (
            c.family in seen
            or sig in seen
            or (c.then is not None and goal_acts & {c.activity, c.then})
        ):
            continue
        seen.update({c.family, sig})
        if c.then is None:
            goal_acts.add(c.activity)
        out.append(_why(c, goal, near_equal))
    return out


def _why(c: Candidate, goal: Candidate | None, near_equal: float) -> RunnerUp:
    if not c.eligible:
        params = {"q": f"{c.q_value:.3g}", "lift": f"{c.lift:.2f}", "won": c.won}
        if c.why_not == "proxy":
            params["reason"] = c.proxy_reason
        if c.adjusted_odds_ratio_ci:
            params["adj_lo"] = f"{c.adjusted_odds_ratio_ci[0]:.2f}"
            params["adj_hi"] = f"{c.adjusted_odds_ratio_ci[1]:.2f}"
        return RunnerUp(c, c.why_not or "lower_mcc", params)
    assert goal is not None
    if c.mcc >= goal.mcc - near_equal:
        days = c.median_days_to_reach
        return RunnerUp(
            c,
            "near_equal",
            {
                "mcc": f"{c.mcc:.3f}",
                "goal_mcc": f"{goal.mcc:.3f}",
                "days": f"{days:.0f}" if days is not None else "–",
                "goal_days": f"{goal.median_days_to_reach or 0:.0f}",
            },
        )
    return RunnerUp(c, "lower_mcc", {"mcc": f"{c.mcc:.3f}", "goal_mcc": f"{goal.mcc:.3f}"})


def _strata(ws: Workspace, max_count: int, grid, top, adjust) -> dict:
    """Mantel–Haenszel odds ratio per candidate, stratified by the ``adjust`` segments."""
    seg = list(adjust)
    leads = ws.table("leads")
    e_s = m.journey(ws.table("events"), leads, seg)
    occ_s = m.with_occurrence(e_s, max_count)
    singles = m.single_counts(occ_s, grid, strata=seg).execute()
    pairs = (
        m.pair_counts(m.pair_reach(e_s, occ_s, top, seg), grid, strata=seg).execute()
        if len(top) > 1
        else None
    )
    base = m.base_counts(leads, seg).execute()
    key_cols = seg

    def skey(df):
        return (
            df[key_cols]
            .astype(object)
            .where(df[key_cols].notna(), "∅")
            .astype(str)
            .agg("\x1f".join, axis=1)
        )

    base["s"] = skey(base)
    totals = base.pivot_table(index="s", columns="outcome", values="n", aggfunc="sum", fill_value=0)
    out: dict = {}
    for df, is_pair in ((singles, False), (pairs, True)):
        if df is None or not len(df):
            continue
        group_cols = ["a", "b"] if is_pair else ["activity", "k"]
        # Engine output order is arbitrary; sort so float sums are the same every run.
        df = df.assign(s=skey(df)).sort_values([*group_cols, "s"], kind="stable")
        for keys, g in df.groupby(group_cols, sort=True):
            for i, d in enumerate(grid):
                tables = []
                for s_, row in zip(g.s, g.itertuples(index=False), strict=True):
                    a, b = int(getattr(row, f"won_{i}")), int(getattr(row, f"lost_{i}"))
                    w_s = int(totals.at[s_, "won"]) if "won" in totals.columns else 0
                    l_s = int(totals.at[s_, "lost"]) if "lost" in totals.columns else 0
                    tables.append(np.array([[a, b], [w_s - a, l_s - b]]))
                # strata where nobody reached the milestone still inform the estimate
                reached = set(g.s)
                for s_ in totals.index:
                    if s_ not in reached:
                        w_s = int(totals.at[s_, "won"]) if "won" in totals.columns else 0
                        l_s = int(totals.at[s_, "lost"]) if "lost" in totals.columns else 0
                        tables.append(np.array([[0, 0], [w_s, l_s]]))
                key = (keys[0], keys[1], 1, d) if is_pair else (keys[0], None, int(keys[1]), d)
                out[key] = stats.mantel_haenszel(tables)
    return out


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


def _caveats(ranked, goal, closed, won, open_, base_rate) -> list[Caveat]:
    out: list[Caveat] = []
    if closed < 100:
        out.append(Caveat("goal.caveat.small_sample", {"closed": closed}))
    if closed and (base_rate < 0.05 or base_rate > 0.95):
        out.append(Caveat("goal.caveat.skewed", {"base": f"{base_rate:.1%}"}))
    if closed + open_ and open_ / (closed + open_) > 0.5:
        out.append(Caveat("goal.caveat.many_open", {"share": f"{open_ / (closed + open_):.0%}"}))
    separated = [c for c in ranked[:50] if not c.outcome_proxy and c.won >= 10 and c.lost == 0]
    if separated:
        out.append(Caveat("goal.caveat.separation", milestones=tuple(separated[:3])))
    confounded = [c for c in ranked if c.confounded]
    if confounded:
        fams: list[Candidate] = []
        for c in confounded:
            if c.family not in [f.family for f in fams]:
                fams.append(c)
        out.append(Caveat("goal.caveat.confounded", milestones=tuple(fams[:3])))
    if goal is not None and goal.recall < 0.5:
        out.append(Caveat("goal.caveat.low_recall", {"recall": f"{goal.recall:.0%}"}))
    return out


__all__ = ["DEFAULT_WINDOWS", "discover_goals"]
