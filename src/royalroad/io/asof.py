"""The default as-of date: the latest timestamp in the data, future outliers aside.

One event typed as 2099 (or a planned task exported with the rest) must not move the
as-of date into the future: every open lead would then look decades old, and every
close after the real export would count as open. A timestamp is an **outlier** when
it lies

* after the moment of the ingest (tomorrow or later, in the zone of the data) —
  unless most timestamps do (a machine whose clock is wrong), or
* far beyond the bulk of the data: after the 99th percentile by more than the span
  between the 1st and the 99th percentile, and by at least a year.

The as-of date is then the latest timestamp that is not an outlier. Outliers are kept
(no row is quarantined for it, so the row accounting is unchanged): they simply lie
after the as-of date, so their events and notes are marked ``after_as_of``, a lead
created after it is left out of the analyses, and a close after it counts as open —
the summary says how many, the latest, and where it is.

The rule reads the clock only to recognise the future: data whose timestamps are
all in the past (every real export) gives the same as-of date on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from royalroad.engine import one_row

MIN_SPAN = timedelta(days=365)


@dataclass(frozen=True)
class Outliers:
    """Future timestamps the default as-of date left out."""

    n: int = 0
    latest: datetime | None = None
    where: str | None = None  # file:line of the latest
    closes: int = 0  # won/lost closes among them (those leads count as open)


def default_as_of(
    con: duckdb.DuckDBPyConnection, parts: list[str], now: datetime
) -> tuple[datetime | None, Outliers]:
    """The as-of date and the outliers it ignores.

    ``parts`` are SQL queries each giving ``(ts, _file, _line, is_close)``; ``now`` is
    the ingest moment as a naive time in the data's zone.
    """
    union = " UNION ALL ".join(parts)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _rr_stamps AS SELECT * FROM ({union}) WHERE ts IS NOT NULL"
    )
    n, q01, q99, latest = one_row(
        con,
        "SELECT count(*), quantile_disc(ts, 0.01), quantile_disc(ts, 0.99), max(ts) "
        "FROM _rr_stamps",
    )
    if not n:
        return None, Outliers()
    threshold = q99 + max(q99 - q01, MIN_SPAN)
    tomorrow = now + timedelta(days=1)
    future = one_row(con, f"SELECT count(*) FROM _rr_stamps WHERE ts > {_lit(tomorrow)}")[0]
    if future < n / 2:  # most data in the past: the clock is right, the future is wrong
        threshold = min(threshold, tomorrow)
    if latest <= threshold:
        return latest, Outliers()
    cut = _lit(threshold)
    kept, count, closes = one_row(
        con,
        f"SELECT max(ts) FILTER (WHERE ts <= {cut}), count(*) FILTER (WHERE ts > {cut}), "
        f"count(*) FILTER (WHERE ts > {cut} AND is_close) FROM _rr_stamps",
    )
    file, line = one_row(
        con, "SELECT _file, _line FROM _rr_stamps ORDER BY ts DESC, _file, _line LIMIT 1"
    )
    return kept, Outliers(count, latest, f"{file}:{line}", closes)


def _lit(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
