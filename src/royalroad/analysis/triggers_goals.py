"""Trigger categories as candidate intermediate goals: "notes mention X" milestones.

Every note that mentions a category becomes an event ``note: <category>`` at the
note's time (notes at or after the close are events after the close, as for logged
activities: they never count toward a milestone, and a category noted mostly there is
an outcome proxy). The workspace shows these events beside the logged ones while the
goal search runs (:meth:`royalroad.engine.Workspace.extra_events`), so each category
is tried with every count and day window ("notes mention 比較資料 within 30 days"),
under the same statistics and the same Benjamini–Hochberg correction as the
activities. They are tried alone, not in pairs, so that the pairs of logged activities
tried stay the same.

>>> activity_name("比較資料")
'note: 比較資料'
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from royalroad.analysis import triggers_queries as q
from royalroad.analysis.goals_result import GoalResult
from royalroad.analysis.triggers_texts import Uploaded, index_texts, uploaded
from royalroad.engine import Workspace
from royalroad.text import dictionary as dic
from royalroad.text.tokens import Tokeniser

PREFIX = "note: "


def activity_name(category: str) -> str:
    """The milestone's activity name: ``note: <category>``."""
    return PREFIX + category


def is_note_milestone(activity: str | None) -> bool:
    return activity is not None and activity.startswith(PREFIX)


def goals_with_mentions(
    ws: Workspace, scoped, up: Uploaded, d: dic.TriggerDictionary, **goal_options: Any
) -> GoalResult:
    """The goals grid with every category's milestone in it (tables already uploaded)."""
    from royalroad.analysis.goals import discover_goals

    names = [activity_name(c.name) for c in d.categories]
    table = pa.table(
        {
            "cat_id": pa.array(range(len(names)), pa.int32()),
            "activity": pa.array(names, pa.string()),
        }
    )
    with ws.materialized(ibis.memtable(table), "tn") as tn:
        extra = q.mention_events(scoped, up.texts, up.cats, tn)
        with ws.extra_events(extra):
            result = discover_goals(ws, single_only=names, **goal_options)
    used = sorted({c.activity for c in result.candidates if is_note_milestone(c.activity)})
    return replace(
        result,
        settings={
            **result.settings,
            "note_milestones": {a: a[len(PREFIX) :] for a in used},
            "triggers": d.source,
        },
    )


def discover_goals_with_triggers(
    ws: Workspace,
    dictionary: str | Path | dic.TriggerDictionary | None = None,
    *,
    tokeniser: Tokeniser | None = None,
    **goal_options: Any,
) -> GoalResult:
    """:func:`~royalroad.analysis.goals.discover_goals` with "notes mention X" milestones
    for every category of the trigger dictionary, beside the activities.

    ``settings["note_milestones"]`` maps each such activity to its category.

    Examples
    --------
    >>> res = discover_goals_with_triggers(ws, adjust=["industry"])   # doctest: +SKIP
    >>> [c.label() for c in res.candidates if is_note_milestone(c.activity)][:2]  # doctest: +SKIP
    ['note: 比較資料', 'note: 比較資料 within 90 days']
    """
    tk = tokeniser or Tokeniser()
    d = dictionary if isinstance(dictionary, dic.TriggerDictionary) else dic.load(dictionary, tk)
    scoped = q.scoped_notes(ws.table("notes"), ws.table("leads"))
    texts = sorted(str(x) for x in q.distinct_texts(scoped).execute()["text"])
    index = index_texts(texts, d.matcher(), tk, terms=False)
    with uploaded(ws, index) as up:
        return goals_with_mentions(ws, scoped, up, d, **goal_options)
