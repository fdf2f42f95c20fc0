"""Charts of the plan and of tracking: plotly figures as data with fixed ids.

* :func:`plan_chart` — expected revenue per period, stacked by where it comes from
  (booked, the open pipeline, new leads), with the 80% band as an error bar; the
  lead-in periods before the target's are drawn muted.
* :func:`pace_chart` — cumulative revenue: the plan, what happened so far and the
  projection to the period's end with its 80% band.
"""

from __future__ import annotations

from royalroad.analysis.plan_result import PlanResult
from royalroad.analysis.track_result import TrackResult
from royalroad.i18n import t
from royalroad.report.charts import ACCENT, MUTED, Chart, _finish, _label

PIPELINE = "#5b6478"
BOOKED = "#2e7d32"


def plan_chart(plan: PlanResult, lang: str) -> Chart | None:
    import plotly.graph_objects as go

    rows = list(plan.periods)
    if not rows:
        return None
    x = [p.period for p in rows]
    new = [p.revenue_from_new for p in rows]
    pipe = [p.revenue_from_pipeline for p in rows]
    booked = [p.booked_revenue for p in rows]
    total = [p.revenue for p in rows]
    muted = [0.45 if not p.in_target else 1.0 for p in rows]
    traces = []
    for name, values, color in (
        ("plan.chart.booked", booked, BOOKED),
        ("plan.chart.pipeline", pipe, PIPELINE),
        ("plan.chart.new", new, ACCENT),
    ):
        if not any(values):
            continue
        traces.append(
            go.Bar(
                x=x,
                y=values,
                name=_label(t(name, lang=lang)),
                marker={"color": color, "opacity": muted},
                hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
            )
        )
    traces.append(
        go.Scatter(
            x=x,
            y=total,
            mode="markers",
            name=_label(t("plan.chart.band", lang=lang)),
            marker={"color": "#222", "size": 6},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [p.revenue_high - p.revenue for p in rows],
                "arrayminus": [p.revenue - p.revenue_low for p in rows],
                "color": "#222",
                "thickness": 1,
            },
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(title=_label(t("plan.chart.revenue_axis", lang=lang)), tickformat=",.0f")
    fig.update_xaxes(type="category")
    return _finish(fig, "rr-plan", 380, lang)


def pace_chart(track: TrackResult, lang: str) -> Chart | None:
    import plotly.graph_objects as go

    rows = [p for p in track.periods if p.in_target]
    if not rows:
        return None
    x = [p.period for p in rows]
    planned: list[float] = []
    actual: list[float] = []
    expected: list[float | None] = []
    cp = ca = 0.0
    for p in rows:
        cp += p.planned_revenue
        planned.append(cp)
        if p.status != "ahead":
            ca += p.actual_revenue or 0.0
            actual.append(ca)
    ce = ca
    for p in rows:
        if p.status == "done":
            expected.append(None)
            continue
        ce += p.expected_revenue
        expected.append(ce)
    first_open = next((i for i, p in enumerate(rows) if p.status != "done"), len(rows))
    if first_open > 0 and first_open < len(rows):
        expected[first_open - 1] = actual[first_open - 1]
    last = track.projected
    traces = [
        go.Scatter(
            x=x,
            y=planned,
            mode="lines+markers",
            name=_label(t("plan.chart.planned", lang=lang)),
            line={"color": MUTED, "dash": "dash"},
        ),
        go.Scatter(
            x=x[: len(actual)],
            y=actual,
            mode="lines+markers",
            name=_label(t("plan.chart.actual", lang=lang)),
            line={"color": ACCENT, "width": 3},
        ),
        go.Scatter(
            x=x,
            y=expected,
            mode="lines",
            name=_label(t("plan.chart.projected", lang=lang)),
            line={"color": ACCENT, "dash": "dot"},
            connectgaps=False,
        ),
        go.Scatter(
            x=[x[-1]],
            y=[last["revenue"]],
            mode="markers",
            name=_label(t("plan.chart.band", lang=lang)),
            marker={"color": ACCENT, "size": 8},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [last["revenue_high"] - last["revenue"]],
                "arrayminus": [last["revenue"] - last["revenue_low"]],
                "color": ACCENT,
            },
        ),
    ]
    fig = go.Figure(traces)
    fig.add_hline(y=track.target, line_color="#222", line_width=1)
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(title=_label(t("plan.chart.cumulative_axis", lang=lang)), tickformat=",.0f")
    fig.update_xaxes(type="category")
    return _finish(fig, "rr-pace", 380, lang)
