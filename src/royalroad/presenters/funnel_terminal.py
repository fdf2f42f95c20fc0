"""Terminal rendering of the funnel, and the sentences every view of it shares.

The report, the workbook and the app take their sentences from here (the mode, the
stages' origin, the legend, pipeline velocity), so each says the same thing.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.funnel_result import Cohort, FunnelResult, Stage, Within, stage_label
from royalroad.i18n import get_lang, join, t
from royalroad.presenters.format import DASH, pct


def rate_text(rate: float | None, ci: tuple[float, float] | None) -> str:
    """``35% [33–36]``; missing → ``–``."""
    if rate is None:
        return DASH
    if not ci:
        return pct(rate)
    return f"{pct(rate)} [{pct(ci[0]).rstrip('%')}–{pct(ci[1])}]"


def within_text(w: Within) -> str:
    return rate_text(w.rate, w.ci)


def days_text(days: float | None) -> str:
    return DASH if days is None else f"{days:.0f}"


def money(x: float | None) -> str:
    return DASH if x is None else f"{x:,.0f}"


def stage_name(s: Stage, lang: str | None = None) -> str:
    """The stage's name, ★ on the goal's."""
    return s.label(lang) + (" ★" if s.is_goal else "")


def road_line(result: FunnelResult, lang: str | None = None) -> str:
    return " → ".join(stage_name(s, lang) for s in result.stages)


def notes(result: FunnelResult, lang: str | None = None) -> list[str]:
    """Where the stages come from, what the mode means, and what was left out."""
    out = [t(f"funnel.mode.{result.mode}", lang=lang)]
    if result.custom:
        out.append(t("funnel.stages.custom", lang=lang))
    else:
        out.append(t("funnel.stages.road", lang=lang))
        if result.sources:
            out.append(t("funnel.stages.sources", lang=lang, sources=join(result.sources, lang)))
        if len(result.stages) == 2:
            out.append(t("funnel.stages.no_road", lang=lang))
    if result.proxies:
        out.append(t("funnel.stages.proxies", lang=lang, stages=join(result.proxies, lang)))
    return out


def legend(result: FunnelResult, lang: str | None = None) -> str:
    goal = (
        t("funnel.legend.goal", lang=lang, goal=result.goal_label(lang))
        if result.goal_stage
        else (
            t("funnel.legend.goal_off", lang=lang, goal=result.goal_label(lang))
            if result.goal
            else ""
        )
    )
    sep = "" if (lang or get_lang()) == "ja" else " "
    return sep.join(p for p in (goal, t("funnel.legend.within", lang=lang)) if p)


def cohort_title(result: FunnelResult, segment: bool, lang: str | None = None) -> str:
    if segment:
        key = "funnel.segments_title" if result.goal else "funnel.segments_title_nogoal"
        return t(key, lang=lang, segment=result.segment or "", goal=result.goal_label(lang))
    key = "funnel.cohorts_title" if result.goal else "funnel.cohorts_title_nogoal"
    return t(
        key,
        lang=lang,
        by=t(f"funnel.cohort.{result.cohort_by}", lang=lang),
        goal=result.goal_label(lang),
    )


def velocity_sentence(result: FunnelResult, lang: str | None = None) -> str:
    v = result.velocity
    if v.per_day is None or v.per_day_range is None or v.win_rate_ci is None:
        return t("funnel.velocity.none", lang=lang, open=f"{v.open_leads:,}")
    return t(
        "funnel.velocity.sentence",
        lang=lang,
        open=f"{v.open_leads:,}",
        rate=rate_text(v.win_rate, v.win_rate_ci),
        amount=money(v.mean_won_amount),
        days=days_text(v.median_cycle_days),
        per_day=money(v.per_day),
        per_30=money(30 * v.per_day),
        lo=money(v.per_day_range[0]),
        hi=money(v.per_day_range[1]),
    )


STAGE_COLUMNS = (
    "funnel.col.stage",
    "funnel.col.leads",
    "funnel.col.step_rate",
    "funnel.col.cumulative_rate",
    "funnel.col.drop_off",
    "funnel.col.median_days",
)


def stage_headers(result: FunnelResult, lang: str | None = None) -> list[str]:
    return [
        *(t(k, lang=lang) for k in STAGE_COLUMNS),
        *(t("funnel.col.by_day", lang=lang, days=d) for d in result.within),
        t("funnel.col.win_rate", lang=lang),
    ]


def stage_cells(s: Stage, within: tuple[int, ...], lang: str | None = None) -> list[str]:
    """One stage as display text (user text not yet escaped); the start has no step."""
    steps = [within_text(w) for w in s.step_within] or [DASH] * len(within)
    return [
        stage_name(s, lang),
        f"{s.leads:,}",
        rate_text(s.step_rate, s.step_rate_ci),
        rate_text(s.cumulative_rate, s.cumulative_rate_ci),
        DASH if s.drop_off is None else f"{s.drop_off:,}",
        days_text(s.median_days),
        *steps,
        rate_text(s.win_rate, s.win_rate_ci),
    ]


def cohort_headers(
    result: FunnelResult, segment: bool = False, lang: str | None = None
) -> list[str]:
    """Headers of the cohort table (by creation period) or the segment table."""
    goal = (
        [t("funnel.col.goal_by", lang=lang, days=d) for d in result.within] if result.goal else []
    )
    return [
        (result.segment or "") if segment else t("funnel.col.cohort", lang=lang),
        t("funnel.col.leads", lang=lang),
        t("funnel.col.wonlostopen", lang=lang),
        *goal,
        *(t("funnel.col.won_by", lang=lang, days=d) for d in result.within),
    ]


def cohort_cells(c: Cohort, lang: str | None = None) -> list[str]:
    return [
        c.group if c.group is not None else t("funnel.no_value", lang=lang),
        f"{c.leads:,}",
        f"{c.won:,}/{c.lost:,}/{c.open:,}",
        *(within_text(w) for w in c.goal_within),
        *(within_text(w) for w in c.win_within),
    ]


def _table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for j, h in enumerate(headers):
        table.add_column(escape(h), justify="left" if j == 0 else "right", overflow="fold")
    for r in rows:
        table.add_row(*(escape(c) for c in r))
    return table


def render_funnel(result: FunnelResult, console: Console) -> None:
    console.print(f"[bold]{escape(t('funnel.heading'))}[/bold]")
    console.print(f"[bold green]{escape(road_line(result))}[/bold green]")
    for line in notes(result):
        console.print(escape(line))
    rows = [stage_cells(s, result.within) for s in result.stages]
    console.print(_table(t("funnel.table_title"), stage_headers(result), rows))
    console.print(escape(legend(result)))
    for segment, items in ((False, result.cohorts), (True, result.segments)):
        if items:
            console.print(
                _table(
                    cohort_title(result, segment),
                    cohort_headers(result, segment),
                    [cohort_cells(c) for c in items],
                )
            )
    console.print(escape(velocity_sentence(result)))


__all__ = ["render_funnel", "stage_label"]
