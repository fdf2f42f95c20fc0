"""Terminal rendering of the reverse plan and of tracking (rich; user text escaped)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.plan_result import PlanResult, money
from royalroad.analysis.track_result import TrackResult
from royalroad.i18n import t
from royalroad.presenters.plan_text import (
    assumption_text,
    chain_rows,
    needed_sentence,
    num,
    pace_sentence,
    pct,
    pipeline_sentence,
    projected_sentence,
    reach_sentence,
    title,
)


def render_plan(result: PlanResult, console: Console) -> None:
    console.print(f"[bold]{escape(title(result))}[/bold]")
    chain = Table(title=t("plan.chain_title"), title_justify="left")
    for key, justify in (
        ("plan.col.what", "left"),
        ("plan.col.estimate", "right"),
        ("plan.col.interval", "right"),
        ("plan.col.source", "left"),
    ):
        chain.add_column(t(key), justify=justify)  # type: ignore[arg-type]
    for what, est, ci, src in chain_rows(result):
        style = (
            "yellow" if src != t("plan.source.data") and src != t("plan.source.derived") else None
        )
        chain.add_row(escape(what), est, ci, escape(src), style=style)
    console.print(chain)
    for line in (needed_sentence(result), pipeline_sentence(result), reach_sentence(result)):
        console.print(escape(line))
    table = Table(title=t("plan.table_title", by=t(f"plan.by.{result.by}")), title_justify="left")
    for key in (
        "plan.col.period",
        "plan.col.leads",
        "plan.col.goals",
        "plan.col.wins",
        "plan.col.from_pipeline",
        "plan.col.revenue",
        "plan.col.band",
    ):
        table.add_column(t(key), justify="left" if key == "plan.col.period" else "right")
    for p in result.periods:
        label = p.period if p.in_target else f"({p.period})"
        table.add_row(
            label,
            num(p.leads),
            num(p.goals),
            num(p.wins),
            num(p.wins_from_pipeline),
            money(p.revenue),
            f"{money(p.revenue_low)}–{money(p.revenue_high)}",
        )
    console.print(table)
    if any(not p.in_target for p in result.periods):
        console.print(escape(t("plan.lead_in_legend")), style="dim")
    if result.assumptions:
        console.print(f"[bold yellow]{escape(t('plan.assumptions_title'))}[/bold yellow]")
        for a in result.assumptions:
            console.print(
                escape("  ⚠ " + assumption_text(a.name, a.value, a.source)), style="yellow"
            )
    if result.benchmark is not None:
        console.print(f"[bold]{escape(t('plan.bench_title'))}[/bold]")
        console.print(escape("  " + result.benchmark.sentence()))
    for w in result.what_if:
        console.print(escape(t("plan.whatif_prefix") + w.sentence()))
    if result.segments:
        render_segments(result, console)
    for n in result.notes:
        console.print(escape("· " + n.text()), style="dim")


def render_segments(result: PlanResult, console: Console) -> None:
    table = Table(
        title=t("plan.segments_title", segment=escape(result.segment or "")), title_justify="left"
    )
    for key in (
        "plan.col.segment",
        "plan.col.share",
        "plan.col.p_goal",
        "plan.col.p_win_goal",
        "plan.col.p_win_lead",
        "plan.col.amount",
        "plan.col.leads",
        "plan.col.wins_any_time",
        "plan.col.revenue_any_time",
        "plan.col.alone",
    ):
        table.add_column(t(key), justify="left" if key == "plan.col.segment" else "right")
    for s in result.segments:
        lo, hi = s.p_win_given_goal_ci
        table.add_row(
            escape(s.value),
            pct(s.share_of_leads),
            pct(s.p_goal_given_lead),
            f"{pct(s.p_win_given_goal)} [{pct(lo)}–{pct(hi)}]",
            pct(s.p_win_given_lead),
            money(s.mean_won_amount),
            num(s.leads),
            num(s.wins),
            money(s.revenue),
            num(s.leads_needed_alone, 0),
        )
    console.print(table)


def render_track(result: TrackResult, console: Console) -> None:
    console.print(
        "[bold]"
        + escape(
            t(
                "track.title",
                target=money(result.target),
                start=result.start,
                end=result.end,
                as_of=result.as_of[:10],
                goal=result.goal_label(),
            )
        )
        + "[/bold]"
    )
    table = Table(title=t("track.table_title"), title_justify="left")
    for key in (
        "plan.col.period",
        "track.col.status",
        "track.col.leads",
        "track.col.goals",
        "track.col.wins",
        "track.col.revenue",
    ):
        table.add_column(t(key), justify="left" if key == "plan.col.period" else "right")

    def pair(actual: float | None, planned: float, money_: bool = False) -> str:
        a = "–" if actual is None else (money(actual) if money_ else num(actual, 0))
        return f"{a} / {money(planned) if money_ else num(planned)}"

    for p in result.periods:
        table.add_row(
            p.period if p.in_target else f"({p.period})",
            t(f"track.status.{p.status}"),
            pair(p.actual_leads, p.planned_leads),
            pair(p.actual_goals, p.planned_goals),
            pair(p.actual_wins, p.planned_wins),
            pair(p.actual_revenue, p.planned_revenue, True),
        )
    console.print(table)
    console.print(escape(pace_sentence(result)))
    console.print(escape(projected_sentence(result)))
    style = "green" if result.on_track else "bold red"
    console.print(escape(result.sentence()), style=style)
