"""Timestamps: every accepted spelling, zones normalised into --tz, naive values read in --tz.

Expected values are computed here with datetime/zoneinfo from a hand-written reading
of each spelling, never from royalroad.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import accounting

import royalroad as rr

UTC = UTC
JST = timezone(timedelta(hours=9))
EXCEL_EPOCH = datetime(1899, 12, 30)

# value -> how a person reads it: ("naive", datetime) is a wall time in --tz;
# ("aware", datetime with tzinfo) is an instant; a dict gives the reading per dayfirst.
SPELLINGS: dict[str, object] = {
    "2024-01-05T13:00:00": ("naive", datetime(2024, 1, 5, 13)),
    "2024-01-05 13:00": ("naive", datetime(2024, 1, 5, 13)),
    "2024/01/05 13:00": ("naive", datetime(2024, 1, 5, 13)),
    "2024/1/5 9:05": ("naive", datetime(2024, 1, 5, 9, 5)),
    "2024-01-05": ("naive", datetime(2024, 1, 5)),
    "2024.01.05": ("naive", datetime(2024, 1, 5)),
    "20240105": ("naive", datetime(2024, 1, 5)),
    "2024年1月5日": ("naive", datetime(2024, 1, 5)),
    "2024年01月05日 13:00": ("naive", datetime(2024, 1, 5, 13)),
    "2024年1月5日 13時05分": ("naive", datetime(2024, 1, 5, 13, 5)),
    "45296.5": ("naive", EXCEL_EPOCH + timedelta(days=45296.5)),  # 2024-01-05 12:00
    "45296": ("naive", EXCEL_EPOCH + timedelta(days=45296)),
    "45296.75": ("naive", datetime(2024, 1, 5, 18)),
    "2024-01-05T13:00:00.250": ("naive", datetime(2024, 1, 5, 13, 0, 0, 250000)),
    "2024-01-05T13:00:00+09:00": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "2024-01-05T13:00:00Z": ("aware", datetime(2024, 1, 5, 13, tzinfo=UTC)),
    "2024-01-05T04:00:00.5Z": ("aware", datetime(2024, 1, 5, 4, 0, 0, 500000, tzinfo=UTC)),
    "2024-01-05 13:00:00+0900": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "2024-01-05 13:00:00 +09:00": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "2024/01/05 13:00+09:00": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "2024-01-05 13:00:00 UTC": ("aware", datetime(2024, 1, 5, 13, tzinfo=UTC)),
    "2024-07-01T12:00:00Z": (
        "aware",
        datetime(2024, 7, 1, 12, tzinfo=UTC),
    ),  # summer time in New York
    "2024-07-01 08:00:00-04:00": (
        "aware",
        datetime(2024, 7, 1, 8, tzinfo=timezone(timedelta(hours=-4))),
    ),
    "2024-01-05 13:00:00 America/New_York": (
        "aware",
        datetime(2024, 1, 5, 13, tzinfo=ZoneInfo("America/New_York")),
    ),
    "2024-01-05 13:00 JST": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "2024年1月5日 13:00+09:00": ("aware", datetime(2024, 1, 5, 13, tzinfo=JST)),
    "06/01/2024 09:00+09:00": {
        False: ("aware", datetime(2024, 6, 1, 9, tzinfo=JST)),
        True: ("aware", datetime(2024, 1, 6, 9, tzinfo=JST)),
    },
    # a one-digit offset is too odd to guess: quarantined, never dropped
    "2024-01-05 13:00 +9": None,
    "05/01/2024": {False: ("naive", datetime(2024, 5, 1)), True: ("naive", datetime(2024, 1, 5))},
    "05/01/2024 13:00": {
        False: ("naive", datetime(2024, 5, 1, 13)),
        True: ("naive", datetime(2024, 1, 5, 13)),
    },
    "13/01/2024": {False: None, True: ("naive", datetime(2024, 1, 13))},
    "1/5/2024 1:00 PM": {False: ("naive", datetime(2024, 1, 5, 13)), True: None},
    "05.01.2024": {False: None, True: ("naive", datetime(2024, 1, 5))},
    "2024-01-05 1:00 PM": ("naive", datetime(2024, 1, 5, 13)),
    "2024/01/05 12:30:15 am": ("naive", datetime(2024, 1, 5, 0, 30, 15)),
    "1/5/24": {False: ("naive", datetime(2024, 1, 5)), True: ("naive", datetime(2024, 5, 1))},
    "12/31/99 23:59": {False: ("naive", datetime(1999, 12, 31, 23, 59)), True: None},
    "2024-01-05T13:00:00.000+0000": (
        "aware",
        datetime(2024, 1, 5, 13, tzinfo=UTC),
    ),  # Salesforce API
    # not dates
    "2024-01-05 13:00 foo": None,  # DuckDB's cast would ignore the trailing text
    "0001-01-01": None,  # a sentinel, not a date in a CRM: out of range
    "2204-05-01": None,  # a typo for 2024: out of range
    "9999-12-31": None,  # "never": out of range
    "24-01-05": None,
    "2024-02-30": None,
    "2024-01-05 25:00": None,
    "yesterday": None,
    "99999": None,  # outside the Excel serial range
    "12345": None,
}


OUT_OF_RANGE = {"0001-01-01", "2204-05-01", "9999-12-31"}
"""Dates that read, but outside 1900–2199: quarantined with their own reason."""


def _expected(value: str, tz: str, dayfirst: bool) -> datetime | None:
    reading = SPELLINGS[value]
    if isinstance(reading, dict):
        reading = reading[dayfirst]
    if reading is None:
        return None
    kind, dt = reading
    if kind == "naive":
        return dt
    return dt.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _write_inputs(write, values: list[str]) -> None:
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\nL0,2023-01-01,won,2023-02-01\nL1,2023-01-01,open,\n",
    )
    rows = "".join(f'L1,v{i},"{v}"\n' for i, v in enumerate(values))
    write("events.csv", "lead_id,activity,ts\n" + rows)


@pytest.mark.parametrize("dayfirst", [False, True], ids=["monthfirst", "dayfirst"])
@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_timestamp_spellings(write, tz, dayfirst):
    values = list(SPELLINGS)
    _write_inputs(write, values)
    ws = rr.ingest(
        leads="leads.csv", events="events.csv", tz=tz, dayfirst=dayfirst, as_of="2030-01-01"
    )
    got = dict(ws.con.execute("SELECT activity, ts FROM events").fetchall())
    bad = {
        line: (value, reason)
        for line, value, reason in ws.con.execute(
            "SELECT line, value, reason FROM quarantine"
        ).fetchall()
    }
    for i, value in enumerate(values):
        want = _expected(value, tz, dayfirst)
        if want is None:
            assert f"v{i}" not in got, value
            reason = "out_of_range_timestamp" if value in OUT_OF_RANGE else "bad_timestamp"
            assert bad.get(i + 2) == (value, reason), value
        else:
            assert got.get(f"v{i}") == want, (value, tz, dayfirst)
    n_bad = sum(1 for v in values if _expected(v, tz, dayfirst) is None)
    assert accounting(ws)["events.csv"].quarantined == n_bad


def test_excel_serial_fraction_by_hand():
    # 45296 days after 1899-12-30 is 2024-01-05; .5 of a day is noon.
    assert EXCEL_EPOCH + timedelta(days=45296.5) == datetime(2024, 1, 5, 12)


def test_leads_dates_use_the_same_parser(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\n"
        "L1,2024年1月5日,won,2024-02-01T09:00:00+09:00\n"
        "L2,45296.5,lost,2024/02/03 10:00\n",
    )
    ws = rr.ingest(leads="leads.csv", tz="Asia/Tokyo")
    assert ws.con.execute(
        "SELECT lead_id, created_at, closed_at FROM leads ORDER BY lead_id"
    ).fetchall() == [
        ("L1", datetime(2024, 1, 5), datetime(2024, 2, 1, 9)),
        ("L2", datetime(2024, 1, 5, 12), datetime(2024, 2, 3, 10)),
    ]


@pytest.mark.parametrize(
    "as_of, tz, expected",
    [
        ("2024-02-01", "UTC", datetime(2024, 2, 1)),
        ("2024-02-01 18:00", "Asia/Tokyo", datetime(2024, 2, 1, 18)),
        ("2024-02-01T09:00+09:00", "UTC", datetime(2024, 2, 1, 0)),
        ("2024/02/01 09:00+09:00", "UTC", datetime(2024, 2, 1, 0)),
        ("2024年2月1日", "UTC", datetime(2024, 2, 1)),
        (datetime(2024, 2, 1, 9, tzinfo=JST), "UTC", datetime(2024, 2, 1, 0)),
        (
            datetime(2024, 2, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo")),
            "America/New_York",
            datetime(2024, 1, 31, 19),
        ),
        (datetime(2024, 2, 1, 9), "Asia/Tokyo", datetime(2024, 2, 1, 9)),
    ],
)
def test_regression_as_of_spellings_and_aware_datetimes(write, as_of, tz, expected):
    """Bug: an aware datetime as_of kept its wall time and dropped its offset."""
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-01-15\n")
    ws = rr.ingest(leads="leads.csv", tz=tz, as_of=as_of)
    assert ws.as_of == expected


def test_regression_zoned_values_never_lose_their_offset(write):
    """Bug: '2024/01/05 13:00+09:00' and '... UTC' were read as naive wall times."""
    _write_inputs(
        write, ["2024/01/05 13:00+09:00", "2024-01-05 13:00:00 UTC", "2024-01-05 13:00:00 +09:00"]
    )
    ws = rr.ingest(leads="leads.csv", events="events.csv", tz="UTC")
    assert ws.con.execute("SELECT ts FROM events ORDER BY seq").fetchall() == [
        (datetime(2024, 1, 5, 4),),
        (datetime(2024, 1, 5, 13),),
        (datetime(2024, 1, 5, 4),),
    ]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-05 1:00 PM", datetime(2024, 1, 5, 13)),
        ("1/5/24", datetime(2024, 1, 5)),
        ("2024-01-05 13:00 foo", None),
        ("0001-01-01", None),
    ],
)
def test_regression_lenient_cast_no_longer_guesses(write, value, expected):
    """Bug: DuckDB's cast read '1:00 PM' as 01:00, '1/5/24' as the year 1 and ignored
    trailing text."""
    _write_inputs(write, [value])
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    got = ws.con.execute("SELECT ts FROM events").fetchall()
    assert got == ([(expected,)] if expected else [])
