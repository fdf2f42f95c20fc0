"""The HTML report: self-contained, deterministic, escaped; and, in a real Chromium, rendered
and inert."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import royalroad as rr
from royalroad.pipeline import AnalysisOptions, analyse, write_outputs
from royalroad.report.html import json_for_script, render_report
from royalroad.simulate import simulate

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
XSS = {
    "見積依頼": "<script>alert(1)</script>",
    "試作評価": '"><img src=x onerror=alert(1)>',
    "量産提案": "</script><script>alert(1)</script>",
}
XSS_FILE = '"><img src=x onerror=alert(1)>.csv'


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    simulate("manufacturing", leads=2000, seed=4).write(tmp)
    ws = rr.ingest(
        leads=tmp / "leads.csv",
        events=tmp / "events.csv",
        notes=tmp / "notes.csv",
        workspace=tmp / "ws.duckdb",
    )
    results = analyse(ws, AnalysisOptions(adjust=("industry",), pairs=4))
    return tmp, ws, results


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The simulated data with script payloads in activity names, segments, notes and a file
    name."""
    tmp = tmp_path_factory.mktemp("xss")
    simulate("manufacturing", leads=1500, seed=9).write(tmp)
    events = pd.read_csv(tmp / "events.csv", dtype=str, keep_default_na=False)
    events["activity"] = events["activity"].replace(XSS)
    bad = pd.DataFrame(
        [
            {
                "lead_id": "</script><script>alert(1)</script>",
                "activity": XSS["見積依頼"],
                "ts": "2025-01-01 00:00:00",
                "rep": "",
                "channel": "",
            }
        ]
    )
    pd.concat([events, bad]).to_csv(tmp / "events.csv", index=False)
    leads = pd.read_csv(tmp / "leads.csv", dtype=str, keep_default_na=False)
    leads.loc[leads.industry == leads.industry.iloc[0], "industry"] = XSS["試作評価"]
    leads.to_csv(tmp / XSS_FILE, index=False)
    # a report title above the header, as Excel exports have: skipped and reported
    (tmp / XSS_FILE).write_text(
        "Lead report 2025\n" + (tmp / XSS_FILE).read_text(encoding="utf-8"), encoding="utf-8"
    )
    notes = pd.read_csv(tmp / "notes.csv", dtype=str, keep_default_na=False)
    notes.loc[:5, "text"] = XSS["量産提案"]
    notes.to_csv(tmp / "notes.csv", index=False)
    ws = rr.ingest(leads=tmp / XSS_FILE, events=tmp / "events.csv", notes=tmp / "notes.csv")
    results = analyse(ws, AnalysisOptions(adjust=("industry",), pairs=4))
    out = tmp / "out"
    write_outputs(results, out, lang="en")
    return out / "report.html", results


def test_report_is_byte_identical_on_rerun(demo, tmp_path):
    _, ws, results = demo
    again = analyse(ws, AnalysisOptions(adjust=("industry",), pairs=4))
    a = write_outputs(results, tmp_path / "a", lang="ja")
    b = write_outputs(again, tmp_path / "b", lang="ja")
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key


def test_report_is_self_contained(demo):
    _, _, results = demo
    html = render_report(results, lang="en")
    assert html.count("<script>") >= 2
    assert html.count("Plotly.newPlot") == 1
    # plotly.js inlined exactly once, nothing fetched from the network
    assert len(re.findall(r"plotly\.js v\d", html)) <= 1
    from royalroad.report.html import _plotlyjs

    ours = html.replace(_plotlyjs(), "")  # the library's own strings mention its website
    assert len(ours) < len(html) - 1_000_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", ours)
    assert "default-src 'none'" in html


def test_sections_follow_the_results(demo):
    _, _, results = demo
    html_en = render_report(results, lang="en")
    html_ja = render_report(results, lang="ja")
    assert html_en.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert html_ja.startswith('<!DOCTYPE html>\n<html lang="ja">')
    goal = results.goals.recommended.activity
    for html in (html_en, html_ja):  # both languages in each report, the chosen one first
        for lang in ("en", "ja"):
            order = [
                html.index(f'id="{lang}-{anchor}"')
                for anchor in (
                    "summary",
                    "actions",
                    "goal-evidence",
                    "royal-road",
                    "journeys",
                    "funnel",
                    "reps",
                    "triggers",
                    "trust",
                )
            ]
            assert order == sorted(order), (lang, order)
            assert html.index(f'id="{lang}-journeys"') < html.index(f'id="{lang}-data-quality"')
            for cid in (
                "rr-forest",
                "rr-heat-1",
                "rr-incidence",
                "rr-sankey",
                "rr-removal",
                "rr-funnel",
                "rr-cohorts",
            ):
                assert f'id="{cid}-{lang}"' in html
        assert f"「{goal}」に到達したリードの受注率は" in html
        assert f"Leads that reach “{goal}” win" in html
    # each sales-ready lead shown says how its P(win) is made up, in both languages
    rows = {r["lead_id"]: r for r in results.next.rows("en")}
    ready = [r for r in rows.values() if r["status"] == "sales_ready"]
    made_up = re.findall(r'class="rr-reason rr-made-up">P\(win\) now: ([^<]+)<', html_en)
    assert len(made_up) >= min(len(ready), 25)
    for text in made_up:
        assert " at this stage" in text and text.endswith("%]")
    assert "この段階の受注率" in html_en
    assert html_en.index('class="rr-lang rr-on" lang="en"') < html_en.index('lang="ja" data-lang')
    assert html_ja.index('class="rr-lang rr-on" lang="ja"') < html_ja.index('lang="en" data-lang')


def test_title_rows_above_a_header_are_reported_with_the_file_escaped(hostile):
    html = hostile[0].read_text(encoding="utf-8")
    escaped = (
        XSS_FILE.replace("&", "&amp;")
        .replace('"', "&#34;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
    assert f"{escaped}: 1 title row above the header skipped (line 1); header on line 2" in html


def test_json_for_script_cannot_close_the_script():
    text = json_for_script({"x": "</script><script>alert(1)</script>", "y": "&"})
    assert "</script" not in text and "<" not in text and "&" not in text


def test_user_text_is_escaped_in_the_file(hostile):
    path, results = hostile
    html = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    labels = {c.activity for c in results.goals.candidates}
    assert XSS["見積依頼"] in labels


def _charts_drawn(page, lang: str) -> None:
    """Every chart of the shown language is drawn (plotly has put its SVG in)."""
    sel = f".rr-lang[data-lang={lang}] .rr-chart"
    page.wait_for_function(
        f"document.querySelectorAll('{sel}').length > 0 && "
        f"[...document.querySelectorAll('{sel}')].every(e => e.querySelector('svg.main-svg'))",
        timeout=20_000,
    )


def _browser():
    from playwright.sync_api import sync_playwright

    return sync_playwright()


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (.ci/run installs it)"
)
def test_report_in_chromium_renders_and_nothing_executes(demo, hostile, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    tmp, _, results = demo
    good = write_outputs(results, tmp_path / "good", lang="ja")["pipeline.out.report"]
    with _browser() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            for name, path in (("report", good), ("report-xss", hostile[0])):
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                problems: list[str] = []
                dialogs: list[str] = []
                requests: list[str] = []
                page.on(
                    "console",
                    lambda m, out=problems: (
                        out.append(m.text) if m.type in ("error", "warning") else None
                    ),
                )
                page.on("pageerror", lambda e, out=problems: out.append(str(e)))
                page.on("dialog", lambda d, out=dialogs: (out.append(d.message), d.dismiss()))
                page.on(
                    "request",
                    lambda r, out=requests: (
                        out.append(r.url)
                        if not r.url.startswith(("file:", "data:", "blob:"))
                        else None
                    ),
                )
                page.goto(path.resolve().as_uri())
                first = "ja" if name == "report" else "en"
                other = "en" if first == "ja" else "ja"
                _charts_drawn(page, first)
                assert page.evaluate("document.documentElement.lang") == first
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                if name == "report":
                    # the goal, this week's actions, the evidence, the road, journeys, the
                    # funnel, trust, data
                    shown = page.eval_on_selector_all(
                        ".rr-lang.rr-on section", "els => els.map(e => e.id)"
                    )
                    assert shown[:10] == [
                        f"{first}-{a}"
                        for a in (
                            "summary",
                            "actions",
                            "goal-evidence",
                            "royal-road",
                            "journeys",
                            "funnel",
                            "reps",
                            "triggers",
                            "trust",
                            "data-quality",
                        )
                    ], shown
                    assert "今週のアクション" in page.inner_text(".rr-lang.rr-on")
                    # the other language is one click away, drawn when shown
                    page.click(f".rr-switch-btn[data-lang={other}]")
                    _charts_drawn(page, other)
                    assert page.evaluate("document.documentElement.lang") == other
                    text = page.inner_text(".rr-lang.rr-on")
                    assert "This week's actions" in text and "今週のアクション" not in text
                    assert page.eval_on_selector_all(".rr-lang.rr-on", "els => els.length") == 1
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{other}.png"), full_page=True)
                    page.click(f".rr-switch-btn[data-lang={first}]")
                assert problems == [], (name, problems)
                assert dialogs == [], (name, dialogs)
                assert requests == [], (name, requests)
                if name == "report":
                    pdf = page.pdf(
                        path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True
                    )
                    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
                    assert pdf.startswith(b"%PDF") and 3 <= pages <= 40, pages
                if name == "report-xss":
                    body = page.inner_text("body")
                    assert XSS["見積依頼"] in body  # shown as text, not run
                    assert XSS_FILE in body
                    assert page.evaluate("document.querySelectorAll('img').length") == 0
                page.close()
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (.ci/run installs it)"
)
def test_plan_from_a_preset_labels_every_assumed_number_in_chromium(demo, tmp_path):
    """A team starting out: the plan comes from the article's benchmark and the user's
    won amount. Every assumed number carries a visible "ASSUMED" / "仮定" label."""
    import dataclasses

    _, _, results = demo
    planned = rr.plan(
        target=120_000_000, period="2026-04..2027-03", preset="education", won_amount=800_000
    )
    with_plan = dataclasses.replace(results, plan=planned)
    path = write_outputs(with_plan, tmp_path / "plan", lang="en")["pipeline.out.report"]
    html = path.read_text("utf-8")
    assert 'id="en-plan"' in html and 'id="ja-plan"' in html
    with _browser() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(path.resolve().as_uri())
            _charts_drawn(page, "en")
            for lang, word in (("en", "ASSUMED"), ("ja", "仮定")):
                if lang == "ja":
                    page.click(".rr-switch-btn[data-lang=ja]")
                    _charts_drawn(page, "ja")
                marks = page.locator(f'.rr-lang.rr-on #{lang}-plan [data-assumed="true"]')
                # the preset's rates, the won amount and the target's chain: all labelled
                assert marks.count() >= 1 + len(planned.assumptions)
                for i in range(marks.count()):
                    mark = marks.nth(i)
                    assert mark.is_visible()
                    box = mark.bounding_box()
                    assert box is not None and box["width"] > 0 and box["height"] > 0
                assert word in page.inner_text(f".rr-lang.rr-on #{lang}-plan")
            page.locator(".rr-lang.rr-on #ja-plan").screenshot(
                path=str(ARTIFACTS / "report-plan-assumed.png")
            )
        finally:
            browser.close()
