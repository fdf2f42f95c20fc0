"""The process-mining basics, counted exactly as pm4py counts them.

:func:`dfg` gives what ``pm4py.discover_dfg`` and ``pm4py.get_variants`` give on an
event log: the directly-follows counts, the start and end activities, and the number
of cases per variant (activity sequence), over the complete events of every lead in
journey order (``(ts, seq)``, the order pm4py's stable sort by timestamp gives a log
in file order). Nothing else is computed: no outcome split, no medians (for those,
:func:`~royalroad.analysis.paths.analyse_paths` with ``scope="all"``), which makes it
the cheap call for a process-mining user on a large log. Two queries, both Ibis
expressions: one window over the events for the DFG, one ordered collect per lead for
the variants.

>>> import royalroad as rr
>>> pm = rr.dfg(ws)                                 # doctest: +SKIP
>>> pm.edges[("Register", "Check")], pm.start_activities["Register"]  # doctest: +SKIP
(8, 10)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from royalroad.analysis import journeys as j
from royalroad.backends import ordered_collect
from royalroad.engine import Workspace
from royalroad.errors import InputError


@dataclass(frozen=True)
class ProcessMap:
    """Directly-follows graph, start / end activities and variants of one event log."""

    edges: dict[tuple[str, str], int]
    """(activity, the activity directly after it in a case) → times it happened."""
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    variants: dict[tuple[str, ...], int]
    """Activity sequence → cases that follow it (empty with ``variants=False``)."""
    events: int
    cases: int

    def __repr__(self) -> str:
        return (
            f"ProcessMap(events={self.events:,}, cases={self.cases:,}, "
            f"edges={len(self.edges):,}, variants={len(self.variants):,})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per directly-follows edge: ``src``, ``dst``, ``count``."""
        rows = [(a, b, n) for (a, b), n in sorted(self.edges.items())]
        return pd.DataFrame(rows, columns=["src", "dst", "count"])


def dfg_counts(events: ir.Table) -> ir.Table:
    """Per (activity, next activity in the case): ``n`` and ``starts``; ``nxt`` is NULL
    for a case's last event (the end activities). One window, sorted once per lead."""
    w = ibis.window(group_by=events.lead_key, order_by=events.pos)
    o = events.select(
        "activity",
        nxt=events.activity.lead().over(w),
        rn=ibis.row_number().over(w),
    )
    return o.group_by(["activity", "nxt"]).agg(n=o.count(), starts=o.count(where=o.rn == 0))


def variant_counts(events: ir.Table, *, native: bool = False) -> ir.Table:
    """Per variant (the case's activities in journey order): the cases following it.

    ``native``: the backend collects in order itself (DuckDB's ``list(… ORDER BY …)``,
    twice as fast there as the portable sorted collect of structs)."""
    path = (
        events.activity.collect(order_by=events.pos)
        if native
        else ordered_collect(events, events.activity, events.pos)
    )
    per = events.group_by("lead_key").agg(path=path)
    return per.group_by("path").agg(n=per.count())


def dfg(ws: Workspace, *, scope: str = "all", variants: bool = True) -> ProcessMap:
    """pm4py's ``discover_dfg`` and ``get_variants`` on the workspace's events.

    Parameters
    ----------
    scope : ``all`` (every complete event, pm4py's view) or ``before_close``.
    variants : also count the variants (the second, costlier query).

    Examples
    --------
    >>> pm = dfg(ws)                                       # doctest: +SKIP
    >>> pm.end_activities                                  # doctest: +SKIP
    {'pay compensation': 3, 'reject request': 3}
    """
    if scope not in j.SCOPES:
        raise InputError("paths.bad_scope", value=scope, allowed=", ".join(j.SCOPES))
    ev = j.usable(ws.table("events"), scope).select("lead_key", "activity", "pos")
    df = dfg_counts(ev).execute()
    edges: dict[tuple[str, str], int] = {}
    start: Counter[str] = Counter()
    end: Counter[str] = Counter()
    for act, nxt, n, starts in zip(
        df.activity.astype(str), df.nxt, df.n.astype(int), df.starts.astype(int), strict=True
    ):
        if starts:
            start[act] += starts
        if nxt is None or (isinstance(nxt, float) and pd.isna(nxt)):
            end[act] += n
        else:
            edges[(act, str(nxt))] = n
    var: dict[tuple[str, ...], int] = {}
    if variants:
        table = variant_counts(ev, native=ws.ibis.name == "duckdb").to_pyarrow()
        var = _variant_dict(table.column("path"), table.column("n"))
    return ProcessMap(
        edges=edges,
        start_activities=dict(start),
        end_activities=dict(end),
        variants=var,
        events=int(df.n.sum()),
        cases=int(sum(start.values())),
    )


def _variant_dict(paths: pa.ChunkedArray, counts: pa.ChunkedArray) -> dict[tuple[str, ...], int]:
    """Arrow lists of activities (names or dictionary codes) as a dict of name tuples.

    The names are decoded once per distinct activity and sliced per variant: at 10M
    events (290k variants) ``to_pylist`` then ``tuple(map(str, …))`` per variant took
    ~6 s, as long as the two queries.

    >>> lists = pa.chunked_array([pa.array([["a", "b"], ["a"]])])
    >>> _variant_dict(lists, pa.chunked_array([pa.array([3, 1])]))
    {('a', 'b'): 3, ('a',): 1}
    >>> _variant_dict(pa.chunked_array([], pa.list_(pa.string())), pa.chunked_array([], pa.int64()))
    {}
    """
    lists = paths.combine_chunks()
    values = pc.list_flatten(lists)
    if pa.types.is_dictionary(values.type):
        names = [str(v) for v in values.dictionary.to_pylist()]
        flat = [names[i] for i in values.indices.to_numpy(zero_copy_only=False)]
    else:
        flat = [str(v) for v in values.to_pylist()]
    ends = np.cumsum(pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False))
    starts = ends - pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    n = counts.to_numpy()
    return {
        tuple(flat[a:b]): int(k)
        for a, b, k in zip(starts.tolist(), ends.tolist(), n.tolist(), strict=True)
    }


__all__ = ["ProcessMap", "dfg", "dfg_counts", "variant_counts"]
