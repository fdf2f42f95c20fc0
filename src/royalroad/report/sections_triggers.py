"""Report section "Decision triggers in the notes": the categories against the outcome,
the stage at which each is noted, the best note milestone, the top terms and masked
examples. Text comes rendered from the presenters' shared cells; the template escapes
it, and marks each example's phrase with ``<mark>`` around the escaped part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.triggers_result import TriggersResult
from royalroad.presenters import triggers_terminal as tt
from royalroad.report.charts import Chart
from royalroad.report.charts_triggers import z_chart
from royalroad.report.sections import Section


@dataclass(frozen=True)
class Example:
    before: str
    phrase: str
    after: str
    outcome: str
    lead_id: str


@dataclass(frozen=True)
class ExampleGroup:
    label: str
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class TermTable:
    title: str
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class TriggersSection(Section):
    template: ClassVar[str] = "triggers.html.j2"
    anchor: ClassVar[str] = "triggers"
    title_key: ClassVar[str] = "triggers.heading"

    sentence: str
    milestone: str
    counts: str
    tested: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    significant: tuple[bool, ...]
    goal_line: str
    grid_line: str
    term_headers: tuple[str, ...]
    terms: tuple[TermTable, ...]
    examples: tuple[ExampleGroup, ...]
    snippets: bool
    caveats: tuple[str, ...]
    chart: Chart | None

    def has_content(self) -> bool:
        return bool(self.rows)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return (self.chart,) if self.chart is not None else ()


def triggers(result: TriggersResult | None, lang: str, *, top: int = 10) -> TriggersSection:
    """The section (empty, hence left out, without notes to mine)."""
    if result is None or not result.counts.before_close:
        return TriggersSection("", "", "", "", (), (), (), "", "", (), (), (), True, (), None)
    from royalroad.i18n import t

    alpha = result.settings.get("alpha", 0.05)
    shown = [c for c in result.categories if c.stats.won + c.stats.lost]
    terms = []
    for sign, key in ((1, "triggers.terms_won_title"), (-1, "triggers.terms_lost_title")):
        rows = tuple(tuple(tt.term_cells(x, lang)) for x in result.top_terms(top, sign))
        if rows:
            terms.append(TermTable(t(key, lang=lang), rows))
    examples = tuple(
        ExampleGroup(
            c.label(lang),
            tuple(
                Example(*s.parts(), tt.outcome_text(s.outcome, lang), s.lead_id) for s in c.examples
            ),
        )
        for c in shown
        if c.examples and c.stats.tested
    )
    return TriggersSection(
        sentence=result.sentence(lang),
        milestone=result.milestone_sentence(lang),
        counts=tt.counts_line(result, lang),
        tested=tt.tested_line(result, lang),
        headers=tuple(tt.category_headers(lang)),
        rows=tuple(tuple(tt.category_cells(c, alpha, lang)) for c in shown),
        significant=tuple(c.stats.significant(alpha) and not c.stats.proxy for c in shown),
        goal_line=tt.goal_line(result, lang),
        grid_line=tt.grid_line(result, lang),
        term_headers=tuple(tt.term_headers(lang)),
        terms=tuple(terms),
        examples=examples,
        snippets=bool(result.settings.get("snippets", True)),
        caveats=tuple(c.text(lang) for c in result.caveats),
        chart=z_chart(result, lang),
    )
