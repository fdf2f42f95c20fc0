"""Hand-off and next best action for every open lead, from its history.

* **Hand-off.** A lead that has passed the intermediate goal is *sales-ready*
  (marketing hands it to sales); one that has not is *nurture* (marketing keeps it).
* **State.** What the lead has done: which royal-road milestones it has passed and
  whether it has passed the goal (:mod:`royalroad.analysis.history`). A first-order
  chain of last steps rates a late step highly because whoever reached it had done
  the rest already; the history state compares like with like.
* **Evidence.** For each step leads in a state took (before their next milestone),
  the leads that took it are compared with the leads in the same state that did
  not: for sales-ready leads in P(win) among closed leads, for nurture leads in
  P(reaching the goal within ``horizon`` days) among leads that entered the state
  at least that long ago. The gain carries a 95% Newcombe interval; a gain whose
  interval covers zero is not a recommendation.
* **Advice.** Sales-ready leads get the royal road's next milestone, unless another
  step's gain is significant and clearly larger; with no significant step, ask for
  the decision. Nurture leads get the road's next milestone before the goal when
  nearly every winner passed it and it raises P(reaching the goal); else the goal
  itself where leads in the state commonly go straight to it and it pays; else the
  step that most raises P(reaching the goal); else keep nurturing. Outcome proxies
  and avoided (confounded) activities are never recommended.
* **Stalled.** The lead has waited longer than 90% of the waits in its state.

Per-state work happens in Python (it grows with states × activities); the per-lead
table is one engine query joined with the per-state advice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from royalroad import stats
from royalroad.analysis import history as h
from royalroad.analysis import journeys as j
from royalroad.analysis import markov
from royalroad.analysis import pwin_queries as pq
from royalroad.analysis.forecast import Forecast, forecast, join_predictions
from royalroad.analysis.nba_result import (
    CLOSE,
    KEEP,
    Action,
    NextResult,
    StateAdvice,
)
from royalroad.analysis.owner import owner_column
from royalroad.analysis.paths import (
    ChainTable,
    chain_for,
    from_goals,
    goal_activities,
    road_from_edges,
)
from royalroad.engine import Workspace
from royalroad.errors import InputError

STRAIGHT_SHARE = 0.2
"""Leads in a state "commonly go straight to the goal" when at least this share did."""
MUST_SHARE = 0.9
"""A milestone nearly every winner passed: at least this share of won leads."""
HORIZON_DAYS = 90
MAX_STATE_STEPS = 12
"""At most this many steps make up a state (the road's milestones first)."""


def next_best_actions(
    ws: Workspace,
    *,
    goals=None,
    goal=None,
    exclude: Sequence[str] = (),
    avoid: Sequence[str] = (),
    road: Sequence[str] | None = None,
    min_evidence: int = 10,
    horizon: int = HORIZON_DAYS,
    owner: str | None = None,
    chain: ChainTable | None = None,
) -> NextResult:
    """Classify open leads (sales-ready / nurture) and design each one's next step.

    Parameters
    ----------
    goals : GoalResult, optional
        The goal search's result: supplies ``goal``, the outcome proxies to exclude
        and the activities to avoid (the simple way to call this).
    goal : Candidate, optional
        The intermediate goal (from :func:`~royalroad.analysis.goals.discover_goals`).
    exclude : outcome proxies: left out of the journeys.
    avoid : activities never recommended though they stay in the journeys (for
        example those whose apparent effect is confounded by a segment).
    road : the royal road's activities in order (from
        :func:`~royalroad.analysis.paths.analyse_paths`); found here when omitted.
    min_evidence : leads needed on each side of a comparison.
    horizon : days within which a nurture lead should reach the goal.
    owner : the lead column naming the owner; found by name when omitted.
    chain : the chain's journeys already built
        (:func:`~royalroad.analysis.paths.shared_chain`), used when built for this goal.
    """
    goal, exclude, avoid = from_goals(goals, goal, exclude, avoid)
    if min_evidence < 1:
        raise InputError("nba.bad_min_evidence", value=min_evidence)
    if horizon < 1:
        raise InputError("nba.bad_horizon", value=horizon)
    owner_col = owner_column(ws, owner)
    with chain_for(ws, chain, goal=goal, scope="before_close", exclude=exclude) as o:
        events = j.usable(ws.table("events"))
        if exclude:
            events = events.filter(~events.activity.isin(list(exclude)))
        profile = h.step_profile(events, o).execute()
        if road is None:
            hubs = h.step_kinds(profile)[1] - goal_activities(goal)
            steps = road_from_edges(j.edges(o).execute(), goal, [*avoid, *sorted(hubs)])
            road = [s.activity for s in steps]
        plan = _Plan.make(road, profile, set(avoid), min_evidence)
        with ws.materialized(h.stepped(o, plan.steps), "steps") as st:
            return _advise(ws, o, st, goal, plan, min_evidence, horizon, owner_col)


class _Plan:
    """The steps that make up a state: the road's milestones, then the other one-off
    steps (most frequent first); entries, avoided activities and repeated steps are
    not part of it. Entries and avoided activities are never advised."""

    def __init__(self, road: tuple[str, ...], steps: tuple[str, ...], banned: set[str]) -> None:
        self.road, self.steps, self.banned = road, steps, banned

    @classmethod
    def make(cls, road, profile: pd.DataFrame, avoided: set[str], min_evidence: int) -> _Plan:
        entries, repeated = h.step_kinds(profile)
        banned = entries | avoided
        on_road = [a for a in dict.fromkeys(road) if a not in (j.WON, j.LOST, j.OPEN)]
        on_road = [a for a in on_road if a not in banned]
        often = profile[(profile.leads >= min_evidence) & ~profile.activity.isin(repeated)]
        often = often.sort_values(["leads", "activity"], ascending=[False, True])
        extra = [a for a in often.activity if a not in banned and a not in on_road]
        steps = tuple((on_road + extra)[:MAX_STATE_STEPS])
        return cls(tuple(a for a in on_road if a in steps), steps, banned)


def _advise(
    ws: Workspace,
    o,
    st,
    goal,
    plan: _Plan,
    min_evidence: int,
    horizon: int,
    owner: str | None,
) -> NextResult:
    leads = ws.table("leads")
    goals = h.goal_times(o)
    v = h.visits(st, leads)
    per_state = h.state_counts(v, goals, ws.as_of, horizon).execute().set_index("s")
    per_action = h.action_counts(st, v, goals, ws.as_of, horizon).execute()
    moves = h.transitions(v).execute()
    waits = h.waits(st).execute().set_index("s")
    finals = _finals(v).execute()

    p_win = _chain_p_win(moves)
    must = _must(finals, plan.road)
    goal_acts = _completing_steps(goal)
    advice = []
    for s in sorted(per_state.index.astype(int)):
        row = per_state.loc[s]
        acts = per_action[per_action.s == s].sort_values("activity")
        ctx = _State(s, plan, row, goal, goal_acts, horizon, min_evidence)
        cands = [
            ctx.evaluate(r)
            for r in acts.itertuples()
            if r.activity not in plan.banned and r.activity not in ctx.milestones
        ]
        best, second = ctx.choose(cands, must, p_win.get(s, math.nan))
        stall = waits.at[s, "p90"] / 24 if s in waits.index else None
        advice.append(
            StateAdvice(
                s=s,
                milestones=ctx.milestones,
                passed=ctx.passed,
                p_win=p_win.get(s, math.nan),
                leads=int(row.won + row.lost + row.open),
                best=best,
                second=second,
                stall_days=stats.finite(stall),
                candidates=tuple(sorted(cands, key=_rank)),
            )
        )
    # .view(): ibis would otherwise try to extend the joins inside current()
    usable = j.usable(ws.table("events"))
    cur = h.current(st, leads, ws.as_of, usable, owner).view()
    fc = forecast(ws, st, usable, cur, p_win)
    table = _lead_table(ws, cur, advice, fc)
    ready = int(pc.sum(pc.equal(table.column("status"), "sales_ready")).as_py() or 0)
    stalled = int(pc.sum(table.column("stalled")).as_py() or 0)
    return NextResult(
        goal=goal.label() if goal is not None else None,
        road=plan.road,
        steps=plan.steps,
        leads=table,
        advice=tuple(advice),
        sales_ready=ready,
        nurture=table.num_rows - ready,
        stalled=stalled,
        min_evidence=min_evidence,
        horizon_days=horizon,
        owner_column=owner,
        forecast=fc,
    )


def _finals(v):
    """Leads per (final state, outcome): which milestones winners passed."""
    f = v.group_by(["lead_key", "outcome"]).agg(final=v.s.max())
    return f.group_by(["final", "outcome"]).agg(n=f.count())


def _must(finals: pd.DataFrame, road: tuple[str, ...]) -> set[str]:
    """Road milestones passed by at least MUST_SHARE of won leads."""
    won = finals[finals.outcome == "won"]
    total = int(won.n.sum())
    if not total:
        return set()
    masks = won.final.to_numpy(dtype="int64") >> 1
    out = set()
    for k, activity in enumerate(road):
        passed = int(won.n.to_numpy()[(masks >> k) & 1 == 1].sum())
        if passed / total >= MUST_SHARE:
            out.add(activity)
    return out


def _chain_p_win(moves: pd.DataFrame) -> dict[int, float]:
    """P(win) of every state from the absorbing chain over history states (exact)."""

    def name(s) -> str:
        return j.START if int(s) == 0 else f"s{int(s)}"

    counts: dict[tuple[str, str], float] = {}
    for r in moves.itertuples():
        if pd.isna(r.nxt):
            dst = {"won": j.WON, "lost": j.LOST}.get(r.outcome, j.OPEN)
        else:
            dst = name(r.nxt)
        key = (name(r.s), dst)
        counts[key] = counts.get(key, 0.0) + float(r.n)
    chain = markov.Chain.from_counts(counts)
    sol = markov.solve(chain)
    out = {}
    for i, state in enumerate(chain.transient):
        s = 0 if state == j.START else int(state[1:])
        out[s] = float(sol.p_win[i])
    return out


def _completing_steps(goal) -> tuple[str, ...]:
    if goal is None:
        return ()
    return (goal.then,) if goal.then else (goal.activity,)


def _rank(a: Action) -> tuple:
    gain = a.gain if math.isfinite(a.gain) else -math.inf
    return (not a.significant, -gain, -a.n, a.activity)


def _pct(x: float) -> str:
    return f"{x:.0%}" if math.isfinite(x) else "–"


def _pts(x: float) -> str:
    return f"{100 * x:+.0f}" if math.isfinite(x) else "–"


class _State:
    """The evidence and the choice for one history state."""

    def __init__(self, s, plan: _Plan, row, goal, goal_acts, horizon, min_evidence) -> None:
        self.s = s
        self.mask, self.passed = s >> 1, bool(s & 1)
        self.milestones = tuple(a for k, a in enumerate(plan.steps) if (self.mask >> k) & 1)
        self.road = plan.road
        self.row = row
        self.goal = goal
        self.goal_acts = goal_acts
        self.horizon = horizon
        self.min_evidence = min_evidence
        self.metric = "win" if (self.passed or goal is None) else "reach_goal"
        self.leads = int(row.won + row.lost + row.open)

    # -- evidence ---------------------------------------------------------------------
    def evaluate(self, r, metric: str | None = None) -> Action:
        metric = metric or self.metric
        if metric == "reach_goal" and r.activity in self.goal_acts:
            metric = "win"  # going to the goal is judged by what it pays
        w, lo_ = int(r.won), int(r.lost)
        rest_w, rest_l = int(self.row.won) - w, int(self.row.lost) - lo_
        win_rate, win_ci = stats.win_rate(w, lo_)
        if metric == "win":
            k1, n1, k2, n2 = w, w + lo_, rest_w, rest_w + rest_l
        else:
            k1, n1 = int(r.reached), int(r.evaluable)
            k2 = int(self.row.reached) - k1
            n2 = int(self.row.evaluable) - n1
        ok = n1 >= self.min_evidence and n2 >= self.min_evidence
        gain, gain_ci = stats.rate_difference(k1, n1, k2, n2) if ok else (math.nan, (math.nan,) * 2)
        rate, rate_ci = (k1 / n1 if n1 else math.nan), tuple(float(x) for x in stats.wilson(k1, n1))
        other = k2 / n2 if n2 else math.nan
        share = int(r.went_next) / self.leads if self.leads else math.nan
        kind = self._kind(r.activity, metric)
        key, params = self._reason(r.activity, kind, metric, rate, rate_ci, other, n1, share)
        return Action(
            activity=r.activity,
            kind=kind,
            metric=metric,
            rate=rate,
            rate_ci=(rate_ci[0], rate_ci[1]),
            rate_otherwise=other,
            n=n1,
            n_otherwise=n2,
            gain=gain,
            gain_ci=(gain_ci[0], gain_ci[1]),
            win_rate=win_rate,
            win_rate_ci=win_ci,
            went_next_share=share,
            reason_key=key,
            reason_params=params,
        )

    def _kind(self, activity: str, metric: str) -> str:
        if metric == "reach_goal":
            return "toward_goal"
        return "milestone" if activity in self.road or activity in self.goal_acts else "step"

    def _reason(self, activity, kind, metric, rate, ci, other, n, share) -> tuple[str, dict]:
        params = {
            "step": activity,
            "rate": _pct(rate),
            "lo": f"{100 * ci[0]:.0f}" if math.isfinite(ci[0]) else "–",
            "hi": f"{100 * ci[1]:.0f}%" if math.isfinite(ci[1]) else "–",
            "other": _pct(other),
            "n": f"{n:,}",
        }
        if metric == "reach_goal":
            goal = self.goal.label() if self.goal is not None else "–"
            return "nba.reason.reach", params | {"goal": goal, "days": self.horizon}
        if activity in self.goal_acts and not self.passed:
            return "nba.reason.straight", params | {"share": _pct(share)}
        return "nba.reason.win", params

    # -- choice -----------------------------------------------------------------------
    def _next_milestone(self) -> str | None:
        """The road's next milestone after the furthest one passed (and the goal)."""
        furthest = max((k for k in range(len(self.road)) if (self.mask >> k) & 1), default=-1)
        if self.passed and self.goal is not None:
            for act in (self.goal.activity, self.goal.then):
                if act in self.road:
                    furthest = max(furthest, self.road.index(act))
        return self.road[furthest + 1] if furthest + 1 < len(self.road) else None

    def choose(
        self, cands: list[Action], must: set[str], p_win: float
    ) -> tuple[Action | None, Action | None]:
        sig = sorted((c for c in cands if c.significant), key=_rank)
        by_act = {c.activity: c for c in cands}
        nxt = self._next_milestone()
        best: Action | None = None
        if self.metric == "win":
            road = by_act.get(nxt) if nxt else None
            if road is not None and road.significant:
                better = [c for c in sig if c is not road and c.gain_ci[0] > road.gain]
                best = better[0] if better else road
            elif sig:
                best = sig[0]
        else:
            road = by_act.get(nxt) if nxt and nxt not in self.goal_acts else None
            straight = [
                c
                for c in sig
                if c.activity in self.goal_acts and c.went_next_share >= STRAIGHT_SHARE
            ]
            toward = [c for c in sig if c.activity not in self.goal_acts]
            if road is not None and road.significant and nxt in must:
                best = road  # material first, then the meeting
            elif straight:
                best = straight[0]
            elif toward:
                best = toward[0]
        if best is None:
            best = self._fallback(cands, p_win, nxt)
        rest = [c for c in sig if c is not best]
        return best, (rest[0] if rest else None)

    def _fallback(self, cands: list[Action], p_win: float, nxt: str | None) -> Action:
        """No step has a significant gain: ask for the decision (sales-ready leads, or a
        journey with no milestone left) or keep nurturing."""
        closing = self.passed or (self.goal is None and nxt is None)
        won, lost = int(self.row.won), int(self.row.lost)
        rate, ci = stats.win_rate(won, lost)
        tried = max(cands, key=lambda c: c.n, default=None)
        params = {
            "n": f"{(won + lost) if closing else self.leads:,}",
            "p": _pct(p_win),
            "best": tried.activity if tried else "–",
            "gain": _pts(tried.gain) if tried else "–",
        }
        return Action(
            activity=CLOSE if closing else KEEP,
            kind="close" if closing else "keep_nurturing",
            metric=None,
            rate=rate,
            rate_ci=ci,
            rate_otherwise=math.nan,
            n=won + lost,
            n_otherwise=0,
            gain=math.nan,
            gain_ci=(math.nan, math.nan),
            win_rate=rate,
            win_rate_ci=ci,
            went_next_share=math.nan,
            reason_key="nba.reason.close" if closing else "nba.reason.keep",
            reason_params=params,
        )


def _lead_table(ws: Workspace, cur, advice: Sequence[StateAdvice], fc: Forecast) -> pa.Table:
    """One row per open lead: the per-state advice and its cell's P(win) joined in the engine."""

    def col(get, typ):
        return pa.array([get(a) for a in advice], typ)

    def fin(x):
        return x if x is not None and math.isfinite(x) else None

    rec = pa.table(
        {
            "r_s": col(lambda a: a.s, pa.int64()),
            "passed": col(lambda a: a.passed, pa.bool_()),
            "recommended_action": col(lambda a: a.best.activity if a.best else None, pa.string()),
            "action_kind": col(lambda a: a.best.kind if a.best else None, pa.string()),
            "expected_win_rate": col(
                lambda a: (
                    fin(a.best.win_rate) if a.best and a.best.kind != "keep_nurturing" else None
                ),
                pa.float64(),
            ),
            "gain": col(lambda a: fin(a.best.gain) if a.best else None, pa.float64()),
            "gain_low": col(lambda a: fin(a.best.gain_ci[0]) if a.best else None, pa.float64()),
            "gain_high": col(lambda a: fin(a.best.gain_ci[1]) if a.best else None, pa.float64()),
            "evidence_n": col(lambda a: a.best.n if a.best else None, pa.int64()),
            "second_action": col(lambda a: a.second.activity if a.second else None, pa.string()),
            "stall_days": col(lambda a: a.stall_days, pa.float64()),
        }
    )
    rows = pq.current_rows(cur, ws.table("leads"), ws.as_of, fc.model.segments, fc.amount)
    t = join_predictions(rows.view(), fc).view()
    r = ibis.memtable(rec)
    t = t.left_join(r, t.s == r.r_s)
    adj = {f"adj_{g}": t[f"adj_{g}"] for g in fc.model.order()}
    segs = {f"seg_{g}": t[g] for g in fc.model.order() if g.startswith("g")}
    t = t.select(
        lead_id=t.lead_id,
        owner=t.owner,
        status=ibis.coalesce(t.passed, False).ifelse("sales_ready", "nurture"),
        s=t.s,
        current_step=t.current_step,
        recommended_action=t.recommended_action,
        action_kind=t.action_kind,
        expected_win_rate=t.expected_win_rate,
        gain=t.gain,
        gain_low=t.gain_low,
        gain_high=t.gain_high,
        evidence_n=t.evidence_n,
        second_action=t.second_action,
        current_win_rate=t.p_win,
        win_low=t.p_low,
        win_high=t.p_high,
        state_rate=t.state_rate,
        **adj,
        days_idle=t.days_idle,
        age_days=t.age_days,
        events_so_far=t.events_so_far,
        **segs,
        stalled=ibis.coalesce(t.days_idle > t.stall_days, False),
    ).order_by(["lead_id"])
    return t.to_pyarrow()


__all__ = ["CLOSE", "KEEP", "NextResult", "next_best_actions"]
