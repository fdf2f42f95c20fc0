"""Result types of the journey analysis: DFG, variants, Markov chain, royal road."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass

import pandas as pd

from royalroad.analysis.goals_result import _clean
from royalroad.analysis.journeys import LOST, OPEN, SEP, START, WON
from royalroad.i18n import t
from royalroad.tabular import html_table, pct


def state_label(state: str, lang: str | None = None) -> str:
    """Display name of a chain state (order-2 states as "a → b")."""
    if state == START:
        return t("paths.state.start", lang=lang)
    if state == WON:
        return t("word.won", lang=lang)
    if state == LOST:
        return t("word.lost", lang=lang)
    if state == OPEN:
        return t("word.open", lang=lang)
    return state.replace(START + SEP, "").replace(SEP, " → ")


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    count: int
    won: int
    lost: int
    open: int
    median_hours: float | None


@dataclass(frozen=True)
class Variant:
    path: tuple[str, ...]
    leads: int
    won: int
    lost: int
    open: int
    win_rate: float
    win_rate_ci: tuple[float, float]
    median_days: float | None


@dataclass(frozen=True)
class SingleActivity:
    """Journeys made of one activity only (catalogue-only style leads)."""

    activity: str
    leads: int
    won: int
    lost: int
    open: int
    win_rate: float
    win_rate_ci: tuple[float, float]


@dataclass(frozen=True)
class StateValue:
    state: str
    p_win: float
    expected_steps: float
    exits: int


@dataclass(frozen=True)
class RoadStep:
    activity: str
    p_win_after: float


@dataclass(frozen=True)
class Conformance:
    won: int
    won_followed: int
    lost: int
    lost_followed: int
    open: int
    open_followed: int

    def share(self, outcome: str) -> float:
        total = getattr(self, outcome)
        return getattr(self, f"{outcome}_followed") / total if total else math.nan


@dataclass(frozen=True)
class Flow:
    """Leads moving from ``src`` at step ``step`` to ``dst`` at the next step."""

    step: int
    src: str
    dst: str
    leads: int


@dataclass(frozen=True)
class PathsResult:
    scope: str
    order: int
    leads: int
    events: int
    dfg: tuple[Edge, ...]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    variants: tuple[Variant, ...]
    variants_total: int
    variants_coverage: float
    winning_variants: tuple[Variant, ...]
    single_activity: tuple[SingleActivity, ...]
    states: tuple[StateValue, ...]
    p_win_start: float
    removal_effects: dict[str, float]
    royal_road: tuple[RoadStep, ...]
    through: tuple[str, ...]
    conformance: Conformance | None
    excluded: tuple[str, ...]
    flows: tuple[Flow, ...] = ()

    def __repr__(self) -> str:
        road = " → ".join(s.activity for s in self.royal_road) or None
        return (
            f"PathsResult(road={road!r}, leads={self.leads:,}, events={self.events:,}, "
            f"variants={self.variants_total:,}, p_win_start={pct(self.p_win_start)})"
        )

    def _repr_html_(self, top: int = 10) -> str:
        """The royal road and the most frequent journeys, for Jupyter."""
        road = " → ".join(f"{s.activity} ({pct(s.p_win_after)})" for s in self.royal_road)
        rows = [
            (
                " → ".join(v.path),
                f"{v.leads:,}",
                f"{v.won:,}/{v.lost:,}/{v.open:,}",
                pct(v.win_rate),
            )
            for v in self.variants[:top]
        ]
        head = f"<p><b>{html.escape(road or '(no royal road)')}</b></p>"
        return head + html_table(
            ("journey", "leads", "won/lost/open", "win rate"),
            rows,
            note=f"{self.variants_total:,} distinct journeys of {self.leads:,} leads",
        )

    def to_dict(self) -> dict:
        return _clean(
            {
                "scope": self.scope,
                "order": self.order,
                "leads": self.leads,
                "events": self.events,
                "dfg": [
                    {
                        "from": e.src,
                        "to": e.dst,
                        "count": e.count,
                        "won": e.won,
                        "lost": e.lost,
                        "open": e.open,
                        "median_hours": e.median_hours,
                    }
                    for e in self.dfg
                ],
                "start_activities": self.start_activities,
                "end_activities": self.end_activities,
                "variants": [
                    {**asdict(v), "path": list(v.path), "win_rate_ci": list(v.win_rate_ci)}
                    for v in self.variants
                ],
                "variants_total": self.variants_total,
                "winning_variants": [
                    {**asdict(v), "path": list(v.path), "win_rate_ci": list(v.win_rate_ci)}
                    for v in self.winning_variants
                ],
                "variants_coverage": self.variants_coverage,
                "single_activity": [
                    {**asdict(s), "win_rate_ci": list(s.win_rate_ci)} for s in self.single_activity
                ],
                "markov": {
                    "order": self.order,
                    "p_win_start": self.p_win_start,
                    "states": [
                        {
                            "state": s.state,
                            "label": state_label(s.state),
                            "p_win": s.p_win,
                            "expected_steps": s.expected_steps,
                            "exits": s.exits,
                        }
                        for s in self.states
                    ],
                    "removal_effects": [
                        {"activity": a, "removal_effect": v}
                        for a, v in self.removal_effects.items()
                    ],
                },
                "royal_road": [
                    {"activity": s.activity, "p_win_after": s.p_win_after} for s in self.royal_road
                ],
                "royal_road_through": list(self.through),
                "conformance": asdict(self.conformance) if self.conformance else None,
                "excluded_proxies": list(self.excluded),
                "flows": [asdict(f) for f in self.flows],
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)

    def to_frame(self) -> pd.DataFrame:
        """The directly-follows graph as a table."""
        return pd.DataFrame([asdict(e) for e in self.dfg])
