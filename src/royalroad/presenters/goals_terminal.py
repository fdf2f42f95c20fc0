"""Terminal rendering of a :class:`~royalroad.analysis.goals_result.GoalResult`."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.goals_result import Candidate, GoalResult
from royalroad.i18n import t


def _pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def _ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _ci(ci: tuple[float, float] | None, fmt=_ratio) -> str:
    if not ci:
        return ""
    return f"[{fmt(ci[0])}–{fmt(ci[1])}]"


def _status(c: Candidate) -> str:
    if c.eligible:
        return t("goal.status.eligible")
    return t(f"goal.status.{c.why_not}")


def render_goals(result: GoalResult, console: Console, *, top: int = 15) -> None:
    goal = result.recommended
    head = t("goal.heading")
    console.print(f"[bold]{head}[/bold]")
    style = "bold green" if goal else "bold yellow"
    console.print(f"[{style}]{escape(result.sentence())}[/{style}]")
    console.print(
        escape(
            t(
                "goal.base_line",
                base=_pct(result.base_rate),
                lo=_pct(result.base_rate_ci[0]),
                hi=_pct(result.base_rate_ci[1]),
                closed=f"{result.closed:,}",
                won=f"{result.won:,}",
                lost=f"{result.lost:,}",
                open=f"{result.open:,}",
            )
        )
    )
    if goal:
        console.print(escape(result.reason_text()))

    distinct = result.distinct()
    table = Table(
        title=t("goal.table_title", n=len(result.candidates), top=min(top, len(distinct))),
        title_justify="left",
    )
    cols = [
        "milestone",
        "leads",
        "wonlost",
        "win_rate",
        "lift",
        "recall",
        "mcc",
        "odds_ratio",
        "q",
        "status",
    ]
    adjusted = bool(result.settings.get("adjust"))
    if adjusted:
        cols.insert(-1, "adjusted")
    for col in cols:
        table.add_column(
            t(f"goal.col.{col}"),
            justify="left" if col in ("milestone", "status") else "right",
            overflow="fold",
        )
    for c, same in distinct[:top]:
        label = c.label() + (" " + t("goal.equivalents", n=same) if same else "")
        row = [
            escape(label),
            f"{c.leads:,}",
            f"{c.won:,}/{c.lost:,}/{c.open:,}",
            f"{_pct(c.win_rate)} {_ci(c.win_rate_ci, _pct)}",
            f"{c.lift:.2f}",
            _pct(c.recall),
            f"{c.mcc:.3f}",
            f"{_ratio(c.odds_ratio)} {_ci(c.odds_ratio_ci)}",
            f"{c.q_value:.2g}",
        ]
        if adjusted:
            row.append(f"{_ratio(c.adjusted_odds_ratio)} {_ci(c.adjusted_odds_ratio_ci)}")
        row.append(_status(c))
        table.add_row(*row, style="bold" if goal is not None and c.key == goal.key else None)
    console.print(table)

    if result.runner_ups:
        console.print(f"[bold]{t('goal.runner_ups')}[/bold]")
        for r in result.runner_ups:
            console.print(f"  • {escape(r.candidate.label())}: {escape(r.text())}")
    if result.proxies:
        console.print(f"[bold]{t('goal.proxies')}[/bold]")
        for p in result.proxies:
            console.print(f"  • {escape(p.text())}")
    if result.incidence:
        inc = result.incidence
        parts = ", ".join(
            t("goal.incidence_item", days=h, reached=_pct(a), not_reached=_pct(b))
            for h, a, b in zip(inc.horizons, inc.reached, inc.not_reached, strict=True)
        )
        console.print(escape(t("goal.incidence", items=parts)))
    for caveat in result.caveats:
        console.print(f"[yellow]! {escape(caveat.text())}[/yellow]")
