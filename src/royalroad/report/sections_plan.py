"""Report section "Plan from a revenue target" (and, with a plan file, "Pace").

Self-contained: :func:`plan_section` takes a :class:`PlanResult` (or None) and a
:class:`TrackResult` (or None) and a language, and returns a section that appears only
when one of them is there. Every assumed number (from a preset, the article or the
user) is labelled as such in the chain table and listed under its own heading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.plan_result import PlanResult, money
from royalroad.analysis.track_result import TrackResult
from royalroad.i18n import t
from royalroad.report.charts import Chart
from royalroad.report.charts_plan import pace_chart, plan_chart
from royalroad.report.sections import Section


@dataclass(frozen=True)
class ChainRow:
    what: str
    estimate: str
    interval: str
    source: str
    assumed: bool


@dataclass(frozen=True)
class PeriodRow:
    period: str
    in_target: bool
    leads: str
    goals: str
    wins: str
    pipeline: str
    revenue: str
    band: str


@dataclass(frozen=True)
class TrackRow:
    period: str
    in_target: bool
    status: str
    leads: str
    goals: str
    wins: str
    revenue: str
    behind: bool


@dataclass(frozen=True)
class PlanSection(Section):
    template: ClassVar[str] = "plan.html.j2"
    anchor: ClassVar[str] = "plan"
    title_key: ClassVar[str] = "plan.report.title"

    title: str = ""
    sentences: tuple[str, ...] = ()
    chain: tuple[ChainRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    by: str = ""
    assumptions: tuple[str, ...] = ()
    benchmark: str = ""
    benchmark_assumed: bool = False
    what_if: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    plan_chart: Chart | None = None
    track_title: str = ""
    track_rows: tuple[TrackRow, ...] = ()
    track_sentences: tuple[str, ...] = ()
    track_verdict: str = ""
    on_track: bool = True
    pace_chart: Chart | None = None

    def has_content(self) -> bool:
        return bool(self.periods or self.track_rows)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for c in (self.plan_chart, self.pace_chart) if c is not None)


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def plan_section(plan: PlanResult | None, track: TrackResult | None, lang: str) -> PlanSection:
    """The section for ``plan`` and/or ``track`` (either may be None) in ``lang``."""
    from royalroad.presenters import plan_text as pt

    fields: dict = {}
    if plan is not None:
        fields.update(
            title=pt.title(plan, lang),
            sentences=(
                pt.needed_sentence(plan, lang),
                pt.pipeline_sentence(plan, lang),
                pt.reach_sentence(plan, lang),
            ),
            chain=_chain(plan, lang),
            periods=tuple(
                PeriodRow(
                    period=p.period,
                    in_target=p.in_target,
                    leads=_num(p.leads),
                    goals=_num(p.goals),
                    wins=_num(p.wins),
                    pipeline=_num(p.wins_from_pipeline),
                    revenue=money(p.revenue),
                    band=f"{money(p.revenue_low)}–{money(p.revenue_high)}",
                )
                for p in plan.periods
            ),
            by=t(f"plan.by.{plan.by}", lang=lang),
            assumptions=tuple(
                pt.assumption_text(a.name, a.value, a.source, lang) for a in plan.assumptions
            ),
            benchmark=plan.benchmark.sentence(lang) if plan.benchmark else "",
            benchmark_assumed=bool(plan.benchmark and plan.benchmark.rate is None),
            what_if=tuple(w.sentence(lang) for w in plan.what_if),
            notes=tuple(n.text(lang) for n in plan.notes),
            plan_chart=plan_chart(plan, lang),
        )
    if track is not None:
        fields.update(_track(track, lang))
    return PlanSection(**fields)


def _chain(plan: PlanResult, lang: str) -> tuple[ChainRow, ...]:
    """The chain's rows, each flagged when its number is assumed (not from the data)."""
    from royalroad.presenters.plan_text import chain_rows

    sources = [plan.amount.source, plan.p_goal.source, plan.p_win_goal.source]
    sources += [plan.p_win_no_goal.source, "derived"]
    return tuple(
        ChainRow(what, est, ci, src, source not in ("data", "derived"))
        for (what, est, ci, src), source in zip(chain_rows(plan, lang), sources, strict=True)
    )


def _track(track: TrackResult, lang: str) -> dict:
    from royalroad.presenters import plan_text as pt

    def pair(actual: float | None, planned: float, as_money: bool = False) -> str:
        if as_money:
            return f"{money(actual)} / {money(planned)}"
        return f"{_num(actual, 0)} / {_num(planned)}"

    rows = tuple(
        TrackRow(
            period=p.period,
            in_target=p.in_target,
            status=t(f"track.status.{p.status}", lang=lang),
            leads=pair(p.actual_leads, p.planned_leads),
            goals=pair(p.actual_goals, p.planned_goals),
            wins=pair(p.actual_wins, p.planned_wins),
            revenue=pair(p.actual_revenue, p.planned_revenue, True),
            behind=p.status == "done"
            and p.actual_goals is not None
            and p.actual_goals < p.planned_goals,
        )
        for p in track.periods
    )
    projected = pt.projected_sentence(track, lang)
    return {
        "track_title": t(
            "track.title",
            lang=lang,
            target=money(track.target),
            start=track.start,
            end=track.end,
            as_of=track.as_of[:10],
            goal=track.goal_label(lang),
        ),
        "track_rows": rows,
        "track_sentences": (pt.pace_sentence(track, lang), projected),
        "track_verdict": track.sentence(lang),
        "on_track": track.on_track,
        "pace_chart": pace_chart(track, lang),
    }
