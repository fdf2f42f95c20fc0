"""Result types of the reverse plan: frozen, small, one source for every view.

``PlanResult.to_dict()`` is the plan file ``royalroad track --plan`` reads back
(``kind: royalroad.plan``): besides the figures a reader wants, it keeps in ``model``
what a projection needs (rate variances, the lag shapes by month, the amount spread).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from royalroad.analysis.goals_result import _clean
from royalroad.analysis.plan_model import Amount, GoalRef, Rate
from royalroad.i18n import t
from royalroad.tabular import html_table, pct

PLAN_KIND = "royalroad.plan"
PLAN_VERSION = 1


def money(x: float | None) -> str:
    """``120,000,000``; missing → ``–``."""
    return f"{x:,.0f}" if x is not None and math.isfinite(x) else "–"


@dataclass(frozen=True)
class Assumption:
    """A number the plan takes from a preset, the article or the user, not the data."""

    name: str
    value: float
    source: str  # article | preset | user

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class PlanPeriod:
    """One month (or quarter) of the plan: new leads to create, goals to reach and
    the wins and revenue expected to close, with 80% bands."""

    period: str
    start: str
    end: str
    in_target: bool  # False for the lead-in months before the period
    leads: float
    goals: float
    wins: float
    wins_low: float
    wins_high: float
    wins_from_pipeline: float
    wins_from_new: float
    revenue: float
    revenue_low: float
    revenue_high: float
    revenue_from_pipeline: float
    revenue_from_new: float
    booked_revenue: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Scenario:
    """The plan at one set of rates: base (estimates), optimistic or pessimistic (every
    estimated rate and the mean amount at the favourable or unfavourable end of its 95%
    interval). ``p_reach_target`` is judged with the estimated rates and their
    uncertainty, at this scenario's lead volume."""

    name: str
    leads_per_month: float
    new_leads: float
    goals: float  # goals the new leads reach inside the period
    wins: float  # expected wins in the period at the estimated rates
    p_reach_target: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Benchmark:
    """The team's rate beside the article's figure: exact binomial test (two-sided)."""

    preset: str
    step_from: str
    step_to: str  # an activity, or "won"
    benchmark: float
    k: int | None
    n: int | None
    rate: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    significant: bool | None
    found: bool = True
    measured: bool = True  # False: no data, the benchmark is only assumed

    @property
    def direction(self) -> str | None:
        if self.rate is None or not self.significant:
            return None
        return "lower" if self.rate < self.benchmark else "higher"

    def step_label(self, lang: str | None = None) -> str:
        """``技術打合せ → 見積依頼``: the data's names, or the preset's in ``lang``."""
        named = t(f"plan.to.{self.preset}", lang=lang)
        if self.step_to == "won":
            to = t("plan.to.won", lang=lang, what=named)
        else:
            to = self.step_to if self.measured else named
        start = self.step_from if self.measured else t(f"plan.goal.{self.preset}", lang=lang)
        return f"{start} → {to}"

    def sentence(self, lang: str | None = None) -> str:
        where = t(f"plan.preset.{self.preset}", lang=lang)
        if not self.found:
            return t("plan.bench.not_found", lang=lang, step=self.step_to, where=where)
        if self.rate is None or self.ci is None:
            return t(
                "plan.bench.assumed",
                lang=lang,
                step=self.step_label(lang),
                bench=pct(self.benchmark),
                where=where,
            )
        verdict = (
            t(f"plan.bench.{self.direction}", lang=lang)
            if self.direction
            else t("plan.bench.same", lang=lang)
        )
        return t(
            "plan.bench.sentence",
            lang=lang,
            step=self.step_label(lang),
            rate=pct(self.rate),
            lo=pct(self.ci[0]),
            hi=pct(self.ci[1]),
            bench=pct(self.benchmark),
            where=where,
            k=f"{self.k:,}",
            n=f"{self.n:,}",
            p=_p(self.p_value, lang),
            verdict=verdict,
        )

    def to_dict(self) -> dict:
        return {
            "preset": self.preset,
            "step_from": self.step_from,
            "step_to": self.step_to,
            "benchmark": self.benchmark,
            "benchmark_source": "article",
            "found": self.found,
            "measured": self.measured,
            "k": self.k,
            "n": self.n,
            "rate": self.rate,
            "rate_ci": list(self.ci) if self.ci else None,
            "p_value": self.p_value,
            "significant": self.significant,
            "direction": self.direction,
            "text": self.sentence("en"),
            "text_ja": self.sentence("ja"),
        }


def _p(p: float | None, lang: str | None = None) -> str:
    """A p-value as every view shows one: two digits, scientific below 0.001, never 0."""
    if p is None or not math.isfinite(p):
        return "–"
    if p < 1e-300:
        return t("format.p_below", lang=lang, limit="1e-300")
    return f"{p:.1e}" if p < 0.001 else f"{p:.2g}"


@dataclass(frozen=True)
class WhatIf:
    """Moving one rate by some points: the effect at the plan's lead volume."""

    change: str  # reach | post_goal
    points: float
    before: float
    after: float
    wins_effect: float
    revenue_effect: float
    leads_per_month_after: float
    p_reach_after: float

    def sentence(self, lang: str | None = None) -> str:
        return t(
            f"plan.whatif.{self.change}",
            lang=lang,
            pts=f"{100 * self.points:+.0f}",
            before=pct(self.before),
            after=pct(self.after),
            revenue=f"{self.revenue_effect:+,.0f}",
            wins=f"{self.wins_effect:+,.1f}",
            leads=f"{self.leads_per_month_after:,.1f}",
            p=pct(self.p_reach_after),
        )

    def to_dict(self) -> dict:
        return {**self.__dict__, "text": self.sentence("en"), "text_ja": self.sentence("ja")}


@dataclass(frozen=True)
class SegmentRow:
    """One value of ``--segment``: its own rates and its share of the plan's new leads;
    ``goals``, ``wins`` and ``revenue`` are what those leads bring at any time (inside
    the period or after it)."""

    value: str
    share_of_leads: float
    p_goal_given_lead: float
    p_win_given_goal: float
    p_win_given_goal_ci: tuple[float, float]
    p_win_given_lead: float
    mean_won_amount: float
    leads: float
    goals: float
    wins: float
    revenue: float
    leads_needed_alone: float  # leads the whole target would need at this segment's rates

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["p_win_given_goal_ci"] = list(self.p_win_given_goal_ci)
        return d


@dataclass(frozen=True)
class PlanNote:
    """A caveat: catalogue key and parameters, rendered in any language."""

    key: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(self.key, lang=lang, **self.params)


@dataclass(frozen=True)
class PlanResult:
    """A reverse plan: target → wins → goals → leads, by month, with bands."""

    target: float
    start: str
    end: str
    by: str
    as_of: str | None
    source: str  # data | preset
    preset: str | None
    goal: GoalRef
    amount: Amount
    p_goal: Rate
    p_win_goal: Rate
    p_win_no_goal: Rate
    p_win_lead: tuple[float, float, float]  # estimate, low, high
    share_via_goal: float
    wins_needed: tuple[float, float, float]
    goals_needed: tuple[float, float, float]
    leads_needed: tuple[float, float, float]
    booked: tuple[float, float]  # wins, revenue already closed in the period
    pipeline: dict
    new: dict
    p_reach_target: float
    projection: dict  # the period at the plan's volumes: means, variances, 80% bands
    scenarios: tuple[Scenario, ...]
    periods: tuple[PlanPeriod, ...]
    creation: tuple[str, str]  # first and last month new leads are created
    lags: dict
    assumptions: tuple[Assumption, ...]
    model: dict  # what track needs to project: variances, shapes, amount spread
    benchmark: Benchmark | None = None
    what_if: tuple[WhatIf, ...] = ()
    segment: str | None = None
    segments: tuple[SegmentRow, ...] = ()
    notes: tuple[PlanNote, ...] = ()

    @property
    def leads_per_month(self) -> float:
        return self.new["leads_per_month"]

    def p_reach(self, target: float) -> float:
        """P(revenue in the period ≥ ``target``) at the plan's lead volumes."""
        from royalroad.analysis.plan_project import exceed

        pr = self.projection
        booked = pr["booked_revenue"]
        return exceed(pr["revenue"] - booked, pr["revenue_var"], target - booked)

    def revenue_quantile(self, q: float) -> float:
        """The revenue the period stays below with probability ``q`` (lognormal moments,
        as every band of the plan)."""
        from royalroad.analysis.plan_project import quantile

        pr = self.projection
        booked = pr["booked_revenue"]
        return booked + quantile(pr["revenue"] - booked, pr["revenue_var"], q)

    def scenario(self, name: str) -> Scenario:
        return next(s for s in self.scenarios if s.name == name)

    def is_assumed(self, name: str) -> bool:
        return any(a.name == name for a in self.assumptions)

    def __repr__(self) -> str:
        return (
            f"PlanResult(target={self.target:,.0f}, period={self.start}..{self.end}, "
            f"goal={self.goal.label('en')!r}, leads_per_month={self.leads_per_month:,.1f}, "
            f"wins_needed={self.wins_needed[0]:,.1f}, p_reach_target={pct(self.p_reach_target)}, "
            f"source={self.source!r})"
        )

    def _repr_html_(self, lang: str | None = None) -> str:
        rows = [
            (
                p.period,
                f"{p.leads:,.0f}",
                f"{p.goals:,.1f}",
                f"{p.wins:,.1f}",
                money(p.revenue),
                f"{money(p.revenue_low)}–{money(p.revenue_high)}",
            )
            for p in self.periods
        ]
        return html_table(
            ("period", "new leads", "goals", "wins", "revenue", "80% band"),
            rows,
            caption=f"target {money(self.target)} in {self.start}..{self.end}: "
            f"{self.leads_per_month:,.1f} new leads a month, "
            f"P(reaching the target) {pct(self.p_reach_target)}",
            note="to_frame() has every period; to_dict() is the plan file for track",
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per period (month or quarter)."""
        return pd.DataFrame([p.to_dict() for p in self.periods])

    def to_dict(self) -> dict:
        def trio(name: str, v: tuple[float, float, float]) -> dict:
            return {name: v[0], f"{name}_low": v[1], f"{name}_high": v[2]}

        def rate(name: str, r: Rate) -> dict:
            return {
                name: r.estimate,
                f"{name}_low": r.low,
                f"{name}_high": r.high,
                f"{name}_source": r.source,
            }

        a = self.amount
        return _clean(
            {
                "kind": PLAN_KIND,
                "version": PLAN_VERSION,
                "target": self.target,
                "period": {"start": self.start, "end": self.end, "by": self.by},
                "as_of": self.as_of,
                "source": self.source,
                "preset": self.preset,
                "goal": self.goal.to_dict(),
                "mean_won_amount": a.mean,
                "mean_won_amount_low": a.low,
                "mean_won_amount_high": a.high,
                "mean_won_amount_source": a.source,
                "won_leads": a.n,
                **rate("p_goal_given_lead", self.p_goal),
                **rate("p_win_given_goal", self.p_win_goal),
                **rate("p_win_without_goal", self.p_win_no_goal),
                **trio("p_win_given_lead", self.p_win_lead),
                "share_of_wins_via_goal": self.share_via_goal,
                **trio("wins_needed", self.wins_needed),
                **trio("goals_needed", self.goals_needed),
                **trio("leads_needed", self.leads_needed),
                "already_booked": {"wins": self.booked[0], "revenue": self.booked[1]},
                "from_open_pipeline": self.pipeline,
                "from_new_leads": self.new,
                "leads_per_month": self.leads_per_month,
                "p_reach_target": self.p_reach_target,
                "projection": self.projection,
                "scenarios": [s.to_dict() for s in self.scenarios],
                "creation_months": {"first": self.creation[0], "last": self.creation[1]},
                "periods": [p.to_dict() for p in self.periods],
                "lags": self.lags,
                "assumptions": [x.to_dict() for x in self.assumptions],
                "benchmark": self.benchmark.to_dict() if self.benchmark else None,
                "what_if": [w.to_dict() for w in self.what_if],
                "segment": self.segment,
                "segments": [s.to_dict() for s in self.segments],
                "notes": [
                    {"key": n.key, "text": n.text("en"), "text_ja": n.text("ja")}
                    for n in self.notes
                ],
                "model": self.model,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
