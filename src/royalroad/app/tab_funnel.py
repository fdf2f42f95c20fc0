"""The app's "Funnel" tab: the stages from all leads to the win with their rates, the
funnel chart, the cohorts by creation month (and segment) and pipeline velocity."""

from __future__ import annotations

from royalroad.analysis.funnel_result import FunnelResult
from royalroad.app.safe import md_escape
from royalroad.presenters import funnel_terminal as ft


def frame(headers: list[str], rows: list[list[str]]):
    """A table of display text (``st.dataframe`` shows text as text)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=headers)


def render(st, result: FunnelResult | None, lang: str) -> None:
    """Draw the tab (``st`` is the streamlit module)."""
    from royalroad.report.charts_funnel import cohort_chart, funnel_chart

    if result is None:
        return
    st.markdown(f"**{md_escape(ft.road_line(result, lang))}**")
    for note in ft.notes(result, lang):
        st.caption(md_escape(note))
    chart = funnel_chart(result, lang)
    if chart is not None:
        st.plotly_chart(chart.figure, key="rr_funnel")
    st.dataframe(
        frame(
            ft.stage_headers(result, lang),
            [ft.stage_cells(s, result.within, lang) for s in result.stages],
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(md_escape(ft.legend(result, lang)))
    for segment, items in ((False, result.cohorts), (True, result.segments)):
        if not items:
            continue
        st.markdown(f"**{md_escape(ft.cohort_title(result, segment, lang))}**")
        if not segment:
            trend = cohort_chart(result, lang)
            if trend is not None:
                st.plotly_chart(trend.figure, key="rr_cohorts")
        st.dataframe(
            frame(
                ft.cohort_headers(result, segment, lang), [ft.cohort_cells(c, lang) for c in items]
            ),
            hide_index=True,
            width="stretch",
        )
    st.markdown(md_escape(ft.velocity_sentence(result, lang)))
