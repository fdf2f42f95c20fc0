"""The app's "Triggers in notes" tab: the categories against the outcome with the stage
at which each is noted, the best note milestone, the top terms and masked examples.

Notes are user text: Markdown elements get :func:`~royalroad.app.safe.md_escape`d text
(the example's phrase is bold around its escaped text), tables get the raw text
(``st.dataframe`` shows text as text)."""

from __future__ import annotations

from royalroad.analysis.triggers_result import TriggersResult
from royalroad.app.safe import md_escape
from royalroad.i18n import t
from royalroad.presenters import triggers_terminal as tt


def frame(headers: list[str], rows: list[list[str]]):
    """A table of display text."""
    import pandas as pd

    return pd.DataFrame(rows, columns=headers)


def render(st, result: TriggersResult | None, lang: str, note: str = "", *, top: int = 10) -> None:
    """Draw the tab (``st`` is the streamlit module). ``note``: why the notes were not
    mined (``Results.triggers_note``, e.g. no Japanese dictionary installed)."""
    from royalroad.report.charts_triggers import z_chart

    if result is None or not result.counts.before_close:
        st.info(md_escape(note or t("triggers.caveat.no_notes", lang=lang)))
        return
    alpha = result.settings.get("alpha", 0.05)
    st.markdown(f"**{md_escape(result.sentence(lang))}**")
    if result.milestone_sentence(lang):
        st.markdown(md_escape(result.milestone_sentence(lang)))
    st.caption(md_escape(tt.counts_line(result, lang)))
    chart = z_chart(result, lang)
    if chart is not None:
        st.plotly_chart(chart.figure, key="rr_triggers")
    shown = [c for c in result.categories if c.stats.won + c.stats.lost]
    st.dataframe(
        frame(tt.category_headers(lang), [tt.category_cells(c, alpha, lang) for c in shown]),
        hide_index=True,
        width="stretch",
    )
    st.caption(md_escape(tt.goal_line(result, lang)))
    if tt.grid_line(result, lang):
        st.caption(md_escape(tt.grid_line(result, lang)))
    for sign, key in ((1, "triggers.terms_won_title"), (-1, "triggers.terms_lost_title")):
        terms = result.top_terms(top, sign)
        if terms:
            st.markdown(f"**{md_escape(t(key, lang=lang))}**")
            st.dataframe(
                frame(tt.term_headers(lang), [tt.term_cells(x, lang) for x in terms]),
                hide_index=True,
                width="stretch",
            )
    groups = [c for c in shown if c.examples and c.stats.tested]
    if groups:
        st.markdown(f"**{md_escape(t('triggers.examples_title', lang=lang))}**")
        for c in groups:
            lines = []
            for s in c.examples:
                before, phrase, after = (md_escape(p) for p in s.parts())
                who = md_escape(f"({tt.outcome_text(s.outcome, lang)}, {s.lead_id})")
                lines.append(f"- {before}**{phrase}**{after} {who}")
            st.markdown(f"*{md_escape(c.label(lang))}*\n\n" + "\n".join(lines))
    elif not result.settings.get("snippets", True):
        st.caption(md_escape(t("triggers.report.no_examples", lang=lang)))
    for caveat in result.caveats:
        st.warning(md_escape(caveat.text(lang)))
    st.caption(md_escape(t("triggers.legend", lang=lang)))
