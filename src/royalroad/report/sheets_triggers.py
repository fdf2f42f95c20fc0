"""Workbook sheets of the trigger analysis: the categories (with their stage and their
milestone), the terms tested, and the masked examples.

Row 1 (hidden) holds the names of the JSON fields, row 2 the translated headers. Every
text cell (terms, snippets, category names) is user text: the writer stores it with
``write_string`` and quote-prefixes formula-like text (:mod:`royalroad.report.safe`).
"""

from __future__ import annotations

from royalroad.analysis.triggers_result import TriggersResult
from royalroad.i18n import t
from royalroad.report.sheet import Column, Table


def _col(name: str, kind: str, header: str | None = None) -> Column:
    return Column(name, kind, header or f"triggers.col.{name}")


CATEGORY_COLUMNS = (
    _col("category", "text"),
    _col("label", "text"),
    _col("polarity", "text"),
    _col("won", "int"),
    _col("lost", "int"),
    _col("open", "int"),
    _col("won_share", "pct"),
    _col("lost_share", "pct"),
    _col("log_odds", "ratio"),
    _col("z", "ratio"),
    _col("p", "p"),
    _col("q", "p"),
    _col("tested", "bool"),
    _col("proxy", "text"),
    _col("top_stage", "text", "triggers.col.stage"),
    _col("top_stage_share", "pct", "triggers.col.stage"),
    _col("before_goal", "int", "triggers.col.before_goal_notes"),
    _col("after_goal", "int"),
    _col("without_goal", "int"),
    _col("before_goal_share", "pct", "triggers.col.before_goal"),
    _col("median_day", "dec1"),
    _col("milestone", "text"),
    _col("milestone_win_rate", "pct"),
    _col("milestone_q", "p"),
    _col("eligible", "bool"),
)
TERM_COLUMNS = (
    _col("term", "text"),
    _col("lang", "text"),
    _col("won", "int"),
    _col("lost", "int"),
    _col("open", "int"),
    _col("log_odds", "ratio"),
    _col("z", "ratio"),
    _col("p", "p"),
    _col("q", "p"),
    _col("proxy", "text"),
)
EXAMPLE_COLUMNS = (
    _col("category", "text"),
    _col("term", "text"),
    _col("outcome", "text"),
    _col("lead_id", "text"),
    _col("example", "text"),
    _col("phrase", "text", "triggers.col.term"),
)


def triggers(result: TriggersResult | None, lang: str) -> list[Table]:
    """Three sheets (empty, with their headers, when there are no notes)."""
    if result is None:
        return [
            Table("triggers_categories", CATEGORY_COLUMNS, (), freeze_cols=1),
            Table("triggers_terms", TERM_COLUMNS, (), freeze_cols=1),
            Table("triggers_examples", EXAMPLE_COLUMNS, (), freeze_cols=1),
        ]
    cats = []
    for c in result.categories:
        a, m, top = c.stats, c.milestone, c.top_stage
        cats.append(
            (
                c.category,
                c.label(lang),
                t(f"triggers.polarity.{c.polarity}", lang=lang),
                a.won,
                a.lost,
                a.open,
                c.won_share,
                c.lost_share,
                a.log_odds if a.tested else None,
                a.z if a.tested else None,
                a.p_value if a.tested else None,
                a.q_value if a.tested else None,
                a.tested,
                t(f"triggers.proxy.{a.proxy}", lang=lang, **a.proxy_params) if a.proxy else None,
                (top.activity or t("triggers.stage.none", lang=lang)) if top else None,
                top.share if top else None,
                c.before_goal,
                c.after_goal,
                c.without_goal,
                c.before_goal_share,
                c.median_day,
                m.label(lang) if m else None,
                m.win_rate if m else None,
                m.q_value if m else None,
                m.eligible if m else None,
            )
        )
    terms = tuple(
        (
            x.term,
            x.lang,
            x.stats.won,
            x.stats.lost,
            x.stats.open,
            x.stats.log_odds,
            x.stats.z,
            x.stats.p_value,
            x.stats.q_value,
            t(f"triggers.proxy.{x.stats.proxy}", lang=lang, **x.stats.proxy_params)
            if x.stats.proxy
            else None,
        )
        for x in result.terms
    )
    examples: list[tuple[str | None, ...]] = []
    for c in result.categories:
        for s in c.examples:
            examples.append(
                (
                    c.label(lang),
                    None,
                    t(f"triggers.outcome.{s.outcome}", lang=lang),
                    s.lead_id,
                    s.text,
                    s.text[s.start : s.end],
                )
            )
    for x in result.terms:
        for s in x.examples:
            examples.append(
                (
                    None,
                    x.term,
                    t(f"triggers.outcome.{s.outcome}", lang=lang),
                    s.lead_id,
                    s.text,
                    s.text[s.start : s.end],
                )
            )
    return [
        Table("triggers_categories", CATEGORY_COLUMNS, tuple(cats), freeze_cols=1),
        Table("triggers_terms", TERM_COLUMNS, terms, freeze_cols=1),
        Table("triggers_examples", EXAMPLE_COLUMNS, tuple(examples), freeze_cols=1),
    ]
