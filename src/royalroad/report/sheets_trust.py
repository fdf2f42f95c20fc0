"""Workbook sheets of the P(win) backtest: the models' scores and the reliability deciles."""

from __future__ import annotations

from royalroad.analysis.backtest_result import BacktestResult
from royalroad.i18n import t
from royalroad.report.sheet import Column, Table, cols


def backtest(bt: BacktestResult | None, lang: str) -> list[Table]:
    """Two sheets (empty, with their headers, when no backtest ran)."""
    models = bt.models if bt is not None else ()
    scores = Table(
        "backtest",
        (
            Column("model"),
            *cols("brier", "log_loss", "auc"),
            *cols("gap", "gap_nurture", "gap_sales_ready", "gap_stalled", "max_decile_gap"),
            *cols("n_nurture", "n_sales_ready", "n_stalled"),
            Column("model_code"),
            Column("cutoff"),
        ),
        tuple(
            (
                t(f"backtest.model.{m.name}", lang=lang),
                m.brier,
                m.log_loss,
                m.auc,
                m.gap,
                m.gap_nurture,
                m.gap_sales_ready,
                m.gap_stalled,
                m.max_decile_gap(),
                m.n_nurture,
                m.n_sales_ready,
                m.n_stalled,
                m.name,
                bt.cutoff if bt is not None else None,
            )
            for m in models
        ),
        freeze_cols=1,
    )
    deciles = Table(
        "backtest_deciles",
        (
            Column("model"),
            *cols("decile", "leads", "predicted", "observed", "observed_ci_low"),
            *cols("observed_ci_high", "gap"),
            Column("model_code"),
        ),
        tuple(
            (
                t(f"backtest.model.{m.name}", lang=lang),
                d.index,
                d.n,
                d.predicted,
                d.observed,
                *d.observed_ci,
                d.gap,
                m.name,
            )
            for m in models
            for d in m.deciles
        ),
        freeze_cols=1,
    )
    return [scores, deciles]
