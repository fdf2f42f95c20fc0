"""Charts of the funnel section: the funnel itself and the cohorts by creation period.

Same conventions as :mod:`royalroad.report.charts`: plotly figures as plain data with
fixed ids that carry the language, every user string HTML-escaped before it reaches a
label (plotly reads a subset of HTML in text).
"""

from __future__ import annotations

from royalroad.analysis.funnel_result import FunnelResult, Within
from royalroad.i18n import t
from royalroad.presenters.funnel_terminal import rate_text, stage_name
from royalroad.report.charts import ACCENT, MUTED, Chart, _finish, _label


def funnel_chart(result: FunnelResult, lang: str) -> Chart | None:
    """Leads at each stage, with the conversion from the stage before as its text."""
    import plotly.graph_objects as go

    stages = result.stages
    if not stages or not stages[0].leads:
        return None
    text = [
        _label(
            f"{s.leads:,}"
            if s.step_rate is None
            else t(
                "funnel.chart.text",
                lang=lang,
                leads=f"{s.leads:,}",
                rate=rate_text(s.step_rate, s.step_rate_ci),
            )
        )
        for s in stages
    ]
    fig = go.Figure(
        go.Funnel(
            y=[_label(stage_name(s, lang)) for s in stages],
            x=[s.leads for s in stages],
            text=text,
            textinfo="text",
            textposition="auto",
            marker={"color": [ACCENT if s.is_goal else "#c96b63" for s in stages]},
            connector={"fillcolor": "#f3e3e1"},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(automargin=True)
    return _finish(fig, "rr-funnel", 70 + 46 * len(stages), lang)


def _values(items: tuple[Within, ...], days: int) -> Within | None:
    return next((w for w in items if w.days == days), None)


def cohort_chart(result: FunnelResult, lang: str) -> Chart | None:
    """Reaching the goal and winning by day d, per creation period, with 95% intervals
    (d: the middle of the horizons asked for; a period not followed that long is a gap)."""
    import plotly.graph_objects as go

    if not result.cohorts or not result.within:
        return None
    days = result.within[len(result.within) // 2]
    xs = [_label(c.group or "–") for c in result.cohorts]
    series = [("funnel.chart.won_by", ACCENT, [c.win_within for c in result.cohorts])]
    if result.goal:
        series.insert(0, ("funnel.chart.goal_by", MUTED, [c.goal_within for c in result.cohorts]))
    traces = []
    for key, color, items in series:
        ws = [_values(i, days) for i in items]
        ys = [w.rate if w is not None else None for w in ws]
        up = [(w.ci[1] - w.rate) if w and w.ci and w.rate is not None else None for w in ws]
        down = [(w.rate - w.ci[0]) if w and w.ci and w.rate is not None else None for w in ws]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers+lines",
                name=_label(t(key, lang=lang, days=days)),
                marker={"color": color, "size": 8},
                line={"color": color, "width": 1},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": up,
                    "arrayminus": down,
                    "color": color,
                    "thickness": 1,
                },
                hovertemplate="%{x}: %{y:.0%}<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(type="category")
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return _finish(fig, "rr-cohorts", 360, lang)
