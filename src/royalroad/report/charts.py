"""Chart specs for the report: plotly figures as plain data with fixed ids.

Charts are returned as :class:`Chart` (an id and the figure's JSON-ready dict), and
the template draws them with ``Plotly.newPlot`` from data escaped by
:func:`royalroad.report.html.json_for_script`. Every user string that reaches a
chart label is HTML-escaped first, because plotly interprets a subset of HTML in
text (``<a href>``, ``<b>``…).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

from royalroad.analysis.goals_result import GoalResult
from royalroad.i18n import t
from royalroad.stats import finite

ACCENT = "#b0342a"
MUTED = "#8a93a6"
FONT = '"Hiragino Sans", "Noto Sans JP", "Noto Sans CJK JP", "Yu Gothic", Meiryo, sans-serif'


@dataclass(frozen=True)
class Chart:
    chart_id: str
    figure: dict
    height: int


def _label(text: str) -> str:
    return html.escape(text, quote=False)  # plotly decodes &lt; &gt; &amp; but not &quot;


def _finish(fig, chart_id: str, height: int, lang: str) -> Chart:
    """The figure as JSON-ready data; the id carries the language (the report holds both)."""
    import plotly.io as pio

    fig.update_layout(
        template="none",
        font={"family": FONT, "size": 12},
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return Chart(f"{chart_id}-{lang}", json.loads(pio.to_json(fig, validate=True)), height)


def forest(result: GoalResult, lang: str, *, top: int = 12) -> Chart | None:
    """Win rate with its 95% interval for the top distinct candidates, base rate as a line."""
    import plotly.graph_objects as go

    rows = [f.best for f in result.families() if not math.isnan(f.best.win_rate)][:top]
    if not rows:
        return None
    rows = rows[::-1]
    labels = [_label(c.label(lang)) for c in rows]
    rate = [c.win_rate for c in rows]
    colors = [ACCENT if c.eligible else MUTED for c in rows]
    fig = go.Figure(
        go.Scatter(
            x=rate,
            y=labels,
            mode="markers",
            marker={"color": colors, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [c.win_rate_ci[1] - c.win_rate for c in rows],
                "arrayminus": [c.win_rate - c.win_rate_ci[0] for c in rows],
                "color": "#5b6478",
            },
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.add_vline(x=result.base_rate, line_dash="dash", line_color=MUTED)
    fig.update_xaxes(
        tickformat=".0%", range=[0, 1], title=t("report.chart.win_rate_axis", lang=lang)
    )
    fig.update_yaxes(automargin=True)
    return _finish(fig, "rr-forest", 60 + 28 * len(rows), lang)


def heatmaps(result: GoalResult, lang: str, *, activities: int = 4) -> list[Chart]:
    """Compass-style grid per top activity: at least k times × within d days → MCC."""
    import plotly.graph_objects as go

    chosen: list[str] = []
    for cand, _ in result.distinct():
        if cand.then is None and not cand.outcome_proxy and cand.activity not in chosen:
            chosen.append(cand.activity)
        if len(chosen) == activities:
            break
    windows = [*result.settings.get("windows", []), None]
    max_k = int(result.settings.get("max_count", 5))
    by_key = {c.key: c for c in result.candidates}
    charts = []
    for i, act in enumerate(chosen, start=1):
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        for k in range(1, max_k + 1):
            zr: list[float | None] = []
            tr: list[str] = []
            for d in windows:
                c = by_key.get((act, None, k, d))
                if c is None or c.won + c.lost == 0:
                    zr.append(None)
                    tr.append("")
                else:
                    zr.append(round(c.mcc, 4))
                    tr.append(f"{c.win_rate:.0%}<br>n={c.won + c.lost}")
            z.append(zr)
            text.append(tr)
        xs = [
            t("report.chart.within", lang=lang, days=d)
            if d is not None
            else t("report.chart.any", lang=lang)
            for d in windows
        ]
        ys = [t("report.chart.at_least", lang=lang, k=k) for k in range(1, max_k + 1)]
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=xs,
                y=ys,
                text=text,
                texttemplate="%{text}",
                colorscale="Reds",
                zmin=0,
                zmax=1,
                colorbar={"title": {"text": "MCC"}},
                hovertemplate="%{y} · %{x}<br>MCC %{z:.3f}<extra></extra>",
            )
        )
        fig.update_layout(title={"text": _label(act), "x": 0})
        fig.update_yaxes(autorange="reversed")
        charts.append(_finish(fig, f"rr-heat-{i}", 80 + 36 * max_k, lang))
    return charts


def incidence(result: GoalResult, lang: str) -> Chart | None:
    """Cumulative win probability by horizon, reached vs not (Aalen–Johansen)."""
    import plotly.graph_objects as go

    inc = result.incidence
    if inc is None or result.recommended is None:
        return None
    xs = [t("report.chart.by_day", lang=lang, days=h) for h in inc.horizons]
    fig = go.Figure(
        [
            go.Bar(
                name=_label(t("report.chart.reached", lang=lang, n=inc.n_reached)),
                x=xs,
                y=[None if math.isnan(v) else v for v in inc.reached],
                marker_color=ACCENT,
            ),
            go.Bar(
                name=_label(t("report.chart.not_reached", lang=lang, n=inc.n_not_reached)),
                x=xs,
                y=[None if math.isnan(v) else v for v in inc.not_reached],
                marker_color=MUTED,
            ),
        ]
    )
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _finish(fig, "rr-incidence", 320, lang)


def sankey(paths, lang: str, *, max_links: int = 60) -> Chart | None:
    """Journeys step by step (first occurrences, proxies left out), ending in the outcome."""
    import plotly.graph_objects as go

    from royalroad.analysis.journeys import LOST, MORE, OPEN, START, WON
    from royalroad.analysis.paths_result import state_label

    flows = sorted(paths.flows, key=lambda f: (-f.leads, f.step, f.src, f.dst))[:max_links]
    if not flows:
        return None
    ends = {WON: "#2e7d32", LOST: "#9e9e9e", OPEN: "#90a4ae", MORE: "#cfd8dc"}
    keys: list[tuple] = []

    def node(step: int, state: str) -> int:
        key = (state,) if state in ends else (step, state)
        if key not in keys:
            keys.append(key)
        return keys.index(key)

    src, dst, val = [], [], []
    for f in sorted(flows, key=lambda f: (f.step, f.src, f.dst)):
        src.append(node(f.step, f.src))
        dst.append(node(f.step + 1, f.dst))
        val.append(f.leads)
    labels = [_label(state_label(k[-1], lang)) if k[-1] != MORE else MORE for k in keys]
    colors = [
        ends.get(
            k[-1], ACCENT if k[-1].endswith(" ✓") else ("#5b6478" if k[-1] == START else "#c96b63")
        )
        for k in keys
    ]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colors, "pad": 12, "thickness": 14},
            link={"source": src, "target": dst, "value": val, "color": "rgba(176, 52, 42, 0.18)"},
        )
    )
    return _finish(fig, "rr-sankey", 520, lang)


def removal(paths, lang: str, *, top: int = 12) -> Chart | None:
    """Removal effect of the royal road's milestones: the relative drop in the model's
    P(win) without each. Only the road's steps: a first-order chain gives any hub (an
    e-mail open every journey passes) a large effect, which reads as importance but is
    the model's sensitivity. Without a road, the top activities, captioned as such."""
    import plotly.graph_objects as go

    from royalroad.analysis.journeys import WON

    on_road = [s.activity for s in paths.royal_road if s.activity != WON]
    effects = paths.removal_effects
    picked = list(dict.fromkeys(on_road)) if on_road else list(effects)[:top]
    items = [(a, effects[a]) for a in picked if finite(effects.get(a)) is not None]
    if not items:
        return None
    items = items[::-1]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[_label(a) for a, _ in items],
            orientation="h",
            marker_color=ACCENT,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(tickformat=".0%", title=t("paths.col.removal", lang=lang))
    return _finish(fig, "rr-removal", 60 + 26 * len(items), lang)


def reliability(backtest, lang: str) -> Chart | None:
    """Reliability diagram: P(win) shown (by decile) against the share that won, with the
    95% interval of the share, for royalroad and the lead score; the diagonal is perfect."""
    import plotly.graph_objects as go

    traces = []
    colors = {"royalroad": ACCENT, "lead_score": MUTED}
    for name in ("royalroad", "lead_score"):
        m = backtest.model(name)
        if m is None or not m.deciles:
            continue
        traces.append(
            go.Scatter(
                x=[d.predicted for d in m.deciles],
                y=[d.observed for d in m.deciles],
                mode="markers+lines",
                name=_label(t(f"backtest.model.{name}", lang=lang)),
                marker={"color": colors[name], "size": 8},
                line={"color": colors[name], "width": 1},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [d.observed_ci[1] - d.observed for d in m.deciles],
                    "arrayminus": [d.observed - d.observed_ci[0] for d in m.deciles],
                    "color": colors[name],
                    "thickness": 1,
                },
                hovertemplate="%{x:.0%} → %{y:.0%}<extra></extra>",
            )
        )
    if not traces:
        return None
    fig = go.Figure(traces)
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"color": "#cfd4dc", "dash": "dash"},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title=t("backtest.col.predicted", lang=lang))
    fig.update_yaxes(tickformat=".0%", range=[0, 1], title=t("backtest.col.observed", lang=lang))
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return _finish(fig, "rr-reliability", 420, lang)
