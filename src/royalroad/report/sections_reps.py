"""Report section "Reps": the shrunk ranking with the funnel plot's verdict, conversion
after the goal with the decomposition of each gap, what the best do (the practices and
the playbook) and the section's caveats. Text comes rendered from the presenters'
shared sentences; the template escapes it.

Not wired into :func:`royalroad.report.sections.build_sections` yet: see the wiring
notes in ``docs/commands.md`` (``royalroad reps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.reps_result import RepsResult
from royalroad.i18n import t
from royalroad.presenters import reps_terminal as rt
from royalroad.report.charts import Chart
from royalroad.report.charts_reps import funnel_plot, gap_chart
from royalroad.report.sections import Section


@dataclass(frozen=True)
class RepsTable:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...] = ()  # per row: "rep", "unassigned" or "team"


@dataclass(frozen=True)
class RepsSection(Section):
    template: ClassVar[str] = "reps.html.j2"
    anchor: ClassVar[str] = "reps"
    title_key: ClassVar[str] = "reps.heading"

    header: tuple[str, ...]
    ranked: str
    reach: RepsTable | None
    verdict: str
    priors: tuple[str, ...]
    reach_legend: str
    convert: RepsTable | None
    gap_legend: str
    practices: RepsTable | None
    practices_legend: str
    playbook: tuple[str, ...]
    caveats: tuple[str, ...]
    funnel_chart: Chart | None
    gap_chart: Chart | None

    def has_content(self) -> bool:
        return self.reach is not None and bool(self.reach.rows)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for c in (self.funnel_chart, self.gap_chart) if c is not None)


EMPTY = RepsSection((), "", None, "", (), "", None, "", None, "", (), (), None, None)


def reps(result: RepsResult | None, lang: str, *, top: int = 10) -> RepsSection:
    """The section (empty, hence left out, without a reps result)."""
    if result is None:
        return EMPTY
    rows = rt.all_rows(result)
    kinds = tuple(r.kind for r in rows)
    reach = RepsTable(
        rt.reach_title(result, lang),
        tuple(rt.reach_headers(result, lang)),
        tuple(tuple(rt.reach_cells(r, result, lang)) for r in rows),
        kinds,
    )
    convert = None
    if result.goal is not None:
        convert = RepsTable(
            t("reps.table.convert", lang=lang),
            tuple(rt.convert_headers(result, lang)),
            tuple(tuple(rt.convert_cells(r, result, lang)) for r in rows),
            kinds,
        )
    practices = None
    if result.practices:
        practices = RepsTable(
            rt.practices_title(result, lang),
            tuple(rt.practice_headers(lang)),
            tuple(tuple(rt.practice_cells(p, lang)) for p in rt.shown_practices(result, top)),
        )
    return RepsSection(
        header=tuple(rt.header_lines(result, lang)),
        ranked=rt.ranked_sentence(result, lang),
        reach=reach,
        verdict=rt.funnel_sentence(result, lang),
        priors=tuple(rt.prior_lines(result, lang)),
        reach_legend=t("reps.legend.reach", lang=lang, days=result.horizon)
        if result.goal is not None
        else "",
        convert=convert,
        gap_legend=t("reps.legend.gap", lang=lang) if convert is not None else "",
        practices=practices,
        practices_legend=rt.practices_legend(result, lang) if practices is not None else "",
        playbook=tuple(rt.playbook_lines(result, lang)),
        caveats=tuple(rt.caveat_lines(result, lang)),
        funnel_chart=funnel_plot(result, lang),
        gap_chart=gap_chart(result, lang),
    )
