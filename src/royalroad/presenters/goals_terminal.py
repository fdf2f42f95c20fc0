"""Terminal rendering of a :class:`~royalroad.analysis.goals_result.GoalResult`.

One row per milestone *family* (the same activity or pair; other counts and windows
are folded into it as "(+N variants)"), the recommended goal marked ★, with a legend.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.goals_result import Candidate, GoalResult
from royalroad.i18n import join, t
from royalroad.presenters.format import interval, odds_ratio_text, p_value_text, pct, ratio


def _status(c: Candidate, goal: Candidate | None) -> str:
    if goal is not None and c.key == goal.key:
        return t("goal.status.recommended")
    if c.eligible:
        return t("goal.status.eligible")
    return t(f"goal.status.{c.why_not}")


def _after_goal(c: Candidate, goal: Candidate | None) -> str:
    if goal is None or c.key == goal.key:
        return ""
    text = odds_ratio_text(
        c.given_goal_odds_ratio, c.given_goal_odds_ratio_ci, c.given_goal_odds_ratio_zero_cell
    )
    if c.adds_nothing_beyond_goal:
        text += f" {t('format.adds_nothing')}"
    return text


def _row(c: Candidate, goal: Candidate | None, adjusted: bool, label: str) -> list[str]:
    row = [
        escape(label),
        f"{c.leads:,}",
        f"{c.won:,}/{c.lost:,}/{c.open:,}",
        f"{pct(c.win_rate)} {interval(c.win_rate_ci, pct)}",
        f"{c.lift:.2f}",
        pct(c.recall),
        f"{c.mcc:.3f}",
        odds_ratio_text(c.odds_ratio, c.odds_ratio_ci, c.odds_ratio_zero_cell),
        p_value_text(c.q_value),
    ]
    if adjusted:
        row.append(f"{ratio(c.adjusted_odds_ratio)} {interval(c.adjusted_odds_ratio_ci)}")
    if goal is not None:
        row.append(_after_goal(c, goal))
    row.append(_status(c, goal))
    return row


def render_goals(
    result: GoalResult, console: Console, *, top: int = 15, variants: bool = False
) -> None:
    """Print the goal, the candidate table (one row per family), runner-ups and caveats.

    ``variants`` lists every variant of the recommended goal's family under the table.
    """
    goal = result.recommended
    head = t("goal.heading")
    console.print(f"[bold]{head}[/bold]")
    style = "bold green" if goal else "bold yellow"
    console.print(f"[{style}]{escape(result.sentence())}[/{style}]")
    console.print(
        escape(
            t(
                "goal.base_line",
                base=pct(result.base_rate),
                lo=pct(result.base_rate_ci[0]),
                hi=pct(result.base_rate_ci[1]),
                closed=f"{result.closed:,}",
                won=f"{result.won:,}",
                lost=f"{result.lost:,}",
                open=f"{result.open:,}",
            )
        )
    )
    if goal:
        console.print(escape(result.reason_text()))
    if result.watch is not None:
        w = result.watch
        console.print(
            escape(
                t(
                    "goal.watch",
                    milestone=w.label(),
                    recall=pct(w.recall),
                    rate=pct(w.win_rate),
                    mcc=f"{w.mcc:.2f}",
                )
            ),
            style="yellow",
        )

    families = result.families()
    table = Table(
        title=t(
            "goal.table_title_families",
            n=len(result.candidates),
            families=len(families),
            top=min(top, len(families)),
        ),
        title_justify="left",
    )
    cols = ["milestone", "leads", "wonlost", "win_rate", "lift", "recall", "mcc", "odds_ratio", "q"]
    adjusted = bool(result.settings.get("adjust"))
    if adjusted:
        cols.append("adjusted")
    if goal is not None:
        cols.append("given_goal")
    cols.append("status")
    for col in cols:
        table.add_column(
            t(f"goal.col.{col}"),
            justify="left" if col in ("milestone", "status") else "right",
            overflow="fold",
        )
    for fam in families[:top]:
        c = fam.best
        label = ("★ " if fam.recommended else "") + c.label()
        if fam.variants:
            label += " " + t("goal.variants", n=len(fam.variants))
        table.add_row(*_row(c, goal, adjusted, label), style="bold" if fam.recommended else None)
    console.print(table)
    if families:
        console.print(escape(t("goal.legend")), style="dim")
    if variants and goal is not None:
        fam = next(f for f in families if f.recommended)
        if fam.variants:
            console.print(escape(t("goal.variants_of", milestone=goal.label())))
            for v in fam.variants:
                line = t(
                    "goal.variant_line",
                    milestone=v.label(),
                    mcc=f"{v.mcc:.3f}",
                    rate=pct(v.win_rate),
                    recall=pct(v.recall),
                    status=_status(v, goal),
                )
                console.print(f"  • {escape(line)}")

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
        parts = join(
            t("goal.incidence_item", days=h, reached=pct(a), not_reached=pct(b))
            for h, a, b in zip(inc.horizons, inc.reached, inc.not_reached, strict=True)
        )
        console.print(escape(t("goal.incidence", items=parts)))
    for caveat in result.caveats:
        console.print(f"[yellow]! {escape(caveat.text())}[/yellow]")
