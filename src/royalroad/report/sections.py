"""Typed report sections: data only, built from results, rendered by one template each.

A section holds what its template needs and nothing else; ``has_content`` decides
whether it appears. Later analyses (paths, plan, reps, triggers) add a section
class and a template, nothing more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from royalroad.analysis.goals_result import Candidate, GoalResult, ProxyFlag, RunnerUp
from royalroad.presenters.notes import data_notes, file_notes
from royalroad.quality import FileSummary, IngestSummary, ReasonCount
from royalroad.report.charts import Chart, forest, heatmaps, incidence


@dataclass(frozen=True)
class Section:
    template: ClassVar[str]
    anchor: ClassVar[str]
    title_key: ClassVar[str]

    def has_content(self) -> bool:
        return True

    @property
    def charts(self) -> tuple[Chart, ...]:
        return ()


@dataclass(frozen=True)
class Headline:
    value: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class SummarySection(Section):
    template: ClassVar[str] = "summary.html.j2"
    anchor: ClassVar[str] = "summary"
    title_key: ClassVar[str] = "report.summary.title"

    sentence: str
    reason: str
    found: bool
    headlines: tuple[Headline, ...]


@dataclass(frozen=True)
class CandidateRow:
    """One milestone family: its best (or recommended) member, the others expandable."""

    candidate: Candidate
    label: str
    is_goal: bool
    status: str
    odds_ratio: str
    q_value: str
    adjusted: str
    given_goal: str
    # interval bar geometry in percent of the 0–100% axis
    lo: float
    hi: float
    point: float
    variants: tuple[CandidateRow, ...] = ()


@dataclass(frozen=True)
class GoalEvidenceSection(Section):
    template: ClassVar[str] = "goal_evidence.html.j2"
    anchor: ClassVar[str] = "goal-evidence"
    title_key: ClassVar[str] = "report.goal.title"

    base_rate: float
    base_lo: float
    base_hi: float
    rows: tuple[CandidateRow, ...]
    tried: int
    adjusted: bool
    has_goal: bool
    runner_ups: tuple[RunnerUp, ...]
    proxies: tuple[ProxyFlag, ...]
    forest_chart: Chart | None
    heat_charts: tuple[Chart, ...]
    incidence_chart: Chart | None
    incidence_text: str = ""

    def has_content(self) -> bool:
        return bool(self.rows)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(
            c for c in (self.forest_chart, *self.heat_charts, self.incidence_chart) if c is not None
        )


@dataclass(frozen=True)
class DataQualitySection(Section):
    template: ClassVar[str] = "data_quality.html.j2"
    anchor: ClassVar[str] = "data-quality"
    title_key: ClassVar[str] = "report.data_quality.title"

    files: tuple[FileSummary, ...]
    reasons: tuple[ReasonCount, ...]
    summary: IngestSummary
    file_notes: tuple[str, ...] = ()
    """Title rows skipped, per file (:mod:`royalroad.presenters.notes`)."""
    data_notes: tuple[str, ...] = ()
    """Events and leads kept aside or noticed."""

    def has_content(self) -> bool:
        return bool(self.files)


@dataclass(frozen=True)
class CaveatsSection(Section):
    template: ClassVar[str] = "caveats.html.j2"
    anchor: ClassVar[str] = "caveats"
    title_key: ClassVar[str] = "report.caveats.title"

    items: tuple[str, ...] = field(default_factory=tuple)

    def has_content(self) -> bool:
        return bool(self.items)


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _summary(goals: GoalResult, lang: str) -> SummarySection:
    from royalroad.i18n import t

    g = goals.recommended
    if g is not None:
        heads = (
            Headline(
                _pct(g.win_rate),
                t("report.summary.goal_rate", lang=lang),
                t(
                    "report.summary.vs_base",
                    lang=lang,
                    base=_pct(goals.base_rate),
                    lift=f"{g.lift:.1f}",
                ),
            ),
            Headline(
                _pct(g.recall),
                t("report.summary.recall", lang=lang),
                t(
                    "report.summary.recall_detail",
                    lang=lang,
                    won=f"{g.won:,}",
                    total=f"{goals.won:,}",
                ),
            ),
            Headline(
                f"{g.median_days_to_reach:.0f}" if g.median_days_to_reach is not None else "–",
                t("report.summary.days", lang=lang),
                t(
                    "report.summary.days_detail",
                    lang=lang,
                    close=f"{g.median_days_to_close:.0f}"
                    if g.median_days_to_close is not None
                    else "–",
                ),
            ),
        )
    else:
        heads = (
            Headline(
                _pct(goals.base_rate),
                t("report.summary.base", lang=lang),
                f"[{_pct(goals.base_rate_ci[0])}–{_pct(goals.base_rate_ci[1])}]",
            ),
            Headline(
                f"{goals.closed:,}",
                t("report.summary.closed", lang=lang),
                t(
                    "report.summary.closed_detail",
                    lang=lang,
                    won=f"{goals.won:,}",
                    lost=f"{goals.lost:,}",
                ),
            ),
            Headline(f"{goals.open:,}", t("report.summary.open", lang=lang), ""),
        )
    return SummarySection(
        sentence=goals.sentence(lang),
        reason=goals.reason_text(lang),
        found=g is not None,
        headlines=heads,
    )


def _candidate_row(
    c: Candidate, goal_key, lang: str, variants: tuple[CandidateRow, ...] = ()
) -> CandidateRow:
    from royalroad.i18n import has, t
    from royalroad.presenters import format as fmt

    lo, hi = c.win_rate_ci
    key = "goal.status.eligible" if c.eligible else f"goal.status.{c.why_not}"
    given = fmt.odds_ratio_text(
        c.given_goal_odds_ratio, c.given_goal_odds_ratio_ci, c.given_goal_odds_ratio_zero_cell, lang
    )
    if c.adds_nothing_beyond_goal:
        given = f"{given} · {t('format.adds_nothing', lang=lang)}"
    return CandidateRow(
        candidate=c,
        label=c.label(lang),
        is_goal=c.key == goal_key,
        status=t(key, lang=lang) if has(key) else (c.why_not or ""),
        odds_ratio=fmt.odds_ratio_text(c.odds_ratio, c.odds_ratio_ci, c.odds_ratio_zero_cell, lang),
        q_value=fmt.p_value_text(c.q_value, lang),
        adjusted=fmt.odds_ratio_text(c.adjusted_odds_ratio, c.adjusted_odds_ratio_ci, None, lang),
        given_goal=given if c.given_goal_odds_ratio is not None else "–",
        lo=0.0 if math.isnan(lo) else 100 * lo,
        hi=0.0 if math.isnan(hi) else 100 * hi,
        point=0.0 if math.isnan(c.win_rate) else 100 * c.win_rate,
        variants=variants,
    )


def _evidence(goals: GoalResult, lang: str, top: int = 15) -> GoalEvidenceSection:
    from royalroad.i18n import join, t

    goal_key = goals.recommended.key if goals.recommended else None
    rows = [
        _candidate_row(
            f.best, goal_key, lang, tuple(_candidate_row(v, goal_key, lang) for v in f.variants)
        )
        for f in goals.families()[:top]
    ]
    inc = goals.incidence
    inc_text = ""
    if inc is not None:
        inc_text = join(
            (
                t("goal.incidence_item", lang=lang, days=h, reached=_pct(a), not_reached=_pct(b))
                for h, a, b in zip(inc.horizons, inc.reached, inc.not_reached, strict=True)
            ),
            lang,
        )
    lo, hi = goals.base_rate_ci
    return GoalEvidenceSection(
        base_rate=goals.base_rate,
        base_lo=lo,
        base_hi=hi,
        rows=tuple(rows),
        tried=len(goals.candidates),
        adjusted=bool(goals.settings.get("adjust")),
        has_goal=goals.recommended is not None,
        runner_ups=goals.runner_ups,
        proxies=goals.proxies,
        forest_chart=forest(goals, lang),
        heat_charts=tuple(heatmaps(goals, lang)),
        incidence_chart=incidence(goals, lang),
        incidence_text=inc_text,
    )


def build_sections(results, lang: str) -> list[Section]:
    """The report's sections in reading order, empty ones left out."""
    from royalroad.i18n import t

    q = results.quality
    caveats = [c.text(lang) for c in results.goals.caveats]
    if q.quarantined:
        caveats.append(
            t(
                "report.caveats.quarantined",
                lang=lang,
                n=f"{q.quarantined:,}",
                read=f"{q.rows_read:,}",
            )
        )
    from royalroad.report import sections_journeys as sj
    from royalroad.report.sections_funnel import funnel
    from royalroad.report.sections_plan import plan_section
    from royalroad.report.sections_reps import reps as reps_section
    from royalroad.report.sections_triggers import triggers as triggers_section
    from royalroad.report.sections_trust import trust

    # the goal in one sentence, this week's actions, then the evidence behind them
    sections: list[Section] = [
        _summary(results.goals, lang),
        sj.actions(results.next, lang),
        _evidence(results.goals, lang),
        sj.road(results.paths, results.goals, lang),
        sj.journeys(results.paths),
        funnel(getattr(results, "funnel", None), lang),
        reps_section(getattr(results, "reps", None), lang),
        triggers_section(getattr(results, "triggers", None), lang),
        plan_section(getattr(results, "plan", None), getattr(results, "track", None), lang),
        trust(
            results.next,
            results.backtest,
            t("backtest.not_run", lang=lang, reason=results.backtest_note)
            if results.backtest_note
            else "",
            lang,
        ),
        DataQualitySection(
            files=q.files,
            reasons=q.reasons,
            summary=q,
            file_notes=tuple(file_notes(q, lang)),
            data_notes=tuple(data_notes(q, lang)),
        ),
        CaveatsSection(items=tuple(caveats)),
    ]
    return [s for s in sections if s.has_content()]
