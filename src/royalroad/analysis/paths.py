"""The royal road: winning journeys, directly-follows graph and an exact Markov model.

* **DFG and variants** are the process-mining view: every activity, counted in the
  engine (:mod:`royalroad.analysis.journeys`), equal to pm4py on the same log.
* **The Markov chain** models how journeys end. Outcome proxies (contract signing,
  invoices…) are part of the outcome, not steps, so they are left out of it.
* **The royal road** is the most probable sequence of steps from the first contact
  to a win that passes through the intermediate goal, with P(win) after each step.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from royalroad import stats
from royalroad.analysis import journeys as j
from royalroad.analysis import markov
from royalroad.analysis.paths_result import (
    Conformance,
    Edge,
    Flow,
    PathsResult,
    RoadStep,
    SingleActivity,
    StateValue,
    Variant,
)
from royalroad.engine import Workspace
from royalroad.errors import InputError

_num = stats.finite
ROAD_TOLERANCE = -0.01
ROAD_MIN_GAIN = 0.01


def edge_counts(df: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(s, d): float(n) for s, d, n in zip(df.src, df.dst, df["count"], strict=True)}


def goal_reach_table(ws: Workspace, goal):
    """Ibis table (lead_key, r_pos): where each lead reached the intermediate goal."""
    from royalroad.analysis import milestones as m

    e = m.journey(ws.table("events"), ws.table("leads"))
    occ = m.with_occurrence(e, max(goal.min_count, 1))
    return m.goal_reach(e, occ, goal.activity, goal.min_count, goal.within_days, goal.then)


def chain_tables(
    ws: Workspace, *, goal=None, scope: str = "before_close", exclude: Sequence[str] = ()
):
    """Journeys for the chain: first occurrences, proxies removed, states marked after the goal.

    :func:`analyse_paths` and :func:`~royalroad.analysis.nba.next_best_actions` both read
    it; ``royalroad analyze`` materialises it once (:func:`shared_chain`) for both."""
    ev = j.usable(ws.table("events"), scope)
    if exclude:
        ev = ev.filter(~ev.activity.isin(list(exclude)))
    reach = goal_reach_table(ws, goal) if goal is not None else None
    return j.ordered(ev, ws.table("leads"), reach=reach, first_only=True)


@contextlib.contextmanager
def shared_chain(
    ws: Workspace, *, goal=None, scope: str = "before_close", exclude: Sequence[str] = ()
) -> Iterator[ChainTable]:
    """The chain's journeys as a temporary table, for the block: pass it as ``chain=`` to
    :func:`analyse_paths` and :func:`~royalroad.analysis.nba.next_best_actions`, which
    would otherwise each sort the events into it (4 s of a 10M-event analyze)."""
    expr = chain_tables(ws, goal=goal, scope=scope, exclude=exclude)
    with ws.materialized(expr, "chain") as table:
        yield ChainTable(table, goal, scope, tuple(exclude))


@dataclass(frozen=True)
class ChainTable:
    """A materialised :func:`chain_tables` and what it was built for."""

    table: Any
    goal: Any
    scope: str
    exclude: tuple[str, ...]

    def fits(self, goal, scope: str, exclude: Sequence[str]) -> bool:
        return self.goal == goal and self.scope == scope and self.exclude == tuple(exclude)


@contextlib.contextmanager
def chain_for(ws: Workspace, chain: ChainTable | None, *, goal, scope: str, exclude):
    """``chain``'s table when it was built for these arguments, else a fresh one."""
    if chain is not None and chain.fits(goal, scope, exclude):
        yield chain.table
        return
    with ws.materialized(chain_tables(ws, goal=goal, scope=scope, exclude=exclude), "chain") as o:
        yield o


def from_goals(goals, goal, exclude: Sequence[str], avoid: Sequence[str]):
    """``goal``, ``exclude`` and ``avoid`` completed from a goal result: its recommended
    goal, its outcome proxies and the activities it says never to advise."""
    if goals is None:
        return goal, tuple(exclude), tuple(avoid)
    proxies = [p.activity for p in goals.proxies]
    return (
        goal if goal is not None else goals.recommended,
        tuple(dict.fromkeys([*exclude, *proxies])),
        tuple(dict.fromkeys([*avoid, *goals.avoided()])),
    )


def analyse_paths(
    ws: Workspace,
    *,
    goals=None,
    goal=None,
    exclude: Sequence[str] = (),
    avoid: Sequence[str] = (),
    scope: str = "before_close",
    order: int = 1,
    top: int = 20,
    coverage: float = 0.8,
    depth: int = 6,
    chain: ChainTable | None = None,
) -> PathsResult:
    """Variants, DFG, Markov chain (exact) and the royal road through ``goal``.

    Parameters
    ----------
    goals : GoalResult, optional
        The goal search's result: supplies ``goal``, the outcome proxies to exclude
        and the activities to avoid (the simple way to call this).
    goal : Candidate, optional
        The intermediate goal (from :func:`~royalroad.analysis.goals.discover_goals`)
        the royal road must pass through.
    exclude : activities left out of the Markov chain (outcome proxies).
    avoid : activities the royal road does not go through (confounded ones); they
        stay in the chain.
    scope : ``before_close`` or ``all`` (process-mining view: every complete event).
    order : 1 or 2, the memory of the Markov chain.
    top, coverage : variants shown: the ``top`` most frequent, fewer if they already
        cover ``coverage`` of leads.
    chain : the chain's journeys already built (:func:`shared_chain`), used when they
        were built for the same goal, scope and excluded activities.
    """
    goal, exclude, avoid = from_goals(goals, goal, exclude, avoid)
    if scope not in j.SCOPES:
        raise InputError("paths.bad_scope", value=scope, allowed=", ".join(j.SCOPES))
    if order not in (1, 2):
        raise InputError("paths.bad_order", value=order)
    leads = ws.table("leads")
    raw = j.ordered(j.usable(ws.table("events"), scope), leads)

    # 1. process-mining view: every activity (counts by outcome and median gap: the
    # distinct leads and p90 that the chain's edges carry are not read here)
    e_all = j.dfg(raw).execute()
    internal = e_all[~e_all.src.isin([j.START]) & ~e_all.dst.isin([j.WON, j.LOST, j.OPEN])]
    dfg = tuple(
        Edge(r.src, r.dst, int(r.count), int(r.won), int(r.lost), int(r.open), _num(r.median_hours))
        for r in internal.sort_values(
            ["count", "src", "dst"], ascending=[False, True, True]
        ).itertuples()
    )
    starts = e_all[e_all.src == j.START]
    ends = e_all[e_all.dst.isin([j.WON, j.LOST, j.OPEN])].groupby("src")["count"].sum()
    # the variants feed four small queries: the backend computes them once
    with ws.materialized(j.variants(ws.table("events"), leads, scope), "variants") as var:
        variants, total, n_leads, covered = _variants(var, top, coverage)
        winning = _winning(var, top)
        singles = _single_activity(var)
        return _chain_part(
            ws,
            var,
            goal=goal,
            exclude=exclude,
            avoid=avoid,
            scope=scope,
            order=order,
            depth=depth,
            chain=chain,
            common={
                "scope": scope,
                "order": order,
                "leads": n_leads,
                "events": int(internal["count"].sum() + starts["count"].sum()),
                "dfg": dfg,
                "start_activities": {
                    r.dst: int(r.count)
                    for r in starts.sort_values(
                        ["count", "dst"], ascending=[False, True]
                    ).itertuples()
                },
                "end_activities": {
                    k: int(v) for k, v in sorted(ends.items(), key=lambda kv: (-kv[1], kv[0]))
                },
                "variants": variants,
                "variants_total": total,
                "variants_coverage": covered,
                "winning_variants": winning,
                "single_activity": singles,
                "excluded": tuple(exclude),
            },
        )


def _chain_part(
    ws: Workspace, var, *, goal, exclude, avoid, scope, order, depth, chain, common: dict
) -> PathsResult:
    """The Markov chain, the removal effects, the Sankey flows and the royal road."""
    # 2. the chain, without outcome proxies; its journeys feed the edges and the Sankey
    # flows, so the backend computes them once
    with chain_for(ws, chain, goal=goal, scope=scope, exclude=exclude) as o:
        e_chain = j.edges(o).execute() if order == 1 else j.edges_order2(o).execute()
        flow_df = j.step_flows(o, depth).execute()
        hubs = repeated_steps(ws, o, goal, scope, exclude)
    chain = markov.Chain.from_counts(edge_counts(e_chain))
    sol = markov.solve(chain)
    exits = chain.counts.sum(axis=1)
    states = tuple(
        StateValue(s, float(sol.p_win[i]), float(sol.expected_steps[i]), int(exits[i]))
        for i, s in enumerate(chain.transient)
    )
    groups = _groups(chain.transient, order)
    effects = markov.removal_effects(chain, groups)
    effects = dict(
        sorted(effects.items(), key=lambda kv: (-(kv[1] if kv[1] == kv[1] else -1), kv[0]))
    )

    flow_df = flow_df.sort_values(
        ["step", "leads", "src", "dst"], ascending=[True, False, True, True]
    )
    flows = tuple(Flow(int(r.step), r.src, r.dst, int(r.leads)) for r in flow_df.itertuples())
    road, through = _royal_road(chain, sol, goal, order, [*avoid, *sorted(hubs)])
    conf = None
    if road:
        steps = [s.activity for s in road if s.activity not in (j.WON,)]
        c = j.conformance(var, steps).to_pyarrow().to_pylist()[0]
        conf = Conformance(
            *(
                int(c[f"{o}_{k}"] or 0)
                for o in ("won", "lost", "open")
                for k in ("leads", "followed")
            )
        )
    return PathsResult(
        **common,
        states=states,
        p_win_start=sol.of(j.START) if j.START in chain.transient else math.nan,
        removal_effects=effects,
        royal_road=road,
        through=through,
        conformance=conf,
        flows=flows,
    )


def _variants(v, top: int, coverage: float) -> tuple[tuple[Variant, ...], int, int, float]:
    """The variants shown, picked in the engine: the ``top`` most frequent (ties by
    path), fewer once they cover ``coverage`` of leads; with the number of variants,
    of leads and the share covered. Only the rows shown reach Python."""
    order = [ibis.desc(v.leads), v.key]
    w = ibis.window(order_by=order, rows=(None, 0))
    whole = ibis.window()
    r = v.mutate(
        _rank=ibis.row_number().over(w),
        _cum=v.leads.sum().over(w),
        _variants=v.count().over(whole),
        _total=v.leads.sum().over(whole),
    )
    before = r._cum - r.leads  # leads covered by the variants ranked above this one
    shown = (
        r.filter((r._rank < top) & (before < coverage * r._total))
        .order_by(order)
        .to_pyarrow()
        .to_pylist()
    )
    if not shown:  # no lead, or top = 0
        t = v.aggregate(n=v.count(), leads=v.leads.sum()).to_pyarrow().to_pylist()[0]
        return (), int(t["n"]), int(t["leads"] or 0), 0.0
    total, n_leads = int(shown[0]["_variants"]), int(shown[0]["_total"])
    out = [_variant(r) for r in shown]
    return tuple(out), total, n_leads, shown[-1]["_cum"] / n_leads


def _winning(v, top: int, n: int = 10) -> tuple[Variant, ...]:
    """How winners went: the variants with the most won leads (ties by path), at most
    ``n`` (or ``top`` if smaller), each with its win rate among all its leads."""
    rows = (
        v.filter(v.won > 0)
        .order_by([ibis.desc(v.won), v.key])
        .limit(min(n, top))
        .to_pyarrow()
        .to_pylist()
    )
    return tuple(_variant(r) for r in rows)


def _variant(r: dict) -> Variant:
    rate, ci = stats.win_rate(r["won"], r["lost"])
    return Variant(
        tuple(r["path"]),
        r["leads"],
        r["won"],
        r["lost"],
        r["open"],
        rate,
        ci,
        _num(r["median_days"]),
    )


def _single_activity(var) -> tuple[SingleActivity, ...]:
    """Journeys that consisted of one activity only (however often repeated), from the variants."""
    only = var.filter(var.path.unique().length() == 1)
    df = (
        only.group_by(activity=only.path[0])
        .agg(
            leads=only.leads.sum(),
            won=only.won.sum(),
            lost=only.lost.sum(),
            open=only.open.sum(),
        )
        .execute()
        .sort_values(["leads", "activity"], ascending=[False, True])
    )
    out = []
    for r in df.itertuples():
        rate, ci = stats.win_rate(int(r.won), int(r.lost))
        out.append(
            SingleActivity(r.activity, int(r.leads), int(r.won), int(r.lost), int(r.open), rate, ci)
        )
    return tuple(out)


def activity_of(state: str) -> str:
    """The activity a chain state stands for (drops the order-2 prefix and the goal mark)."""
    act = state.split(j.SEP)[-1]
    return act[: -len(j.MARK)] if act.endswith(j.MARK) else act


def repeated_steps(
    ws: Workspace, o, goal, scope: str = "before_close", exclude: Sequence[str] = ()
) -> set[str]:
    """Steps most leads repeat (e-mail opens, calls): not milestones, so the royal road
    does not go through them (the goal's own activities excepted)."""
    from royalroad.analysis import history as h

    ev = j.usable(ws.table("events"), scope)
    if exclude:
        ev = ev.filter(~ev.activity.isin(list(exclude)))
    _, repeated = h.step_kinds(h.step_profile(ev, o).execute())
    return repeated - goal_activities(goal)


def goal_activities(goal) -> set[str]:
    """The activities a goal milestone names (one, or two for "A then B")."""
    return {a for a in (goal.activity, goal.then) if a} if goal is not None else set()


def road_from_edges(e_chain: pd.DataFrame, goal, avoid: Sequence[str] = ()) -> tuple[RoadStep, ...]:
    """The royal road (order-1 chain) from the chain's edges, as :func:`analyse_paths` finds it."""
    chain = markov.Chain.from_counts(edge_counts(e_chain))
    return _royal_road(chain, markov.solve(chain), goal, 1, avoid)[0]


def _groups(states: Sequence[str], order: int) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for s in states:
        if s == j.START:
            continue
        groups.setdefault(activity_of(s), []).append(s)
    return groups


def _royal_road(
    chain: markov.Chain, sol: markov.Solution, goal, order: int, avoid: Sequence[str] = ()
) -> tuple[tuple[RoadStep, ...], tuple[str, ...]]:
    if j.START not in chain.transient:
        return (), ()
    names = chain.transient
    avoid_states = [s for s in names if activity_of(s) in set(avoid)]
    p_of = {s: float(sol.p_win[i]) for i, s in enumerate(names)}
    waypoints: list[str] = []
    if goal is not None:
        wanted = [goal.activity] + ([goal.then] if goal.then else [])
        for w in wanted:
            carrying = [s for s in names if activity_of(s) == w]
            marked = [s for s in carrying if s.endswith(j.MARK)]
            pool = marked or carrying
            if not pool:
                return (), tuple(wanted)
            # the most visited state carrying the goal activity (order 2 has several)
            waypoints.append(max(pool, key=lambda s: (chain.counts[names.index(s)].sum(), s)))
    path: list[str] = [j.START]
    for i, target in enumerate([*waypoints, j.WON]):
        # Before the goal: the usual way there, never through a step that lowers the
        # odds by more than a point. After it: steps that raise P(win) by a point or
        # more (a follow-up e-mail after the goal is not a milestone), else steps that
        # at least keep it. Confounded activities are avoided. Fall back to the most
        # probable path when the data has no such road.
        gains = [ROAD_TOLERANCE] if i < len(waypoints) else [ROAD_MIN_GAIN, ROAD_TOLERANCE]
        leg = None
        for gain in gains:
            leg = markov.most_probable_path(
                chain, path[-1], target, p_win=sol.p_win, min_gain=gain, avoid=avoid_states
            )
            if leg:
                break
        leg = leg or markov.most_probable_path(chain, path[-1], target)
        if leg is None:
            return (), tuple(activity_of(w) for w in waypoints)
        path.extend(leg[1:])
    steps = tuple(
        RoadStep(j.WON if s == j.WON else activity_of(s), 1.0 if s == j.WON else p_of[s])
        for s in path[1:]
    )
    return steps, tuple(activity_of(w) for w in waypoints)


__all__ = ["analyse_paths", "chain_tables", "edge_counts", "road_from_edges"]
