"""The demo data re-saved as a Japanese CRM export must tell the same story.

The simulator's leads and events are written again the way a Japanese sales team
receives them: CP932 with CRLF, Japanese headers (the ``japanese`` preset's
商談ID・作成日・結果・受注日・金額 / 活動・日時, HubSpot's Japanese-locale レコードID・
取引ステージ・クローズ日, Salesforce's 商談 ID・フェーズ・完了予定日), custom open stages
instead of "open", close dates without a time, naive Japan times, yen amounts as
CP932 writes them (``\\1,200,000``), report title rows above the header and the
Salesforce footer below the data.

Read back, each export must give the same intermediate goal and the same numbers of
won, lost and open leads as the simulator's own CSV files, and every event the
original counted before its close must still count (a close date without a time
stands for the end of that day). What may count in addition — events on the close
day after the original close time — is computed here with pandas, independently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import accounting

import royalroad as rr
from royalroad.analysis.goals import discover_goals
from royalroad.quality import summarise
from royalroad.simulate import simulate

SEED = 7
LEADS = 1500
TITLE = ["商談一覧", "出力日: 2025/04/01 9:00", ""]
FOOTER = [
    "",
    "機密情報 - 配布禁止",
    "Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved.",
]


@dataclass(frozen=True)
class HeaderSet:
    """One export's column names and outcome spellings."""

    name: str
    leads: tuple[str, ...]  # id, created, outcome, close (won), close (lost), amount, owner
    events: tuple[str, ...]  # id, activity, time, rep, channel
    won: str
    lost: str
    open_stages: tuple[str, ...]
    preset: str
    custom: frozenset[str]
    """The open stages the preset does not list (so read as open as "other" values)."""


HEADER_SETS = [
    HeaderSet(
        "japanese",
        ("商談ID", "作成日", "結果", "受注日", "失注日", "金額", "担当者"),
        ("商談ID", "活動", "日時", "担当者", "チャネル"),
        "受注",
        "失注",
        ("見積提出済", "ヒアリング", "提案中"),
        "japanese",
        frozenset({"見積提出済", "ヒアリング"}),  # 提案中 is a listed open value
    ),
    HeaderSet(
        "hubspot",
        ("レコードID", "作成日", "取引ステージ", "クローズ日", None, "金額", "取引担当者"),
        (
            "関連付けられた取引ID",
            "アクティビティータイプ",
            "アクティビティーの日付",
            "担当者",
            "チャネル",
        ),
        "成約",
        "不成約",
        ("アポ設定済み", "契約書送付済み"),
        "hubspot",
        frozenset({"アポ設定済み", "契約書送付済み"}),
    ),
    HeaderSet(
        "salesforce",
        ("商談 ID", "作成日", "フェーズ", "完了予定日", None, "金額", "商談 所有者"),
        ("商談 ID", "件名", "開始日時", "担当者", "チャネル"),
        "成立",
        "不成立",
        ("見込み", "提案/見積", "交渉/レビュー"),
        "salesforce",
        frozenset({"見込み", "提案/見積", "交渉/レビュー"}),
    ),
]


@pytest.fixture(scope="module")
def sim():
    return simulate("manufacturing", leads=LEADS, seed=SEED)


@pytest.fixture(scope="module")
def original(sim, tmp_path_factory):
    """The simulator's own CSV files, read as they are (naive times, any zone will do)."""
    folder = tmp_path_factory.mktemp("original")
    sim.write(folder)
    ws = rr.ingest(leads=folder / "leads.csv", events=folder / "events.csv", tz="UTC")
    return ws, discover_goals(ws, pairs=6).recommended


def _stamp(value) -> str:
    return value.strftime("%Y/%m/%d %H:%M:%S")


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    out = csv.writer(buf, lineterminator="\r\n")
    for line in TITLE:
        out.writerow([line] if line else [])
    out.writerows(rows)
    for line in FOOTER:
        out.writerow([line] if line else [])
    path.write_bytes(buf.getvalue().encode("cp932"))


def _export(sim, spec: HeaderSet, folder: Path) -> tuple[Path, Path]:
    leads = sim.leads.to_pandas()
    events = sim.events.to_pandas()
    lid, created, outcome, won_at, lost_at, amount, owner = spec.leads
    header = [lid, "商談名", created, outcome, won_at] + ([lost_at] if lost_at else [])
    header += [amount, owner, "業種"]
    rows = [header]
    for i, r in enumerate(leads.itertuples(index=False)):
        stage = {"won": spec.won, "lost": spec.lost}.get(
            r.outcome, spec.open_stages[i % len(spec.open_stages)]
        )
        day = r.closed_at.strftime("%Y/%m/%d") if r.outcome != "open" else ""
        closes = [
            day if r.outcome == "won" or not lost_at else "",
            day if r.outcome == "lost" else "",
        ]
        row = [r.lead_id, f"{r.industry}案件{i}", _stamp(r.created_at), stage]
        row += closes if lost_at else [day]
        # Excel in Japan writes the yen sign as the CP932 backslash
        row += [f"\\{r.amount:,}" if r.amount == r.amount else "", r.rep, r.industry]
        rows.append(row)
    leads_path = folder / f"{spec.name}_leads.csv"
    _write(leads_path, rows)

    eid, activity, ts, rep, channel = spec.events
    rows = [[eid, activity, ts, rep, channel]]
    for r in events.itertuples(index=False):
        rows.append(
            [
                r.lead_id,
                r.activity,
                _stamp(r.ts),
                r.rep if isinstance(r.rep, str) else "",
                r.channel if isinstance(r.channel, str) else "",
            ]
        )
    events_path = folder / f"{spec.name}_events.csv"
    _write(events_path, rows)
    return leads_path, events_path


def _counted(ws) -> set[tuple[str, str, pd.Timestamp]]:
    rows = ws.con.execute(
        "SELECT lead_id, CAST(activity AS VARCHAR), ts FROM events WHERE mark IS NULL"
    ).fetchall()
    return set(rows)


def _newly_counted(sim) -> set[tuple[str, str, pd.Timestamp]]:
    """Events of closed leads at or after their (timed) close but on the close day:
    with a date-only close they now count before it. Computed with pandas."""
    leads = sim.leads.to_pandas()
    events = sim.events.to_pandas().merge(leads[["lead_id", "outcome", "closed_at"]], on="lead_id")
    closed = events[events.outcome.isin(["won", "lost"])]
    same_day = closed[
        (closed.ts >= closed.closed_at)
        & (closed.ts.dt.normalize() == closed.closed_at.dt.normalize())
    ]
    return {(r.lead_id, r.activity, r.ts) for r in same_day.itertuples(index=False)}


@pytest.mark.parametrize("spec", HEADER_SETS, ids=lambda s: s.name)
def test_japanese_export_tells_the_same_story(spec, sim, original, tmp_path):
    ws0, goal0 = original
    assert goal0 is not None, "the simulator plants a goal"
    leads_path, events_path = _export(sim, spec, tmp_path)

    ws = rr.ingest(leads=leads_path, events=events_path)  # no zone given: chosen
    s = summarise(ws)
    s0 = summarise(ws0)

    # every row read, none quarantined; the title rows and the footer are not rows
    leads_n, events_n = sim.leads.num_rows, sim.events.num_rows
    assert {f: (c.read, c.accepted, c.quarantined) for f, c in accounting(ws).items()} == {
        str(leads_path): (leads_n, leads_n, 0),
        str(events_path): (events_n, events_n, 0),
    }
    for f in s.files:
        assert (f.encoding, f.preset) == ("cp932", spec.preset)
        assert (f.preamble_rows, f.header_line) == (2, 4)
        body = leads_n if f.table == "leads" else events_n
        assert (f.footer_rows, f.footer_lines) == (2, f"{4 + body + 2}–{4 + body + 3}")

    # the same outcomes and the same goal
    assert (s.won, s.lost, s.open) == (s0.won, s0.lost, s0.open)
    assert (s.won, s.lost, s.open) == tuple(
        int((sim.leads.to_pandas().outcome == k).sum()) for k in ("won", "lost", "open")
    )
    goal = discover_goals(ws, pairs=6).recommended
    assert goal is not None and goal.activity == goal0.activity

    # every event the original counted before the close still counts; what counts in
    # addition is exactly the close-day events after the original close time
    counted0, counted = _counted(ws0), _counted(ws)
    assert counted0 <= counted
    assert counted - counted0 == _newly_counted(sim)

    # naive times were read as Japan time, because the headers are Japanese
    meta = ws.meta()
    assert (meta["tz"], meta["tz_source"]) == ("Asia/Tokyo", "headers")
    # the custom stages were read as open, and listed
    (leads_file,) = [f for f in s.files if f.table == "leads"]
    listed = {part.rsplit(" (", 1)[0] for part in (leads_file.open_values or "").split(", ")}
    assert listed == spec.custom
    assert leads_file.closes_date_only == s.won + s.lost
    # the owner column is a segment under its own (Japanese) name, found as the owner
    from royalroad.analysis.owner import owner_column

    assert spec.leads[-1] in ws.segments()
    assert owner_column(ws) == spec.leads[-1]


def test_close_day_warning_names_the_contract_signing(sim, tmp_path):
    """契約締結 is signed hours before the close: with date-only closes it mostly falls on
    the close day, and the summary says so (an outcome proxy, not a step)."""
    leads_path, events_path = _export(sim, HEADER_SETS[0], tmp_path)
    s = summarise(rr.ingest(leads=leads_path, events=events_path))
    leads = sim.leads.to_pandas()
    events = sim.events.to_pandas().merge(leads[["lead_id", "outcome", "closed_at"]], on="lead_id")
    closed = events[events.outcome.isin(["won", "lost"])]
    counted = closed[closed.ts.dt.normalize() <= closed.closed_at.dt.normalize()]
    on_day = counted[counted.ts.dt.normalize() == counted.closed_at.dt.normalize()]
    share = on_day.groupby("activity").size() / counted.groupby("activity").size()
    mostly = {a for a, v in share.items() if v >= 0.5 and (on_day.activity == a).sum() >= 5}
    assert "契約締結" in mostly  # the simulator signs the contract hours before the close
    assert {a for a, _, _ in s.close_day.activities} == mostly
    assert (s.close_day.events, s.close_day.counted) == (len(on_day), len(counted))
