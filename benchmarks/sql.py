"""Hand-written DuckDB SQL: the baselines royalroad's Ibis queries are measured against.

Each query is what an analyst fluent in DuckDB would write by hand for the same
table, with the same semantics as :mod:`royalroad.analysis.milestones`:

* only events with ``mark IS NULL`` feed milestones (strictly before the close);
* an activity's occurrences are numbered 1, 2, … by ``(ts, seq)``. Partitioning
  this window by ``(lead_id, activity)`` is faster in DuckDB 2.0.1 than by the
  workspace's ``(lead_key, activity) ORDER BY pos`` (4.2 vs 5.7 s at 10M events),
  so the baseline keeps the faster form; the process-mining queries below use
  ``lead_key`` and ``pos``, which are faster there;
* ``day`` is days since creation, ``close_day`` days from creation to the close;
* NULL comparisons behave as in SQL (a lead without ``created_at`` only counts in
  the "any time" window), exactly as the Ibis expressions compile.
"""

from __future__ import annotations

from collections.abc import Sequence

WINDOWS: tuple[int | None, ...] = (7, 14, 30, 60, 90, 180, None)
MAX_COUNT = 5
OUTCOMES = ("won", "lost", "open")


def _aggs(windows: Sequence[int | None], medians: bool) -> str:
    out = []
    for i, d in enumerate(windows):
        within = f"day <= {d}" if d is not None else "TRUE"
        for o in OUTCOMES:
            out.append(f"count(*) FILTER (WHERE {within} AND outcome = '{o}') AS {o}_{i}")
        if medians:
            out.append(f"quantile_cont(day, 0.5) FILTER (WHERE {within}) AS reach_{i}")
            out.append(
                f"quantile_cont(close_day - day, 0.5) "
                f"FILTER (WHERE {within} AND outcome IN ('won', 'lost'))"
                f" AS toclose_{i}"
            )
    if medians:
        out.append(
            "quantile_cont(day / close_day, 0.5) "
            "FILTER (WHERE outcome IN ('won', 'lost') AND close_day > 0"
            " AND k = 1) AS position"
        )
    return ",\n       ".join(out)


def singles(
    windows: Sequence[int | None] = WINDOWS, max_count: int = MAX_COUNT, *, medians: bool = True
) -> str:
    """One query: leads reaching "≥k × activity within d days", per (activity, k) and outcome.

    With ``medians`` it returns the same columns as ``milestones.single_counts``
    (median days to reach / to close per window, median position of the first
    occurrence); without, only the outcome counts (the bare minimum of the task).
    """
    return f"""
WITH e AS (
  SELECT ev.activity, l.outcome,
         (epoch(ev.ts) - epoch(l.created_at)) / 86400.0 AS day,
         (epoch(l.closed_at) - epoch(l.created_at)) / 86400.0 AS close_day,
         row_number() OVER (PARTITION BY ev.lead_id, ev.activity ORDER BY ev.ts, ev.seq) AS k
  FROM events ev JOIN leads l USING (lead_id)
  WHERE ev.mark IS NULL
)
SELECT activity, k,
       {_aggs(windows, medians)}
FROM e
WHERE k <= {int(max_count)}
GROUP BY activity, k
"""


# Process-mining baselines, over a relation ``log`` (the whole events table, or the
# events of a subset of leads): every event counts, ordered by ``pos`` per lead.

DFG = """
WITH o AS (
  SELECT activity,
         lead(activity) OVER w AS nxt,
         row_number() OVER w AS rn
  FROM log
  WINDOW w AS (PARTITION BY lead_key ORDER BY pos)
)
SELECT activity, nxt, count(*) AS n, count(*) FILTER (WHERE rn = 1) AS starts
FROM o
GROUP BY ALL
"""
"""Directly-follows counts (rows with ``nxt``), end activities (``nxt IS NULL``) and
start activities (``starts``, summed per activity) in one pass."""


VARIANTS = """
SELECT v, count(*) AS n
FROM (SELECT list(activity ORDER BY pos) AS v FROM log GROUP BY lead_key)
GROUP BY v
"""
"""Variants: each lead's ordered activity list and how many leads follow it.

With the activity stored as an ENUM, grouping by the list of codes is cheaper than
grouping by a joined string (with VARCHAR activities it was the other way round)."""
