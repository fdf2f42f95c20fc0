"""Free-text sales notes with planted decision-trigger phrases.

A note is one of a few hundred texts: a template (Japanese or English) filled with
at most one trigger phrase and a neutral fragment. All texts are built once in
Python and every note picks one by its code, so a million notes cost a ``take``.

Triggers follow the eventual outcome (also for leads still open at ``as_of``): a
trigger in a note of a later winner is positive with probability ``P_POSITIVE_WON``,
in a note of a later loser with ``P_POSITIVE_LOST``; under ``null`` both are
``P_POSITIVE_NULL``. Some templates hold ASCII commas, double quotes and newlines
so that a reader's CSV quoting is exercised.

Besides these buying signals, the article's decision triggers are planted per lead
(:data:`PLANTED`): one extra note per lead that has the trigger, at a random office
hour between creation and an hour before the close. A category is given to exactly
``round(p · n)`` leads of every cell (eventual outcome × closed by ``as_of``), so the
planted rates hold in every sample: a positive category (比較資料, in half of the
winners' notes and 15% of the losers'), a negative one (予算未確保, the mirror image)
and a neutral one (実物・展示会, 20% of both), in Japanese and in English. Winners and
losers get as many planted notes, so neither class "talks more" because of them.
Under ``null`` every category has the same rate in both classes. Their draws come from
a stream of their own, so the buying-signal notes stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from royalroad.simulate.engine import HOUR, Journeys, business, strings, timestamps
from royalroad.simulate.scenarios import Scenario

POSITIVE_JA = ("予算確保済み", "決裁者同席", "導入時期確定")
NEGATIVE_JA = ("競合比較中", "導入時期未定", "価格面で難色")
POSITIVE_EN = ("budget secured", "decision maker joined")
NEGATIVE_EN = ("comparing competitors", "timeline undecided")

TRIGGER_JA = (
    "{t}。{f}。",
    "先方より「{t}」との話あり。{f}。",
    "訪問メモ\n・{t}\n・{f}",
    "{f}, {t}, 引き続きフォロー",
    '担当者コメント: "{t}" とのこと。{f}。',
    "電話にて確認:{t}。",
)
NEUTRAL_JA = ("{f}。", "定例連絡。{f}。", "メモ:\n{f}", "{f}, 特記事項なし")
TRIGGER_EN = ("Call with the customer: {t}. {f}", 'Customer said "{t}", next step: proposal.')
NEUTRAL_EN = ("{f}", "Weekly check-in, {f}")
FILLERS_EN = ("sent the brochure again", "next meeting in two weeks", "asked for references")


@dataclass(frozen=True)
class Planted:
    """A decision-trigger category of the default dictionary, planted per lead."""

    category: str
    polarity: str
    p_won: float  # share of (eventual) winners with a note mentioning it
    p_lost: float
    ja: tuple[str, ...]
    en: tuple[str, ...]

    @property
    def p_null(self) -> float:
        return round((self.p_won + self.p_lost) / 2, 4)


PLANTED = (
    Planted(
        "比較資料",
        "positive",
        0.50,
        0.15,
        (
            "比較資料をお送りしたところ前向きな反応",
            "比較表で他社との違いをご確認いただいた",
            "比較シートを見て導入に前向き",
        ),
        (
            "They reviewed our comparison sheet and liked the cost savings",
            "Sent the comparison table, positive feedback from the plant",
        ),
    ),
    Planted(
        "予算未確保",
        "negative",
        0.15,
        0.50,
        (
            "予算未確保のため来期に再提案を検討",
            "予算がまだ確保できていないため今期の導入は見送り",
            "今期は予算なしのため次年度の計画に回す",
        ),
        (
            "Budget not secured yet, will revisit in the next fiscal year",
            "No budget this fiscal year, waiting for the new plan",
        ),
    ),
    Planted(
        "実物・展示会",
        "neutral",
        0.20,
        0.20,
        ("展示会で実物をご覧いただき、機能を一通り確認", "実機デモを実施、反応は普通"),
        ("They saw the real product at the trade show", "Gave a live demo of the standard model"),
    ),
)
"""The article's decision triggers, planted per lead. Phrasings of a category yield about
as many words as those of the others (nine or ten terms), so that no class of leads
"talks more" because of what was planted in it."""
P_FILLER = 0.5  # a planted note also carries a neutral fragment

MEAN_NOTES = 0.8  # Poisson mean per lead
P_ENGLISH = 0.10
P_TRIGGER = 0.60
P_POSITIVE_WON = 0.75
P_POSITIVE_LOST = 0.25
P_POSITIVE_NULL = 0.45


def _vocabulary(sc: Scenario) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """All note texts, and per group (ja/en × trigger/neutral): offset, templates, phrases, fillers.

    Trigger groups order phrases positive first: phrase index < len(POSITIVE) is positive.
    """
    texts: list[str] = []
    groups = []
    for templates, phrases, fillers in (
        (TRIGGER_JA, POSITIVE_JA + NEGATIVE_JA, sc.fillers),
        (NEUTRAL_JA, ("",), sc.fillers),
        (TRIGGER_EN, POSITIVE_EN + NEGATIVE_EN, FILLERS_EN),
        (NEUTRAL_EN, ("",), FILLERS_EN),
    ):
        groups.append((len(texts), len(templates), len(phrases), len(fillers)))
        texts += [tpl.format(t=p, f=f) for tpl in templates for p in phrases for f in fillers]
    return texts, groups


def notes_table(
    sc: Scenario, j: Journeys, ids: pa.Array, null: bool, seed: int, as_of: int
) -> pa.Table:
    """Notes of every lead, written at least an hour before its close and not after ``as_of``."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(5)[4]))
    texts, groups = _vocabulary(sc)
    n = j.created.size
    lead = np.repeat(np.arange(n), rng.poisson(MEAN_NOTES, n))
    m = lead.size
    ts = j.created[lead] + (rng.random(m) * (j.close - j.created)[lead]).astype(np.int64)
    ts = np.clip(business(ts), j.created[lead], j.close[lead] - HOUR)  # written in office hours
    english = rng.random(m) < P_ENGLISH
    trigger = rng.random(m) < P_TRIGGER
    if null:
        p_pos = np.full(m, P_POSITIVE_NULL)
    else:
        p_pos = np.where(j.won[lead], P_POSITIVE_WON, P_POSITIVE_LOST)
    positive = rng.random(m) < p_pos
    u_tpl, u_phr, u_fil = rng.random(m), rng.random(m), rng.random(m)

    code = np.zeros(m, dtype=np.int64)
    for g, (offset, n_tpl, n_phr, n_fil) in enumerate(groups):
        sel = (english == (g >= 2)) & (trigger == (g % 2 == 0))
        tpl = (u_tpl[sel] * n_tpl).astype(np.int64)
        fil = (u_fil[sel] * n_fil).astype(np.int64)
        if n_phr == 1:
            phr = np.zeros(tpl.size, dtype=np.int64)
        else:
            n_pos = len(POSITIVE_EN if g >= 2 else POSITIVE_JA)
            pos = positive[sel]
            phr = np.where(pos, (u_phr[sel] * n_pos), n_pos + u_phr[sel] * (n_phr - n_pos))
            phr = phr.astype(np.int64)
        code[sel] = offset + (tpl * n_phr + phr) * n_fil + fil

    keep = ts <= as_of
    lead, ts, code = lead[keep], ts[keep], code[keep]
    p_lead, p_ts, p_code = _planted(sc, j, null, seed, as_of, len(texts))
    texts += planted_texts(sc)
    lead, ts, code = (np.concatenate(x) for x in ((lead, p_lead), (ts, p_ts), (code, p_code)))
    order = np.lexsort((ts, lead))  # stable: equal (lead, ts) keep their draw order
    lead, ts, code = lead[order], ts[order], code[order]
    return pa.table(
        {
            "lead_id": ids.take(pa.array(lead)),
            "ts": timestamps(ts),
            "text": strings(code, texts),
            "author": strings(j.rep[lead], [r for r, _ in sc.reps]),
        }
    )


def planted_texts(sc: Scenario) -> list[str]:
    """Every text of a planted-trigger note: category × language × phrasing × filler."""
    out = []
    for pl in PLANTED:
        for phrases, fillers, fmt in (
            (pl.ja, sc.fillers, "{t}。{f}。"),
            (pl.en, FILLERS_EN, "{t}. {f}"),
        ):
            for t in phrases:
                out.append(t + ("。" if fmt.startswith("{t}。") else ""))
                out += [fmt.format(t=t, f=f) for f in fillers]
    return out


def _planted(
    sc: Scenario, j: Journeys, null: bool, seed: int, as_of: int, offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One note per lead and planted category it has: ``(lead, ts, text code)``."""
    from royalroad.simulate.engine import stratified

    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(6)[5]))
    cells = (j.won.astype(np.int64) * 2 + j.closed.astype(np.int64)).astype(np.int64)
    leads, times, codes = [], [], []
    at = offset
    for pl in PLANTED:
        p_won, p_lost = (pl.p_null, pl.p_null) if null else (pl.p_won, pl.p_lost)
        has = stratified(rng, cells, np.array([p_lost, p_lost, p_won, p_won]))
        lead = np.flatnonzero(has)
        m = lead.size
        ts = j.created[lead] + (rng.random(m) * (j.close - j.created)[lead]).astype(np.int64)
        ts = np.clip(business(ts), j.created[lead], j.close[lead] - HOUR)
        english = rng.random(m) < P_ENGLISH
        with_filler = rng.random(m) < P_FILLER
        u_phr, u_fil = rng.random(m), rng.random(m)
        code = np.zeros(m, dtype=np.int64)
        for lang, phrases, fillers in ((False, pl.ja, sc.fillers), (True, pl.en, FILLERS_EN)):
            sel = english == lang
            per = 1 + len(fillers)  # the phrase alone, then with each filler
            phr = (u_phr[sel] * len(phrases)).astype(np.int64)
            fil = np.where(with_filler[sel], 1 + (u_fil[sel] * len(fillers)).astype(np.int64), 0)
            code[sel] = at + phr * per + fil
            at += len(phrases) * per
        keep = ts <= as_of
        leads.append(lead[keep])
        times.append(ts[keep])
        codes.append(code[keep])
    return np.concatenate(leads), np.concatenate(times), np.concatenate(codes)
