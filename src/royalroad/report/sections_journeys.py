"""Report sections built from the journeys: this week's actions, the royal road and how
leads (and winners) went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.analysis.nba_result import NextResult
from royalroad.analysis.paths_result import PathsResult, RoadStep, SingleActivity, Variant
from royalroad.i18n import t
from royalroad.report.charts import Chart, removal, sankey
from royalroad.report.sections import Section


@dataclass(frozen=True)
class LeadRow:
    lead_id: str
    owner: str
    status: str
    state: str
    action: str
    kind: str
    gain: str
    reason: str
    p_now: float | None
    days_idle: float | None
    stalled: bool
    made_up: str = ""  # P(win) as the stage's rate plus its adjustments


@dataclass(frozen=True)
class OwnerRow:
    owner: str
    sales_ready: int
    nurture: int
    stalled: int


@dataclass(frozen=True)
class AdviceRow:
    state: str
    leads: int
    p_win: float
    action: str
    kind: str
    gain: str
    reason: str
    stall_days: float | None


@dataclass(frozen=True)
class ActionsSection(Section):
    """This week's actions: who goes to sales, who is stalled, by owner, and why."""

    template: ClassVar[str] = "actions.html.j2"
    anchor: ClassVar[str] = "actions"
    title_key: ClassVar[str] = "report.actions.title"

    summary: str
    has_owner: bool
    owners: tuple[OwnerRow, ...]
    handoff: tuple[LeadRow, ...]
    handoff_total: int
    stalled: tuple[LeadRow, ...]
    stalled_total: int
    advice: tuple[AdviceRow, ...]
    total: int

    def has_content(self) -> bool:
        return self.total > 0


@dataclass(frozen=True)
class RoyalRoadSection(Section):
    template: ClassVar[str] = "royal_road.html.j2"
    anchor: ClassVar[str] = "royal-road"
    title_key: ClassVar[str] = "report.road.title"

    road: tuple[RoadStep, ...]
    conformance_text: str
    no_road_text: str
    p_win_start: float
    excluded: tuple[str, ...]
    sankey_chart: Chart | None
    removal_chart: Chart | None
    removal_on_road: bool

    def has_content(self) -> bool:
        return bool(self.road or self.sankey_chart)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for c in (self.sankey_chart, self.removal_chart) if c is not None)


@dataclass(frozen=True)
class JourneysSection(Section):
    """How winners went beside how most leads went, and one-activity journeys."""

    template: ClassVar[str] = "journeys.html.j2"
    anchor: ClassVar[str] = "journeys"
    title_key: ClassVar[str] = "report.journeys.title"

    winning: tuple[Variant, ...]
    frequent: tuple[Variant, ...]
    variants_total: int
    variants_coverage: float
    single_activity: tuple[SingleActivity, ...]

    def has_content(self) -> bool:
        return bool(self.frequent or self.winning)


def _pct(x: float | None) -> str:
    return "–" if x is None or x != x else f"{100 * x:.0f}%"


def actions(nxt: NextResult, lang: str, top: int = 25) -> ActionsSection:
    import pyarrow.compute as pc

    from royalroad.presenters.nba_terminal import (
        action_label,
        gain_text,
        kind_text,
        pwin_breakdown,
    )

    def lead(r: dict) -> LeadRow:
        return LeadRow(
            lead_id=str(r["lead_id"]),
            owner=r["owner"] or "–",
            status=t(f"nba.status.{r['status']}", lang=lang),
            state=r["state"] or "–",
            action=action_label(r["recommended_action"], lang),
            kind=kind_text(r["action_kind"], lang),
            gain=gain_text(r["gain"], *r["gain_ci"]),
            reason=r["reason"] or "",
            p_now=r["current_win_rate"],
            days_idle=r["days_idle"],
            stalled=bool(r["stalled"]),
            made_up=pwin_breakdown(r, lang),
        )

    def by_owner(items: list[dict]) -> list[dict]:
        # an owner's leads together, owners in name order; the sort is stable, so each
        # owner's leads stay in this week's order (ordered() gave them so)
        return sorted(items, key=lambda r: (r["owner"] is None, r["owner"] or ""))

    # the first ``top`` of each list, chosen and counted in Arrow: only they are rendered
    is_ready = pc.field("status") == "sales_ready"
    is_stalled = pc.field("stalled") & ~is_ready
    ready = nxt.ordered(lang, top, where=is_ready)
    stalled = nxt.ordered(lang, top, where=is_stalled)
    owner_rows = tuple(
        OwnerRow(o if o is not None else t("report.actions.no_owner", lang=lang), *c)
        for o, *c in nxt.owner_counts()
    )
    advice = []
    for a in nxt.advice:
        if a.best is None:
            continue
        b = a.best
        advice.append(
            AdviceRow(
                state=a.label(lang),
                leads=a.leads,
                p_win=a.p_win,
                action=action_label(b.activity, lang),
                kind=kind_text(b.kind, lang),
                gain=gain_text(b.gain, *b.gain_ci),
                reason=b.reason(lang),
                stall_days=a.stall_days,
            )
        )
    summary = t(
        "nba.summary",
        lang=lang,
        ready=f"{nxt.sales_ready:,}",
        nurture=f"{nxt.nurture:,}",
        stalled=f"{nxt.stalled:,}",
        goal=nxt.goal or "–",
    )
    return ActionsSection(
        summary=summary,
        has_owner=nxt.owner_column is not None,
        owners=owner_rows if nxt.owner_column is not None else (),
        handoff=tuple(lead(r) for r in by_owner(ready)),
        handoff_total=nxt.count(is_ready),
        stalled=tuple(lead(r) for r in by_owner(stalled)),
        stalled_total=nxt.count(is_stalled),
        advice=tuple(advice),
        total=nxt.leads.num_rows,
    )


def road(paths: PathsResult, goals, lang: str) -> RoyalRoadSection:
    c = paths.conformance
    conf = ""
    if c is not None and paths.royal_road:
        conf = t(
            "paths.conformance",
            lang=lang,
            won=_pct(c.share("won")),
            lost=_pct(c.share("lost")),
            won_n=f"{c.won_followed:,}",
            lost_n=f"{c.lost_followed:,}",
        )
    return RoyalRoadSection(
        road=paths.royal_road,
        conformance_text=conf,
        no_road_text=t("paths.no_road", lang=lang, reason=goals.reason_text(lang)),
        p_win_start=paths.p_win_start,
        excluded=paths.excluded,
        sankey_chart=sankey(paths, lang),
        removal_chart=removal(paths, lang),
        removal_on_road=bool(paths.royal_road),
    )


def journeys(paths: PathsResult) -> JourneysSection:
    return JourneysSection(
        winning=paths.winning_variants[:10],
        frequent=paths.variants[:10],
        variants_total=paths.variants_total,
        variants_coverage=paths.variants_coverage,
        single_activity=paths.single_activity[:8],
    )
