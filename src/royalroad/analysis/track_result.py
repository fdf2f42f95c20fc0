"""Result type of ``track``: a plan beside what happened, the pace and what it takes now."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from royalroad.analysis.goals_result import _clean
from royalroad.analysis.plan_result import money
from royalroad.i18n import t
from royalroad.tabular import html_table, pct

MEASURES = ("leads", "goals", "wins", "revenue")


@dataclass(frozen=True)
class TrackPeriod:
    """One period of the plan: planned and (so far) actual leads, goals, wins, revenue.

    ``status``: ``done`` (ended by the as-of date), ``current`` (under way: ``elapsed``
    is the share of its days gone) or ``ahead``. ``expected_*`` is what the projection
    expects in the periods not yet over (the part still to come for the current one).
    """

    period: str
    start: str
    end: str
    in_target: bool
    status: str
    elapsed: float
    planned_leads: float
    planned_goals: float
    planned_wins: float
    planned_revenue: float
    actual_leads: float | None
    actual_goals: float | None
    actual_wins: float | None
    actual_revenue: float | None
    expected_wins: float
    expected_revenue: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrackResult:
    """Actual vs planned per period, the pace, the projected result and the gap."""

    target: float
    start: str
    end: str
    as_of: str
    goal: str
    goal_ja: str
    periods: tuple[TrackPeriod, ...]
    to_date: dict  # planned_* and actual_* summed over the periods so far (prorated)
    pace: dict  # actual ÷ planned to date, per measure
    projected: dict  # revenue, revenue_low, revenue_high, wins, wins_low, wins_high (80%)
    p_reach_target: float
    gap: dict  # shortfall, extra_wins, remaining_months, goals_per_month_planned/needed

    def goal_label(self, lang: str | None = None) -> str:
        from royalroad.i18n import get_lang

        return self.goal_ja if (lang or get_lang()) == "ja" else self.goal

    @property
    def on_track(self) -> bool:
        return self.gap.get("shortfall", 0.0) <= 0

    def sentence(self, lang: str | None = None) -> str:
        """The gap in one line: goals per remaining month to get back on plan."""
        g = self.gap
        goal = self.goal_label(lang)
        if self.on_track:
            return t(
                "track.on_plan",
                lang=lang,
                projected=money(self.projected["revenue"]),
                target=money(self.target),
                p=pct(self.p_reach_target),
            )
        if not g.get("remaining_months") or g.get("goals_per_month_needed") is None:
            return t(
                "track.too_late",
                lang=lang,
                short=money(g["shortfall"]),
                goal=goal,
                p=pct(self.p_reach_target),
            )
        return t(
            "track.behind",
            lang=lang,
            short=money(g["shortfall"]),
            wins=f"{g['extra_wins']:,.1f}",
            need=f"{g['goals_per_month_needed']:,.1f}",
            planned=f"{g['goals_per_month_planned']:,.1f}",
            goal=goal,
            months=f"{g['remaining_months']:.1f}".removesuffix(".0"),
            p=pct(self.p_reach_target),
        )

    def __repr__(self) -> str:
        return (
            f"TrackResult(target={self.target:,.0f}, period={self.start}..{self.end}, "
            f"as_of={self.as_of!r}, pace_revenue={pct(self.pace.get('revenue'))}, "
            f"projected={self.projected.get('revenue', 0):,.0f}, "
            f"p_reach_target={pct(self.p_reach_target)})"
        )

    def _repr_html_(self, lang: str | None = None) -> str:
        def n(x):
            return "–" if x is None else f"{x:,.0f}"

        rows = [
            (
                p.period,
                p.status,
                f"{n(p.actual_leads)} / {p.planned_leads:,.0f}",
                f"{n(p.actual_goals)} / {p.planned_goals:,.0f}",
                f"{n(p.actual_wins)} / {p.planned_wins:,.0f}",
                f"{n(p.actual_revenue)} / {p.planned_revenue:,.0f}",
            )
            for p in self.periods
        ]
        return html_table(
            ("period", "status", "leads", "goals", "wins", "revenue"),
            rows,
            caption=self.sentence(lang),
            note="actual / planned; to_frame() has every period",
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([p.to_dict() for p in self.periods])

    def to_dict(self) -> dict:
        return _clean(
            {
                "kind": "royalroad.track",
                "target": self.target,
                "period": {"start": self.start, "end": self.end},
                "as_of": self.as_of,
                "goal": self.goal,
                "goal_ja": self.goal_ja,
                "periods": [p.to_dict() for p in self.periods],
                "to_date": self.to_date,
                "pace": self.pace,
                "projected": self.projected,
                "p_reach_target": self.p_reach_target,
                "gap": self.gap,
                "text": self.sentence("en"),
                "text_ja": self.sentence("ja"),
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
