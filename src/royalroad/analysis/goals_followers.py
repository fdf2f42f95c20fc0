"""What a candidate adds beyond the goal: its odds ratio among leads that reached it.

A step that only happens after the goal (試作評価 after 技術打合せ) shows a large
crude effect because whoever reaches it has already passed the goal. Among the closed
leads that reached the recommended goal, its odds ratio says what it adds on top:
when that interval covers 1 it *adds nothing beyond the goal*.

One engine query counts, per candidate and window, the goal reachers that also
reached it, by outcome (:func:`royalroad.analysis.milestones.given_counts`); the
goal's own won/lost counts are the totals.
"""

from __future__ import annotations

from dataclasses import replace

from royalroad import stats
from royalroad.analysis import milestones as m
from royalroad.analysis.goals_result import Candidate


def given_goal(occ, pair_reach, goal: Candidate, cands: list[Candidate], grid) -> list[Candidate]:
    """``cands`` with ``given_goal_odds_ratio`` (interval, zero cell, verdict) filled in.

    ``pair_reach`` is :func:`~royalroad.analysis.milestones.pair_reach` among the
    activities paired (None without pairs); the goal, if a pair, is one of them."""
    if goal.then is None:
        reached = m.reached_single(occ, goal.activity, goal.min_count, goal.within_days)
    else:
        reached = m.reached_pair(pair_reach, goal.activity, goal.then, goal.within_days)
    df = m.given_counts(occ, pair_reach, reached, grid).execute()
    counts: dict[tuple, tuple[int, int]] = {}
    for row in df.itertuples(index=False):
        then = row.then if isinstance(row.then, str) else None
        for i, d in enumerate(grid):
            counts[(row.activity, then, int(row.k), d)] = (
                int(getattr(row, f"won_{i}")),
                int(getattr(row, f"lost_{i}")),
            )
    won, lost = goal.won, goal.lost
    out = []
    for c in cands:
        a, b = counts.get(c.key, (0, 0))
        cells = (a, b, won - a, lost - b)
        est, lo, hi = stats.odds_ratio(*cells)
        estimable = stats.finite(lo) is not None and stats.finite(hi) is not None
        out.append(
            replace(
                c,
                given_goal_odds_ratio=est,
                given_goal_odds_ratio_ci=(lo, hi),
                given_goal_odds_ratio_zero_cell=stats.zero_cell(*cells),
                adds_nothing_beyond_goal=bool(lo <= 1 <= hi) if estimable else None,
            )
        )
    return out
