"""Result types of the funnel: stages, censored rates, cohorts and pipeline velocity.

Frozen and small: every view (terminal, JSON, report, workbook, app, notebook) renders
from these. Every rate carries its 95% interval; a censored rate "within d days" is
``None`` where no lead has been followed that long yet. The JSON holds no translated
text: stages by their canonical names (``▶start``, the activities, ``■won``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from royalroad.analysis.goals_result import Candidate, _clean
from royalroad.analysis.journeys import START, WON
from royalroad.i18n import t
from royalroad.tabular import html_table, pct

MODES = ("strict", "any")
COHORTS = ("month", "quarter")


def stage_label(stage: str, lang: str | None = None) -> str:
    """Display name of a stage: the activity, or "all leads" / "won" for the ends."""
    if stage == START:
        return t("funnel.stage.start", lang=lang)
    if stage == WON:
        return t("word.won", lang=lang)
    return stage


@dataclass(frozen=True)
class Within:
    """A censored rate: the cumulative incidence by day ``days`` (Aalen–Johansen),
    ``None`` when no lead of the group has been followed that long."""

    days: int
    rate: float | None
    ci: tuple[float, float] | None

    def to_dict(self) -> dict:
        return {"days": self.days, "rate": self.rate, "ci": list(self.ci) if self.ci else None}


def _within(items: tuple[Within, ...]) -> list[dict]:
    return [w.to_dict() for w in items]


@dataclass(frozen=True)
class Stage:
    """One stage and the step into it from the stage before.

    ``leads`` reached it; ``previous`` reached the stage before, and ``converted`` of
    those reached this one too (in strict mode: all of ``leads``). ``median_days`` is
    the median number of days from the stage before (the time spent there by leads
    that moved on, in order); ``median_days_from_start`` from the lead's creation.
    """

    stage: str
    kind: str  # "start", "activity" or "won"
    is_goal: bool
    leads: int
    won: int
    lost: int
    open: int
    previous: int | None
    converted: int | None
    drop_off: int | None
    step_rate: float | None
    step_rate_ci: tuple[float, float] | None
    cumulative_rate: float
    cumulative_rate_ci: tuple[float, float]
    win_rate: float | None  # among the closed leads that reached the stage
    win_rate_ci: tuple[float, float] | None
    median_days: float | None
    median_days_from_start: float | None
    step_within: tuple[Within, ...]  # from reaching the stage before (censored)
    cumulative_within: tuple[Within, ...]  # from creation (censored)

    def label(self, lang: str | None = None) -> str:
        return stage_label(self.stage, lang)

    def to_dict(self) -> dict:
        return {
            "stage": self.stage,
            "kind": self.kind,
            "is_goal": self.is_goal,
            "leads": self.leads,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "previous": self.previous,
            "converted": self.converted,
            "drop_off": self.drop_off,
            "step_rate": self.step_rate,
            "step_rate_ci": list(self.step_rate_ci) if self.step_rate_ci else None,
            "cumulative_rate": self.cumulative_rate,
            "cumulative_rate_ci": list(self.cumulative_rate_ci),
            "win_rate": self.win_rate,
            "win_rate_ci": list(self.win_rate_ci) if self.win_rate_ci else None,
            "median_days": self.median_days,
            "median_days_from_start": self.median_days_from_start,
            "step_within": _within(self.step_within),
            "cumulative_within": _within(self.cumulative_within),
        }


@dataclass(frozen=True)
class Cohort:
    """Leads created in one period (or with one segment value) and how they did by
    day d: reaching the goal and winning, censored (cumulative incidence)."""

    group: str | None
    leads: int
    won: int
    lost: int
    open: int
    reached_goal: int | None
    goal_within: tuple[Within, ...]
    win_within: tuple[Within, ...]

    def to_dict(self) -> dict:
        return {
            "group": self.group,
            "leads": self.leads,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "reached_goal": self.reached_goal,
            "goal_within": _within(self.goal_within),
            "win_within": _within(self.win_within),
        }


@dataclass(frozen=True)
class Velocity:
    """Pipeline velocity = open leads × win rate × mean won amount ÷ median cycle days:
    the revenue the open pipeline brings per day at today's rates. ``per_day_range``
    carries the win rate's interval through (the other parts are shown as they are)."""

    open_leads: int
    won: int
    lost: int
    win_rate: float | None
    win_rate_ci: tuple[float, float] | None
    mean_won_amount: float | None
    mean_won_amount_ci: tuple[float, float] | None
    amount_n: int
    median_cycle_days: float | None
    cycle_n: int
    per_day: float | None
    per_day_range: tuple[float, float] | None

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("win_rate_ci", "mean_won_amount_ci", "per_day_range"):
            d[k] = list(d[k]) if d[k] else None
        return d


@dataclass(frozen=True)
class FunnelResult:
    """The funnel: stages from all leads to the win, censored rates, cohorts, velocity.

    ``stages[0]`` is every lead (``▶start``) and ``stages[-1]`` the win (``■won``);
    between them the activities, by default the royal road's milestones. ``sources``
    are road steps left out as entries (how leads arrive, not a stage they pass).
    """

    mode: str
    stages: tuple[Stage, ...]
    within: tuple[int, ...]
    goal: Candidate | None  # the intermediate goal (reached as the goal search defines it)
    goal_stage: str | None  # the stage that stands for it
    custom: bool  # the user named the stages
    sources: tuple[str, ...]
    proxies: tuple[str, ...]  # stages that are outcome proxies (named by the user)
    cohort_by: str
    cohorts: tuple[Cohort, ...]
    segment: str | None
    segments: tuple[Cohort, ...]
    velocity: Velocity
    as_of: str | None

    def goal_label(self, lang: str | None = None) -> str:
        """The goal milestone in words, e.g. ``技術打合せ``; empty without a goal."""
        return self.goal.label(lang) if self.goal is not None else ""

    def stage(self, name: str) -> Stage:
        """The stage named ``name`` (an activity, ``▶start`` or ``■won``)."""
        for s in self.stages:
            if s.stage == name:
                return s
        raise KeyError(name)

    def __repr__(self) -> str:
        parts = " → ".join(f"{s.label('en')} {s.leads:,}" for s in self.stages)
        return f"FunnelResult({self.mode}: {parts})"

    def _repr_html_(self) -> str:
        rows = [
            (
                s.label("en") + (" ★" if s.is_goal else ""),
                f"{s.leads:,}",
                _rate(s.step_rate, s.step_rate_ci),
                _rate(s.cumulative_rate, s.cumulative_rate_ci),
                "" if s.drop_off is None else f"{s.drop_off:,}",
                "–" if s.median_days is None else f"{s.median_days:.0f}",
            )
            for s in self.stages
        ]
        return html_table(
            ("stage", "leads", "from previous", "from start", "drop-off", "median days"),
            rows,
            caption=f"funnel ({self.mode})",
        )

    def to_dict(self) -> dict:
        return _clean(
            {
                "mode": self.mode,
                "stages": [s.to_dict() for s in self.stages],
                "within_days": list(self.within),
                "goal": (
                    {
                        k: getattr(self.goal, k)
                        for k in ("activity", "then", "min_count", "within_days")
                    }
                    if self.goal is not None
                    else None
                ),
                "goal_stage": self.goal_stage,
                "custom_stages": self.custom,
                "sources_left_out": list(self.sources),
                "proxy_stages": list(self.proxies),
                "cohort_by": self.cohort_by,
                "cohorts": [c.to_dict() for c in self.cohorts],
                "segment": self.segment,
                "segments": [c.to_dict() for c in self.segments],
                "velocity": self.velocity.to_dict(),
                "as_of": self.as_of,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def to_frame(self) -> pd.DataFrame:
        """One row per stage; intervals as ``…_low`` / ``…_high`` columns, censored rates
        as ``cumulative_within_{d}`` and ``step_within_{d}`` columns."""
        rows = []
        for s in self.stages:
            d = s.to_dict()
            row = {k: v for k, v in d.items() if not isinstance(v, (list, dict))}
            for name in ("step_rate_ci", "cumulative_rate_ci", "win_rate_ci"):
                lo, hi = d[name] or (None, None)
                row[f"{name}_low"], row[f"{name}_high"] = lo, hi
            for name in ("cumulative_within", "step_within"):
                for w in d[name]:
                    row[f"{name}_{w['days']}"] = w["rate"]
            rows.append(row)
        return pd.DataFrame(rows)

    def cohorts_frame(self) -> pd.DataFrame:
        """One row per creation period (then per segment value, with ``kind``)."""
        rows = []
        for kind, items in (("cohort", self.cohorts), ("segment", self.segments)):
            for c in items:
                d = c.to_dict()
                row = {"kind": kind, **{k: v for k, v in d.items() if not isinstance(v, list)}}
                for name in ("goal_within", "win_within"):
                    for w in d[name]:
                        row[f"{name}_{w['days']}"] = w["rate"]
                rows.append(row)
        return pd.DataFrame(rows)


def _rate(rate: float | None, ci: tuple[float, float] | None) -> str:
    if rate is None:
        return "–"
    return f"{pct(rate)} [{pct(ci[0])}–{pct(ci[1])}]" if ci else pct(rate)
