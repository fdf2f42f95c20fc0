"""Charts of the reps section: the funnel plot and the decomposition of each gap.

Same conventions as :mod:`royalroad.report.charts`: plotly figures as plain data with
fixed ids that carry the language, every user string HTML-escaped before it reaches a
label (plotly reads a subset of HTML in text). Rep names are user text.
"""

from __future__ import annotations

from royalroad.analysis.reps_result import BEYOND_CHANCE, RepsResult
from royalroad.i18n import t
from royalroad.presenters.reps_terminal import metric_name, zone_text
from royalroad.report.charts import ACCENT, MUTED, Chart, _finish, _label

LIMIT_95 = "#8a93a6"
LIMIT_998 = "#5b6478"
REACH, CONVERSION, NO_GOAL = ACCENT, "#2e6f9e", "#c9a227"


def funnel_plot(result: RepsResult, lang: str) -> Chart | None:
    """Each rep's rate (the standardised rate with ``adjust``) against the leads behind it,
    with the team's rate and Spiegelhalter's 95% and 99.8% control limits."""
    import plotly.graph_objects as go

    m = result.rank_metric
    curve = result.funnel.get(m) or []
    team = result.team.metrics.get(m)
    reps = [r for r in result.reps if r.metrics[m].n > 0]
    if not curve or team is None or team.rate is None or not reps:
        return None
    xs = [p["n"] for p in curve]
    traces = []
    for level, color, dash in (("95", LIMIT_95, "dash"), ("998", LIMIT_998, "dot")):
        name = _label(t(f"reps.chart.limit{level}", lang=lang))
        for side, show in ((f"hi{level}", True), (f"lo{level}", False)):
            traces.append(
                go.Scatter(
                    x=xs,
                    y=[p[side] for p in curve],
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 1},
                    name=name,
                    showlegend=show,
                    legendgroup=level,
                    hoverinfo="skip",
                )
            )
    rates = [r.metrics[m] for r in reps]
    ys = [(x.standardised if result.adjust else x.rate) for x in rates]
    traces.append(
        go.Scatter(
            x=[x.n for x in rates],
            y=ys,
            mode="markers+text",
            text=[_label(r.name(lang)) for r in reps],
            textposition="top center",
            marker={
                "color": [ACCENT if x.zone in BEYOND_CHANCE else MUTED for x in rates],
                "size": 10,
            },
            customdata=[_label(zone_text(x.zone, lang)) for x in rates],
            name=_label(t("reps.chart.reps", lang=lang)),
            hovertemplate="%{text}: %{y:.1%} (n=%{x:,})<br>%{customdata}<extra></extra>",
        )
    )
    fig = go.Figure(traces)
    fig.add_hline(
        y=team.rate,
        line_color=ACCENT,
        line_width=1,
        annotation_position="bottom left",
        annotation_text=_label(t("reps.chart.team", lang=lang, rate=f"{team.rate:.0%}")),
    )
    top = max([p["hi998"] for p in curve[len(curve) // 4 :]] + [y or 0 for y in ys])
    bottom = min([p["lo998"] for p in curve[len(curve) // 4 :]] + [y or 0 for y in ys])
    fig.update_yaxes(
        tickformat=".0%",
        range=[max(0.0, bottom - 0.05), min(1.0, top + 0.05)],
        title=_label(metric_name(result, m, lang)),
    )
    fig.update_xaxes(
        range=[0, max(x.n for x in rates) * 1.1], title=_label(t("reps.chart.volume", lang=lang))
    )
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return _finish(fig, "rr-reps-funnel", 440, lang)


def gap_chart(result: RepsResult, lang: str) -> Chart | None:
    """Each rep's gap to the team's win rate in points, split into reach, conversion after
    the goal and the path without it (stacked; the parts add up to the total)."""
    import plotly.graph_objects as go

    rows = [r for r in result.reps if r.gap is not None][::-1]
    if not rows or result.goal is None:
        return None
    names = [_label(r.name(lang)) for r in rows]
    parts = (
        ("reach", "reps.chart.reach", REACH),
        ("conversion", "reps.chart.conversion", CONVERSION),
        ("no_goal", "reps.chart.no_goal", NO_GOAL),
    )
    traces = [
        go.Bar(
            x=[100 * getattr(r.gap, attr) for r in rows],
            y=names,
            orientation="h",
            name=_label(t(key, lang=lang)),
            marker_color=color,
            hovertemplate="%{y}: %{x:+.1f}<extra></extra>",
        )
        for attr, key, color in parts
    ]
    traces.append(
        go.Scatter(
            x=[100 * r.gap.total for r in rows if r.gap is not None],
            y=names,
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 18, "color": "#1d2433"},
            showlegend=False,
            hovertemplate="%{y}: %{x:+.1f}<extra></extra>",
        )
    )
    fig = go.Figure(traces)
    fig.update_layout(barmode="relative", legend={"orientation": "h", "y": -0.2})
    fig.add_vline(x=0, line_color=MUTED)
    fig.update_xaxes(title=_label(t("reps.chart.gap_axis", lang=lang)))
    return _finish(fig, "rr-reps-gap", 90 + 30 * len(rows), lang)
