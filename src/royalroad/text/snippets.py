"""Example snippets: a short, masked piece of a note around the matched phrase.

Everything a snippet shows is normalised (NFKC) and masked: e-mail addresses, phone
numbers, URLs and person names become ``[email]``, ``[phone]``, ``[url]``, ``[name]``
before the text is cut (see :mod:`royalroad.text.mask`). The highlight is a span of
the snippet's text, so each view marks it in its own way (HTML ``<mark>`` after
escaping, rich styles, Excel rich strings) and no view ever parses markup out of user
text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from royalroad.text import mask
from royalroad.text.dictionary import find_words
from royalroad.text.tokens import Tokeniser

CONTEXT = 30
"""Characters of context kept on each side of the phrase."""
ELLIPSIS = "…"
_SPACE = re.compile(r"\s+")


def snippet(
    tokeniser: Tokeniser, raw: str, words: Sequence[Sequence[str]], *, context: int = CONTEXT
) -> tuple[str, int, int] | None:
    """``(text, start, end)``: the note masked and cut around the first match of any of
    ``words`` (phrases as word tuples), ``text[start:end]`` the match; None without one.

    >>> tk = Tokeniser()
    >>> snippet(tk, "山田様より電話 03-1234-5678。予算未確保とのこと。", [("予算", "¬確保")])
    ('[name]様より電話 [phone]。予算未確保とのこと。', 20, 25)
    """
    a = tokeniser.analyse(raw)
    span = None
    for w in words:
        found = find_words(a.segments, w)
        if found is not None and (span is None or found[0] < span[0]):
            span = found
    if span is None:
        return None
    spans = sorted(a.private, key=lambda s: s.start)

    def shift(i: int) -> int:
        return i + sum(
            len(mask.PLACEHOLDER[s.kind]) - (s.end - s.start) for s in spans if s.end <= i
        )

    shown = mask.masked(a.text, spans)
    ds, de = shift(span[0]), shift(span[1])
    lo, hi = max(0, ds - context), min(len(shown), de + context)
    for s in spans:  # never cut a placeholder in half
        ps = shift(s.start)
        pe = ps + len(mask.PLACEHOLDER[s.kind])
        if ps < lo < pe:
            lo = ps
        if ps < hi < pe:
            hi = pe
    before = _SPACE.sub(" ", shown[lo:ds])
    mid = _SPACE.sub(" ", shown[ds:de])
    after = _SPACE.sub(" ", shown[de:hi])
    head = ELLIPSIS if lo > 0 else ""
    tail = ELLIPSIS if hi < len(shown) else ""
    text = f"{head}{before}{mid}{after}{tail}"
    start = len(head) + len(before)
    return text, start, start + len(mid)
