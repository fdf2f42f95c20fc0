"""Issue 15, statistics: Monroe et al.'s log-odds ratio against a direct implementation of
the published formula, BH against statsmodels and a hand-written step-up, and the
engine's counts, stages and goal moments against a hand-counted workspace (notes at or
after the close left out, open leads censored, a lead counted once).
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

import royalroad as rr
from royalroad.analysis import triggers_stats as ts
from royalroad.analysis.goals import discover_goals
from royalroad.analysis.triggers import triggers

# ---------------------------------------------------------------- the formula


def monroe(y_i, y_j, alpha):
    """Monroe, Colaresi and Quinn (2008), eqs. 16 and 18–20, written out term by term:
    class totals n = Σ y, α_0 = Σ α."""
    n_i, n_j, a0 = sum(y_i), sum(y_j), sum(alpha)
    out = []
    for yi, yj, a in zip(y_i, y_j, alpha, strict=True):
        omega_i = (yi + a) / (n_i + a0 - yi - a)  # odds of the word in corpus i
        omega_j = (yj + a) / (n_j + a0 - yj - a)
        delta = math.log(omega_i) - math.log(omega_j)
        sigma2 = 1 / (yi + a) + 1 / (yj + a)
        out.append((delta, delta / math.sqrt(sigma2)))
    return out


def test_log_odds_and_z_match_the_published_formula():
    # a hand-made table: five words, two classes, an informative prior from a background
    y_won = [30, 5, 12, 0, 53]
    y_lost = [10, 25, 12, 4, 49]
    background = [120, 90, 70, 10, 400]
    alpha = [0.05 * b for b in background]
    expected = monroe(y_won, y_lost, alpha)
    delta, z = ts.log_odds_dirichlet(
        np.array(y_won), np.array(y_lost), sum(y_won), sum(y_lost), np.array(alpha), sum(alpha)
    )
    for (d, zz), got_d, got_z in zip(expected, delta, z, strict=True):
        assert got_d == pytest.approx(d, abs=1e-9)
        assert got_z == pytest.approx(zz, abs=1e-9)
    assert z[0] > 0 and z[1] < 0 and abs(z[2]) < 0.5  # won-ish, lost-ish, even


def test_score_uses_pooled_counts_times_the_prior_as_alpha():
    import pandas as pd

    counts = pd.DataFrame({"won": [30, 5], "lost": [10, 25], "open": [4, 6]})
    delta, z = ts.score(counts, 200.0, 300.0, 560.0, 0.1)
    a = [0.1 * 44, 0.1 * 36]
    for k in range(2):
        om_i = (counts.won[k] + a[k]) / (200 + 56 - counts.won[k] - a[k])
        om_j = (counts.lost[k] + a[k]) / (300 + 56 - counts.lost[k] - a[k])
        d = math.log(om_i / om_j)
        assert delta[k] == pytest.approx(d, abs=1e-12)
        assert z[k] == pytest.approx(
            d / math.sqrt(1 / (counts.won[k] + a[k]) + 1 / (counts.lost[k] + a[k])), abs=1e-12
        )


def test_two_sided_p_keeps_its_precision_in_the_tail():
    z = np.array([0.0, 1.959963984540054, -3.0, 30.0])
    p = ts.two_sided_p(z)
    assert p[0] == 1.0
    assert p[1] == pytest.approx(0.05, abs=1e-12)
    assert p[2] == pytest.approx(2 * norm.cdf(-3.0), rel=1e-12)
    assert p[3] == pytest.approx(2 * norm.sf(30.0), rel=1e-12) and 0 < p[3] < 1e-190


def test_proxy_rules():
    Row = namedtuple("Row", "won lost notes_closed notes_after to_close position")
    assert ts.proxy_reason(Row(3, 2, 3, 7, 30.0, 0.5))[0] == "after_close"  # 受注のお礼
    assert ts.proxy_reason(Row(6, 3, 9, 0, 0.2, 0.95))[0] == "at_close"
    assert ts.proxy_reason(Row(40, 0, 40, 0, 20.0, 0.5))[0] == "one_class_won"
    assert ts.proxy_reason(Row(30, 20, 50, 2, 20.0, 0.5))[0] is None


# ---------------------------------------------------------------- a hand-counted workspace

LEADS = """lead_id,created_at,outcome,closed_at,amount
W1,2024-01-01 09:00:00,won,2024-03-01 10:00:00,100
W2,2024-01-02 09:00:00,won,2024-03-05 10:00:00,100
L1,2024-01-03 09:00:00,lost,2024-02-20 10:00:00,
L2,2024-01-04 09:00:00,lost,2024-02-25 10:00:00,
L3,2024-01-05 09:00:00,lost,2024-02-26 10:00:00,
O1,2024-02-01 09:00:00,open,,
"""
EVENTS = """lead_id,activity,ts
W1,資料送付,2024-01-05 10:00:00
W1,技術打合せ,2024-01-20 10:00:00
W2,資料送付,2024-01-06 10:00:00
W2,技術打合せ,2024-02-10 10:00:00
L1,資料送付,2024-01-10 10:00:00
L2,資料送付,2024-01-11 10:00:00
L3,資料送付,2024-01-12 10:00:00
O1,資料送付,2024-02-05 10:00:00
"""
NOTES = """lead_id,ts,text
W1,2024-01-10 10:00:00,比較資料を送付。
W1,2024-01-25 10:00:00,比較表で説明、前向き。
W1,2024-03-02 10:00:00,受注のお礼。比較資料の件ありがとうございました。
W2,2024-01-03 10:00:00,予算確保済み。
L1,2024-01-12 10:00:00,予算未確保のため見送り。
L1,2024-02-20 10:00:00,失注。比較資料は不要とのこと。
L2,2024-01-15 10:00:00,比較資料を送付。
O1,2024-02-10 10:00:00,比較資料を送付。
"""


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    for name, text in (("leads.csv", LEADS), ("events.csv", EVENTS), ("notes.csv", NOTES)):
        (tmp / name).write_text(text, encoding="utf-8")
    ws = rr.ingest(
        leads=tmp / "leads.csv",
        events=tmp / "events.csv",
        notes=tmp / "notes.csv",
        tz="UTC",
        as_of="2024-04-01",
    )
    goals = discover_goals(ws, pairs=0)
    meeting = next(c for c in goals.candidates if c.key == ("技術打合せ", None, 1, None))
    goals = replace(goals, recommended=meeting)  # far too few leads to find it: given
    res = triggers(ws, min_count=1, goals=goals, milestones=False)
    yield ws, res
    ws.close()


def cat(res, name):
    return next(c for c in res.categories if c.category == name)


def test_leads_per_category_count_notes_before_the_close_once_per_lead(hand):
    _, res = hand
    c = cat(res, "比較資料")
    # W1 twice before the close (once: one lead), L2, O1 (open: censored, counted apart);
    # W1's thanks after the close and L1's note at the close do not count
    assert (c.stats.won, c.stats.lost, c.stats.open) == (1, 1, 1)
    assert (cat(res, "予算確保").stats.won, cat(res, "予算確保").stats.lost) == (1, 0)
    assert (cat(res, "予算未確保").stats.won, cat(res, "予算未確保").stats.lost) == (0, 1)
    assert res.counts.before_close == 6 and res.counts.after_close == 2
    assert (res.counts.leads_won, res.counts.leads_lost, res.counts.leads_open) == (2, 2, 1)
    assert c.won_share == 1 / 2 and c.lost_share == 1 / 2
    words = {t.term: t for t in res.terms}
    assert "お礼" not in words and "失注" not in words  # only after the close: never a mention


def test_stage_is_the_last_activity_before_each_note(hand):
    _, res = hand
    c = cat(res, "比較資料")
    # W1 01-10 after 資料送付, W1 01-25 after 技術打合せ, L2 01-15 after 資料送付, O1 after 資料送付
    assert [(s.activity, s.notes) for s in c.stages] == [("資料送付", 3), ("技術打合せ", 1)]
    assert c.top_stage.share == 0.75
    budget = cat(res, "予算確保")  # W2 wrote it before any activity
    assert [(s.activity, s.notes) for s in budget.stages] == [(None, 1)]


def test_before_and_after_the_goal(hand):
    _, res = hand
    c = cat(res, "比較資料")
    # W1 reached 技術打合せ on 01-20: its 01-10 note is before, 01-25 after; L2 and O1 never
    assert (c.before_goal, c.after_goal, c.without_goal) == (1, 1, 2)
    assert c.before_goal_share == 0.5
    assert cat(res, "予算確保").before_goal == 1  # W2: 01-03, goal on 02-10


def test_z_and_q_follow_the_formula_and_bh_over_everything_tested(hand):
    _, res = hand
    n_won = sum(t.stats.won for t in res.terms)  # min_count 1: every term is in the list
    n_lost = sum(t.stats.lost for t in res.terms)
    n_all = n_won + n_lost + sum(t.stats.open for t in res.terms)
    prior = res.settings["prior"]
    a0 = prior * n_all
    for c in [c for c in res.categories if c.stats.tested] + list(res.terms[:5]):
        s = c.stats
        a = prior * (s.won + s.lost + s.open)
        d = math.log((s.won + a) / (n_won + a0 - s.won - a)) - math.log(
            (s.lost + a) / (n_lost + a0 - s.lost - a)
        )
        assert s.log_odds == pytest.approx(d, abs=1e-9)
        assert s.z == pytest.approx(d / math.sqrt(1 / (s.won + a) + 1 / (s.lost + a)), abs=1e-9)
        assert s.p_value == pytest.approx(2 * norm.sf(abs(s.z)), rel=1e-12)
    tested = [c.stats for c in res.categories if c.stats.tested] + [t.stats for t in res.terms]
    assert res.tested == len(tested)
    p = np.array([s.p_value for s in tested])
    q = np.array([s.q_value for s in tested])
    assert np.allclose(q, multipletests(p, method="fdr_bh")[1], rtol=0, atol=1e-15)
    assert np.allclose(q, bh_by_hand(p), rtol=0, atol=1e-15)


def bh_by_hand(p):
    """Benjamini–Hochberg step-up, written out: q_(i) = min_{k ≥ i} p_(k) m / k, capped at 1."""
    m = len(p)
    order = np.argsort(p)
    q = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        q[i] = running
    return q


def test_options_are_checked(hand):
    ws, _ = hand
    with pytest.raises(rr.InputError, match="--min-count: 0"):
        triggers(ws, min_count=0)
    with pytest.raises(rr.InputError, match="--prior"):
        triggers(ws, prior=0)


def test_the_result_renders_as_data(hand):
    _, res = hand
    d = res.to_dict()
    assert {"term", "lang", "won", "lost", "log_odds", "z", "q"} <= set(d["terms"][0])
    c = next(x for x in d["categories"] if x["category"] == "比較資料")
    assert {
        "category",
        "won",
        "lost",
        "log_odds",
        "z",
        "q",
        "top_stage",
        "before_goal_share",
        "examples",
    } <= set(c)
    assert c["top_stage"] == "資料送付" and c["before_goal_share"] == 0.5
    assert repr(res).startswith("TriggersResult(") and len(repr(res)) < 200
    assert "<table" in res._repr_html_()
    assert list(res.to_frame().columns[:3]) == ["term", "lang", "won"]
    assert "before_goal_share" in res.categories_frame().columns


def test_has_notes_says_whether_analyze_should_mine_them(hand, tmp_path):
    from royalroad.analysis.triggers import has_notes

    ws, _ = hand
    assert has_notes(ws)
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    bare = rr.ingest(leads=tmp_path / "leads.csv", events=tmp_path / "events.csv", tz="UTC")
    assert not has_notes(bare)
    bare.close()
