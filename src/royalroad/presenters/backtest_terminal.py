"""Terminal rendering of the P(win) backtest."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.backtest_result import BacktestResult
from royalroad.i18n import t


def _pts(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{100 * x:+.1f}"


def render_backtest(result: BacktestResult, console: Console) -> None:
    console.print(f"[bold]{t('backtest.heading')}[/bold]")
    console.print(
        escape(
            t(
                "backtest.summary",
                cutoff=result.cutoff,
                as_of=result.as_of,
                open=f"{result.open_at_cutoff:,}",
                scored=f"{result.scored:,}",
                still=f"{result.still_open:,}",
            )
        )
    )
    table = Table(title=t("backtest.table_title"), title_justify="left")
    for key in (
        "backtest.col.model",
        "backtest.col.brier",
        "backtest.col.log_loss",
        "backtest.col.auc",
        "backtest.col.gap",
        "backtest.col.gap_nurture",
        "backtest.col.gap_ready",
        "backtest.col.gap_stalled",
        "backtest.col.decile",
    ):
        table.add_column(t(key), justify="left" if key == "backtest.col.model" else "right")
    for m in result.models:
        table.add_row(
            t(f"backtest.model.{m.name}"),
            f"{m.brier:.4f}",
            f"{m.log_loss:.4f}",
            f"{m.auc:.3f}",
            _pts(m.gap),
            _pts(m.gap_nurture),
            _pts(m.gap_sales_ready),
            _pts(m.gap_stalled),
            _pts(m.max_decile_gap()).lstrip("+"),
        )
    console.print(table)
    rr = result.model("royalroad")
    if rr is not None:
        dt = Table(title=t("backtest.deciles_title"), title_justify="left")
        for key in (
            "backtest.col.decile_n",
            "backtest.col.leads",
            "backtest.col.predicted",
            "backtest.col.observed",
            "backtest.col.gap",
        ):
            dt.add_column(t(key), justify="right")
        for d in rr.deciles:
            lo, hi = d.observed_ci
            dt.add_row(
                str(d.index),
                f"{d.n:,}",
                f"{100 * d.predicted:.0f}%",
                f"{100 * d.observed:.0f}% [{100 * lo:.0f}–{100 * hi:.0f}]",
                _pts(d.gap),
            )
        console.print(dt)
    console.print(escape(verdict(result)))


def pipeline_sentence(forecast, lang: str | None = None) -> str:
    """ "The 809 open leads are expected to bring 264 wins (80% interval 247–281) and …"
    from a :class:`~royalroad.analysis.forecast.Forecast`; empty without open leads."""
    if forecast is None or not forecast.pipeline.get("leads"):
        return ""
    p = forecast.pipeline
    return t(
        "backtest.pipeline",
        lang=lang,
        leads=f"{p['leads']:,.0f}",
        wins=f"{p['wins']:,.0f}",
        lo=f"{p['wins_low_80']:,.0f}",
        hi=f"{p['wins_high_80']:,.0f}",
        revenue=f"{p['revenue']:,.0f}",
        rlo=f"{p['revenue_low_80']:,.0f}",
        rhi=f"{p['revenue_high_80']:,.0f}",
    )


def verdict(result: BacktestResult, lang: str | None = None) -> str:
    """One sentence: does royalroad beat the lead score here, and is it calibrated?"""
    rr, lr = result.model("royalroad"), result.model("lead_score")
    if rr is None or lr is None:
        return ""
    recal = result.recalibration
    key = "backtest.verdict.better" if rr.brier <= lr.brier else "backtest.verdict.worse"
    text = t(
        key,
        lang=lang,
        brier=f"{rr.brier:.4f}",
        lr_brier=f"{lr.brier:.4f}",
        auc=f"{rr.auc:.3f}",
        lr_auc=f"{lr.auc:.3f}",
        gap=_pts(rr.gap),
    )
    if recal.kind != "none":
        text += " " + t(
            f"backtest.recal.{recal.kind}",
            lang=lang,
            before=f"{recal.cv['none']:.4f}",
            after=f"{recal.cv[recal.kind]:.4f}",
        )
    else:
        text += " " + t("backtest.recal.none", lang=lang)
    return text
