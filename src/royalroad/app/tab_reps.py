"""The app's "Reps" tab: the shrunk ranking and the funnel plot, conversion after the goal
with the decomposition of each gap, what the best do and the playbook.

Not wired into :mod:`royalroad.app.main` yet (see ``docs/commands.md``): it draws a
:class:`~royalroad.analysis.reps_result.RepsResult`, anonymised by the caller when asked.
"""

from __future__ import annotations

from royalroad.analysis.reps_result import RepsResult
from royalroad.app.safe import md_escape
from royalroad.i18n import t
from royalroad.presenters import reps_terminal as rt


def frame(headers: list[str], rows: list[list[str]]):
    """A table of display text (``st.dataframe`` shows text as text). Headers are made
    unique, as a dataframe needs (the shrunk columns share a header)."""
    import pandas as pd

    seen: dict[str, int] = {}
    names = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        names.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return pd.DataFrame(rows, columns=names)


def render(st, result: RepsResult | None, lang: str) -> None:
    """Draw the tab (``st`` is the streamlit module)."""
    from royalroad.report.charts_reps import funnel_plot, gap_chart

    if result is None:
        return
    for line in rt.header_lines(result, lang):
        st.caption(md_escape(line))
    sentence = rt.ranked_sentence(result, lang)
    if sentence:
        st.markdown(f"**{md_escape(sentence)}**")
    chart = funnel_plot(result, lang)
    if chart is not None:
        st.plotly_chart(chart.figure, key="rr_reps_funnel")
    verdict = rt.funnel_sentence(result, lang)
    if verdict:
        st.markdown(md_escape(verdict))
    rows = rt.all_rows(result)
    st.markdown(f"**{md_escape(rt.reach_title(result, lang))}**")
    st.dataframe(
        frame(rt.reach_headers(result, lang), [rt.reach_cells(r, result, lang) for r in rows]),
        hide_index=True,
        width="stretch",
    )
    for line in rt.prior_lines(result, lang):
        st.caption(md_escape(line))
    if result.goal is not None:
        st.caption(md_escape(t("reps.legend.reach", lang=lang, days=result.horizon)))
        st.markdown(f"**{md_escape(t('reps.table.convert', lang=lang))}**")
        gaps = gap_chart(result, lang)
        if gaps is not None:
            st.plotly_chart(gaps.figure, key="rr_reps_gap")
        st.dataframe(
            frame(
                rt.convert_headers(result, lang), [rt.convert_cells(r, result, lang) for r in rows]
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(md_escape(t("reps.legend.gap", lang=lang)))
    if result.practices:
        st.markdown(f"**{md_escape(rt.practices_title(result, lang))}**")
        st.dataframe(
            frame(
                rt.practice_headers(lang),
                [rt.practice_cells(p, lang) for p in rt.shown_practices(result)],
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(md_escape(rt.practices_legend(result, lang)))
    lines = rt.playbook_lines(result, lang)
    if lines:
        st.markdown(f"**{md_escape(t('reps.app.playbook', lang=lang))}**")
        for line in lines:
            st.markdown(md_escape(line))
    for line in rt.caveat_lines(result, lang):
        st.info(md_escape(line))
