"""Report section "How far to trust P(win)": the open pipeline's forecast and the backtest
behind it (scores beside a standard lead score, reliability diagram)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.backtest_result import BacktestResult, ModelScore
from royalroad.analysis.nba_result import NextResult
from royalroad.i18n import t
from royalroad.report.charts import Chart, reliability
from royalroad.report.sections import Section


@dataclass(frozen=True)
class TrustSection(Section):
    template: ClassVar[str] = "trust.html.j2"
    anchor: ClassVar[str] = "trust"
    title_key: ClassVar[str] = "backtest.heading"

    pipeline_text: str
    summary: str
    verdict: str
    models: tuple[ModelScore, ...]
    chart: Chart | None
    note: str

    def has_content(self) -> bool:
        return bool(self.pipeline_text or self.models)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return (self.chart,) if self.chart is not None else ()


def trust(nxt: NextResult, backtest: BacktestResult | None, note: str, lang: str) -> TrustSection:
    from royalroad.presenters.backtest_terminal import pipeline_sentence, verdict

    pipeline_text = pipeline_sentence(nxt.forecast, lang)
    if backtest is None:
        return TrustSection(pipeline_text, "", "", (), None, note)
    summary = t(
        "backtest.summary",
        lang=lang,
        cutoff=backtest.cutoff,
        as_of=backtest.as_of,
        open=f"{backtest.open_at_cutoff:,}",
        scored=f"{backtest.scored:,}",
        still=f"{backtest.still_open:,}",
    )
    if backtest.sample_every > 1:
        summary += " " + t("backtest.sampled", lang=lang, every=f"{backtest.sample_every:,}")
    return TrustSection(
        pipeline_text=pipeline_text,
        summary=summary,
        verdict=verdict(backtest, lang),
        models=backtest.models,
        chart=reliability(backtest, lang),
        note=note,
    )
