"""Report section "Funnel": the stages from all leads to the win, the cohorts by creation
period (and segment) and pipeline velocity. Text comes rendered from the presenters'
shared sentences; the template escapes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.funnel_result import FunnelResult
from royalroad.presenters import funnel_terminal as ft
from royalroad.report.charts import Chart
from royalroad.report.charts_funnel import cohort_chart, funnel_chart
from royalroad.report.sections import Section


@dataclass(frozen=True)
class CohortTable:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class FunnelSection(Section):
    template: ClassVar[str] = "funnel.html.j2"
    anchor: ClassVar[str] = "funnel"
    title_key: ClassVar[str] = "funnel.heading"

    road: str
    notes: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    goal_rows: tuple[bool, ...]
    legend: str
    cohorts: tuple[CohortTable, ...]
    velocity: str
    funnel_chart: Chart | None
    cohort_chart: Chart | None

    def has_content(self) -> bool:
        return bool(self.rows)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for c in (self.funnel_chart, self.cohort_chart) if c is not None)


def funnel(result: FunnelResult | None, lang: str) -> FunnelSection:
    """The section (empty, hence left out, without a funnel)."""
    if result is None:
        return FunnelSection("", (), (), (), (), "", (), "", None, None)
    tables = []
    for segment, items in ((False, result.cohorts), (True, result.segments)):
        if items:
            tables.append(
                CohortTable(
                    ft.cohort_title(result, segment, lang),
                    tuple(ft.cohort_headers(result, segment, lang)),
                    tuple(tuple(ft.cohort_cells(c, lang)) for c in items),
                )
            )
    return FunnelSection(
        road=ft.road_line(result, lang),
        notes=tuple(ft.notes(result, lang)),
        headers=tuple(ft.stage_headers(result, lang)),
        rows=tuple(tuple(ft.stage_cells(s, result.within, lang)) for s in result.stages),
        goal_rows=tuple(s.is_goal for s in result.stages),
        legend=ft.legend(result, lang),
        cohorts=tuple(tables),
        velocity=ft.velocity_sentence(result, lang),
        funnel_chart=funnel_chart(result, lang),
        cohort_chart=cohort_chart(result, lang),
    )
