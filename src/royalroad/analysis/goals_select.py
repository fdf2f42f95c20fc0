"""Which candidate is the intermediate goal: evidence, eligibility, ranking, runner-ups.

Pure: takes the counts the engine aggregated and returns candidates, the choice and
the reasons. The floors a goal must clear (see ``docs/statistics.md``):

* significant (BH q < alpha), positive, at least ``min_wins`` wins, not a proxy, not
  confounded by the ``--adjust`` segments, and holding within creation cohorts;
* **not a stage**: reaching it raises the win rate by at least
  ``(min_lift − 1) · b · (1 − b)`` over the base rate ``b`` — a lift of ``min_lift``
  at a low base rate, less where the base rate leaves less room (the largest lift
  possible is ``1 / b``). The rule treats wins and losses alike and moves smoothly
  with ``b``; a fixed lift floor of 1.5 is out of reach once ``b`` ≥ 2/3 and rejected
  strong steps at a base rate of 34%;
* **a step most winners pass**: recall ≥ ``min_recall`` and MCC ≥ ``min_mcc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from royalroad import stats
from royalroad.analysis.goals_result import Candidate, Caveat, RunnerUp

DEFAULT_MIN_RECALL = 0.3
DEFAULT_MIN_MCC = 0.1
DEFAULT_MIN_LIFT = 1.5
MIN_CLOSED = 30
MIN_PER_CLASS = 10

FLOOR_REASONS = ("low_lift", "low_recall", "low_mcc")
"""Why-nots of a real but not goal-sized effect: the best of them is the lead to watch."""

_num = stats.finite


@dataclass(frozen=True)
class Floors:
    """What a candidate must clear to be eligible as the goal."""

    alpha: float = 0.05
    min_lift: float = DEFAULT_MIN_LIFT
    min_recall: float = DEFAULT_MIN_RECALL
    min_mcc: float = DEFAULT_MIN_MCC
    min_wins: int = 10
    near_equal: float = 0.03


def required_lift(min_lift: float, base_rate: float) -> float:
    """The lift a goal needs at base rate ``b``: ``1 + (min_lift − 1)(1 − b)``.

    Equivalently the win rate must rise by ``(min_lift − 1)·b(1 − b)``: ``min_lift``
    at a low base rate, never above the largest lift the base rate allows (``1/b``).

    >>> round(required_lift(1.5, 0.34), 3), round(required_lift(1.5, 0.05), 3)
    (1.33, 1.475)
    """
    if not math.isfinite(base_rate):
        return min_lift
    return 1.0 + (min_lift - 1.0) * (1.0 - base_rate)


def evaluate(
    rows: pd.DataFrame,
    won: int,
    lost: int,
    base_rate: float,
    strata: dict | None,
    proxy_acts: dict,
    floors: Floors,
    adjusted: bool,
) -> list[Candidate]:
    """One :class:`Candidate` per row of reach counts, with its evidence and why-not."""
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
    need_lift = required_lift(floors.min_lift, base_rate)
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
        significant_pos = q[i] < floors.alpha and _num(orr) is not None and orr > 1
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
        lift = rate / base_rate if base_rate else math.nan
        recall = ai / won if won else math.nan
        mcc = stats.mcc(ai, bi, c_, d_)
        why = None
        if proxy is not None:
            why = "proxy"
        elif ai < floors.min_wins:
            why = "too_few"
        elif not (_num(orr) is not None and orr > 1):
            why = "negative"
        elif q[i] >= floors.alpha:
            why = "not_significant"
        elif confounded:
            why = "confounded"
        elif not lift >= need_lift - 1e-12:
            why = "low_lift"
        elif not recall >= floors.min_recall - 1e-12:
            why = "low_recall"
        elif not mcc >= floors.min_mcc - 1e-12:
            why = "low_mcc"
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
                lift=lift,
                recall=recall,
                precision=rate,
                npv=d_ / (c_ + d_) if c_ + d_ else math.nan,
                specificity=d_ / lost if lost else math.nan,
                mcc=mcc,
                odds_ratio=orr,
                odds_ratio_ci=(or_lo, or_hi),
                odds_ratio_zero_cell=stats.zero_cell(ai, bi, c_, d_),
                p_value=pvals[i],
                q_value=float(q[i]),
                adjusted_odds_ratio=adj[0] if adj else None,
                adjusted_odds_ratio_ci=(adj[1], adj[2]) if adj else None,
                cohort_odds_ratio=None,
                cohort_odds_ratio_ci=None,
                given_goal_odds_ratio=None,
                given_goal_odds_ratio_ci=None,
                given_goal_odds_ratio_zero_cell=None,
                adds_nothing_beyond_goal=None,
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


def complexity(c: Candidate, grid: list[int | None]) -> tuple[int, int, int]:
    """Simpler milestones first: single activity, fewer repetitions, no (or a wider) window."""
    narrow = 0 if c.within_days is None else len(grid) - grid.index(c.within_days)
    return (c.then is not None, c.min_count, narrow)


def rank(cands: list[Candidate], grid: list[int | None]) -> list[Candidate]:
    """Eligible first, then by MCC; ties by simplicity and label (deterministic)."""
    return sorted(
        cands,
        key=lambda c: (not c.eligible, -round(c.mcc, 12), complexity(c, grid), c.label("en")),
    )


def near_set(ranked: list[Candidate], near_equal: float) -> list[Candidate]:
    """Eligible candidates within ``near_equal`` MCC of the best eligible one."""
    eligible = [c for c in ranked if c.eligible]
    if not eligible:
        return []
    return [c for c in eligible if c.mcc >= eligible[0].mcc - near_equal]


def choose(near: list[Candidate], grid: list[int | None]) -> Candidate:
    """Among near-equals the simplest wins, then the earliest (median days to reach)."""
    return min(
        near,
        key=lambda c: (
            complexity(c, grid),
            c.median_days_to_reach if c.median_days_to_reach is not None else math.inf,
            -c.mcc,
            c.label("en"),
        ),
    )


def watch_of(ranked: list[Candidate]) -> Candidate | None:
    """The lead to watch: the best candidate with a real effect that is not yet goal-sized."""
    return next((c for c in ranked if c.why_not in FLOOR_REASONS), None)


def recommend(
    ranked: list[Candidate], closed: int, won: int, lost: int, grid, floors: Floors
) -> tuple[Candidate | None, str, dict, Candidate | None]:
    """``(goal, reason, reason_params, watch)``; ``watch`` only when there is no goal."""
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
            None,
        )
    if not ranked:
        return None, "no_events", {}, None
    near = near_set(ranked, floors.near_equal)
    if near:
        eligible = sum(1 for c in ranked if c.eligible)
        return choose(near, grid), "ok", {"n": len(ranked), "eligible": eligible}, None
    watch = watch_of(ranked)
    if watch is not None:
        return None, "below_floor", floor_params(watch, floors, ranked), watch
    positive = [c for c in ranked if c.why_not not in ("negative", "not_significant", "too_few")]
    if not positive:
        return None, "nothing_significant", {"n": len(ranked)}, None
    counts = {
        w: sum(1 for c in positive if c.why_not == w) for w in ("proxy", "confounded", "drift")
    }
    why = max(counts, key=lambda w: (counts[w], w))
    return (
        None,
        {"proxy": "only_proxies", "confounded": "confounded", "drift": "drift"}[why],
        {"n": len(ranked)},
        None,
    )


def floor_params(c: Candidate, floors: Floors, ranked: list[Candidate]) -> dict:
    """Numbers of the lead to watch against the floors (the milestone label is added at
    display time, in the language asked for)."""
    base = c.win_rate / c.lift if c.lift else math.nan
    return {
        "n": len(ranked),
        "recall": f"{c.recall:.0%}",
        "mcc": f"{c.mcc:.2f}",
        "lift": f"{c.lift:.2f}",
        "min_recall": f"{floors.min_recall:.0%}",
        "min_mcc": f"{floors.min_mcc:.2f}",
        "min_lift": f"{required_lift(floors.min_lift, base):.2f}",
    }


def runner_ups(
    ranked: list[Candidate],
    goal: Candidate | None,
    floors: Floors,
    grid,
    base_rate: float,
    drifting: frozenset[str] | set[str] = frozenset(),
    n: int = 5,
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
    for c in sorted(ranked, key=lambda c: (-round(c.mcc, 12), complexity(c, grid), c.label("en"))):
        if len(out) >= n:
            break
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
        out.append(why(c, goal, floors, base_rate, drifting))
    return out


def why(
    c: Candidate,
    goal: Candidate | None,
    floors: Floors,
    base_rate: float,
    drifting: frozenset[str] | set[str] = frozenset(),
) -> RunnerUp:
    """Why ``c`` is not the goal, in words (catalogue key ``goal.why.<code>``)."""
    if c.why_not == "drift" and not (c.cohort_odds_ratio_ci and c.cohort_odds_ratio_ci[0] <= 1):
        # passed over for the activity it contains, not for its own estimate
        act = c.activity if c.activity in drifting else c.then
        return RunnerUp(c, "drift_activity", {"activity": act})
    if not c.eligible:
        params = {
            "q": f"{c.q_value:.3g}",
            "lift": f"{c.lift:.2f}",
            "won": c.won,
            "min_lift": f"{required_lift(floors.min_lift, base_rate):.2f}",
            "recall": _share_below(c.recall, floors.min_recall),
            "min_recall": f"{floors.min_recall:.0%}",
            "mcc": f"{c.mcc:.3f}",
            "min_mcc": f"{floors.min_mcc:.2f}",
        }
        if c.why_not == "proxy":
            params["reason"] = c.proxy_reason
        if c.adjusted_odds_ratio_ci:
            params["adj_lo"] = f"{c.adjusted_odds_ratio_ci[0]:.2f}"
            params["adj_hi"] = f"{c.adjusted_odds_ratio_ci[1]:.2f}"
        if c.cohort_odds_ratio_ci:
            params["cohort_lo"] = f"{c.cohort_odds_ratio_ci[0]:.2f}"
            params["cohort_hi"] = f"{c.cohort_odds_ratio_ci[1]:.2f}"
        return RunnerUp(c, c.why_not or "lower_mcc", params)
    assert goal is not None
    if c.mcc >= goal.mcc - floors.near_equal:
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


def mark_drift(
    cands: list[Candidate],
    failed: set,
    checked: dict,
    drifting: frozenset[str] | set[str] = frozenset(),
) -> list[Candidate]:
    """Candidates with their cohort odds ratio; those whose effect disappears within
    creation cohorts, or that contain a ``drifting`` activity, lose eligibility
    (why-not ``drift``)."""
    out = []
    for c in cands:
        est = checked.get(c.key)
        if est is not None:
            c = replace(c, cohort_odds_ratio=est[0], cohort_odds_ratio_ci=(est[1], est[2]))
        gone = c.key in failed or bool({c.activity, c.then} & drifting)
        if gone and (c.eligible or c.why_not in FLOOR_REASONS):
            c = replace(c, eligible=False, why_not="drift")
        out.append(c)
    return out


def caveats(ranked, goal, closed, won, open_, base_rate) -> list[Caveat]:
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
        out.append(Caveat("goal.caveat.confounded", milestones=tuple(_one_per_family(confounded))))
    if goal is not None and goal.recall < 0.5:
        out.append(Caveat("goal.caveat.low_recall", {"recall": f"{goal.recall:.0%}"}))
    return out


def _one_per_family(cands: list[Candidate], n: int = 3) -> list[Candidate]:
    fams: list[Candidate] = []
    for c in cands:
        if c.family not in [f.family for f in fams]:
            fams.append(c)
    return fams[:n]


def _share_below(x: float, floor: float) -> str:
    """A share shown against its floor: one decimal when whole percents would tie."""
    text = f"{x:.0%}"
    return f"{x:.1%}" if x < floor and text == f"{floor:.0%}" else text
