"""Reps and 属人化: who makes the royal road work, fairly compared, and what the best do.

How it works (``docs/statistics.md`` explains it for users):

1. **Who.** The rep column is found by name as ``next`` finds the owner (``rep``,
   ``owner``, ``担当者`` …) among the lead columns, else among the activity log's columns
   (then a lead's rep is the one named on most of its steps); ``by`` names any lead
   column (a team, a region, a channel) or activity-log column instead.
2. **Counts in the engine** (:mod:`royalroad.analysis.reps_queries`): one row per lead
   (rep, strata, when it reached the goal, whether it followed the royal road), then
   counts per rep × stratum, the median days to the goal per rep and per-day counts for
   the cumulative incidence. Only events strictly before the close count.
3. **Rates per rep**, each with a Wilson interval (:data:`reps_result.METRICS`): reaching
   the goal within the horizon among the leads created at least that long ago, the win
   rate after the goal, without it and overall, and royal-road adherence; the goal reach
   by day ``horizon`` and overall as a cumulative incidence (Aalen–Johansen, open leads
   censored).
4. **Shrinkage, funnel plot, standardisation, decomposition**
   (:mod:`royalroad.analysis.reps_stats`): every rate shrunk by empirical Bayes
   (beta-binomial, prior by maximum likelihood across reps); ranks by the shrunk rate;
   each rep placed against Spiegelhalter's 95% and 99.8% limits around the team rate;
   with ``adjust`` observed / expected from the rep's own mix; each rep's gap in win
   rate split exactly into reach, conversion after the goal and the path without it.
5. **Practices** (:mod:`royalroad.analysis.reps_practices`): the activities and ordered
   pairs before the goal over- or under-represented among the top reps' leads.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import reps_queries as q
from royalroad.analysis import reps_stats as rs
from royalroad.analysis.goals_result import Caveat
from royalroad.analysis.milestones import PERIOD_SEGMENTS
from royalroad.analysis.owner import OWNER_NAMES, owner_column
from royalroad.analysis.reps_result import METRICS, Rate, RepRow, RepsResult
from royalroad.engine import Workspace
from royalroad.errors import InputError

DEFAULT_HORIZON = 90
TOP_SHARE = 1 / 3
"""The share of ranked reps whose leads the practices call "the best" (at least one)."""
SMALL = 30
"""Reps with fewer leads than this in a rate lean mostly on the team's rate (a caveat)."""
EVENT_FIXED = {"lead_id", "lead_key", "activity", "ts", "seq", "pos", "occ", "lifecycle", "mark"}


def analyse_reps(
    ws: Workspace,
    *,
    by: str | None = None,
    adjust: Sequence[str] = (),
    goals=None,
    paths=None,
    horizon: int = DEFAULT_HORIZON,
    top_share: float = TOP_SHARE,
    alpha: float = 0.05,
    adherence: bool = True,
    practices: bool = True,
) -> RepsResult:
    """Compare reps (or any segment) fairly on the royal road.

    Parameters
    ----------
    ws : Workspace
        Canonical tables (see :func:`royalroad.ingest`).
    by : str, optional
        The column to compare by: a lead column (any segment) or a column of the
        activity log; default the owner column found by name (``rep``, ``担当者`` …).
    adjust : sequence of str
        Segments (lead columns, or ``created_quarter`` / ``created_month``) for indirect
        standardisation: each rep's expected count from the team's rate in each stratum
        of their own lead mix, reported as observed / expected.
    goals : GoalResult, optional
        The goal search's result (found here, with ``adjust``, when not given).
    paths : PathsResult, optional
        The royal road for adherence (analysed here when not given and ``adherence``).
    horizon : int
        Days within which reaching the goal counts (the reach rate and the window of
        the practices).
    top_share : float
        Share of ranked reps whose leads count as "the best" for the practices.

    Examples
    --------
    >>> import royalroad as rr                                   # doctest: +SKIP
    >>> reps = rr.reps(ws, adjust=["industry"])                  # doctest: +SKIP
    >>> reps.rep("佐藤 健").metrics["reach"].shrunk               # doctest: +SKIP
    """
    column, source, is_owner, adjust = check_options(ws, by, adjust, horizon, top_share, alpha)
    if goals is None:
        from royalroad.analysis.goals import discover_goals

        goals = discover_goals(ws, adjust=adjust)
    goal = goals.recommended
    steps = road_steps(ws, goals, paths) if (adherence and goal is not None) else ()
    events, leads = ws.table("events"), ws.table("leads")
    rep_ref = column if source == "leads" else q.owner_from_events(events, column)
    table = q.lead_table(
        leads,
        rep=rep_ref,
        strata=adjust,
        reach=q.goal_reach(events, leads, goal) if goal is not None else None,
        road=q.followed(events, leads, steps) if steps else None,
        as_of=ws.as_of,
        horizon=horizon,
    )
    with ws.materialized(table, "reps") as lt:
        counts = q.counts(lt, len(adjust), horizon).execute()
        med = q.medians(lt).execute()
        inc = q.incidence(lt, ws.as_of).execute() if goal is not None else None
        counts = _clean_counts(counts, len(adjust))
        built = _build(counts, med, inc, goal is not None, bool(steps), adjust, horizon)
        rows, team, unassigned, priors, caveats, rank_metric = built
        top, rest = _split(rows, rank_metric, top_share)
        found: tuple = ()
        if practices and goal is not None and rank_metric == "reach" and top and rest:
            found = _practices(ws, events, lt, goals, top, rest, counts, horizon)
    caveats = _caveats(caveats, goal, source, column, unassigned, rows, priors)
    return RepsResult(
        by=column,
        by_source=source,
        is_owner=is_owner,
        goal=goal,
        road=tuple(steps),
        horizon=horizon,
        adjust=tuple(adjust),
        rank_metric=rank_metric,
        team=team,
        reps=tuple(rows),
        unassigned=unassigned,
        priors=priors,
        funnel={
            k: rs.funnel_curve(team.metrics[k].rate or math.nan, max(r.metrics[k].n for r in rows))
            for k in team.metrics
            if rows and team.metrics[k].rate is not None
        },
        practices=found,
        top=tuple(top),
        rest=tuple(rest),
        caveats=tuple(caveats),
        as_of=ws.meta().get("as_of"),
        alpha=alpha,
    )


# ---------------------------------------------------------------- options and columns


def check_options(
    ws: Workspace,
    by: str | None,
    adjust: Sequence[str],
    horizon: int = DEFAULT_HORIZON,
    top_share: float = TOP_SHARE,
    alpha: float = 0.05,
) -> tuple[str, str, bool, tuple[str, ...]]:
    """The options checked (one :class:`InputError` line each) before anything heavy
    runs: ``(column, source, is_owner, adjust)`` (see :func:`rep_column`). The command
    line calls it before the goal search, so a typo fails at once."""
    adjust = _check(ws, adjust, horizon, top_share, alpha)
    column, source, is_owner = rep_column(ws, by)
    if column in adjust:
        raise InputError("reps.adjust_by_itself", value=column)
    return column, source, is_owner, adjust


def _check(ws, adjust, horizon, top_share, alpha) -> tuple[str, ...]:
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise InputError("reps.bad_horizon", value=horizon)
    if not 0 < top_share < 1:
        raise InputError("reps.bad_top_share", value=top_share)
    if not 0 < alpha < 1:
        raise InputError("goal.bad_alpha", value=alpha)
    known = ws.segments()
    clean = tuple(dict.fromkeys(a.strip() for a in adjust if a and a.strip()))
    for seg in clean:
        if seg not in known and seg not in PERIOD_SEGMENTS:
            allowed = ", ".join([*known, *PERIOD_SEGMENTS])
            raise InputError("reps.unknown_segment", value=seg, allowed=allowed)
    return clean


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-")


def event_columns(ws: Workspace) -> list[str]:
    """The activity log's own columns (who did a step, the channel …)."""
    cols = ws.table("events").columns
    return [c for c in cols if c not in EVENT_FIXED and not c.startswith("_")]


def rep_column(ws: Workspace, by: str | None = None) -> tuple[str, str, bool]:
    """``(column, source, is_owner)``: the column reps are compared by.

    ``by`` when given (a lead column, else an activity-log column); else the owner
    column among the lead columns (as ``next`` finds it), else an activity-log column
    with an owner's name (``rep``, ``担当者`` …). ``source`` is ``leads`` or ``events``;
    ``is_owner`` says whether the column names people (labels "Rep A" when anonymised).
    A name that is neither is one line (exit code 2) listing the columns there are.
    """
    segments = ws.segments()
    ev_cols = event_columns(ws)
    owners = {_norm(n) for n in OWNER_NAMES}
    if by is not None:
        if by in segments:
            return by, "leads", _norm(by) in owners
        if by in ev_cols:
            return by, "events", _norm(by) in owners
        allowed = ", ".join([*segments, *(c for c in ev_cols if c not in segments)]) or "-"
        raise InputError("reps.unknown_by", value=by, allowed=allowed)
    found = owner_column(ws)
    if found is not None:
        return found, "leads", True
    by_norm = {_norm(c): c for c in reversed(ev_cols)}
    for want in OWNER_NAMES:
        hit = by_norm.get(_norm(want))
        if hit is not None:
            return hit, "events", True
    raise InputError("reps.no_rep_column", allowed=", ".join([*segments, *ev_cols]) or "-")


def road_steps(ws: Workspace, goals, paths=None) -> tuple[str, ...]:
    """The royal road's milestones as adherence counts them: the road's steps before the
    win, without the entry steps (how a lead arrives, as the funnel leaves them out)."""
    from royalroad.analysis.funnel_queries import entry_profile
    from royalroad.analysis.history import ENTRY_SHARE
    from royalroad.analysis.journeys import WON

    if paths is None:
        from royalroad.analysis.paths import analyse_paths

        paths = analyse_paths(ws, goals=goals)
    road = list(dict.fromkeys(s.activity for s in paths.royal_road if s.activity != WON))
    if not road:
        return ()
    prof = entry_profile(ws.table("events"), road).execute()
    entries = {
        str(r.activity)
        for r in prof.itertuples()
        if r.leads > 0 and r.opened >= ENTRY_SHARE * r.leads
    }
    return tuple(a for a in road if a not in entries)


# ---------------------------------------------------------------- the rates


def _clean_counts(counts: pd.DataFrame, strata: int) -> pd.DataFrame:
    counts = counts.copy()
    counts["rep"] = counts["rep"].astype(object).where(counts["rep"].notna(), None)
    for c in counts.columns:
        if c != "rep" and not c.startswith("s"):
            counts[c] = counts[c].fillna(0).astype(int)
    keys = ["rep", *(f"s{i}" for i in range(strata))]
    return counts.sort_values(keys, key=lambda s: s.fillna("\uffff")).reset_index(drop=True)


def _metric_counts(c: pd.DataFrame, has_goal: bool, has_road: bool) -> dict[str, tuple]:
    """Per metric, the (k, n) columns as Series over the rows of ``c``."""
    closed = c.won + c.lost
    closed_goal = c.won_goal + c.lost_goal
    out: dict[str, tuple] = {"win": (c.won, closed)}
    if has_goal:
        out = {
            "reach": (c.cohort_goal, c.cohort),
            "post_goal": (c.won_goal, closed_goal),
            "no_goal": (c.won - c.won_goal, closed - closed_goal),
            **out,
        }
    if has_road:
        out["adherence"] = (c.won_road + c.lost_road, closed)
    return out


def _build(counts, med, inc, has_goal, has_road, adjust, horizon):
    strata = [f"s{i}" for i in range(len(adjust))]
    caveats: list[Caveat] = []
    if has_goal and int(counts.cohort.sum()) == 0:
        # no lead has been followed for the horizon yet: reach among the closed leads
        counts = counts.assign(
            cohort=counts.won + counts.lost, cohort_goal=counts.won_goal + counts.lost_goal
        )
        caveats.append(Caveat("reps.caveat.short_history", {"days": horizon}))
    per_rep = counts.groupby("rep", dropna=False, sort=False).sum(numeric_only=True)
    names = [r for r in per_rep.index if r is not None and r == r]
    assigned = per_rep.loc[names] if names else per_rep.iloc[0:0]
    team_sum = per_rep.sum()
    metric_cols = _metric_counts(counts, has_goal, has_road)
    rep_cols = _metric_counts(assigned, has_goal, has_road)
    team_cols = {
        k: (int(v[0].sum()), int(v[1].sum()))
        for k, v in _metric_counts(per_rep, has_goal, has_road).items()
    }
    priors: dict[str, rs.Prior | None] = {}
    rates: dict[str, dict[str, Rate]] = {n: {} for n in names}
    for metric, (k_s, n_s) in rep_cols.items():
        tk, tn = team_cols[metric]
        team_rate = tk / tn if tn else None
        prior = rs.fit_beta_binomial(k_s.to_numpy(float), n_s.to_numpy(float))
        priors[metric] = prior
        std = _standardised(counts, metric_cols[metric], names, strata) if strata else {}
        std_prior = None
        if std:
            pseudo = [min(n, (std[r].rate or 0.0) * n) for r, n in zip(names, n_s, strict=True)]
            std_prior = rs.fit_beta_binomial(pseudo, n_s.to_numpy(float))
        for rep, k, n in zip(names, k_s, n_s, strict=True):
            rates[rep][metric] = _rate(
                int(k), int(n), prior, team_rate, tk, tn, std.get(rep), std_prior
            )
    if has_goal and not names:
        pass
    ranked_metric = "reach" if has_goal and "reach" in rep_cols else "win"
    aj = _incidence(inc, horizon) if inc is not None else {}
    medians = {
        (None if bool(r.is_team) else r.rep, bool(r.is_team)): stats.finite(r.goal_days)
        for r in med.itertuples()
    }
    team_rates = {m: _plain_rate(k, n) for m, (k, n) in team_cols.items()}
    rows = []
    for rep in names:
        c = per_rep.loc[rep]
        rows.append(
            _row(
                rep,
                "rep",
                c,
                rates[rep],
                aj.get(rep),
                medians.get((rep, False)),
                team_sum,
                has_goal,
            )
        )
    rows = _rank(rows, ranked_metric, bool(strata))
    unassigned = None
    none_rows = [r for r in per_rep.index if r is None or r != r]
    if none_rows:
        c = per_rep.loc[none_rows[0]]
        plain = {
            m: _plain_rate(int(k[none_rows[0]]), int(n[none_rows[0]]))
            for m, (k, n) in _metric_counts(per_rep, has_goal, has_road).items()
        }
        unassigned = _row(
            None,
            "unassigned",
            c,
            plain,
            aj.get(None),
            medians.get((None, False)),
            team_sum,
            has_goal,
        )
    team = _row(
        None,
        "team",
        team_sum,
        team_rates,
        aj.get("\x00team"),
        medians.get((None, True)),
        team_sum,
        has_goal,
        gap=False,
    )
    return rows, team, unassigned, priors, caveats, ranked_metric


def _plain_rate(k: int, n: int) -> Rate:
    rate, ci = _wilson(k, n)
    return Rate(k, n, rate, ci, None, None, None)


def _wilson(k: float, n: float) -> tuple[float | None, tuple[float, float] | None]:
    if n <= 0:
        return None, None
    lo, hi = stats.wilson(np.asarray(k), np.asarray(n))
    return k / n, (float(lo), float(hi))


def _rate(k, n, prior, team_rate, tk, tn, std, std_prior) -> Rate:
    rate, ci = _wilson(k, n)
    shrunk, shrunk_ci = rs.posterior(prior, k, n) if n > 0 else (None, None)
    if prior is not None and prior.pooled and n > 0:
        shrunk_ci = _wilson(tk, tn)[1]  # pooled: the team's rate and its own interval
    zone_rate = rate
    extra: dict = {}
    if std is not None:
        s_shrunk, s_ci = (
            rs.posterior(std_prior, min(n, (std.rate or 0.0) * n), n) if n > 0 else (None, None)
        )
        if std_prior is not None and std_prior.pooled and n > 0:
            s_ci = _wilson(tk, tn)[1]
        extra = {
            "expected": std.expected,
            "observed_expected": std.ratio,
            "observed_expected_ci": std.ratio_ci,
            "standardised": std.rate,
            "standardised_shrunk": s_shrunk,
            "standardised_shrunk_ci": s_ci,
        }
        zone_rate = std.rate
    zone = rs.zone(zone_rate, team_rate, n) if team_rate is not None else None
    return Rate(k, n, rate, ci, shrunk, shrunk_ci, zone, **extra)


def _standardised(counts, cols, names, strata) -> dict[str, rs.Standardised]:
    """Observed / expected per rep for one metric, over the strata of ``counts``."""
    k_col, n_col = cols
    frame = counts[["rep", *strata]].assign(k=k_col.to_numpy(), n=n_col.to_numpy())
    team = frame.groupby(strata, sort=True)[["k", "n"]].sum()
    out = {}
    for rep in names:
        mine = frame[frame.rep == rep].groupby(strata, sort=True)[["k", "n"]].sum()
        mine = mine.reindex(team.index, fill_value=0)
        out[rep] = rs.indirect(
            mine.k.to_numpy(), mine.n.to_numpy(), team.k.to_numpy(), team.n.to_numpy()
        )
    return out


def _row(rep, kind, c, metrics, aj, median, team, has_goal, gap=True) -> RepRow:
    reach = aj or (None, None, None, None)
    won, lost = int(c.won), int(c.lost)
    g = None
    if gap and has_goal and won + lost > 0:
        g = rs.decompose(_rpq(c), _rpq(team), won + lost)  # type: ignore[arg-type]
    road = "adherence" in metrics
    return RepRow(
        rep=rep,
        kind=kind,
        rank=None,
        rank_adjusted=None,
        leads=int(c.leads),
        won=won,
        lost=lost,
        open=int(c.open),
        goal_reach=reach[0],
        goal_reach_ci=reach[1],
        goal_reach_overall=reach[2],
        goal_reach_overall_ci=reach[3],
        median_days_to_goal=median,
        metrics=metrics,
        gap=g,
        adherence_won=(int(c.won_road), won) if road else None,
        adherence_lost=(int(c.lost_road), lost) if road else None,
    )


def _rpq(c) -> tuple[float | None, float | None, float | None]:
    """(R, P, Q): share of closed leads that reached the goal, win rate after it, without it."""
    closed = int(c.won + c.lost)
    reached = int(c.won_goal + c.lost_goal)
    r = reached / closed if closed else None
    p = int(c.won_goal) / reached if reached else None
    q_ = int(c.won - c.won_goal) / (closed - reached) if closed - reached else None
    return r, p, q_


def _rank(rows: list[RepRow], metric: str, adjusted: bool) -> list[RepRow]:
    """Rank by the shrunk rate (the raw one breaks ties; the raw one alone when nothing
    could be shrunk), and with ``adjusted`` also by the shrunk standardised rate."""
    from dataclasses import replace

    def key(attr: str):
        def k(r: RepRow):
            m = r.metrics[metric]
            value = getattr(m, attr)
            raw = m.standardised if attr.startswith("standardised") else m.rate
            main = value if value is not None else raw
            return (m.n == 0 or main is None, -(main or 0.0), -(raw or 0.0), r.rep or "")

        return k

    ordered = sorted(rows, key=key("shrunk"))
    ranks = {r.rep: (i + 1 if r.metrics[metric].n > 0 else None) for i, r in enumerate(ordered)}
    adj: dict = {}
    if adjusted:
        by_adj = sorted(rows, key=key("standardised_shrunk"))
        adj = {r.rep: (i + 1 if r.metrics[metric].n > 0 else None) for i, r in enumerate(by_adj)}
    return [replace(r, rank=ranks[r.rep], rank_adjusted=adj.get(r.rep)) for r in ordered]


def _split(rows: list[RepRow], metric: str, share: float) -> tuple[list[str], list[str]]:
    """The top ``share`` of ranked reps (at least one) and the other ranked reps.

    Reps with fewer than :data:`SMALL` leads behind their reach are left out of both: a
    newcomer whose four leads all reached the goal is not "the best" to learn from."""
    ranked = [
        r.rep
        for r in rows
        if r.rank is not None and r.rep is not None and r.metrics[metric].n >= SMALL
    ]
    if len(ranked) < 2 or metric != "reach":
        return [], []
    n_top = min(len(ranked) - 1, max(1, math.ceil(share * len(ranked))))
    return ranked[:n_top], ranked[n_top:]


def _incidence(inc: pd.DataFrame, horizon: int) -> dict:
    """Per rep (and the team, under ``"\\x00team"``): the cumulative incidence of reaching
    the goal by ``horizon`` and at the end of follow-up, each with its interval."""
    out: dict = {}
    inc = inc.assign(rep=inc.rep.astype(object).where(inc.rep.notna(), None))
    groups = [(rep, g) for rep, g in inc.groupby("rep", dropna=False, sort=True)]
    groups.append(("\x00team", inc))
    for rep, g in groups:
        key = None if rep is None or (isinstance(rep, float) and math.isnan(rep)) else rep
        out[key] = _cif(g, horizon)
    return out


def _cif(g: pd.DataFrame, horizon: int):
    wide = g.pivot_table(index="t", columns="status", values="n", aggfunc="sum", fill_value=0)
    wide = wide.sort_index()
    cols = {s: (wide[s].to_numpy(float) if s in wide else np.zeros(len(wide))) for s in q.STATUSES}
    n = int(sum(c.sum() for c in cols.values()))
    if not n:
        return None, None, None, None
    times = wide.index.to_numpy(float)
    _, cif, other = stats.aalen_johansen(times, cols["event"], cols["competing"], cols["censored"])
    se = stats.aalen_johansen_se(times, cols["event"], cols["competing"], cols["censored"])
    complete = 1.0 - cif[-1] - other[-1] <= 1e-12
    at_h = at_h_ci = None
    if complete or times.max() >= horizon:
        at_h = stats.value_at(times, cif, horizon)
        at_h_ci = stats.incidence_interval(at_h, stats.value_at(times, se, horizon), n)
    overall = float(cif[-1])
    overall_ci = stats.incidence_interval(overall, float(se[-1]), n)
    return at_h, at_h_ci, overall, overall_ci


# ---------------------------------------------------------------- practices


def _practices(ws, events, lt, goals, top, rest, counts, horizon):
    from royalroad.analysis import reps_practices as rp
    from royalroad.analysis.funnel_queries import entry_profile
    from royalroad.analysis.history import ENTRY_SHARE

    goal = goals.recommended
    exclude = {p.activity for p in goals.proxies} | {a for a in (goal.activity, goal.then) if a}
    if ws.grouping is not None:
        exclude.add(ws.grouping.label)
    cohort_only = int(counts.cohort.sum()) > 0  # else no lead was watched for the horizon
    p = q.practice_leads(lt, top, horizon=horizon, cohort_only=cohort_only)
    with ws.materialized(p, "repleads") as pl:
        sizes = q.group_sizes(pl).execute()
        w = q.window_events(events, pl, exclude=sorted(exclude), horizon=horizon)
        with ws.materialized(w, "repwin") as win:
            singles = q.single_features(win).execute()
            acts = sorted(str(a) for a in singles.activity.unique())
            entries: set[str] = set()
            if acts:
                prof = entry_profile(events, acts).execute()
                entries = {
                    str(r.activity)
                    for r in prof.itertuples()
                    if r.leads > 0 and r.opened >= ENTRY_SHARE * r.leads
                }
            singles = singles[~singles.activity.astype(str).isin(entries)]
            pair_acts = rp.pair_activities(singles)
            pairs = q.pair_features(win, pair_acts).execute() if len(pair_acts) > 1 else None
    return rp.compare(singles, pairs, sizes)


# ---------------------------------------------------------------- caveats


def _caveats(caveats, goal, source, column, unassigned, rows, priors):
    out = list(caveats)
    if goal is None:
        out.insert(0, Caveat("reps.caveat.no_goal", {}))
    if source == "events":
        out.append(Caveat("reps.caveat.events_owner", {"column": column}))
    if unassigned is not None:
        out.append(Caveat("reps.caveat.unassigned", {"n": f"{unassigned.leads:,}"}))
    if len(rows) < 3:
        out.append(Caveat("reps.caveat.few_reps", {"n": len(rows)}))
    for metric in METRICS:
        prior = priors.get(metric)
        if prior is not None and prior.pooled:
            out.append(Caveat(f"reps.caveat.pooled_{metric}", {}))
    small = [r for r in rows if 0 < r.metrics.get("reach", r.metrics["win"]).n < SMALL]
    if small:
        out.append(Caveat("reps.caveat.small", {"n": len(small), "min": SMALL}))
    return out


reps = analyse_reps
"""``rr.reps(ws, …)``: the name the top-level API exports."""

__all__ = [
    "DEFAULT_HORIZON",
    "analyse_reps",
    "check_options",
    "event_columns",
    "rep_column",
    "reps",
    "road_steps",
]
