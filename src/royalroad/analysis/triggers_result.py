"""Result types of the trigger analysis: terms and categories of sales notes against the
outcome, the stage at which each category is noted, and the categories as milestones.

Frozen and small: the terminal, JSON, report, workbook, app and notebook views all
render from these. Examples are masked snippets (no e-mail address, phone number, URL
or person name), each with the span of the matched phrase; the JSON keeps the text and
the span apart, never markup.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd

from royalroad.analysis.goals_result import Candidate, Caveat, _clean
from royalroad.i18n import t
from royalroad.tabular import html_table, pct


@dataclass(frozen=True)
class Snippet:
    """A masked piece of one note, ``text[start:end]`` being the matched phrase."""

    text: str
    start: int
    end: int
    outcome: str
    lead_id: str

    def parts(self) -> tuple[str, str, str]:
        """``(before, phrase, after)``: what every view highlights."""
        return self.text[: self.start], self.text[self.start : self.end], self.text[self.end :]

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "highlight": [self.start, self.end],
            "outcome": self.outcome,
            "lead_id": self.lead_id,
        }


@dataclass(frozen=True)
class Association:
    """Won and lost leads whose notes (before the close) mention something, and Monroe et
    al.'s log-odds ratio with its z-score, p and Benjamini–Hochberg q."""

    won: int
    lost: int
    open: int
    log_odds: float
    z: float
    p_value: float
    q_value: float
    tested: bool
    """Mentioned by at least ``min_count`` closed leads: in the correction."""
    proxy: str | None
    """Why it is part of the outcome rather than a trigger (after_close, at_close,
    one_class_won/lost), or None."""
    proxy_params: dict

    def significant(self, alpha: float) -> bool:
        return self.tested and self.q_value < alpha

    def stats_dict(self) -> dict:
        return {
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "log_odds": self.log_odds if self.tested else None,
            "z": self.z if self.tested else None,
            "p": self.p_value if self.tested else None,
            "q": self.q_value if self.tested else None,
            "tested": self.tested,
            "proxy": self.proxy,
        }


@dataclass(frozen=True)
class TermStat:
    term: str
    lang: str
    stats: Association
    examples: tuple[Snippet, ...] = ()

    def to_dict(self) -> dict:
        return {
            "term": self.term,
            "lang": self.lang,
            **self.stats.stats_dict(),
            "examples": [s.to_dict() for s in self.examples],
        }


@dataclass(frozen=True)
class StageShare:
    """Notes mentioning a category, by the lead's last activity before the note."""

    activity: str | None
    """None: no activity yet when the note was written."""
    notes: int
    share: float


@dataclass(frozen=True)
class CategoryStat:
    category: str
    label_en: str
    label_ja: str
    polarity: str
    stats: Association
    won_share: float
    """Share of won leads with notes (before the close) whose notes mention it."""
    lost_share: float
    stages: tuple[StageShare, ...]
    """The lead's last activity before each note that mentions it, most frequent first."""
    before_goal: int
    after_goal: int
    """Notes of leads that reached the goal, written before it / at or after it."""
    without_goal: int
    """Notes of leads that never reached the goal (before their close)."""
    median_day: float | None
    """Median day since the lead's creation of the notes that mention it."""
    milestone: Candidate | None = None
    """"Notes mention X" as a milestone in the goals grid (its best variant)."""
    examples: tuple[Snippet, ...] = ()

    def label(self, lang: str | None = None) -> str:
        from royalroad.i18n import get_lang

        return self.label_ja if (lang or get_lang()) == "ja" else self.label_en

    @property
    def top_stage(self) -> StageShare | None:
        return self.stages[0] if self.stages else None

    @property
    def before_goal_share(self) -> float:
        n = self.before_goal + self.after_goal
        return self.before_goal / n if n else math.nan

    def to_dict(self) -> dict:
        top = self.top_stage
        return {
            "category": self.category,
            "label": {"en": self.label_en, "ja": self.label_ja},
            "polarity": self.polarity,
            **self.stats.stats_dict(),
            "won_share": self.won_share,
            "lost_share": self.lost_share,
            "top_stage": top.activity if top else None,
            "top_stage_share": top.share if top else None,
            "stages": [
                {"activity": s.activity, "notes": s.notes, "share": s.share} for s in self.stages
            ],
            "before_goal": self.before_goal,
            "after_goal": self.after_goal,
            "without_goal": self.without_goal,
            "before_goal_share": self.before_goal_share,
            "median_day": self.median_day,
            "milestone": _milestone_dict(self.milestone),
            "examples": [s.to_dict() for s in self.examples],
        }


def _milestone_dict(c: Candidate | None) -> dict | None:
    if c is None:
        return None
    return {
        "activity": c.activity,
        "label": c.label(),
        "min_count": c.min_count,
        "within_days": c.within_days,
        "won": c.won,
        "lost": c.lost,
        "open": c.open,
        "win_rate": c.win_rate,
        "win_rate_ci": list(c.win_rate_ci),
        "lift": c.lift,
        "recall": c.recall,
        "mcc": c.mcc,
        "odds_ratio": c.odds_ratio,
        "q": c.q_value,
        "eligible": c.eligible,
        "why_not": c.why_not,
    }


@dataclass(frozen=True)
class NoteCounts:
    """What the analysis read."""

    notes: int
    """Notes of the leads analysed (before the close, or at/after it)."""
    before_close: int
    after_close: int
    """Written at or after the close: left out of every count (their terms can be proxies)."""
    leads_won: int
    leads_lost: int
    leads_open: int
    """Leads with at least one note before the close, per outcome."""
    by_lang: dict
    """Notes per language of the words kept: ja, en, mixed, none."""
    distinct_texts: int
    vocabulary: int


@dataclass(frozen=True)
class TriggersResult:
    counts: NoteCounts
    categories: tuple[CategoryStat, ...]
    """Every category of the dictionary: tested ones by z (highest first), then the rest."""
    terms: tuple[TermStat, ...]
    """Every term mentioned by at least ``min_count`` closed leads, by z."""
    goal: Candidate | None
    """The intermediate goal the stages are placed against (activities only)."""
    milestones_tried: int
    """Candidates of the goals grid with the note milestones in it (0: not run)."""
    goal_with_notes: Candidate | None
    """The goal that grid recommends (a note milestone or an activity)."""
    tested: int
    """Terms and categories in the Benjamini–Hochberg correction."""
    caveats: tuple[Caveat, ...]
    settings: dict

    def __repr__(self) -> str:
        top = [c for c in self.categories if c.stats.tested][:3]
        tops = ", ".join(f"{c.category} z={c.stats.z:+.1f}" for c in top)
        return (
            f"TriggersResult(notes={self.counts.before_close:,}, tested={self.tested:,}, "
            f"categories=[{tops}])"
        )

    def significant(self) -> list[CategoryStat]:
        alpha = self.settings.get("alpha", 0.05)
        return [c for c in self.categories if c.stats.significant(alpha) and not c.stats.proxy]

    def top_terms(self, n: int = 10, sign: int = 1) -> list[TermStat]:
        """The ``n`` terms most typical of wins (``sign`` 1) or of losses (-1), proxies aside."""
        alpha = self.settings.get("alpha", 0.05)
        ok = [
            x
            for x in self.terms
            if not x.stats.proxy and x.stats.significant(alpha) and sign * x.stats.z > 0
        ]
        return ok[:n] if sign > 0 else ok[::-1][:n]

    def sentence(self, lang: str | None = None) -> str:
        """The strongest trigger of wins (and of losses) in one sentence."""
        alpha = self.settings.get("alpha", 0.05)
        sig = self.significant()
        pos = [c for c in sig if c.stats.z > 0]
        neg = [c for c in sig if c.stats.z < 0]
        if not [c for c in self.categories if c.stats.tested]:
            return t("triggers.sentence.untested", lang=lang, min_count=self.settings["min_count"])
        if not pos and not neg:
            return t("triggers.sentence.none", lang=lang, alpha=alpha)
        parts = []
        if pos:
            parts.append(_side("triggers.sentence.won", pos[0], lang))
        if neg:
            parts.append(_side("triggers.sentence.lost", neg[-1], lang))
        return " ".join(parts)

    def milestone_sentence(self, lang: str | None = None) -> str:
        """ "Leads whose notes mention 比較資料 within 30 days win 58% [55–61%]" for the best
        eligible note milestone; empty when there is none."""
        best = self.best_milestone()
        if best is None:
            return ""
        c = best.milestone
        assert c is not None
        lo, hi = c.win_rate_ci
        key = "triggers.milestone.within" if c.within_days is not None else "triggers.milestone.any"
        return t(
            key,
            lang=lang,
            category=best.label(lang),
            days=c.within_days,
            rate=pct(c.win_rate),
            lo=f"{100 * lo:.0f}",
            hi=pct(hi),
            base=pct(self.settings.get("base_rate")),
            q=f"{c.q_value:.2g}",
        )

    def best_milestone(self) -> CategoryStat | None:
        ok = [c for c in self.categories if c.milestone is not None and c.milestone.eligible]
        return max(ok, key=lambda c: (c.milestone.mcc, c.category)) if ok else None  # type: ignore[union-attr]

    def _repr_html_(self) -> str:
        rows = [
            (
                c.label("en"),
                c.stats.won,
                c.stats.lost,
                f"{c.stats.z:+.2f}" if c.stats.tested else "–",
                f"{c.stats.q_value:.2g}" if c.stats.tested else "–",
                (c.top_stage.activity or "–") if c.top_stage else "–",
                pct(c.before_goal_share),
            )
            for c in self.categories
        ]
        return html_table(
            ("category", "won leads", "lost leads", "z", "q", "top stage", "before goal"),
            rows,
            caption="decision triggers in notes",
            note=f"{len(self.terms):,} terms tested; to_frame() has them",
        )

    def to_dict(self) -> dict:
        return _clean(
            {
                "counts": {
                    "notes": self.counts.notes,
                    "before_close": self.counts.before_close,
                    "after_close": self.counts.after_close,
                    "leads_with_notes": {
                        "won": self.counts.leads_won,
                        "lost": self.counts.leads_lost,
                        "open": self.counts.leads_open,
                    },
                    "by_lang": self.counts.by_lang,
                    "distinct_texts": self.counts.distinct_texts,
                    "vocabulary": self.counts.vocabulary,
                },
                "tested": self.tested,
                "sentence": self.sentence(),
                "milestone_sentence": self.milestone_sentence() or None,
                "goal": self.goal.label() if self.goal else None,
                "milestones_tried": self.milestones_tried,
                "goal_with_notes": self.goal_with_notes.label() if self.goal_with_notes else None,
                "categories": [c.to_dict() for c in self.categories],
                "terms": [x.to_dict() for x in self.terms],
                "caveats": [{"key": c.key, "text": c.text(), **c.params} for c in self.caveats],
                "settings": self.settings,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def to_frame(self) -> pd.DataFrame:
        """One row per term tested (examples left out; see :meth:`categories_frame`)."""
        rows = []
        for x in self.terms:
            d = x.to_dict()
            d.pop("examples")
            rows.append(d)
        cols = ["term", "lang", "won", "lost", "open", "log_odds", "z", "p", "q", "tested", "proxy"]
        return pd.DataFrame(rows, columns=cols)

    def categories_frame(self) -> pd.DataFrame:
        """One row per category, with its stage and milestone figures."""
        rows = []
        for c in self.categories:
            d = c.to_dict()
            for key in ("examples", "stages", "label"):
                d.pop(key)
            m = d.pop("milestone") or {}
            d["label_en"], d["label_ja"] = c.label_en, c.label_ja
            for k in ("label", "win_rate", "q", "eligible"):
                d[f"milestone_{k}"] = m.get(k)
            rows.append(d)
        return pd.DataFrame(rows)


def _side(key: str, c: CategoryStat, lang: str | None) -> str:
    return t(
        key,
        lang=lang,
        category=c.label(lang),
        won=pct(c.won_share),
        lost=pct(c.lost_share),
        z=f"{c.stats.z:+.1f}",
        q=_q(c.stats.q_value),
    )


def _q(q: float) -> str:
    return "< 1e-300" if q < 1e-300 else f"{q:.2g}"
