"""The app's "How far to trust P(win)" tab: the open pipeline's forecast, the backtest's
scores beside the base rate and a standard lead score, and the reliability diagram."""

from __future__ import annotations

import math

from royalroad.analysis.backtest_result import BacktestResult
from royalroad.analysis.nba_result import NextResult
from royalroad.app.safe import md_escape
from royalroad.i18n import t


def _pts(x: float, sign: str = "+") -> str:
    """Points with one decimal, ``–`` when there is nothing to show (too few leads)."""
    return "–" if not math.isfinite(x) else f"{100 * x:{sign}.1f}"


def scores_frame(backtest: BacktestResult, lang: str):
    """One row per model: Brier, log loss, AUC and the calibration gaps in points."""
    import pandas as pd

    rows = []
    for m in backtest.models:
        rows.append(
            {
                t("backtest.col.model", lang=lang): t(f"backtest.model.{m.name}", lang=lang),
                t("backtest.col.brier", lang=lang): round(m.brier, 4),
                t("backtest.col.log_loss", lang=lang): round(m.log_loss, 4),
                t("backtest.col.auc", lang=lang): round(m.auc, 3),
                t("backtest.col.gap", lang=lang): _pts(m.gap),
                t("backtest.col.gap_nurture", lang=lang): _pts(m.gap_nurture),
                t("backtest.col.gap_ready", lang=lang): _pts(m.gap_sales_ready),
                t("backtest.col.gap_stalled", lang=lang): _pts(m.gap_stalled),
                t("backtest.col.decile", lang=lang): _pts(m.max_decile_gap(), ""),
            }
        )
    return pd.DataFrame(rows)


def render(st, nxt: NextResult, backtest: BacktestResult | None, note: str, lang: str) -> None:
    """Draw the tab (``st`` is the streamlit module)."""
    from royalroad.report.sections_trust import trust

    section = trust(nxt, backtest, note, lang)
    if section.pipeline_text:
        st.markdown(md_escape(section.pipeline_text))
    if backtest is None:
        if note:
            st.info(md_escape(t("backtest.not_run", lang=lang, reason=note)))
        return
    st.caption(md_escape(section.summary))
    st.dataframe(scores_frame(backtest, lang), hide_index=True, width="stretch")
    if section.chart is not None:
        st.plotly_chart(section.chart.figure, key="rr_reliability")
    st.markdown(md_escape(section.verdict))
    st.caption(md_escape(t("backtest.how", lang=lang)))
