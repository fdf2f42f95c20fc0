"""Result types of intermediate-goal discovery: frozen, small, one source for every view."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from royalroad.i18n import join, t
from royalroad.tabular import html_table, pct


def _clean(value):
    """JSON has no NaN/inf: map them to null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True)
class Caveat:
    """A statistical warning: catalogue key + parameters, rendered in any language.

    ``milestones`` are candidates named in the text; their labels are rendered in
    the language asked for at display time, not when the analysis ran.
    """

    key: str
    params: dict = field(default_factory=dict)
    milestones: tuple = ()

    def text(self, lang: str | None = None) -> str:
        params = dict(self.params)
        if self.milestones:
            params["milestones"] = join((c.label(lang) for c in self.milestones), lang)
        return t(self.key, lang=lang, **params)


CI_FIELDS = (
    "win_rate_ci",
    "odds_ratio_ci",
    "adjusted_odds_ratio_ci",
    "cohort_odds_ratio_ci",
    "given_goal_odds_ratio_ci",
)
"""Interval fields of a candidate: lists in JSON, ``…_low`` / ``…_high`` columns in tables."""


@dataclass(frozen=True)
class Candidate:
    """One milestone tried, with its evidence (rates carry 95% Wilson intervals)."""

    activity: str
    then: str | None
    min_count: int
    within_days: int | None
    leads: int
    won: int
    lost: int
    open: int
    win_rate: float
    win_rate_ci: tuple[float, float]
    lift: float
    recall: float
    precision: float
    npv: float
    specificity: float
    mcc: float
    odds_ratio: float
    odds_ratio_ci: tuple[float, float]
    odds_ratio_zero_cell: str | None  # which cell was empty (see stats.zero_cell), or None
    p_value: float
    q_value: float
    adjusted_odds_ratio: float | None
    adjusted_odds_ratio_ci: tuple[float, float] | None
    cohort_odds_ratio: float | None  # MH by creation quarter, for the candidates checked
    cohort_odds_ratio_ci: tuple[float, float] | None
    given_goal_odds_ratio: float | None  # among closed leads that reached the goal
    given_goal_odds_ratio_ci: tuple[float, float] | None
    given_goal_odds_ratio_zero_cell: str | None
    adds_nothing_beyond_goal: bool | None  # None: no goal, or not estimable
    median_days_to_reach: float | None
    median_days_to_close: float | None
    outcome_proxy: bool
    proxy_reason: str | None
    confounded: bool
    eligible: bool
    why_not: str | None

    @property
    def sensitivity(self) -> float:
        return self.recall

    def __repr__(self) -> str:
        lo, hi = self.win_rate_ci
        return (
            f"Candidate({self.label('en')!r}, win_rate={pct(self.win_rate)} "
            f"[{pct(lo)}–{pct(hi)}], lift={self.lift:.2f}, recall={pct(self.recall)}, "
            f"mcc={self.mcc:.3f}, q={self.q_value:.2g}, eligible={self.eligible})"
        )

    @property
    def key(self) -> tuple:
        return (self.activity, self.then, self.min_count, self.within_days)

    @property
    def family(self) -> tuple[str, str | None]:
        """Variants of the same milestone share a family (activity, then)."""
        return (self.activity, self.then)

    def label(self, lang: str | None = None) -> str:
        """Human-readable milestone, e.g. ``≥2× 技術打合せ within 30 days``."""
        name = (
            self.activity
            if self.then is None
            else t("goal.label.pair", lang=lang, a=self.activity, b=self.then)
        )
        if self.min_count > 1:
            name = t("goal.label.count", lang=lang, name=name, k=self.min_count)
        if self.within_days is not None:
            name = t("goal.label.window", lang=lang, name=name, days=self.within_days)
        return name

    def to_dict(self) -> dict:
        d = asdict(self)
        for name in CI_FIELDS:
            value = getattr(self, name)
            d[name] = list(value) if value else None
        d["label"] = self.label()
        return _clean(d)


@dataclass(frozen=True)
class RunnerUp:
    candidate: Candidate
    why: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(f"goal.why.{self.why}", lang=lang, **self.params)


@dataclass(frozen=True)
class ProxyFlag:
    activity: str
    reason: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(f"goal.proxy.{self.reason}", lang=lang, activity=self.activity, **self.params)


@dataclass(frozen=True)
class Incidence:
    """Cumulative incidence of winning by each horizon (Aalen–Johansen, loss competing)."""

    horizons: tuple[int, ...]
    reached: tuple[float, ...]
    not_reached: tuple[float, ...]
    n_reached: int
    n_not_reached: int


@dataclass(frozen=True)
class Family:
    """The variants of one milestone (same activity, or same pair): one table row."""

    best: Candidate  # the recommended goal if it is in the family, else the top-ranked
    variants: tuple[Candidate, ...]  # the other counts and windows, in rank order
    recommended: bool

    @property
    def family(self) -> tuple[str, str | None]:
        return self.best.family

    @property
    def members(self) -> tuple[Candidate, ...]:
        return (self.best, *self.variants)


@dataclass(frozen=True)
class GoalResult:
    """Intermediate-goal discovery: every candidate tried, the recommendation and why."""

    closed: int
    won: int
    lost: int
    open: int
    base_rate: float
    base_rate_ci: tuple[float, float]
    candidates: tuple[Candidate, ...]
    recommended: Candidate | None
    watch: Candidate | None  # no goal yet: the best real effect that is not goal-sized
    reason: str
    reason_params: dict
    runner_ups: tuple[RunnerUp, ...]
    proxies: tuple[ProxyFlag, ...]
    incidence: Incidence | None
    caveats: tuple[Caveat, ...]
    settings: dict

    def distinct(self) -> list[tuple[Candidate, int]]:
        """Candidates in rank order, one per set of reached leads, with how many equivalents.

        Many variants reach exactly the same leads ("X" and "X within 180 days", or
        "A → X" when A always precedes X); tables show the simplest once.
        """
        seen: dict[tuple[int, int, int, float], int] = {}
        out: list[list] = []
        for c in self.candidates:
            sig = (c.won, c.lost, c.open, round(c.mcc, 12))
            if sig in seen:
                out[seen[sig]][1] += 1
            else:
                seen[sig] = len(out)
                out.append([c, 0])
        return [(c, n) for c, n in out]

    def __repr__(self) -> str:
        goal = self.recommended.label("en") if self.recommended else None
        lo, hi = self.base_rate_ci
        return (
            f"GoalResult(goal={goal!r}, reason={self.reason!r}, base_rate={pct(self.base_rate)} "
            f"[{pct(lo)}–{pct(hi)}], closed={self.closed:,}, open={self.open:,}, "
            f"candidates={len(self.candidates):,})"
        )

    def _repr_html_(self, lang: str | None = None, top: int = 10) -> str:
        """The sentence and the top milestone families, for Jupyter."""
        rows = []
        for f in self.families()[:top]:
            c = f.best
            lo, hi = c.win_rate_ci
            rows.append(
                (
                    ("★ " if f.recommended else "") + c.label(lang),
                    f"{c.won:,}/{c.lost:,}/{c.open:,}",
                    f"{pct(c.win_rate)} [{pct(lo)}–{pct(hi)}]",
                    f"{c.lift:.2f}",
                    pct(c.recall),
                    f"{c.mcc:.3f}",
                    f"{c.q_value:.2g}",
                    "✓" if c.eligible else (c.why_not or ""),
                )
            )
        headers = ("milestone", "won/lost/open", "win rate", "lift", "of wins", "MCC", "q", "")
        return f"<p><b>{html.escape(self.sentence(lang))}</b></p>" + html_table(
            headers, rows, note=f"{len(self.candidates):,} milestones tried; to_frame() has all"
        )

    def avoided(self) -> list[str]:
        """Activities the journey analyses must never advise: those whose effect is
        confounded by a segment (with ``adjust``) or disappears within creation
        cohorts (drift). They stay in the journeys; only the advice steers clear."""
        return sorted(
            {
                c.activity
                for c in self.candidates
                if c.then is None and (c.confounded or c.why_not == "drift")
            }
        )

    def families(self) -> list[Family]:
        """One group per milestone family (same activity or pair), in rank order.

        Each group's ``best`` is the recommended goal when it belongs to the family,
        else the family's highest-ranked member; ``variants`` are the other members
        (other counts and windows) in rank order. Tables show one row per family.
        """
        goal_key = self.recommended.key if self.recommended else None
        members: dict[tuple, list[Candidate]] = {}
        for c in self.candidates:
            members.setdefault(c.family, []).append(c)
        out = []
        for group in members.values():
            best = next((c for c in group if c.key == goal_key), group[0])
            out.append(
                Family(
                    best=best,
                    variants=tuple(c for c in group if c is not best),
                    recommended=best.key == goal_key,
                )
            )
        return out

    def _params(self, lang: str | None) -> dict:
        params = dict(self.reason_params)
        if self.watch is not None:
            params["milestone"] = self.watch.label(lang)
        return params

    def sentence(self, lang: str | None = None) -> str:
        """The recommendation as one sentence a sales manager can act on."""
        c = self.recommended
        if c is None:
            return t(f"goal.none.{self.reason}", lang=lang, **self._params(lang))
        lo, hi = c.win_rate_ci
        days = c.median_days_to_reach
        key = "goal.sentence" if days is not None else "goal.sentence_nodays"
        return t(
            key,
            lang=lang,
            milestone=c.label(lang),
            rate=f"{c.win_rate:.0%}",
            lo=f"{100 * lo:.0f}",
            hi=f"{100 * hi:.0f}%",
            base=f"{self.base_rate:.0%}",
            lift=f"{c.lift:.1f}",
            recall=f"{c.recall:.0%}",
            days=f"{days:.0f}" if days is not None else "",
        )

    def reason_text(self, lang: str | None = None) -> str:
        return t(f"goal.reason.{self.reason}", lang=lang, **self._params(lang))

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate, ranked; intervals as ``…_ci_low`` / ``…_ci_high`` columns."""
        rows = []
        for c in self.candidates:
            d = c.to_dict()
            for name in CI_FIELDS:
                lo, hi = d.pop(name) or (None, None)
                d[f"{name}_low"], d[f"{name}_high"] = lo, hi
            rows.append(d)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return _clean(
            {
                "base_rate": self.base_rate,
                "base_rate_ci": list(self.base_rate_ci),
                "closed": self.closed,
                "won": self.won,
                "lost": self.lost,
                "open": self.open,
                "recommended": self.recommended.to_dict() if self.recommended else None,
                "watch": self.watch.to_dict() if self.watch else None,
                "reason": self.reason,
                "reason_text": self.reason_text(),
                "sentence": self.sentence(),
                "runner_ups": [
                    {
                        "candidate": r.candidate.to_dict(),
                        "why": r.why,
                        "why_text": r.text(),
                        **r.params,
                    }
                    for r in self.runner_ups
                ],
                "proxies": [
                    {"activity": p.activity, "reason": p.reason, "text": p.text(), **p.params}
                    for p in self.proxies
                ],
                "incidence": asdict(self.incidence) if self.incidence else None,
                "caveats": [{"key": c.key, "text": c.text(), **c.params} for c in self.caveats],
                "settings": self.settings,
                "candidates": [c.to_dict() for c in self.candidates],
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
