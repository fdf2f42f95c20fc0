"""What ingest says about real exports, in English and Japanese: footers skipped,
stage values read as open, closes without a time, the zone of naive times, future
outliers left out of the as-of date. And how the zone and the as-of date are chosen.

Every expected number is counted by hand from the small files written here.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app
from royalroad.i18n import set_lang
from royalroad.presenters.notes import data_notes, file_notes, reading_notes
from royalroad.quality import summarise

JA_LEADS = (
    "商談ID,作成日,結果,受注日,失注日,金額\n"
    "D-001,2024/01/05 10:00,受注,2024/02/01,,100\n"  # 2
    "D-002,2024/01/06 11:00,失注,,2024/02/03,200\n"  # 3
    "D-003,2024/01/07 12:00,見積提出済,,,\n"  # 4
    "D-004,2024/01/08 13:00,ヒアリング,,,\n"  # 5
    "D-005,2024/01/09 14:00,見積提出済,,,\n"  # 6
    "\n"  # 7
    "機密情報 - 配布禁止\n"  # 8
    "Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved.\n"  # 9
)
JA_EVENTS = (
    "商談ID,活動,日時\n"
    "D-001,技術打合せ,2024/01/20 14:00\n"
    "D-001,契約締結,2024/02/01 16:00\n"  # on the close day: counts before the close
    "D-002,資料送付,2024/01/10 09:00\n"
    "D-003,資料送付,2024/01/11 09:00\n"
    "D-003,電話フォロー,2099/01/01 09:00\n"  # a typo: the as-of date ignores it
)


@pytest.fixture
def ja(write):
    write("leads.csv", JA_LEADS, encoding="cp932", newline="\r\n")
    write("events.csv", JA_EVENTS, encoding="cp932", newline="\r\n")
    return rr.ingest(leads="leads.csv", events="events.csv")


def test_sentences_in_english(ja):
    s = summarise(ja)
    assert file_notes(s, "en") == [
        "leads.csv: 2 footer rows below the data skipped (lines 8–9)",
    ]
    assert reading_notes(s, "en") == [
        "leads.csv: outcome values not listed as won or lost were read as open: "
        "見積提出済 (2), ヒアリング (1)",
        "leads.csv: 2 close dates have no time of day; each stands for the end of its day "
        "(23:59:59), so that day's events count before the close",
        "Times without a zone were read as Asia/Tokyo: the column names are Japanese, so the "
        "export is taken to be in Japan time (--tz changes it).",
    ]
    notes = data_notes(s, "en")
    assert notes[0] == "Kept but not used for milestones: after the as-of date 1"
    assert notes[-1] == (
        "1 timestamp lies in the future or far beyond the rest of the data (2099-01-01 "
        "09:00:00, events.csv:6); the default as-of date leaves it out. It is kept, after the "
        "as-of date: its event is marked, or its lead counts as open (0 close)."
    )


def test_sentences_in_japanese(ja):
    s = summarise(ja)
    assert file_notes(s, "ja") == [
        "leads.csv: データの下のフッター行 2 行を読み飛ばしました(8–9行目)",
    ]
    assert reading_notes(s, "ja")[0] == (
        "leads.csv: 受注・失注のどちらにも当たらない結果の値は商談中として読みました: "
        "見積提出済 (2), ヒアリング (1)"
    )
    assert reading_notes(s, "ja")[-1].startswith("タイムゾーンのない日時は Asia/Tokyo として")
    assert data_notes(s, "ja")[-1].startswith("日時 1 件が未来か")


def test_validate_prints_the_sentences(ja):
    result = CliRunner().invoke(
        app,
        ["validate", "--leads", "leads.csv", "--events", "events.csv", "--lang", "ja"],
    )
    assert result.exit_code == 0, result.stderr
    assert "leads.csv: データの下のフッター行 2 行を読み飛ばしました(8–9行目)" in result.stdout
    assert "見積提出済 (2), ヒアリング (1)" in result.stdout


def test_the_as_of_date_and_the_marks(ja):
    s = summarise(ja)
    # the latest timestamp but 2099: D-002's close, at the end of its day
    assert s.as_of == "2024-02-03 23:59:59.999999"
    assert (s.won, s.lost, s.open) == (1, 1, 3)
    assert (s.future.n, s.future.latest, s.future.at, s.future.closes) == (
        1,
        "2099-01-01 09:00:00",
        "events.csv:6",
        0,
    )
    assert s.events_marked == {"after_as_of": 1}
    marks = ja.con.execute(
        "SELECT CAST(activity AS VARCHAR), mark FROM events ORDER BY seq"
    ).fetchall()
    assert marks == [
        ("技術打合せ", None),
        ("契約締結", None),
        ("資料送付", None),
        ("資料送付", None),
        ("電話フォロー", "after_as_of"),
    ]


def test_a_past_outlier_far_beyond_the_data_is_left_out_too(write):
    """2012 data with one event typed as 2019: not in the future, but years beyond the
    bulk (the 99th percentile plus the span of the data, at least a year)."""
    leads = "lead_id,created_at,outcome,closed_at\n" + "".join(
        f"L{i},2012-01-{i % 28 + 1:02d},{('won', 'lost')[i % 2]},2012-03-{i % 28 + 1:02d}\n"
        for i in range(200)
    )
    write("leads.csv", leads)
    write("events.csv", "lead_id,activity,ts\nL1,call,2012-02-01\nL2,call,2019-06-01\n")
    s = summarise(rr.ingest(leads="leads.csv", events="events.csv", tz="UTC"))
    assert s.as_of == "2012-03-28 23:59:59.999999"
    assert (s.future.n, s.future.latest) == (1, "2019-06-01 00:00:00")


def test_a_close_in_2099_counts_as_open_and_is_said(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\n"
        "L1,2024-01-01,won,2024-02-01\nL2,2024-01-02,lost,2024-02-03\n"
        "L3,2024-01-03,won,2099-02-01\n",
    )
    s = summarise(rr.ingest(leads="leads.csv", tz="UTC"))
    assert (s.won, s.lost, s.open) == (1, 1, 1)
    assert (s.future.n, s.future.closes) == (1, 1)


def test_every_timestamp_in_the_future_means_the_clock_is_wrong(write, monkeypatch):
    """When most of the data lies after 'now', the machine's clock is what is wrong:
    the as-of date is then the latest timestamp, as before."""
    from datetime import datetime as real

    import royalroad.io.build as build

    class Past(real):
        @classmethod
        def now(cls, tz=None):
            return real(2001, 1, 1, tzinfo=tz)

    monkeypatch.setattr(build, "datetime", Past)
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01 10:00\n"
        "L2,2024-01-02,lost,2024-02-03 11:00\n",
    )
    s = summarise(rr.ingest(leads="leads.csv", tz="UTC"))
    assert s.as_of == "2024-02-03 11:00:00" and s.future.n == 0


# -------------------------------------------------------------------------- zones
CANONICAL = "lead_id,created_at,outcome,closed_at\nL1,2024-01-01 10:00,won,2024-02-01 09:00\n"


def test_zone_of_the_machine_for_english_headers(write, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    write("leads.csv", CANONICAL)
    ws = rr.ingest(leads="leads.csv")
    assert (ws.meta()["tz"], ws.meta()["tz_source"]) == ("America/New_York", "machine")
    set_lang("en")
    assert reading_notes(summarise(ws))[-1] == (
        "Times without a zone were read as America/New_York, this computer's time zone "
        "(--tz changes it)."
    )


def test_japan_time_for_japanese_headers_whatever_the_machine(write, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    write("leads.csv", "商談ID,作成日,結果,完了日\nD1,2024/01/01,受注,2024/02/01\n")
    ws = rr.ingest(leads="leads.csv")
    assert (ws.meta()["tz"], ws.meta()["tz_source"]) == ("Asia/Tokyo", "headers")


def test_the_option_wins(write, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    write("leads.csv", "商談ID,作成日,結果,完了日\nD1,2024/01/01,受注,2024/02/01\n")
    ws = rr.ingest(leads="leads.csv", tz="Europe/Paris")
    assert (ws.meta()["tz"], ws.meta()["tz_source"]) == ("Europe/Paris", "option")


def test_an_offset_is_converted_into_the_chosen_zone(write):
    """A zoned value is the same instant whatever the zone: 00:00Z is 09:00 in Tokyo."""
    write(
        "leads.csv",
        "商談ID,作成日,結果,完了日\nD1,2024-01-01T00:00:00Z,受注,2024-02-01T00:00:00+09:00\n",
    )
    ws = rr.ingest(leads="leads.csv")
    from datetime import datetime

    assert ws.con.execute("SELECT created_at, closed_at FROM leads").fetchall() == [
        (datetime(2024, 1, 1, 9), datetime(2024, 2, 1))
    ]
