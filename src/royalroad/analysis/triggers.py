"""Decision triggers in sales notes: what winners' notes say that losers' do not, when it
is noted, and whether it works as an intermediate goal.

How it works (``docs/statistics.md`` explains it for users):

1. **Text.** The distinct note texts go through the tokeniser once (SudachiPy for
   Japanese, a plain tokenizer for English, negation kept: :mod:`royalroad.text`);
   terms are words and word pairs, and the trigger dictionary's categories match on
   the same normalised words. Personal data never becomes a term.
2. **Counts in the engine.** Per term and category, the won, lost and open leads
   whose notes mention it — only notes written strictly before the close; notes at or
   after it are counted apart (:mod:`~royalroad.analysis.triggers_queries`).
3. **Association** (:mod:`~royalroad.analysis.triggers_stats`). Among closed leads,
   Monroe et al.'s log-odds ratio with an informative Dirichlet prior and its z-score;
   terms and categories mentioned by at least ``min_count`` closed leads are tested,
   with one Benjamini–Hochberg q over all of them. A term noted mostly at or after the
   close, right at it, or in one outcome class only is an outcome proxy (受注のお礼).
4. **Stage.** For each category, the lead's last activity before each note that
   mentions it, and the share of those notes written before the lead reached the
   intermediate goal (of the leads that reached it): the moment attitudes change.
5. **As a goal.** Each category becomes a milestone "notes mention X" and competes in
   the goals grid, inside its false-discovery correction
   (:mod:`~royalroad.analysis.triggers_goals`).
6. **Examples.** Up to three masked snippets per top term and category.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import triggers_queries as q
from royalroad.analysis import triggers_stats as ts
from royalroad.analysis.goals_result import Candidate, Caveat, GoalResult
from royalroad.analysis.triggers_result import (
    Association,
    CategoryStat,
    NoteCounts,
    Snippet,
    StageShare,
    TermStat,
    TriggersResult,
)
from royalroad.analysis.triggers_texts import TextIndex, Uploaded, index_texts, uploaded
from royalroad.engine import Workspace
from royalroad.errors import InputError
from royalroad.text import dictionary as dic
from royalroad.text.snippets import snippet
from royalroad.text.tokens import Tokeniser

DEFAULT_MIN_COUNT = 10
DEFAULT_TOP = 15
EXAMPLES = 3
EXAMPLE_POOL = 8
"""Distinct texts per term and outcome fetched to pick the examples from."""
STAGES = 3
MIN_CLOSED_WITH_NOTES = 30
MIN_CLASS_WITH_NOTES = 10


def triggers(
    ws: Workspace,
    *,
    dictionary: str | Path | dic.TriggerDictionary | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    prior: float = ts.DEFAULT_PRIOR,
    alpha: float = 0.05,
    top: int = DEFAULT_TOP,
    snippets: bool = True,
    goals: GoalResult | None = None,
    milestones: bool = True,
    goal_options: dict[str, Any] | None = None,
    tokeniser: Tokeniser | None = None,
) -> TriggersResult:
    """Mine the notes for decision triggers and tie them to the outcome and the journey.

    Parameters
    ----------
    ws : Workspace
        Canonical tables with ``notes`` (see :func:`royalroad.ingest`).
    dictionary : path, TriggerDictionary or None
        A YAML trigger dictionary extending or replacing the defaults
        (``royalroad/text/triggers.yaml``).
    min_count : int
        Closed leads that must mention a term or category for it to be tested.
    prior : float
        Strength of the informative Dirichlet prior: the pooled counts times ``prior``.
    top : int
        Terms per direction (toward wins, toward losses) that get examples.
    snippets : bool
        False leaves every example out (nothing of a note's text leaves the workspace
        but the terms themselves).
    goals : GoalResult, optional
        The goal search already run (activities only); run here when None.
    milestones : bool
        Also run the goals grid with "notes mention X" milestones beside the activities.
    goal_options : dict, optional
        Keyword arguments of :func:`~royalroad.analysis.goals.discover_goals` for both
        goal searches (``adjust``, ``windows``, ``pairs``…).

    Examples
    --------
    >>> import royalroad as rr                                    # doctest: +SKIP
    >>> res = rr.triggers(ws)                                     # doctest: +SKIP
    >>> print(res.sentence("en")); res.categories_frame()         # doctest: +SKIP
    """
    check_options(min_count, prior, alpha)
    tk = tokeniser or Tokeniser()
    d = dictionary if isinstance(dictionary, dic.TriggerDictionary) else dic.load(dictionary, tk)
    leads, events = ws.table("leads"), ws.table("events")
    scoped = q.scoped_notes(ws.table("notes"), leads)
    texts = sorted(str(x) for x in q.distinct_texts(scoped).execute()["text"])
    index = index_texts(texts, d.matcher(), tk)
    if goals is None:
        from royalroad.analysis.goals import discover_goals

        goals = discover_goals(ws, **(goal_options or {}))
    goal = goals.recommended
    with ExitStack() as stack:
        up = stack.enter_context(uploaded(ws, index))
        counts = _counts(scoped, up, index)
        term_df = q.mention_counts(scoped, up.texts, up.terms, "term_id").execute()
        cat_df = q.mention_counts(scoped, up.texts, up.cats, "cat_id").execute()
        term_df, cat_df, tested = _associate(term_df, cat_df, index, d, counts, min_count, prior)
        moment = q.goal_moment(events, leads, goal) if goal is not None else None
        stage_df = q.stage_counts(scoped, up.texts, up.cats, events, moment).execute()
        cats = _categories(cat_df, stage_df, d, counts)
        terms = _terms(term_df, index)
        if snippets:
            terms, cats = _examples(tk, scoped, up, terms, cats, d, alpha, top)
        tried, best = 0, None
        if milestones:
            from royalroad.analysis.triggers_goals import goals_with_mentions

            grid = goals_with_mentions(ws, scoped, up, d, **(goal_options or {}))
            tried, best = len(grid.candidates), grid.recommended
            cats = _with_milestones(cats, grid)
    return TriggersResult(
        counts=counts,
        categories=tuple(cats),
        terms=tuple(terms),
        goal=goal,
        milestones_tried=tried,
        goal_with_notes=best,
        tested=tested,
        caveats=tuple(_caveats(counts, cats, d, min_count)),
        settings={
            "min_count": min_count,
            "prior": prior,
            "alpha": alpha,
            "top": top,
            "snippets": snippets,
            "milestones": milestones,
            "dictionary": d.source,
            "base_rate": goals.base_rate,
            "as_of": ws.meta().get("as_of"),
        },
    )


def has_notes(ws: Workspace) -> bool:
    """Whether any note was written before a close (or by the as-of date for open leads):
    what ``analyze`` asks before it mines the notes."""
    notes = ws.table("notes")  # an engine without a notes table has an empty one
    return bool(notes.filter(notes.mark.isnull()).count().execute())


def check_options(min_count: int, prior: float, alpha: float) -> None:
    """The options, checked before anything heavy runs (one line, exit code 2)."""
    if min_count < 1:
        raise InputError("triggers.bad_min_count", value=min_count)
    if not prior > 0:
        raise InputError("triggers.bad_prior", value=prior)
    if not 0 < alpha < 1:
        raise InputError("goal.bad_alpha", value=alpha)


def _counts(scoped, up: Uploaded, index: TextIndex) -> NoteCounts:
    by_outcome, by_lang = q.note_counts(scoped, up.texts)
    bo = by_outcome.execute()
    bl = by_lang.execute()

    def get(phase: str, outcome: str | None, col: str) -> int:
        rows = bo[bo.phase == phase]
        if outcome is not None:
            rows = rows[rows.outcome == outcome]
        return int(rows[col].sum())

    before, after = get("before", None, "notes"), get("after_close", None, "notes")
    return NoteCounts(
        notes=before + after,
        before_close=before,
        after_close=after,
        leads_won=get("before", "won", "leads"),
        leads_lost=get("before", "lost", "leads"),
        leads_open=get("before", "open", "leads"),
        by_lang={str(r.lang): int(r.notes) for r in bl.sort_values("lang").itertuples()},
        distinct_texts=index.texts.num_rows,
        vocabulary=len(index.vocabulary),
    )


def _associate(term_df, cat_df, index: TextIndex, d, counts: NoteCounts, min_count, prior):
    """δ, z, p and one BH q over every term and category mentioned by enough closed leads."""
    n_won = float(term_df["won"].sum())
    n_lost = float(term_df["lost"].sum())
    n_all = n_won + n_lost + float(term_df["open"].sum())
    cat_df = (
        pd.DataFrame({"cat_id": np.arange(len(d.categories), dtype=np.int32)})
        .merge(cat_df, on="cat_id", how="left")
        .fillna({c: 0 for c in ("won", "lost", "open", "notes_closed", "notes_after")})
    )
    parts = []
    for df in (term_df, cat_df):
        df = df.copy()
        if len(df) and n_won > 0 and n_lost > 0:
            df["delta"], df["z"] = ts.score(df, n_won, n_lost, n_all, prior)
        else:
            df["delta"], df["z"] = np.nan, np.nan
        df["tested"] = (df["won"] + df["lost"] >= min_count) & np.isfinite(df["z"])
        df["p"] = np.where(df["tested"], ts.two_sided_p(df["z"].fillna(0)), np.nan)
        parts.append(df)
    pvals = np.concatenate([p.loc[p.tested, "p"].to_numpy() for p in parts])
    qvals = stats.bh(pvals.tolist())
    at = 0
    for df in parts:
        k = int(df.tested.sum())
        df["q"] = np.nan
        df.loc[df.tested, "q"] = qvals[at : at + k]
        at += k
        reasons = [ts.proxy_reason(r) for r in df.itertuples()]
        df["proxy"] = [r for r, _ in reasons]
        df["proxy_params"] = [p for _, p in reasons]
    return parts[0], parts[1], len(pvals)


def _assoc(r) -> Association:
    return Association(
        won=int(r.won),
        lost=int(r.lost),
        open=int(r.open),
        log_odds=float(r.delta),
        z=float(r.z),
        p_value=float(r.p),
        q_value=float(r.q),
        tested=bool(r.tested),
        proxy=r.proxy if isinstance(r.proxy, str) else None,  # pandas may hold None as NaN
        proxy_params=r.proxy_params if isinstance(r.proxy, str) else {},
    )


def _terms(term_df: pd.DataFrame, index: TextIndex) -> list[TermStat]:
    df = term_df[term_df.tested].copy()
    df["term"] = [index.vocabulary[i][0] for i in df.term_id]
    df["lang"] = [index.vocabulary[i][1] for i in df.term_id]
    df = df.sort_values(["z", "term"], ascending=[False, True])
    return [TermStat(r.term, r.lang, _assoc(r)) for r in df.itertuples()]


def _categories(cat_df, stage_df: pd.DataFrame, d, counts: NoteCounts) -> list[CategoryStat]:
    out = []
    for r in cat_df.itertuples():
        c = d.categories[int(r.cat_id)]
        st = stage_df[stage_df.cat_id == r.cat_id]
        total = int(st.notes.sum())
        rows = sorted(
            (
                (int(x.notes), "" if x.stage is None or x.stage != x.stage else str(x.stage))
                for x in st.itertuples()
            ),
            key=lambda p: (-p[0], p[1]),
        )
        stages = tuple(StageShare(act or None, n, n / total) for n, act in rows[:STAGES] if total)
        day = r.day if "day" in cat_df.columns else None
        out.append(
            CategoryStat(
                category=c.name,
                label_en=c.label_en,
                label_ja=c.label_ja,
                polarity=c.polarity,
                stats=_assoc(r),
                won_share=r.won / counts.leads_won if counts.leads_won else math.nan,
                lost_share=r.lost / counts.leads_lost if counts.leads_lost else math.nan,
                stages=stages,
                before_goal=int(st.before_goal.sum()),
                after_goal=int(st.after_goal.sum()),
                without_goal=int(st.without_goal.sum()),
                median_day=float(day) if day is not None and pd.notna(day) else None,
            )
        )
    tested = sorted((c for c in out if c.stats.tested), key=lambda c: (-c.stats.z, c.category))
    rest = [c for c in out if not c.stats.tested]
    return tested + rest


def _examples(tk, scoped, up: Uploaded, terms, cats, d, alpha, top):
    """Up to three masked snippets for every top term (each direction) and category."""
    ex_terms = {t.term for s in (1, -1) for t in _top(terms, alpha, top, s)}
    vocab = {x: i for i, x in enumerate(up.index.vocabulary)}
    term_ids = [vocab[(t.term, t.lang)] for t in terms if t.term in ex_terms]
    name_to_id = {c.name: i for i, c in enumerate(d.categories)}
    cat_ids = [name_to_id[c.category] for c in cats if c.stats.won + c.stats.lost > 0]
    pools: dict[tuple[str, int, str], list] = {}
    for kind, pairs, key, ids in (
        ("term", up.terms, "term_id", term_ids),
        ("cat", up.cats, "cat_id", cat_ids),
    ):
        if ids:
            df = q.example_notes(scoped, up.texts, pairs, key, ids, EXAMPLE_POOL).execute()
            for r in df.sort_values([key, "outcome", "r"]).itertuples():
                pools.setdefault((kind, int(getattr(r, key)), r.outcome), []).append(r)

    def pick(kind: str, ident: int, z: float, words) -> tuple[Snippet, ...]:
        first, second = ("won", "lost") if not (z < 0) else ("lost", "won")
        out: list[Snippet] = []
        seen: set[str] = set()
        for outcome in (first, second):
            for r in pools.get((kind, ident, outcome), []):
                got = snippet(tk, r.text, words)
                if got is None or got[0] in seen:
                    continue
                seen.add(got[0])
                out.append(Snippet(got[0], got[1], got[2], outcome, str(r.lead_id)))
                if len(out) == EXAMPLES:
                    return tuple(out)
        return tuple(out)

    terms = [
        replace(t, examples=pick("term", vocab[(t.term, t.lang)], t.stats.z, [t.term.split(" ")]))
        if t.term in ex_terms
        else t
        for t in terms
    ]
    cats = [
        replace(
            c,
            examples=pick(
                "cat",
                name_to_id[c.category],
                c.stats.z,
                d.categories[name_to_id[c.category]].words,
            ),
        )
        for c in cats
    ]
    return terms, cats


def _top(terms: list[TermStat], alpha: float, n: int, sign: int) -> list[TermStat]:
    ok = [
        t
        for t in terms
        if not t.stats.proxy and t.stats.significant(alpha) and sign * t.stats.z > 0
    ]
    return ok[:n] if sign > 0 else ok[::-1][:n]


def _with_milestones(cats: list[CategoryStat], grid: GoalResult) -> list[CategoryStat]:
    """Each category's milestone: its best eligible variant (in the grid's ranking), else
    the plain one ("notes mention X" at least once, any time)."""
    from royalroad.analysis.triggers_goals import activity_name

    chosen: dict[str, Candidate] = {}
    for m in grid.candidates:  # in rank order
        if m.then is None and m.eligible:
            chosen.setdefault(m.activity, m)
    by_key = {m.key: m for m in grid.candidates}
    out = []
    for c in cats:
        name = activity_name(c.category)
        out.append(replace(c, milestone=chosen.get(name) or by_key.get((name, None, 1, None))))
    return out


def _caveats(counts: NoteCounts, cats, d, min_count: int) -> list[Caveat]:
    out = []
    if counts.before_close == 0:
        out.append(Caveat("triggers.caveat.no_notes", {}))
        return out
    closed = counts.leads_won + counts.leads_lost
    if (
        closed < MIN_CLOSED_WITH_NOTES
        or min(counts.leads_won, counts.leads_lost) < MIN_CLASS_WITH_NOTES
    ):
        out.append(
            Caveat(
                "triggers.caveat.few_leads",
                {"won": counts.leads_won, "lost": counts.leads_lost},
            )
        )
    if counts.after_close:
        out.append(Caveat("triggers.caveat.after_close", {"n": f"{counts.after_close:,}"}))
    untested = [c.category for c in cats if not c.stats.tested]
    if untested:
        out.append(
            Caveat(
                "triggers.caveat.untested",
                {"categories": ", ".join(untested), "min_count": min_count},
            )
        )
    proxies = [c.category for c in cats if c.stats.proxy]
    if proxies:
        out.append(Caveat("triggers.caveat.proxies", {"categories": ", ".join(proxies)}))
    return out
