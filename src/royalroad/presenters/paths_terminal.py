"""Terminal rendering of journeys: royal road, variants, DFG and the Markov model."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.journeys import WON
from royalroad.analysis.pathfile import PathFileResult
from royalroad.analysis.paths_result import PathsResult, state_label
from royalroad.i18n import join, t


def _pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def road_text(result: PathsResult, lang: str | None = None) -> str:
    parts = [
        f"{state_label(s.activity, lang) if s.activity == WON else s.activity} "
        f"({_pct(s.p_win_after)})"
        for s in result.royal_road
    ]
    return " → ".join(parts)


def _variant_table(title: str, variants) -> Table:
    vt = Table(title=title, title_justify="left")
    for key in (
        "paths.col.path",
        "paths.col.leads",
        "goal.col.wonlost",
        "goal.col.win_rate",
        "paths.col.days",
    ):
        vt.add_column(
            t(key), overflow="fold", justify="left" if key == "paths.col.path" else "right"
        )
    for v in variants:
        vt.add_row(
            escape(" → ".join(v.path)),
            f"{v.leads:,}",
            f"{v.won:,}/{v.lost:,}/{v.open:,}",
            f"{_pct(v.win_rate)} [{_pct(v.win_rate_ci[0])}–{_pct(v.win_rate_ci[1])}]",
            "–" if v.median_days is None else f"{v.median_days:.0f}",
        )
    return vt


def render_paths(result: PathsResult, goals, console: Console, *, top_edges: int = 15) -> None:
    console.print(f"[bold]{t('paths.heading')}[/bold]")
    if result.royal_road:
        console.print(f"[bold green]{escape(road_text(result))}[/bold green]")
        c = result.conformance
        if c is not None:
            console.print(
                escape(
                    t(
                        "paths.conformance",
                        won=_pct(c.share("won")),
                        lost=_pct(c.share("lost")),
                        won_n=f"{c.won_followed:,}",
                        lost_n=f"{c.lost_followed:,}",
                    )
                )
            )
    else:
        console.print(f"[yellow]{escape(t('paths.no_road', reason=goals.reason_text()))}[/yellow]")
    console.print(escape(t("paths.start_p", p=_pct(result.p_win_start))))

    title = t(
        "paths.variants_title",
        shown=len(result.variants),
        total=f"{result.variants_total:,}",
        coverage=_pct(result.variants_coverage),
    )
    for heading, variants in (
        (t("report.journeys.winning"), result.winning_variants),
        (title, result.variants),
    ):
        if variants:
            console.print(_variant_table(heading, variants))

    mt = Table(title=t("paths.markov_title"), title_justify="left")
    for key in ("paths.col.state", "paths.col.p_win", "paths.col.steps", "paths.col.exits"):
        mt.add_column(t(key), justify="left" if key == "paths.col.state" else "right")
    for s in sorted(
        result.states, key=lambda s: (-(s.p_win if math.isfinite(s.p_win) else -1), s.state)
    ):
        mt.add_row(
            escape(state_label(s.state)),
            _pct(s.p_win),
            "–" if not math.isfinite(s.expected_steps) else f"{s.expected_steps:.1f}",
            f"{s.exits:,}",
        )
    console.print(mt)
    console.print(f"[bold]{t('paths.removal_title')}[/bold]")
    for act, eff in result.removal_effects.items():
        console.print(f"  {escape(act)}: {_pct(eff)}")

    et = Table(
        title=t("paths.dfg_title", n=len(result.dfg), top=min(top_edges, len(result.dfg))),
        title_justify="left",
    )
    for key in (
        "paths.col.from",
        "paths.col.to",
        "paths.col.count",
        "goal.col.wonlost",
        "paths.col.hours",
    ):
        et.add_column(
            t(key),
            justify="right"
            if key in ("paths.col.count", "paths.col.hours", "goal.col.wonlost")
            else "left",
        )
    for e in result.dfg[:top_edges]:
        et.add_row(
            escape(e.src),
            escape(e.dst),
            f"{e.count:,}",
            f"{e.won:,}/{e.lost:,}/{e.open:,}",
            "–" if e.median_hours is None else f"{e.median_hours:.1f}",
        )
    console.print(et)
    if result.single_activity:
        console.print(f"[bold]{t('paths.single_title')}[/bold]")
        for one in result.single_activity[:8]:
            lo, hi = one.win_rate_ci
            console.print(
                escape(
                    f"  {one.activity}: {one.leads:,} ({one.won}/{one.lost}/{one.open}) "
                    f"{_pct(one.win_rate)} [{_pct(lo)}–{_pct(hi)}]"
                )
            )
    if result.excluded:
        console.print(escape(t("paths.excluded", activities=join(result.excluded))))


def render_path_file(result: PathFileResult, console: Console) -> None:
    console.print(
        escape(
            t(
                "paths.file_summary",
                rows=f"{result.rows:,}",
                paths=f"{result.paths:,}",
                conv=f"{result.conversions:,.0f}",
                null=f"{result.nulls:,.0f}",
                p=_pct(result.p_win_start),
            )
        )
    )
    table = Table(title=t("paths.removal_title"), title_justify="left")
    table.add_column(t("paths.col.state"))
    table.add_column(t("paths.col.removal"), justify="right")
    for act, eff in result.removal_effects.items():
        table.add_row(escape(act), f"{eff:.4f}")
    console.print(table)
