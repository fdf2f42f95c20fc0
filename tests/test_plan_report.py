"""The plan's report section and workbook sheets (built standalone, before they are wired
into the report and the workbook): assumed numbers visibly labelled, number formats, no
formula from user text, both languages."""

from __future__ import annotations

import json
import re
from html import unescape

import openpyxl
import pandas as pd
import pytest
from test_plan import AS_OF, hand_files
from test_track import hand_plan

import royalroad as rr
from royalroad.report.html import _env
from royalroad.report.sections_plan import plan_section
from royalroad.report.sheets_plan import plan_sheets, track_sheet

HOSTILE = ("=1+1", "@SUM(A1)")


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    leads, events = hand_files(folder)
    df = pd.read_csv(leads)
    df["industry"] = df.industry.map({"x": HOSTILE[0], "y": HOSTILE[1]})
    df.to_csv(leads, index=False)
    ws = rr.ingest(leads=leads, events=events, as_of=AS_OF)
    plan = rr.plan(
        ws,
        target=20e6,
        period="2025-01..2025-03",
        goal="技術打合せ",
        segment="industry",
        won_amount=1_500_000,
        preset="manufacturing",
        reach="+5pt",
    )
    months = [f"2024-{m:02d}" for m in range(7, 13)] + ["2025-01", "2025-02", "2025-03"]
    track = rr.track(ws, hand_plan(100e6, months))
    yield ws, plan, track
    ws.close()


@pytest.fixture(scope="module")
def preset_plan():
    return rr.plan(
        target=120_000_000, period="2026-04..2027-03", preset="education", won_amount=800_000
    )


def render(section, lang: str) -> str:
    def tr(key: str, **params) -> str:
        return rr_t(key, lang=lang, **params)

    from royalroad.i18n import t as rr_t

    return _env().get_template(section.template).render(s=section, _=tr, lang=lang, aid=f"{lang}-")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_section_labels_every_assumed_number(preset_plan, lang):
    s = plan_section(preset_plan, None, lang)
    assert s.has_content() and s.track_rows == ()
    html = render(s, lang)
    word = "ASSUMED" if lang == "en" else "仮定"
    # the chain's rows: amount (user), P(goal | lead) and P(win | no goal) (preset),
    # P(win | goal) (the article): four assumed, P(win | lead) derived
    assert sum(r.assumed for r in s.chain) == 4
    assert html.count('data-assumed="true"') == 4 + len(preset_plan.assumptions) + 1
    assert word in html
    assert [c.chart_id for c in s.charts] == [f"rr-plan-{lang}"]
    assert html.count("<tr") >= len(preset_plan.periods) + 5
    if lang == "en":
        text = "trial lesson → won (enrolment): 70% — ASSUMED from the article's education"
        assert text in unescape(html)
    else:
        assert "体験レッスン → 受注(入会): 70% — 記事の教育の例からの仮定" in html


def test_section_with_track_and_data(hand):
    _, plan, track = hand
    s = plan_section(plan, track, "en")
    html = render(s, "en")
    assert s.chain[0].assumed  # the won amount was given by the user
    assert not any(r.assumed for r in s.chain[1:])
    assert "Behind plan by" in html and "rr-pace-en" in html
    assert len(s.track_rows) == len(track.periods)
    assert "&lt;" not in s.title  # text is escaped by the template, not before it
    assert plan_section(None, None, "en").has_content() is False
    only_track = plan_section(None, track, "ja")
    assert only_track.has_content() and only_track.periods == ()
    assert "計画に" in render(only_track, "ja")


def test_chart_specs_are_json_and_deterministic(hand):
    _, plan, track = hand
    a = plan_section(plan, track, "ja").charts
    b = plan_section(plan, track, "ja").charts
    assert json.dumps([c.figure for c in a], sort_keys=True) == json.dumps(
        [c.figure for c in b], sort_keys=True
    )
    bars = [t for t in a[0].figure["data"] if t["type"] == "bar"]
    assert sum(sum(t["y"]) for t in bars) == pytest.approx(sum(p.revenue for p in plan.periods))


def _write(tables, path, lang: str) -> None:
    import xlsxwriter

    from royalroad.report.excel import _Formats, _write_table

    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    formats = _Formats(wb)
    for table in tables:
        _write_table(wb, table, lang, formats)
    wb.close()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sheets_number_formats_labels_and_no_formula(hand, tmp_path, lang):
    _, plan, track = hand
    path = tmp_path / "plan.xlsx"
    _write([*plan_sheets(plan, lang), track_sheet(track, lang)], path, lang)
    wb = openpyxl.load_workbook(path)
    names = {"en": ["Plan by month", "Plan chain", "Benchmark", "Plan by segment", "Tracking"]}
    names["ja"] = ["月別計画", "計画の前提", "ベンチマーク", "セグメント別計画", "進捗"]
    assert wb.sheetnames == names[lang]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    by_month = wb[names[lang][0]]
    header = [c.value for c in by_month[1]]
    assert header[:5] == ["period", "in_target", "leads", "goals", "wins"]
    col = {name: i + 1 for i, name in enumerate(header)}
    rows = list(by_month.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(plan.periods)
    first = by_month.cell(row=3, column=col["revenue"])
    assert first.number_format == "#,##0" and first.value == pytest.approx(plan.periods[0].revenue)
    assert by_month.cell(row=3, column=col["revenue_low"]).value == pytest.approx(
        plan.periods[0].revenue_low
    )
    chain = wb[names[lang][1]]
    keys = [r[6] for r in chain.iter_rows(min_row=3, values_only=True)]
    assumed = {r[6]: r[5] for r in chain.iter_rows(min_row=3, values_only=True)}
    assert assumed["mean_won_amount"] is True and assumed["p_goal_given_lead"] is False
    assert "p_reach_target" in keys
    pct_cell = chain.cell(row=3 + keys.index("p_win_given_goal"), column=2)
    assert pct_cell.number_format == "0.0%"
    segments = wb[names[lang][3]]
    values = {r[0] for r in segments.iter_rows(min_row=3, values_only=True)}
    assert values == set(HOSTILE)  # written as text, never as formulas
    bench = wb[names[lang][2]]
    row = next(bench.iter_rows(min_row=3, values_only=True))
    assert row[6] == 0.6 and row[0] == "技術打合せ → 見積依頼"
    track_rows = list(wb[names[lang][4]].iter_rows(min_row=3, values_only=True))
    assert len(track_rows) == len(track.periods)
    header = [c.value for c in wb[names[lang][4]][2]]
    if lang == "ja":
        assert re.search("実績", " ".join(str(h) for h in header))


def test_empty_sheets_keep_their_headers():
    tables = [*plan_sheets(None, "en"), track_sheet(None, "en")]
    assert [t.key for t in tables] == [
        "plan",
        "plan_chain",
        "plan_benchmark",
        "plan_segments",
        "track",
    ]
    assert all(t.rows == () and t.columns for t in tables)
