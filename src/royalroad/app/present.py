"""Tables and lines the app shows, built from results (pure; the script only displays them).

Column headers reuse the catalogue keys of the terminal presenters, so the app, the
terminal and the report name the same things the same way.
"""

from __future__ import annotations

from royalroad.app.logic import format_label


def settings_text(settings: dict, lang: str) -> str:
    """The analysis settings behind a result, in one line."""
    from royalroad.i18n import t

    return t(
        "app.results.settings",
        lang=lang,
        adjust=", ".join(settings.get("adjust") or ()) or "–",
        max_count=settings.get("max_count", "–"),
        windows=", ".join(str(w) for w in settings.get("windows") or ()) or "–",
        pairs=len(settings.get("pairs_among") or ()),
        as_of=settings.get("as_of") or "–",
    )


def files_frame(quality, lang: str):
    """One row per file: table, file, format (encoding, delimiter, sheet), mapping, rows."""
    import pandas as pd

    from royalroad.i18n import t

    rows = []
    for f in quality.files:
        rows.append(
            {
                t("summary.col.table", lang=lang): f.table,
                t("summary.col.file", lang=lang): f.file,
                t("summary.col.format", lang=lang): format_label(f),
                t("summary.col.preset", lang=lang): f"{f.preset}: {f.mapping}",
                t("summary.col.read", lang=lang): f.rows_read,
                t("summary.col.accepted", lang=lang): f.accepted,
                t("summary.col.quarantined", lang=lang): f.quarantined,
            }
        )
    return pd.DataFrame(rows)


def quality_notes(quality, lang: str) -> list[str]:
    """What the ingest skipped, kept aside or noticed, one sentence each (as the CLI says it)."""
    from royalroad.presenters.notes import data_notes, file_notes

    return [*file_notes(quality, lang), *data_notes(quality, lang)]


def reasons_frame(quality, lang: str):
    """Quarantine reasons with their counts and first examples."""
    import pandas as pd

    from royalroad.i18n import t

    rows = []
    for r in quality.reasons:
        examples = "; ".join(
            t(
                "summary.example",
                lang=lang,
                line=e.line,
                column=e.column or "-",
                value=e.value if e.value is not None else "∅",
            )
            for e in r.examples
        )
        rows.append(
            {
                t("summary.col.reason", lang=lang): t(f"quarantine.{r.reason}", lang=lang),
                t("summary.col.file", lang=lang): r.file,
                t("summary.col.count", lang=lang): r.count,
                t("summary.col.examples", lang=lang): examples,
            }
        )
    return pd.DataFrame(rows)


def candidates_frame(goals, lang: str, *, top: int = 30):
    """The ranked milestones, one row per family (★ the goal), as the terminal shows them."""
    import pandas as pd

    from royalroad.i18n import has, t
    from royalroad.presenters import format as fmt

    rows = []
    goal = goals.recommended
    for fam in goals.families()[:top]:
        c = fam.best
        status = "eligible" if c.eligible else (c.why_not or "")
        adjusted = c.adjusted_odds_ratio
        lo, hi = c.win_rate_ci
        status_key = f"goal.status.{status}"
        rows.append(
            {
                t("goal.col.milestone", lang=lang): ("★ " if c is goal else "")
                + c.label(lang)
                + (f" (+{len(fam.variants)})" if fam.variants else ""),
                t("goal.col.leads", lang=lang): c.leads,
                t("goal.col.wonlost", lang=lang): f"{c.won}/{c.lost}/{c.open}",
                t("goal.col.win_rate", lang=lang): f"{c.win_rate:.0%} ({lo:.0%}–{hi:.0%})",
                t("goal.col.lift", lang=lang): round(c.lift, 2),
                t("goal.col.recall", lang=lang): f"{c.recall:.0%}",
                t("goal.col.mcc", lang=lang): round(c.mcc, 3),
                t("goal.col.odds_ratio", lang=lang): fmt.odds_ratio_text(
                    c.odds_ratio, None, c.odds_ratio_zero_cell, lang
                ),
                t("goal.col.q", lang=lang): fmt.p_value_text(c.q_value, lang),
                t("goal.col.adjusted", lang=lang): None if adjusted is None else round(adjusted, 2),
                t("goal.col.status", lang=lang): t(status_key, lang=lang)
                if has(status_key)
                else status,
            }
        )
    return pd.DataFrame(rows)
