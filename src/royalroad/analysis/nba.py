"""Hand-off and next best action for every open lead.

* **Hand-off.** A lead that has passed the intermediate goal is *sales-ready*
  (marketing hands it to sales); one that has not is *nurture* (marketing keeps
  it). The seed: do not treat every lead as ready to buy now.
* **Next best action.** From the lead's current state in the goal-aware chain
  (:mod:`royalroad.analysis.paths`), the next step with the largest expected gain
  in P(win), among steps that enough leads actually took from that state; with its
  evidence and the second choice. Outcome proxies are never recommended.
* **Stalled.** The lead has waited longer than 90% of the leads that moved on from
  the same state.

Per-state work happens in Python (it grows with activities); the per-lead table is
one engine query joined with the per-state recommendations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd
import pyarrow as pa

from royalroad import stats
from royalroad.analysis import journeys as j
from royalroad.analysis import markov
from royalroad.analysis.paths import activity_of, chain_tables, edge_counts
from royalroad.engine import Workspace

STALL_QUANTILE = "p90"
CLOSE = "■close"
"""Pseudo-action: no further step raises P(win); ask for the decision."""


@dataclass(frozen=True)
class Action:
    activity: str
    p_win_after: float
    gain: float
    evidence_n: int
    win_rate_after: float
    win_rate_ci: tuple[float, float]


@dataclass(frozen=True)
class StateAdvice:
    state: str
    p_win: float
    best: Action | None
    second: Action | None
    stall_days: float | None


@dataclass(frozen=True)
class NextResult:
    """Open leads with status, next best action and stall flag; plus the per-state advice."""

    goal: str | None
    leads: pa.Table
    advice: tuple[StateAdvice, ...]
    sales_ready: int
    nurture: int
    stalled: int
    min_evidence: int

    def to_frame(self) -> pd.DataFrame:
        return self.leads.to_pandas()

    def to_dict(self, *, limit: int | None = None) -> dict:
        from royalroad.analysis.goals_result import _clean

        rows = (
            self.leads.slice(0, limit).to_pylist() if limit is not None else self.leads.to_pylist()
        )
        return _clean(
            {
                "goal": self.goal,
                "sales_ready": self.sales_ready,
                "nurture": self.nurture,
                "stalled": self.stalled,
                "open": self.leads.num_rows,
                "min_evidence": self.min_evidence,
                "advice": [
                    {
                        "state": a.state,
                        "p_win": a.p_win,
                        "stall_days": a.stall_days,
                        "best": a.best.__dict__ | {"win_rate_ci": list(a.best.win_rate_ci)}
                        if a.best
                        else None,
                        "second": a.second.__dict__ | {"win_rate_ci": list(a.second.win_rate_ci)}
                        if a.second
                        else None,
                    }
                    for a in self.advice
                ],
                "leads": rows,
            }
        )


def next_best_actions(
    ws: Workspace,
    *,
    goal=None,
    exclude: Sequence[str] = (),
    avoid: Sequence[str] = (),
    min_evidence: int = 10,
) -> NextResult:
    """Classify open leads (sales-ready / nurture) and design each one's next step.

    ``exclude``: outcome proxies (left out of the chain). ``avoid``: activities never
    to recommend though they stay in the chain, e.g. those whose apparent effect
    is confounded by a segment (the chain is not causal; the adjusted goal
    analysis is the better judge).
    """
    # The chain's journeys feed three queries (edges, waiting times, lead states): the
    # backend computes them once, into a temporary table
    with ws.materialized(chain_tables(ws, goal=goal, exclude=exclude), "chain") as o:
        return _advise(ws, o, goal, set(avoid), min_evidence)


def _advise(ws: Workspace, o, goal, avoided: set[str], min_evidence: int) -> NextResult:
    e = j.edges(o).execute()
    chain = markov.Chain.from_counts(edge_counts(e))
    sol = markov.solve(chain)
    p_of = {s: float(sol.p_win[i]) for i, s in enumerate(chain.transient)}
    gaps = j.gaps(o).execute().set_index("state")
    advice = []
    for state in chain.transient:
        out = e[(e.src == state) & ~e.dst.isin([j.WON, j.LOST, j.OPEN]) & (e.leads >= min_evidence)]
        actions = []
        for r in out.itertuples():
            if r.dst not in p_of or math.isnan(p_of[r.dst]) or activity_of(r.dst) in avoided:
                continue
            rate, ci = stats.win_rate(int(r.won_leads), int(r.lost_leads))
            actions.append(
                Action(
                    activity=activity_of(r.dst),
                    p_win_after=p_of[r.dst],
                    gain=p_of[r.dst] - p_of[state] if not math.isnan(p_of[state]) else math.nan,
                    evidence_n=int(r.leads),
                    win_rate_after=rate,
                    win_rate_ci=ci,
                )
            )
        actions.sort(key=lambda a: (-a.p_win_after, -a.evidence_n, a.activity))
        # No observed step raises the odds: the designed action is to ask for the decision.
        if actions and not math.isnan(p_of[state]) and actions[0].gain <= 0:
            closing = e[(e.src == state) & e.dst.isin([j.WON, j.LOST])]
            won_n, lost_n = int(closing.won_leads.sum()), int(closing.lost_leads.sum())
            rate, ci = stats.win_rate(won_n, lost_n)
            actions.insert(0, Action(CLOSE, p_of[state], 0.0, won_n + lost_n, rate, ci))
        stall = float(gaps.at[state, STALL_QUANTILE]) / 24 if state in gaps.index else None
        advice.append(
            StateAdvice(
                state,
                p_of[state],
                actions[0] if actions else None,
                actions[1] if len(actions) > 1 else None,
                stall if stall is not None and math.isfinite(stall) else None,
            )
        )
    leads = _lead_table(ws, o, advice)
    ready = int(pc_sum(leads, "status", "sales_ready"))
    stalled = int(sum(1 for v in leads.column("stalled").to_pylist() if v))
    return NextResult(
        goal.label() if goal is not None else None,
        leads,
        tuple(advice),
        ready,
        leads.num_rows - ready,
        stalled,
        min_evidence,
    )


def pc_sum(table: pa.Table, column: str, value: str) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(pc.equal(table.column(column), value)).as_py() or 0)


def _lead_table(ws: Workspace, o, advice: Sequence[StateAdvice]) -> pa.Table:
    """One row per open lead: the per-state advice joined in the engine."""
    rec = pa.table(
        {
            "state": [a.state for a in advice],
            "recommended_action": [a.best.activity if a.best else None for a in advice],
            "expected_win_rate": [a.best.p_win_after if a.best else None for a in advice],
            "evidence_n": pa.array(
                [a.best.evidence_n if a.best else None for a in advice], pa.int64()
            ),
            "second_action": [a.second.activity if a.second else None for a in advice],
            "current_win_rate": [a.p_win for a in advice],
            "stall_days": pa.array([a.stall_days for a in advice], pa.float64()),
        }
    )
    # .view(): ibis would otherwise try to extend the join inside lead_states.
    states = j.lead_states(o, ws.table("leads"), ws.as_of, j.usable(ws.table("events"))).view()
    r = ibis.memtable(rec).rename(r_state="state")
    t = states.left_join(r, states.state == r.r_state)
    t = t.select(
        lead_id=t.lead_id,
        status=t.passed.ifelse("sales_ready", "nurture"),
        current_step=t.state,
        recommended_action=t.recommended_action,
        expected_win_rate=t.expected_win_rate,
        evidence_n=t.evidence_n,
        second_action=t.second_action,
        current_win_rate=t.current_win_rate,
        days_idle=t.days_idle,
        stalled=ibis.coalesce(t.days_idle > t.stall_days, False),
    ).order_by(["lead_id"])
    table = t.to_pyarrow()
    # a lead with no event yet has no current step (shown as empty, not as the chain's ▶start)
    steps = [
        None if s is None or s == j.START else activity_of(s)
        for s in table.column("current_step").to_pylist()
    ]
    return table.set_column(
        table.schema.get_field_index("current_step"), "current_step", pa.array(steps, pa.string())
    )
