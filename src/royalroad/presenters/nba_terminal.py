"""Terminal rendering of the hand-off and next best action."""

from __future__ import annotations

import math

import pyarrow.compute as pc
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


def whole_adjustments(row: dict) -> list[tuple[str, int]]:
    """A lead's P(win) adjustments as (label, whole points), leaving out those that
    round to 0; with the state's rate they add up to the shown P(win) in whole points."""
    adjustments = list(row.get("adjustments") or ())
    p, base = row.get("current_win_rate"), row.get("state_rate")
    if p is not None and base is not None and math.isfinite(p) and math.isfinite(base):
        whole = round(100 * p) - round(100 * base)
        points = _whole_points([100 * a["points"] for a in adjustments], whole)
    else:
        points = [round(100 * a["points"]) for a in adjustments]
    return [(a["label"], pts) for a, pts in zip(adjustments, points, strict=True) if pts != 0]


def pwin_breakdown(row: dict, lang: str | None = None) -> str:
    """``64% at this stage · idle 83 days −9 · industry: 化学 +2 = 57% [44–62%]``: the
    shown P(win) as the state's rate plus its adjustments, in whole points that add up."""
    p = row.get("current_win_rate")
    if p is None or not math.isfinite(p):
        return ""
    parts = []
    base = row.get("state_rate")
    if base is not None and math.isfinite(base):
        parts.append(t("pwin.at_stage", lang=lang, p=_pct(base)))
    parts += [f"{label} {pts:+d}".replace("-", "−") for label, pts in whole_adjustments(row)]
    lo, hi = row.get("current_win_rate_ci") or (None, None)
    ci = f" [{_pct(lo).rstrip('%')}–{_pct(hi)}]" if lo is not None and hi is not None else ""
    return " · ".join(parts) + f" = {_pct(p)}{ci}"


def _whole_points(points: list[float], total: int) -> list[int]:
    """``points`` rounded to whole numbers that add up to ``total`` (largest remainder):
    the shown breakdown adds up to the shown P(win), as the exact one does.

    >>> _whole_points([-8.6, -4.4, -2.4, -3.4, 7.4], -11)  # each rounded: -12
    [-9, -4, -2, -3, 7]
    """
    out = [math.floor(x) for x in points]
    short = total - sum(out)
    order = sorted(range(len(points)), key=lambda i: (-(points[i] - out[i]), i))
    if 0 <= short <= len(points):
        for i in order[:short]:
            out[i] += 1
        return out
    return [round(x) for x in points]  # the adjustments do not add up: show each as is


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
    mine = None if owner is None else pc.field("owner") == owner
    rows = result.ordered(limit=top, where=mine)
    table = Table(
        title=t("nba.table_title", top=len(rows), n=f"{result.count(mine):,}"),
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
    for r in rows:
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
    made_up = [(r["lead_id"], pwin_breakdown(r)) for r in rows]
    if any(text for _, text in made_up):
        console.print(f"[bold]{t('pwin.breakdown_heading')}[/bold]")
        for lead, text in made_up:
            if text:
                console.print(f"  • {escape(str(lead))}: {escape(text)}")
