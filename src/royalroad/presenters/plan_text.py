"""The plan and tracking in sentences and rows of plain text, in either language: one
source for the terminal, the report and the app (no rich, no HTML; callers escape)."""

from __future__ import annotations

import math

from royalroad.analysis.plan_model import Rate
from royalroad.analysis.plan_result import PlanResult, money
from royalroad.analysis.track_result import TrackResult
from royalroad.i18n import t


def pct(x: float | None, digits: int = 0) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def source_text(source: str, lang: str | None = None) -> str:
    """``data``, or "ASSUMED (the article's benchmark)" / "(preset default …)" / "(your number)"."""
    if source == "data":
        return t("plan.source.data", lang=lang)
    return t("plan.source.assumed", lang=lang, source=t(f"plan.source.{source}", lang=lang))


def rate_interval(r: Rate) -> str:
    if r.assumed or not math.isfinite(r.low):
        return "–"
    return f"{pct(r.low)}–{pct(r.high)}"


def chain_rows(result: PlanResult, lang: str | None = None) -> list[tuple[str, str, str, str]]:
    """(what, estimate, 95% interval, source) for the amount and the rates: shared with
    the report, so both say which numbers are assumed."""
    a = result.amount
    amount_ci = "–" if a.assumed else f"{money(a.low)}–{money(a.high)}"
    rows = [
        (
            t("plan.row.amount", lang=lang),
            money(a.mean),
            amount_ci,
            source_text(a.source, lang)
            + ("" if a.assumed else " " + t("plan.row.wins_n", lang=lang, n=f"{a.n:,}")),
        )
    ]
    for key, r in (
        ("plan.row.p_goal", result.p_goal),
        ("plan.row.p_win_goal", result.p_win_goal),
        ("plan.row.p_win_no_goal", result.p_win_no_goal),
    ):
        rows.append(
            (t(key, lang=lang), pct(r.estimate), rate_interval(r), source_text(r.source, lang))
        )
    p, lo, hi = result.p_win_lead
    derived = lo < p or hi > p
    rows.append(
        (
            t("plan.row.p_win_lead", lang=lang),
            pct(p),
            f"{pct(lo)}–{pct(hi)}" if derived else "–",
            t("plan.source.derived", lang=lang),
        )
    )
    return rows


def needed_sentence(result: PlanResult, lang: str | None = None) -> str:
    w, g, ld = result.wins_needed, result.goals_needed, result.leads_needed

    def band(v: tuple[float, float, float]) -> str:
        return f"{num(v[0], 0)} [{num(v[1], 0)}–{num(v[2], 0)}]" if v[1] < v[2] else num(v[0], 0)

    return t(
        "plan.needed",
        lang=lang,
        wins=band(w),
        goals=band(g),
        leads=band(ld),
        goal=result.goal.label(lang),
        share=pct(result.share_via_goal),
    )


def pipeline_sentence(result: PlanResult, lang: str | None = None) -> str:
    p, n = result.pipeline, result.new
    first, last = result.creation
    key = "plan.pipeline" if p.get("leads") else "plan.new_only"
    return t(
        key,
        lang=lang,
        open=f"{p.get('leads', 0):,}",
        ready=f"{p.get('sales_ready', 0):,}",
        wins=num(p["wins"], 0),
        wlo=num(p["wins_low"], 0),
        whi=num(p["wins_high"], 0),
        revenue=money(p["revenue"]),
        rlo=money(p["revenue_low"]),
        rhi=money(p["revenue_high"]),
        per_month=num(n["leads_per_month"]),
        first=first or "–",
        last=last or "–",
        leads=num(n["leads"], 0),
        new_wins=num(n["wins"], 0),
        new_revenue=money(n["revenue"]),
        goals=num(n["goals"], 0),
        goal=result.goal.label(lang),
    )


def reach_sentence(result: PlanResult, lang: str | None = None) -> str:
    opt, pess = result.scenario("optimistic"), result.scenario("pessimistic")
    if opt.leads_per_month == pess.leads_per_month:
        return t("plan.reach_only", lang=lang, p=pct(result.p_reach_target))
    return t(
        "plan.reach",
        lang=lang,
        p=pct(result.p_reach_target),
        opt=num(opt.leads_per_month),
        p_opt=pct(opt.p_reach_target),
        pess=num(pess.leads_per_month),
        p_pess=pct(pess.p_reach_target),
    )


def title(result: PlanResult, lang: str | None = None) -> str:
    key = "plan.title_data" if result.source == "data" else "plan.title_preset"
    return t(
        key,
        lang=lang,
        target=money(result.target),
        start=result.start,
        end=result.end,
        goal=result.goal.label(lang),
        as_of=(result.as_of or "")[:10],
        preset=t(f"plan.preset.{result.preset}", lang=lang) if result.preset else "",
    )


def assumption_text(name: str, value: float, source: str, lang: str | None = None) -> str:
    """ "P(win | goal) 30% — assumed (the article)"."""
    if name == "mean_won_amount":
        shown = money(value)
    elif name.startswith("days"):
        shown = num(value, 0)
    elif name == "won_amount_cv":
        shown = num(value, 2)
    else:
        shown = pct(value)
    return t(
        "plan.assumption",
        lang=lang,
        what=t(f"plan.assumption.{name}", lang=lang),
        value=shown,
        source=source_text(source, lang),
    )


def pace_sentence(result: TrackResult, lang: str | None = None) -> str:
    p, d = result.pace, result.to_date
    return t(
        "track.pace",
        lang=lang,
        leads=pct(p["leads"]),
        goals=pct(p["goals"]),
        wins=pct(p["wins"]),
        revenue=pct(p["revenue"]),
        a_leads=num(d["actual_leads"], 0),
        p_leads=num(d["planned_leads"], 0),
        a_goals=num(d["actual_goals"], 0),
        p_goals=num(d["planned_goals"], 0),
        a_rev=money(d["actual_revenue"]),
        p_rev=money(d["planned_revenue"]),
    )


def projected_sentence(result: TrackResult, lang: str | None = None) -> str:
    """The projected end-of-period result with its 80% band and where it comes from."""
    pr = result.projected
    return t(
        "track.projected",
        lang=lang,
        revenue=money(pr["revenue"]),
        lo=money(pr["revenue_low"]),
        hi=money(pr["revenue_high"]),
        wins=num(pr["wins"]),
        wlo=num(pr["wins_low"]),
        whi=num(pr["wins_high"]),
        booked=money(pr["booked_revenue"]),
        pipeline=money(pr["from_open_pipeline"]),
        new=money(pr["from_new_leads"]),
    )
