"""Terminal rendering of the hand-off and next best action."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.nba_result import CLOSE, KEEP, NextResult
from royalroad.i18n import t


def _pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def action_label(action: str | None, lang: str | None = None) -> str:
    """An action's display name: a step's own name, or the pseudo-action in words."""
    if action is None:
        return "–"
    if action == CLOSE:
        return t("nba.close", lang=lang)
    if action == KEEP:
        return t("nba.keep", lang=lang)
    return action


STEP_KINDS = ("milestone", "step", "toward_goal")
"""Kinds of advice that name a step (the others, close and keep nurturing, say it all)."""


def kind_text(kind: str | None, lang: str | None = None) -> str:
    """The kind of a step advice in words; empty for close / keep nurturing."""
    return t(f"nba.kind.{kind}", lang=lang) if kind in STEP_KINDS else ""


def gain_text(gain: float | None, low: float | None, high: float | None) -> str:
    """``+13 pts [+8, +19]``; a dash when there is no measured gain."""
    if gain is None or not math.isfinite(gain):
        return "–"
    lo = f"{100 * low:+.0f}" if low is not None and math.isfinite(low) else "–"
    hi = f"{100 * high:+.0f}" if high is not None and math.isfinite(high) else "–"
    return f"{100 * gain:+.0f} [{lo}, {hi}]"


def priority(row: dict) -> tuple:
    """This week's order: stalled first, then sales-ready, then the longest idle."""
    return (
        not row["stalled"],
        row["status"] != "sales_ready",
        -(row["days_idle"] or 0),
        row["lead_id"],
    )


def render_next(
    result: NextResult, console: Console, *, top: int = 20, owner: str | None = None
) -> None:
    console.print(f"[bold]{t('nba.heading')}[/bold]")
    console.print(
        escape(
            t(
                "nba.summary",
                ready=f"{result.sales_ready:,}",
                nurture=f"{result.nurture:,}",
                stalled=f"{result.stalled:,}",
                goal=result.goal or "–",
            )
        )
    )
    rows = sorted(result.rows(), key=priority)
    if owner is not None:
        rows = [r for r in rows if r["owner"] == owner]
    table = Table(
        title=t("nba.table_title", top=min(top, len(rows)), n=f"{len(rows):,}"),
        title_justify="left",
    )
    keys = ["nba.col.lead"]
    if result.owner_column:
        keys.append("nba.col.owner")
    keys += [
        "nba.col.status",
        "nba.col.state",
        "nba.col.action",
        "nba.col.gain",
        "nba.col.now",
        "nba.col.idle",
    ]
    for key in keys:
        table.add_column(t(key), overflow="fold")
    reasons: dict[str, str] = {}
    for r in rows[:top]:
        cells = [escape(str(r["lead_id"]))]
        if result.owner_column:
            cells.append(escape(r["owner"] or "–"))
        kind = kind_text(r["action_kind"])
        action = action_label(r["recommended_action"])
        cells += [
            t(f"nba.status.{r['status']}"),
            escape(r["state"] or "–"),
            escape(f"{action} ({kind})" if kind else action),
            gain_text(r["gain"], *r["gain_ci"]),
            _pct(r["current_win_rate"]),
            f"{r['days_idle']:.0f}" + (" ⚠" if r["stalled"] else "")
            if r["days_idle"] is not None
            else "–",
        ]
        table.add_row(*cells)
        if r["reason"] and r["state"]:
            reasons.setdefault(r["state"], r["reason"])
    console.print(table)
    if reasons:
        console.print(f"[bold]{t('nba.why')}[/bold]")
        for state, reason in reasons.items():
            console.print(f"  • {escape(state)}: {escape(reason)}")
