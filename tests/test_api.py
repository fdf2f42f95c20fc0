"""The Python API a notebook uses: top-level names, short reprs, HTML tables, frames."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import royalroad as rr
from royalroad.simulate import simulate

PAYLOAD = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    simulate("manufacturing", leads=1500, seed=5).write(tmp)
    events = pd.read_csv(tmp / "events.csv", dtype=str, keep_default_na=False)
    events["activity"] = events["activity"].replace({"試作評価": PAYLOAD})
    events.to_csv(tmp / "events.csv", index=False)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv")
    goals = rr.discover_goals(ws, adjust=["industry"])
    yield tmp, ws, goals
    ws.close()


def test_import_is_cheap_and_names_resolve_lazily():
    code = (
        "import sys, royalroad as rr; heavy = [m for m in ('duckdb', 'ibis', 'pandas') "
        "if m in sys.modules]; print(heavy); rr.discover_goals; print('duckdb' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
    for name in rr.__all__:
        assert getattr(rr, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        rr.nope  # noqa: B018


def test_reprs_are_short_and_carry_the_numbers(demo):
    tmp, ws, goals = demo
    leads = pd.read_csv(tmp / "leads.csv")
    closed = int(leads.outcome.isin(["won", "lost"]).sum())
    text = repr(goals)
    assert len(text) < 200 and text.startswith("GoalResult(goal='技術打合せ'")
    assert f"closed={closed:,}" in text and f"open={int((leads.outcome == 'open').sum()):,}" in text
    assert repr(goals.recommended).startswith("Candidate('技術打合せ', win_rate=")
    paths = rr.analyse_paths(ws, goals=goals)
    assert repr(paths).startswith("PathsResult(road='") and f"leads={len(leads):,}" in repr(paths)
    nxt = rr.next_best_actions(ws, goals=goals)
    assert repr(nxt) == (
        f"NextResult(goal='技術打合せ', open={nxt.leads.num_rows:,}, "
        f"sales_ready={nxt.sales_ready:,}, nurture={nxt.nurture:,}, stalled={nxt.stalled:,}, "
        "owner_column='rep')"
    )
    assert nxt.leads.num_rows == int((leads.outcome == "open").sum())


def test_html_tables_are_escaped(demo):
    _, ws, goals = demo
    html = goals._repr_html_()
    assert html.count("<tr>") == 1 + min(10, len(goals.families()))
    assert "★ 技術打合せ" in html
    labels = {c.activity for c in goals.candidates}
    assert PAYLOAD in labels and PAYLOAD not in html  # shown, if at all, as text
    paths_html = rr.analyse_paths(ws, goals=goals)._repr_html_()
    assert "<script>" not in paths_html
    assert (
        rr.next_best_actions(ws, goals=goals)._repr_html_().startswith('<table class="royalroad">')
    )


def test_goals_argument_supplies_goal_proxies_and_avoided(demo):
    _, ws, goals = demo
    proxies = [p.activity for p in goals.proxies]
    a = rr.next_best_actions(ws, goals=goals)
    b = rr.next_best_actions(ws, goal=goals.recommended, exclude=proxies, avoid=goals.avoided())
    assert a.to_frame().equals(b.to_frame())
    assert a.goal == goals.recommended.label()


def test_analyse_takes_the_options_as_keywords(demo):
    _, ws, _ = demo
    results = rr.analyse(ws, adjust=["industry"], min_evidence=20, pairs=4)
    assert results.goals.settings["adjust"] == ["industry"]
    assert results.next.min_evidence == 20
    assert isinstance(results.goals.to_frame(), pd.DataFrame)
    with pytest.raises(TypeError):
        rr.analyse(ws, no_such_option=1)
