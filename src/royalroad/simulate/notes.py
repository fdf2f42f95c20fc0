"""Free-text sales notes with planted decision-trigger phrases.

A note is one of a few hundred texts: a template (Japanese or English) filled with
at most one trigger phrase and a neutral fragment. All texts are built once in
Python and every note picks one by its code, so a million notes cost a ``take``.

Triggers follow the eventual outcome (also for leads still open at ``as_of``): a
trigger in a note of a later winner is positive with probability ``P_POSITIVE_WON``,
in a note of a later loser with ``P_POSITIVE_LOST``; under ``null`` both are
``P_POSITIVE_NULL``. Some templates hold ASCII commas, double quotes and newlines
so that a reader's CSV quoting is exercised.
"""

from __future__ import annotations

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
