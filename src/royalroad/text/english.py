"""English words: a plain tokenizer, lower case, stop words, negation kept.

A word is a run of Latin letters and digits that starts with a letter (``q3``,
``don't``); no stemming, so ``secured`` and ``secure`` stay apart (list both in the
trigger dictionary when both matter). Punctuation other than ``.``, ``-`` and quotes
within a word breaks a phrase, and so does any Japanese between two English words.

A negator (``not``, ``no``, ``never``, ``without``, ``cannot``… and every word ending
in ``n't``) marks the next kept word of the phrase: "budget not secured" →
``budget ¬secured``; "no budget" → ``¬budget``. Stop words in between do not end it
("has not been secured" → ``¬secured``).
"""

from __future__ import annotations

import re

from royalroad.text import NEG
from royalroad.text.japanese import Token
from royalroad.text.stopwords import EN as STOP
from royalroad.text.stopwords import NEGATORS_EN as NEGATORS

WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)?")
GAP_BREAK = re.compile(r"[,;:()\[\]{}\"“”/|<>!?]|[^\x00-\x7f]")


def segments(
    text: str, base: int, words: list[re.Match[str]] | None = None, *, offsets: bool = True
) -> list[list[Token]] | list[list[tuple[str, str]]]:
    """Phrases of kept English words in ``text`` (offsets shifted by ``base``).

    >>> [[w for w, *_ in s] for s in segments("Budget has not been secured, sadly", 0)]
    [['budget', '¬secured'], ['sadly']]
    """
    segs: list = []
    cur: list = []
    neg = False
    prev = None
    for m in words if words is not None else WORD.finditer(text):
        if prev is not None and GAP_BREAK.search(text, prev, m.start()):
            if cur:
                segs.append(cur)
                cur = []
            neg = False
        prev = m.end()
        w = m.group().lower().replace("’", "'")
        if w in NEGATORS or w.endswith("n't"):
            neg = True
            continue
        if w in STOP or len(w) < 2:
            continue
        w = NEG + w if neg else w
        cur.append((w, "en", base + m.start(), base + m.end()) if offsets else (w, "en"))
        neg = False
    if cur:
        segs.append(cur)
    return segs
