"""Effects within strata: ``--adjust`` segments, creation cohorts and confounding hints.

Three uses of the Mantel–Haenszel odds ratio (Robins–Breslow–Greenland interval):

* **--adjust** (:func:`adjusted`): every candidate stratified by the named segments.
* **Cohorts** (:func:`stratify` by ``created_quarter``): the goal must hold within
  creation quarters even when nobody asked. An activity introduced when the market
  turned looks like a cause because every lead created after it wins more; within a
  quarter that advantage is gone, and so is its effect.
* **Hints** (:func:`hints`): without ``--adjust``, the goal and the top candidates
  stratified by every segment with at most :data:`MAX_SEGMENT_VALUES` values and by
  the creation quarter; a segment within which an effect shrinks a lot is named, with
  the ``--adjust`` that would account for it.

Counting runs in the engine: one query per batch of candidates for every segment at
once (:func:`royalroad.analysis.milestones.stratified_counts`), never one per
candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import milestones as m
from royalroad.analysis.goals_result import Candidate, Caveat
from royalroad.engine import Workspace

COHORT = "created_quarter"
MAX_SEGMENT_VALUES = 50
SHRINK_LOG_SHARE = 0.5
"""An effect shrinks a lot when the stratified log odds ratio is below this share of the
crude one (an odds ratio of 4 becomes less than 2), or its interval covers 1 while the
crude one does not."""

_num = stats.finite


@dataclass(frozen=True)
class Stratum:
    """One stratum's 2×2 counts for one candidate: reached won/lost, all won/lost."""

    value: str | None
    a: int
    b: int
    won: int
    lost: int

    @property
    def table(self) -> np.ndarray:
        return np.array([[self.a, self.b], [self.won - self.a, self.lost - self.b]])


Strata = dict[tuple, dict[str, list[Stratum]]]
"""candidate key → segment → strata."""


def pooled(strata: Sequence[Stratum]) -> tuple[float, float, float]:
    """Mantel–Haenszel odds ratio and interval over ``strata`` (NaN when not estimable)."""
    return stats.mantel_haenszel([s.table for s in strata])


def stratify(
    ws: Workspace,
    occ,
    pair_reach,
    leads,
    cands: Sequence[Candidate],
    segments: Sequence[str],
) -> Strata:
    """Per candidate and segment, the 2×2 table of every stratum (one engine query).

    ``pair_reach`` is :func:`~royalroad.analysis.milestones.pair_reach` over the
    activities of every pair among ``cands`` (None without pairs)."""
    import ibis

    if not cands or not segments:
        return {}
    singles = [c for c in cands if c.then is None]
    pairs = [c for c in cands if c.then is not None]
    cid = {c.key: i for i, c in enumerate(cands)}

    def within(c: Candidate) -> int:
        return m.ANY_TIME if c.within_days is None else int(c.within_days)

    s_tab = (
        ibis.memtable(
            pd.DataFrame(
                {
                    "cid": [cid[c.key] for c in singles],
                    "activity": [c.activity for c in singles],
                    "k": [c.min_count for c in singles],
                    "within": [within(c) for c in singles],
                }
            ).astype({"cid": "int64", "k": "int64", "within": "int64"})
        )
        if singles
        else None
    )
    p_tab = (
        ibis.memtable(
            pd.DataFrame(
                {
                    "cid": [cid[c.key] for c in pairs],
                    "a": [c.activity for c in pairs],
                    "b": [c.then for c in pairs],
                    "within": [within(c) for c in pairs],
                }
            ).astype({"cid": "int64", "within": "int64"})
        )
        if pairs
        else None
    )
    reach = m.candidate_reach(occ, s_tab, p_tab, pair_reach)
    with ws.materialized(reach, "reach") as r:
        df = m.stratified_counts(r, leads, segments).execute()
    return _tables(df, cands, cid, segments)


def _tables(df: pd.DataFrame, cands, cid: dict, segments) -> Strata:
    df = df.assign(value=df.value.astype(object).where(df.value.notna(), None))
    df["v"] = df.value.map(lambda v: "\x00" if v is None else str(v))  # NULL sorts first
    wide = df.pivot_table(
        index=["segment", "v", "cid"], columns="outcome", values="n", aggfunc="sum", fill_value=0
    )
    for o in ("won", "lost"):
        if o not in wide.columns:
            wide[o] = 0
    wide = wide.sort_index()
    out: Strata = {}
    for seg in segments:
        if seg not in wide.index.get_level_values(0):
            continue
        block = wide.loc[seg]
        totals = block.xs(-1, level="cid") if -1 in block.index.get_level_values(1) else None
        if totals is None:
            continue
        for c in cands:
            i = cid[c.key]
            mine = block.xs(i, level="cid") if i in block.index.get_level_values(1) else None
            strata = []
            for v, row in totals.iterrows():
                a = b = 0
                if mine is not None and v in mine.index:
                    a, b = int(mine.at[v, "won"]), int(mine.at[v, "lost"])
                strata.append(
                    Stratum(
                        None if v == "\x00" else str(v), a, b, int(row["won"]), int(row["lost"])
                    )
                )
            out.setdefault(c.key, {})[seg] = strata
    return out


def covers_one(est: tuple[float, float, float]) -> bool:
    """The interval is estimable and reaches down to 1 (the effect disappears)."""
    lo, hi = _num(est[1]), _num(est[2])
    return lo is not None and hi is not None and lo <= 1


def shrink(c: Candidate, est: tuple[float, float, float]) -> float | None:
    """How much of the crude log odds ratio is left within strata (None: no verdict).

    ``< SHRINK_LOG_SHARE``, or an interval that now covers 1 when the crude one did
    not, is "shrinks a lot".
    """
    crude, crude_lo = _num(c.odds_ratio), _num(c.odds_ratio_ci[0])
    adj, adj_lo = _num(est[0]), _num(est[1])
    if crude is None or crude <= 1 or adj is None or adj <= 0 or c.odds_ratio_zero_cell:
        return None
    share = math.log(adj) / math.log(crude)
    lost_significance = crude_lo is not None and crude_lo > 1 and adj_lo is not None and adj_lo <= 1
    if share < SHRINK_LOG_SHARE or lost_significance:
        return share
    return None


def hint_segments(ws: Workspace, leads, skip: Sequence[str] = ()) -> list[str]:
    """Lead segments with 2 to :data:`MAX_SEGMENT_VALUES` values (one engine query)."""
    segs = [s for s in ws.segments() if s not in skip]
    if not segs:
        return []
    sizes = m.segment_sizes(leads, segs).execute().iloc[0]
    return [s for s in segs if 2 <= int(sizes[s] or 0) <= MAX_SEGMENT_VALUES]


def hints(cands: Sequence[Candidate], strata: Strata, n: int = 3) -> list[Caveat]:
    """A caveat per candidate whose effect shrinks a lot within some segment, naming
    the segment (the one it shrinks most within) and the ``--adjust`` to try."""
    out: list[Caveat] = []
    seen: set = set()
    for c in cands:
        if c.family in seen or c.key not in strata:
            continue
        found = []
        for seg, rows in strata[c.key].items():
            est = pooled(rows)
            share = shrink(c, est)
            if share is not None:
                found.append((share, seg, est, rows))
        if not found:
            continue
        seen.add(c.family)
        share, seg, est, rows = min(found, key=lambda f: (f[0], f[1]))
        params = {
            "segment": seg,
            "crude": f"{c.odds_ratio:.2f}",
            "adjusted": f"{est[0]:.2f}",
            "lo": f"{est[1]:.2f}" if _num(est[1]) is not None else "–",
            "hi": f"{est[2]:.2f}" if _num(est[2]) is not None else "–",
        }
        key = "goal.caveat.hint"
        if seg in m.PERIOD_SEGMENTS:
            key = "goal.caveat.hint_period"
            start = first_period(rows)
            if start is not None:
                key = "goal.caveat.hint_period_from"
                params.update(start)
        out.append(Caveat(key, params, milestones=(c,)))
        if len(out) >= n:
            break
    return out


def first_period(rows: Sequence[Stratum]) -> dict | None:
    """When a milestone appears only from some creation period on: that period, and the
    win rate of every lead created before it and from it on."""
    dated = sorted((s for s in rows if s.value is not None), key=lambda s: s.value or "")
    if not dated:
        return None
    first = next((i for i, s in enumerate(dated) if s.a + s.b > 0), None)
    if first is None or first == 0:
        return None
    before, after = dated[:first], dated[first:]
    wb, lb = sum(s.won for s in before), sum(s.lost for s in before)
    wa, la = sum(s.won for s in after), sum(s.lost for s in after)
    if wb + lb == 0 or wa + la == 0:
        return None
    return {
        "period": dated[first].value,
        "before": f"{wb / (wb + lb):.0%}",
        "after": f"{wa / (wa + la):.0%}",
    }


def adjusted(ws: Workspace, max_count: int, grid, top, adjust) -> dict:
    """Mantel–Haenszel odds ratio per candidate, stratified by the ``adjust`` segments."""
    seg = list(adjust)
    leads = m.with_periods(ws.table("leads"), seg)
    e_s = m.journey(ws.table("events"), leads, seg)
    occ_s = m.with_occurrence(e_s, max_count)
    singles = m.single_counts(occ_s, grid, strata=seg)
    pairs = (
        m.pair_counts(m.pair_reach(e_s, occ_s, top, seg), grid, strata=seg)
        if len(top) > 1
        else None
    )
    base = m.base_counts(leads, seg).execute()
    key_cols = seg

    def skey(df):
        return (
            df[key_cols]
            .astype(object)
            .where(df[key_cols].notna(), "∅")
            .astype(str)
            .agg("\x1f".join, axis=1)
        )

    base["s"] = skey(base)
    totals = base.pivot_table(index="s", columns="outcome", values="n", aggfunc="sum", fill_value=0)
    out: dict = {}
    for df, is_pair in ((singles, False), (pairs, True)):
        if df is None or not len(df):
            continue
        group_cols = ["a", "b"] if is_pair else ["activity", "k"]
        # Engine output order is arbitrary; sort so float sums are the same every run.
        df = df.assign(s=skey(df)).sort_values([*group_cols, "s"], kind="stable")
        for keys, g in df.groupby(group_cols, sort=True):
            for i, d in enumerate(grid):
                tables = []
                for s_, row in zip(g.s, g.itertuples(index=False), strict=True):
                    a, b = int(getattr(row, f"won_{i}")), int(getattr(row, f"lost_{i}"))
                    w_s = int(totals.at[s_, "won"]) if "won" in totals.columns else 0
                    l_s = int(totals.at[s_, "lost"]) if "lost" in totals.columns else 0
                    tables.append(np.array([[a, b], [w_s - a, l_s - b]]))
                # strata where nobody reached the milestone still inform the estimate
                reached = set(g.s)
                for s_ in totals.index:
                    if s_ not in reached:
                        w_s = int(totals.at[s_, "won"]) if "won" in totals.columns else 0
                        l_s = int(totals.at[s_, "lost"]) if "lost" in totals.columns else 0
                        tables.append(np.array([[0, 0], [w_s, l_s]]))
                key = (keys[0], keys[1], 1, d) if is_pair else (keys[0], None, int(keys[1]), d)
                out[key] = stats.mantel_haenszel(tables)
    return out
