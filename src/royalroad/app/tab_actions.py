"""The app's "This week's actions" tab: open leads by owner, the advice and why, and
the CRM CSV for the owner picked."""

from __future__ import annotations

import io

from royalroad.analysis.nba_result import NextResult
from royalroad.i18n import t

SHOWN = 2_000
"""Open leads the tab's table shows (this week's first); the CSV has every one."""


def owner_filter(owner: str | None):
    """Arrow expression: the leads of ``owner`` (None: those without one)."""
    import pyarrow.compute as pc

    return pc.field("owner").is_null() if owner is None else pc.field("owner") == owner


def actions_frame(
    nxt: NextResult,
    lang: str,
    owner: str | None = None,
    *,
    all_: bool = True,
    limit: int | None = SHOWN,
):
    """The first ``limit`` open leads in this week's order (stalled, sales-ready,
    longest idle first), with translated headers; only ``owner``'s when ``all_`` is
    False."""
    import pandas as pd

    from royalroad.presenters.nba_terminal import (
        action_label,
        gain_text,
        pwin_breakdown,
    )

    rows = nxt.ordered(lang, limit, where=None if all_ else owner_filter(owner))
    out = []
    for r in rows:
        row = {t("nba.col.lead", lang=lang): r["lead_id"]}
        if nxt.owner_column:
            row[t("nba.col.owner", lang=lang)] = r["owner"]
        row |= {
            t("nba.col.status", lang=lang): t(f"nba.status.{r['status']}", lang=lang),
            t("nba.col.state", lang=lang): r["state"],
            t("nba.col.action", lang=lang): action_label(r["recommended_action"], lang),
            t("excel.col.action_kind", lang=lang): t(f"nba.kind.{r['action_kind']}", lang=lang)
            if r["action_kind"]
            else None,
            t("nba.col.gain", lang=lang): gain_text(r["gain"], *r["gain_ci"]),
            t("excel.head.advice_reason", lang=lang): r["reason"],
            t("nba.col.now", lang=lang): None
            if r["current_win_rate"] is None
            else round(100 * r["current_win_rate"]),
            t("pwin.made_up", lang=lang): pwin_breakdown(r, lang),
            t("nba.col.idle", lang=lang): None if r["days_idle"] is None else round(r["days_idle"]),
            t("report.actions.stalled_col", lang=lang): bool(r["stalled"]),
        }
        out.append(row)
    return pd.DataFrame(out)


def csv_bytes(nxt: NextResult, owner: str | None = None, *, all_: bool = True) -> bytes:
    """The CRM import CSV (UTF-8 with BOM, formula-safe) for everyone or one owner."""
    from royalroad.presenters.nba_csv import write_next_csv

    buf = io.StringIO(newline="")
    write_next_csv(nxt, buf, owner=owner, every_owner=all_)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render(st, nxt: NextResult, lang: str) -> None:
    """Draw the tab (``st`` is the streamlit module)."""
    st.text(
        t(
            "nba.summary",
            lang=lang,
            ready=f"{nxt.sales_ready:,}",
            nurture=f"{nxt.nurture:,}",
            stalled=f"{nxt.stalled:,}",
            goal=nxt.goal or "–",
        )
    )
    owner, all_ = None, True
    if nxt.owner_column:
        everyone = t("app.actions.everyone", lang=lang)
        nobody = t("report.actions.no_owner", lang=lang)
        choices = [everyone] + [o if o is not None else nobody for o in nxt.owners()]
        picked = st.selectbox(t("app.actions.owner", lang=lang), choices, key="rr_owner")
        all_ = picked == everyone
        owner = None if all_ or picked == nobody else picked
    st.dataframe(actions_frame(nxt, lang, owner, all_=all_), hide_index=True, width="stretch")
    total = nxt.count(None if all_ else owner_filter(owner))
    if total > SHOWN:
        st.caption(t("app.actions.more", lang=lang, shown=f"{SHOWN:,}", n=f"{total:,}"))
    st.download_button(
        t("app.actions.download", lang=lang),
        csv_bytes(nxt, owner, all_=all_),
        file_name="next.csv" if all_ else "next_owner.csv",
        mime="text/csv",
        key="rr_dl_next",
    )
