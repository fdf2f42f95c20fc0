"""Chart of the trigger section: z of every tested category, wins to the right.

Same conventions as :mod:`royalroad.report.charts`: plotly figures as plain data with
fixed ids that carry the language, every user string (category labels come from the
user's dictionary) HTML-escaped before it reaches a label.
"""

from __future__ import annotations

from royalroad.analysis.triggers_result import TriggersResult
from royalroad.i18n import t
from royalroad.report.charts import ACCENT, MUTED, Chart, _finish, _label

LOSS = "#3b6ea8"


def z_chart(result: TriggersResult, lang: str) -> Chart | None:
    """One bar per tested category: z > 0 mentioned more by winners, < 0 by losers; bars of
    categories that are not significant, or outcome proxies, are muted."""
    import plotly.graph_objects as go

    alpha = result.settings.get("alpha", 0.05)
    cats = [c for c in result.categories if c.stats.tested][::-1]
    if not cats:
        return None
    colors = [
        MUTED
        if not c.stats.significant(alpha) or c.stats.proxy
        else (ACCENT if c.stats.z > 0 else LOSS)
        for c in cats
    ]
    fig = go.Figure(
        go.Bar(
            x=[round(c.stats.z, 4) for c in cats],
            y=[_label(c.label(lang)) for c in cats],
            orientation="h",
            marker={"color": colors},
            hovertemplate="%{y}: z = %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_color=MUTED)
    fig.update_xaxes(title=t("triggers.chart.z_axis", lang=lang), zeroline=False)
    fig.update_yaxes(automargin=True)
    return _finish(fig, "rr-triggers", 60 + 28 * len(cats), lang)
