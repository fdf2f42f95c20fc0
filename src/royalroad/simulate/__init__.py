"""Synthetic CRM data with a planted answer: the seed article's four sales processes.

>>> from royalroad.simulate import simulate, SCENARIOS
>>> data = simulate("manufacturing", leads=200, seed=7)
>>> data.truth["goal"]["activity"]
'技術打合せ'
>>> data.leads.num_rows
200
>>> paths = data.write(out_dir)                     # doctest: +SKIP

Each scenario plants an intermediate goal (the step after which a lead wins with
high probability) and the traps a goal finder must survive: an outcome proxy logged
hours before the close, activities after the close, a confounded activity, open
(censored) leads, reps of unequal skill and notes with decision-trigger phrases.
``truth.json`` names every one of them; see :mod:`royalroad.simulate.scenarios` for
the parameters and :mod:`royalroad.simulate.engine` for how they are drawn.

Outcomes are drawn by stratified sampling, so the planted rates hold in every sample
rather than only on average: at 2,000 leads the goal's MCC leads the next activity
by 0.08 to 0.13 with a spread of about 0.01 across seeds. Under ``null`` outcomes
are plain independent draws, i.e. genuine noise.
"""

from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.simulate.scenarios import SCENARIOS, Scenario

__all__ = ["DEFAULT_AS_OF", "MAX_LEADS", "SCENARIOS", "Scenario", "SimulatedData", "simulate"]

DEFAULT_AS_OF = dt.datetime(2025, 4, 1)
MAX_LEADS = 10_000_000
FILES = ("leads.csv", "events.csv", "notes.csv", "truth.json")
_EPOCH = dt.datetime(1970, 1, 1)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class SimulatedData:
    """One simulated CRM export.

    Attributes
    ----------
    leads, events, notes : pyarrow.Table
        Canonical tables (timestamps as ``timestamp[s]``, naive local time; missing
        ``closed_at`` and event ``rep`` are null).
    truth : dict
        The planted answer, as written to ``truth.json``.
    """

    leads: pa.Table
    events: pa.Table
    notes: pa.Table
    truth: dict[str, Any] = field(repr=False)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``leads.csv``, ``events.csv``, ``notes.csv`` and ``truth.json`` into ``out_dir``.

        The same data always gives the same bytes. Returns the four paths.
        """
        from royalroad.simulate.writer import write_csv, write_json

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = (self.leads, self.events, self.notes)
        paths = [write_csv(t, out / name) for t, name in zip(tables, FILES[:3], strict=True)]
        return paths + [write_json(self.truth, out / FILES[3])]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_of(value: str | dt.date | None) -> dt.datetime:
    if value is None:
        return DEFAULT_AS_OF
    try:
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime(value.year, value.month, value.day)
        else:
            moment = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError("simulate.bad_as_of", value=value) from None
    if moment.tzinfo is not None or not 1980 <= moment.year <= 2200:
        raise InputError("simulate.bad_as_of", value=value)
    return moment.replace(microsecond=0)


def drift_date(as_of: dt.datetime, span_days: int) -> dt.datetime:
    """The start of the calendar quarter nearest the middle of the span (a market turns
    with a fiscal period), at least 30 days inside both ends; else the middle's day."""
    start = as_of - dt.timedelta(days=span_days)
    mid = start + (as_of - start) / 2
    floor = dt.datetime(mid.year, 3 * ((mid.month - 1) // 3) + 1, 1)
    ceil = (
        dt.datetime(floor.year + 1, 1, 1)
        if floor.month == 10
        else floor.replace(month=floor.month + 3)
    )
    margin = dt.timedelta(days=30)
    inside = [q for q in (floor, ceil) if start + margin <= q <= as_of - margin]
    if not inside:
        return dt.datetime(mid.year, mid.month, mid.day)
    return min(inside, key=lambda q: (abs((q - mid).total_seconds()), q))


def simulate(
    scenario: str,
    leads: int = 5000,
    seed: int = 0,
    *,
    null: bool = False,
    as_of: str | dt.date | None = None,
    drift: bool = False,
) -> SimulatedData:
    """Generate a synthetic CRM export with a planted intermediate goal.

    Parameters
    ----------
    scenario : {"manufacturing", "saas", "education", "consulting"}
    leads : int
        Number of leads, 1 to ``MAX_LEADS``.
    seed : int
        Non-negative; the same arguments give the same tables and bytes.
    null : bool
        Keep the processes and traps but make the outcome independent of every
        activity, segment and note (proxies and post-close steps still follow it).
    as_of : str, date or datetime, optional
        The export moment (naive local time). Leads are created during the
        scenario's ``span_days`` before it; whatever happens later is not in the
        data (open leads, missing later events). Default ``2025-04-01 00:00:00``.
    drift : bool
        Plant a change over time (:data:`~royalroad.simulate.scenarios.DRIFT`): from
        the start of the calendar quarter nearest the middle of the span, every lead
        created on or after it wins with 3× the odds, and 70% of those leads do a new
        activity ("新サービス説明会") with no effect of its own. The goal stays.
        ``truth["drift"]`` names the activity and the date.

    Examples
    --------
    >>> d = simulate("saas", leads=100, seed=1, as_of="2024-10-01")
    >>> d.truth["as_of"], d.truth["realised"]["leads"]
    ('2024-10-01 00:00:00', 100)
    """
    if scenario not in SCENARIOS:
        raise InputError("simulate.unknown_scenario", value=scenario, allowed=", ".join(SCENARIOS))
    if not _is_int(leads) or not 1 <= leads <= MAX_LEADS:
        raise InputError("simulate.bad_leads", value=leads, max=MAX_LEADS)
    if not _is_int(seed) or seed < 0:
        raise InputError("simulate.bad_seed", value=seed)
    moment = _as_of(as_of)

    from royalroad.simulate.engine import generate
    from royalroad.simulate.notes import notes_table
    from royalroad.simulate.truth import truth

    sc = SCENARIOS[scenario]
    as_of_s = int((moment - _EPOCH).total_seconds())
    drift_at = drift_date(moment, sc.span_days) if drift else None
    drift_s = int((drift_at - _EPOCH).total_seconds()) if drift_at else None
    gen = generate(sc, int(leads), int(seed), bool(null), as_of_s, drift_s)
    notes = notes_table(sc, gen.journeys, gen.leads["lead_id"], bool(null), int(seed), as_of_s)
    return SimulatedData(
        leads=gen.leads,
        events=gen.events,
        notes=notes,
        truth=truth(sc, gen, notes, seed=int(seed), null=bool(null), as_of=f"{moment:{TS_FORMAT}}"),
    )
