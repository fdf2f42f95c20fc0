"""Workbook sheets of the reverse plan and of tracking.

* ``plan`` — the plan by month (or quarter): new leads, goals, wins (from the open
  pipeline and from new leads) and revenue with its 80% band, numbers formatted;
* ``plan_chain`` — the chain the plan is built from, one row per number, with its
  interval and where it comes from; assumed numbers say so in words and in a TRUE/FALSE
  column, so a filter shows them;
* ``plan_benchmark`` — the team's rate beside the article's figure (exact binomial test);
* ``plan_segments`` — the plan by segment (``--segment``);
* ``track`` — actual vs planned per period.

Each builder takes the result (or None: an empty sheet keeps its headers) and the
language; :mod:`royalroad.report.excel` writes text with ``write_string`` only, so no
activity or segment name can become a formula.
"""

from __future__ import annotations

from royalroad.analysis.plan_result import PlanResult
from royalroad.analysis.track_result import TrackResult
from royalroad.i18n import t
from royalroad.report.sheet import Column, Table


def _c(name: str, kind: str, header: str | None = None) -> Column:
    return Column(name, kind, header or f"plan.xcol.{name}")


def plan_sheets(plan: PlanResult | None, lang: str) -> list[Table]:
    """The plan's sheets, in order: by period, the chain, the benchmark, by segment."""
    return [by_period(plan, lang), chain(plan, lang), benchmark(plan, lang), segments(plan, lang)]


def by_period(plan: PlanResult | None, lang: str) -> Table:
    columns = (
        _c("period", "text"),
        _c("in_target", "bool"),
        _c("leads", "dec1"),
        _c("goals", "dec1"),
        _c("wins", "dec1"),
        _c("wins_low", "dec1"),
        _c("wins_high", "dec1"),
        _c("wins_from_pipeline", "dec1"),
        _c("wins_from_new", "dec1"),
        _c("revenue", "int"),
        _c("revenue_low", "int"),
        _c("revenue_high", "int"),
        _c("revenue_from_pipeline", "int"),
        _c("revenue_from_new", "int"),
        _c("booked_revenue", "int"),
        _c("start", "text"),
        _c("end", "text"),
    )
    rows = tuple(
        (
            p.period,
            p.in_target,
            p.leads,
            p.goals,
            p.wins,
            p.wins_low,
            p.wins_high,
            p.wins_from_pipeline,
            p.wins_from_new,
            p.revenue,
            p.revenue_low,
            p.revenue_high,
            p.revenue_from_pipeline,
            p.revenue_from_new,
            p.booked_revenue,
            p.start,
            p.end,
        )
        for p in (plan.periods if plan is not None else ())
    )
    return Table("plan", columns, rows, freeze_cols=1)


def chain(plan: PlanResult | None, lang: str) -> Table:
    """One row per number of the chain and of the plan's totals: value, interval, source."""
    from royalroad.presenters.plan_text import source_text

    columns = (
        _c("item", "text"),
        _c("value", "row"),
        _c("low", "row"),
        _c("high", "row"),
        _c("source", "text"),
        _c("assumed", "bool"),
        _c("key", "text"),
    )
    if plan is None:
        return Table("plan_chain", columns, (), freeze_cols=1)
    rows: list[tuple] = []
    kinds: list[str] = []

    def add(key: str, label: str, value, low, high, kind: str, source: str = "data") -> None:
        assumed = source not in ("data", "derived")
        text = (
            t("plan.source.derived", lang=lang)
            if source == "derived"
            else source_text(source, lang)
        )
        rows.append((label, value, low, high, text, assumed, key))
        kinds.append(kind)

    a = plan.amount
    add("target", t("plan.xcol.target", lang=lang), plan.target, None, None, "int", "user")
    add("mean_won_amount", t("plan.row.amount", lang=lang), a.mean, a.low, a.high, "int", a.source)
    for key, label, r in (
        ("p_goal_given_lead", "plan.row.p_goal", plan.p_goal),
        ("p_win_given_goal", "plan.row.p_win_goal", plan.p_win_goal),
        ("p_win_without_goal", "plan.row.p_win_no_goal", plan.p_win_no_goal),
    ):
        add(key, t(label, lang=lang), r.estimate, r.low, r.high, "pct", r.source)
    p, lo, hi = plan.p_win_lead
    add("p_win_given_lead", t("plan.row.p_win_lead", lang=lang), p, lo, hi, "pct", "derived")
    for key, v in (
        ("wins_needed", plan.wins_needed),
        ("goals_needed", plan.goals_needed),
        ("leads_needed", plan.leads_needed),
    ):
        add(key, t(f"plan.xcol.{key}", lang=lang), v[0], v[1], v[2], "dec1", "derived")
    pl = plan.pipeline
    add(
        "from_open_pipeline_wins",
        t("plan.xcol.pipeline_wins", lang=lang),
        pl["wins"],
        pl["wins_low"],
        pl["wins_high"],
        "dec1",
        "derived",
    )
    add(
        "from_open_pipeline_revenue",
        t("plan.xcol.pipeline_revenue", lang=lang),
        pl["revenue"],
        pl["revenue_low"],
        pl["revenue_high"],
        "int",
        "derived",
    )
    opt, pess = plan.scenario("optimistic"), plan.scenario("pessimistic")
    add(
        "leads_per_month",
        t("plan.xcol.leads_per_month", lang=lang),
        plan.leads_per_month,
        opt.leads_per_month,
        pess.leads_per_month,
        "dec1",
        "derived",
    )
    add(
        "p_reach_target",
        t("plan.xcol.p_reach_target", lang=lang),
        plan.p_reach_target,
        None,
        None,
        "pct",
        "derived",
    )
    for x in plan.assumptions:
        if x.name.startswith("days") or x.name == "won_amount_cv":
            kind = "dec1" if x.name.startswith("days") else "ratio"
            add(
                x.name,
                t(f"plan.assumption.{x.name}", lang=lang),
                x.value,
                None,
                None,
                kind,
                x.source,
            )
    return Table("plan_chain", columns, tuple(rows), row_kinds=tuple(kinds), freeze_cols=1)


def benchmark(plan: PlanResult | None, lang: str) -> Table:
    columns = (
        _c("step", "text"),
        _c("rate", "pct"),
        _c("rate_ci_low", "pct"),
        _c("rate_ci_high", "pct"),
        _c("k", "int"),
        _c("n", "int"),
        _c("benchmark", "pct"),
        _c("benchmark_source", "text"),
        _c("p_value", "p"),
        _c("significant", "bool"),
        _c("text", "text"),
    )
    b = plan.benchmark if plan is not None else None
    rows: tuple = ()
    if b is not None:
        ci = b.ci or (None, None)
        rows = (
            (
                b.step_label(lang),
                b.rate,
                ci[0],
                ci[1],
                b.k,
                b.n,
                b.benchmark,
                t("plan.source.assumed", lang=lang, source=t(f"plan.preset.{b.preset}", lang=lang))
                if b.rate is None
                else t(f"plan.preset.{b.preset}", lang=lang),
                b.p_value,
                b.significant,
                b.sentence(lang),
            ),
        )
    return Table("plan_benchmark", columns, rows, freeze_cols=1)


def segments(plan: PlanResult | None, lang: str) -> Table:
    columns = (
        _c("value", "text", "plan.col.segment"),
        _c("share_of_leads", "pct"),
        _c("p_goal_given_lead", "pct"),
        _c("p_win_given_goal", "pct"),
        _c("p_win_given_goal_ci_low", "pct"),
        _c("p_win_given_goal_ci_high", "pct"),
        _c("p_win_given_lead", "pct"),
        _c("mean_won_amount", "int"),
        _c("leads", "dec1"),
        _c("goals", "dec1"),
        _c("wins", "dec1", "plan.col.wins_any_time"),
        _c("revenue", "int", "plan.col.revenue_any_time"),
        _c("leads_needed_alone", "dec1"),
    )
    rows = tuple(
        (
            s.value,
            s.share_of_leads,
            s.p_goal_given_lead,
            s.p_win_given_goal,
            *s.p_win_given_goal_ci,
            s.p_win_given_lead,
            s.mean_won_amount,
            s.leads,
            s.goals,
            s.wins,
            s.revenue,
            s.leads_needed_alone,
        )
        for s in (plan.segments if plan is not None else ())
    )
    return Table("plan_segments", columns, rows, freeze_cols=1)


def track_sheet(track: TrackResult | None, lang: str) -> Table:
    """Actual vs planned per period (actual empty for periods ahead)."""
    columns = (
        _c("period", "text"),
        _c("in_target", "bool"),
        Column("status", "text", "track.col.status"),
        _c("elapsed", "pct"),
        _c("planned_leads", "dec1"),
        _c("actual_leads", "int"),
        _c("planned_goals", "dec1"),
        _c("actual_goals", "int"),
        _c("planned_wins", "dec1"),
        _c("actual_wins", "int"),
        _c("planned_revenue", "int"),
        _c("actual_revenue", "int"),
        _c("expected_wins", "dec1"),
        _c("expected_revenue", "int"),
        _c("status_code", "text"),
    )
    rows = tuple(
        (
            p.period,
            p.in_target,
            t(f"track.status.{p.status}", lang=lang),
            p.elapsed,
            p.planned_leads,
            p.actual_leads,
            p.planned_goals,
            p.actual_goals,
            p.planned_wins,
            p.actual_wins,
            p.planned_revenue,
            p.actual_revenue,
            p.expected_wins,
            p.expected_revenue,
            p.status,
        )
        for p in (track.periods if track is not None else ())
    )
    return Table("track", columns, rows, freeze_cols=1)
