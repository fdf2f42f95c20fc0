"""Result types of the reps analysis: frozen, small, one source for every view.

Every rate carries its 95% interval, raw (Wilson) and shrunk (the empirical-Bayes
posterior). ``RepsResult.to_dict()`` is what ``royalroad reps --format json`` prints;
its ``reps`` list has the headline fields flat (``reach``, ``reach_shrunk``,
``post_goal_win_rate``, ``observed_expected``, ``funnel_plot_zone``, ``gap_reach`` …)
and every rate in full under ``metrics``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd

from royalroad.analysis.goals_result import Candidate, Caveat, _clean
from royalroad.analysis.reps_stats import Gap, Prior
from royalroad.i18n import t
from royalroad.tabular import html_table, pct

METRICS = ("reach", "post_goal", "no_goal", "win", "adherence")
"""The binomial rates of a rep, each shrunk and placed on the funnel plot:

* ``reach``: reached the goal within the horizon, among the leads created at least that
  long ago (their answer is known);
* ``post_goal`` / ``no_goal``: the win rate of the closed leads that reached the goal /
  did not;
* ``win``: the win rate of all closed leads;
* ``adherence``: the share of closed (won and lost) leads that followed the royal road.
"""
BEYOND_CHANCE = ("above_998", "above_95", "below_95", "below_998")


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return list(ci) if ci else None


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` with its Wilson interval, the shrunk rate with its posterior
    interval, the funnel-plot zone and, with ``adjust``, observed / expected."""

    k: int
    n: int
    rate: float | None
    ci: tuple[float, float] | None
    shrunk: float | None
    shrunk_ci: tuple[float, float] | None
    zone: str | None
    expected: float | None = None
    observed_expected: float | None = None
    observed_expected_ci: tuple[float, float] | None = None
    standardised: float | None = None  # observed / expected × the team's rate
    standardised_shrunk: float | None = None
    standardised_shrunk_ci: tuple[float, float] | None = None

    @property
    def beyond_chance(self) -> bool:
        return self.zone in BEYOND_CHANCE

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "n": self.n,
            "rate": self.rate,
            "ci": _ci(self.ci),
            "shrunk": self.shrunk,
            "shrunk_ci": _ci(self.shrunk_ci),
            "funnel_plot_zone": self.zone,
            "expected": self.expected,
            "observed_expected": self.observed_expected,
            "observed_expected_ci": _ci(self.observed_expected_ci),
            "standardised": self.standardised,
            "standardised_shrunk": self.standardised_shrunk,
            "standardised_shrunk_ci": _ci(self.standardised_shrunk_ci),
        }


@dataclass(frozen=True)
class RepRow:
    """One rep (or the team, or the leads without a rep).

    ``goal_reach`` is the cumulative incidence of reaching the goal by day ``horizon``
    (Aalen–Johansen over all the rep's leads, closing without it competing, open leads
    censored), ``goal_reach_overall`` the same at the end of follow-up; ``metrics``
    holds the binomial rates of :data:`METRICS`.
    """

    rep: str | None
    kind: str  # "rep", "team" or "unassigned"
    rank: int | None
    rank_adjusted: int | None
    leads: int
    won: int
    lost: int
    open: int
    goal_reach: float | None
    goal_reach_ci: tuple[float, float] | None
    goal_reach_overall: float | None
    goal_reach_overall_ci: tuple[float, float] | None
    median_days_to_goal: float | None
    metrics: dict[str, Rate]
    gap: Gap | None
    adherence_won: tuple[int, int] | None = None  # (followed, won)
    adherence_lost: tuple[int, int] | None = None  # (followed, lost)

    @property
    def closed(self) -> int:
        return self.won + self.lost

    def metric(self, name: str) -> Rate | None:
        return self.metrics.get(name)

    def name(self, lang: str | None = None) -> str:
        """The rep's name; "team" / "(no rep)" for the other rows."""
        if self.kind == "team":
            return t("reps.row.team", lang=lang)
        if self.rep is None:
            return t("reps.row.unassigned", lang=lang)
        return self.rep

    def to_dict(self) -> dict:
        def get(metric: str, attr: str):
            r = self.metrics.get(metric)
            value = getattr(r, attr) if r is not None else None
            return list(value) if isinstance(value, tuple) else value

        gap = self.gap
        head = "reach" if "reach" in self.metrics else "win"  # without a goal: win rates
        return {
            "rep": self.rep,
            "kind": self.kind,
            "rank": self.rank,
            "rank_adjusted": self.rank_adjusted,
            "leads": self.leads,
            "closed": self.closed,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "goal_reach": self.goal_reach,
            "goal_reach_ci": _ci(self.goal_reach_ci),
            "goal_reach_overall": self.goal_reach_overall,
            "goal_reach_overall_ci": _ci(self.goal_reach_overall_ci),
            "median_days_to_goal": self.median_days_to_goal,
            "reach": get("reach", "rate"),
            "reach_ci": get("reach", "ci"),
            "reach_n": get("reach", "n"),
            "reach_shrunk": get("reach", "shrunk"),
            "reach_shrunk_ci": get("reach", "shrunk_ci"),
            "post_goal_win_rate": get("post_goal", "rate"),
            "post_goal_win_rate_ci": get("post_goal", "ci"),
            "post_goal_shrunk": get("post_goal", "shrunk"),
            "post_goal_shrunk_ci": get("post_goal", "shrunk_ci"),
            "no_goal_win_rate": get("no_goal", "rate"),
            "no_goal_win_rate_ci": get("no_goal", "ci"),
            "win_rate": get("win", "rate"),
            "win_rate_ci": get("win", "ci"),
            "win_rate_shrunk": get("win", "shrunk"),
            "adherence": get("adherence", "rate"),
            "adherence_ci": get("adherence", "ci"),
            "adherence_won": list(self.adherence_won) if self.adherence_won else None,
            "adherence_lost": list(self.adherence_lost) if self.adherence_lost else None,
            "observed_expected": get(head, "observed_expected"),
            "observed_expected_ci": get(head, "observed_expected_ci"),
            "expected": get(head, "expected"),
            "funnel_plot_zone": get(head, "zone"),
            "gap_total": gap.total if gap else None,
            "gap_reach": gap.reach if gap else None,
            "gap_conversion": gap.conversion if gap else None,
            "gap_no_goal": gap.no_goal if gap else None,
            "gap_wins": gap.wins if gap else None,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }


@dataclass(frozen=True)
class Practice:
    """One activity ("A") or ordered pair ("A then B") compared between the leads of the
    reps who reach the goal most (``top``) and the rest, before the goal.

    ``log_odds`` is the log-odds ratio of doing it (top vs rest) with an informative
    prior (Monroe, Colaresi and Quinn 2008), ``z`` its z-score, ``q`` the
    Benjamini–Hochberg q over every feature tried; ``days_*`` the median days from the
    lead's creation to it (an activity) or from A to B (a pair).
    """

    activity: str
    then: str | None
    top_leads: int
    top_n: int
    rest_leads: int
    rest_n: int
    log_odds: float
    se: float
    z: float
    p_value: float
    q_value: float
    days_top: float | None
    days_rest: float | None

    @property
    def share_top(self) -> float:
        return self.top_leads / self.top_n if self.top_n else math.nan

    @property
    def share_rest(self) -> float:
        return self.rest_leads / self.rest_n if self.rest_n else math.nan

    def significant(self, alpha: float = 0.05) -> bool:
        return math.isfinite(self.q_value) and self.q_value < alpha

    def label(self, lang: str | None = None) -> str:
        if self.then is None:
            return self.activity
        return t("goal.label.pair", lang=lang, a=self.activity, b=self.then)

    def to_dict(self) -> dict:
        return {
            "activity": self.activity,
            "then": self.then,
            "label": self.label(),
            "top_leads": self.top_leads,
            "top_n": self.top_n,
            "share_top": self.share_top,
            "rest_leads": self.rest_leads,
            "rest_n": self.rest_n,
            "share_rest": self.share_rest,
            "log_odds": self.log_odds,
            "se": self.se,
            "z": self.z,
            "p_value": self.p_value,
            "q_value": self.q_value,
            "significant": self.significant(),
            "days_top": self.days_top,
            "days_rest": self.days_rest,
        }


@dataclass(frozen=True)
class RepsResult:
    """Reps compared fairly: shrunk rates, funnel-plot zones, the decomposition of each
    gap, observed / expected with ``adjust``, and what the best do before the goal."""

    by: str
    by_source: str  # "leads" (a lead column) or "events" (the rep on most of its steps)
    is_owner: bool  # the column names the owner (labels read "Rep A", else "Group A")
    goal: Candidate | None
    road: tuple[str, ...]
    horizon: int
    adjust: tuple[str, ...]
    rank_metric: str  # "reach", or "win" without a goal
    team: RepRow
    reps: tuple[RepRow, ...]  # in rank order
    unassigned: RepRow | None
    priors: dict[str, Prior | None]
    funnel: dict[str, list[dict]]  # per metric: the control limits along the volume
    practices: tuple[Practice, ...]
    top: tuple[str, ...]  # the reps whose leads the practices call "the best"
    rest: tuple[str, ...]
    caveats: tuple[Caveat, ...]
    as_of: str | None
    anonymised: bool = False
    alpha: float = 0.05

    def rep(self, name: str) -> RepRow:
        """The row of one rep, by name (or anonymised label)."""
        for r in self.reps:
            if r.rep == name:
                return r
        raise KeyError(name)

    def significant_practices(self) -> list[Practice]:
        return [p for p in self.practices if p.significant(self.alpha)]

    def goal_label(self, lang: str | None = None) -> str:
        return self.goal.label(lang) if self.goal is not None else ""

    def __repr__(self) -> str:
        ranked = ", ".join(
            f"{r.rep} {pct(r.metrics[self.rank_metric].shrunk)}" for r in self.reps[:3]
        )
        beyond = sum(1 for r in self.reps if r.metrics[self.rank_metric].beyond_chance)
        return (
            f"RepsResult(by={self.by!r}, goal={self.goal_label('en') or None!r}, "
            f"reps={len(self.reps)}, top (shrunk {self.rank_metric}): {ranked}, "
            f"beyond chance={beyond}, practices significant={len(self.significant_practices())})"
        )

    def _repr_html_(self) -> str:
        rows = []
        for r in self.reps:
            m = r.metrics[self.rank_metric]
            post = r.metrics.get("post_goal")
            rows.append(
                (
                    r.rank,
                    r.rep,
                    f"{r.leads:,}",
                    f"{r.won:,}/{r.lost:,}/{r.open:,}",
                    f"{pct(m.rate)} → {pct(m.shrunk)}",
                    pct(post.shrunk) if post is not None else "",
                    m.zone or "",
                    "" if r.gap is None else f"{100 * r.gap.total:+.1f}",
                )
            )
        head = ("rank", self.by, "leads", "won/lost/open", f"{self.rank_metric}: raw → shrunk")
        return html_table(
            (*head, "post-goal (shrunk)", "funnel plot", "gap (pts)"),
            rows,
            note="to_frame() has every rate with its interval",
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per rep (then the leads without a rep, then the team), every rate with
        its interval as ``…_low`` / ``…_high`` columns."""
        rows = []
        for r in (*self.reps, *(x for x in (self.unassigned, self.team) if x is not None)):
            d = r.to_dict()
            metrics = d.pop("metrics")
            flat = {}
            for key, value in d.items():
                if isinstance(value, list) and len(value) == 2 and key.endswith("_ci"):
                    flat[f"{key}_low"], flat[f"{key}_high"] = value
                elif isinstance(value, list):
                    flat[key] = tuple(value)
                else:
                    flat[key] = value
            for name, m in metrics.items():
                flat[f"{name}_k"], flat[f"{name}_n"] = m["k"], m["n"]
            rows.append(flat)
        return pd.DataFrame(rows)

    def practices_frame(self) -> pd.DataFrame:
        return pd.DataFrame([p.to_dict() for p in self.practices])

    def to_dict(self) -> dict:
        from royalroad.analysis.reps_practices import playbook

        return _clean(
            {
                "by": self.by,
                "by_source": self.by_source,
                "anonymised": self.anonymised,
                "goal": self.goal.to_dict() if self.goal is not None else None,
                "goal_label": self.goal_label() or None,
                "royal_road": list(self.road),
                "horizon_days": self.horizon,
                "adjust": list(self.adjust),
                "rank_metric": self.rank_metric,
                "as_of": self.as_of,
                "team": self.team.to_dict(),
                "reps": [r.to_dict() for r in self.reps],
                "unassigned": self.unassigned.to_dict() if self.unassigned else None,
                "priors": {k: (v.to_dict() if v else None) for k, v in self.priors.items()},
                "funnel_plot": {
                    "target": {
                        k: self.team.metrics[k].rate for k in self.funnel if k in self.team.metrics
                    },
                    "limits": self.funnel,
                },
                "best": {"reps": list(self.top), "others": list(self.rest)},
                "practices": [p.to_dict() for p in self.practices],
                "playbook": [line.text() for line in playbook(self)],
                "caveats": [{"key": c.key, "text": c.text(), **c.params} for c in self.caveats],
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


__all__ = ["METRICS", "Practice", "Rate", "RepRow", "RepsResult"]
