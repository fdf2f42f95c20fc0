"""Terminal rendering of the trigger analysis, and the cells every view of it shares.

The report, the workbook and the app take their sentences and table cells from here,
so each says the same thing. Everything from the notes (terms, snippets, category
names from the user's dictionary, activity names) is user text: in rich markup it is
escaped, and snippets are built as :class:`rich.text.Text`, which never parses markup.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from royalroad.analysis.triggers_result import (
    Association,
    CategoryStat,
    Snippet,
    TermStat,
    TriggersResult,
)
from royalroad.i18n import get_lang, t
from royalroad.presenters.format import DASH, interval, p_value_text, pct

CATEGORY_COLS = (
    "category",
    "polarity",
    "wonlost",
    "share",
    "z",
    "q",
    "stage",
    "before_goal",
    "milestone",
    "status",
)
TERM_COLS = ("term", "lang", "won", "lost", "z", "q")


def z_text(a: Association) -> str:
    return f"{a.z:+.2f}" if a.tested and math.isfinite(a.z) else DASH


def q_text(a: Association, lang: str | None = None) -> str:
    return p_value_text(a.q_value, lang) if a.tested else DASH


def status_text(a: Association, alpha: float, lang: str | None = None) -> str:
    if a.proxy:
        return t(f"triggers.proxy.{a.proxy}", lang=lang, **a.proxy_params)
    if not a.tested:
        return t("triggers.status.untested", lang=lang)
    key = "significant" if a.q_value < alpha else "not_significant"
    return t(f"triggers.status.{key}", lang=lang)


def stage_text(c: CategoryStat, lang: str | None = None) -> str:
    """The most frequent last activity before the notes, with its share."""
    top = c.top_stage
    if top is None:
        return DASH
    name = top.activity if top.activity is not None else t("triggers.stage.none", lang=lang)
    return f"{name} ({pct(top.share)})"


def variant_text(c: CategoryStat, lang: str | None = None) -> str:
    """Which variant of "notes mention X" the milestone is: ``≥2× · 30 days`` or ``any time``."""
    m = c.milestone
    if m is None:
        return DASH
    parts = []
    if m.min_count > 1:
        parts.append(t("triggers.variant.count", lang=lang, k=m.min_count))
    if m.within_days is not None:
        parts.append(t("triggers.variant.within", lang=lang, days=m.within_days))
    return " · ".join(parts) or t("triggers.variant.any", lang=lang)


def milestone_text(c: CategoryStat, lang: str | None = None) -> str:
    """The note milestone as the goals grid rates it: ``58% [55–61%] (30 days) ✓``: win
    rate of closed leads reaching it, its variant, ✓ when eligible as a goal."""
    m = c.milestone
    if m is None:
        return DASH
    text = f"{pct(m.win_rate)} {interval(m.win_rate_ci, pct)} ({variant_text(c, lang)})"
    return text + (" ✓" if m.eligible else "")


def polarity_text(c: CategoryStat, lang: str | None = None) -> str:
    return t(f"triggers.polarity.{c.polarity}", lang=lang)


def category_headers(lang: str | None = None) -> list[str]:
    return [t(f"triggers.col.{c}", lang=lang) for c in CATEGORY_COLS]


def category_cells(c: CategoryStat, alpha: float, lang: str | None = None) -> list[str]:
    a = c.stats
    return [
        c.label(lang),
        polarity_text(c, lang),
        f"{a.won:,} / {a.lost:,}",
        f"{pct(c.won_share)} / {pct(c.lost_share)}",
        z_text(a),
        q_text(a, lang),
        stage_text(c, lang),
        pct(c.before_goal_share) if math.isfinite(c.before_goal_share) else DASH,
        milestone_text(c, lang),
        status_text(a, alpha, lang),
    ]


def term_headers(lang: str | None = None) -> list[str]:
    return [t(f"triggers.col.{c}", lang=lang) for c in TERM_COLS]


def term_cells(x: TermStat, lang: str | None = None) -> list[str]:
    a = x.stats
    return [x.term, x.lang, f"{a.won:,}", f"{a.lost:,}", z_text(a), q_text(a, lang)]


def counts_line(result: TriggersResult, lang: str | None = None) -> str:
    c = result.counts
    return t(
        "triggers.counts",
        lang=lang,
        notes=f"{c.before_close:,}",
        ja=f"{c.by_lang.get('ja', 0):,}",
        en=f"{c.by_lang.get('en', 0):,}",
        mixed=f"{c.by_lang.get('mixed', 0):,}",
        won=f"{c.leads_won:,}",
        lost=f"{c.leads_lost:,}",
        open=f"{c.leads_open:,}",
        after=f"{c.after_close:,}",
    )


def tested_line(result: TriggersResult, lang: str | None = None) -> str:
    return t(
        "triggers.tested",
        lang=lang,
        tested=f"{result.tested:,}",
        min_count=result.settings["min_count"],
    )


def goal_line(result: TriggersResult, lang: str | None = None) -> str:
    if result.goal is None:
        return t("triggers.no_goal", lang=lang)
    return t("triggers.goal_line", lang=lang, goal=result.goal.label(lang))


def grid_line(result: TriggersResult, lang: str | None = None) -> str:
    """What the goals grid with the note milestones recommends; empty when it did not run."""
    if not result.milestones_tried:
        return ""
    tried = f"{result.milestones_tried:,}"
    if result.goal_with_notes is None:
        return t("triggers.grid_none", lang=lang, tried=tried)
    return t("triggers.grid_line", lang=lang, tried=tried, goal=result.goal_with_notes.label(lang))


def outcome_text(outcome: str, lang: str | None = None) -> str:
    return t(f"triggers.outcome.{outcome}", lang=lang)


def snippet_text(s: Snippet, lang: str | None = None) -> Text:
    """The snippet with its phrase highlighted, then the outcome and the lead (never markup)."""
    before, phrase, after = s.parts()
    out = Text("  「")
    out.append(before)
    out.append(phrase, style="bold reverse")
    out.append(after)
    out.append(f"」 ({outcome_text(s.outcome, lang)}, {s.lead_id})", style="dim")
    return out


def render_triggers(result: TriggersResult, console: Console, *, top: int = 10) -> None:
    """Print the headline, the category table, the top terms, examples and caveats."""
    lang = get_lang()
    alpha = result.settings.get("alpha", 0.05)
    console.print(f"[bold]{t('triggers.heading')}[/bold]")
    console.print(f"[bold green]{escape(result.sentence())}[/bold green]")
    if result.milestone_sentence():
        console.print(escape(result.milestone_sentence()))
    console.print(escape(counts_line(result)))
    console.print(escape(tested_line(result)))

    table = Table(title=t("triggers.categories_title"), title_justify="left")
    for i, h in enumerate(category_headers()):
        left = CATEGORY_COLS[i] in ("category", "polarity", "stage", "milestone", "status")
        table.add_column(escape(h), justify="left" if left else "right", overflow="fold")
    for c in result.categories:
        if not c.stats.won + c.stats.lost:
            continue  # never mentioned: named in the caveat
        style = None if c.stats.significant(alpha) and not c.stats.proxy else "dim"
        table.add_row(*(escape(x) for x in category_cells(c, alpha)), style=style)
    console.print(table)
    console.print(escape(goal_line(result)), style="dim")
    if grid_line(result):
        console.print(escape(grid_line(result)), style="dim")

    for sign, key in ((1, "triggers.terms_won_title"), (-1, "triggers.terms_lost_title")):
        terms = result.top_terms(top, sign)
        if not terms:
            continue
        tt = Table(title=t(key), title_justify="left")
        for i, h in enumerate(term_headers()):
            tt.add_column(escape(h), justify="left" if i < 2 else "right", overflow="fold")
        for x in terms:
            tt.add_row(*(escape(v) for v in term_cells(x)))
        console.print(tt)

    shown = [c for c in result.significant() if c.examples]
    if shown:
        console.print(f"[bold]{t('triggers.examples_title')}[/bold]")
        for c in shown:
            console.print(Text(c.label(lang), style="bold"))
            for s in c.examples:
                console.print(snippet_text(s, lang))
    elif not result.settings.get("snippets", True):
        console.print(escape(t("triggers.report.no_examples")), style="dim")
    console.print(escape(t("triggers.legend")), style="dim")
    for caveat in result.caveats:
        console.print(f"[yellow]! {escape(caveat.text())}[/yellow]")
