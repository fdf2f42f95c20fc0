"""Personal data in notes: found, kept out of the terms, masked in everything shown.

Visit notes hold e-mail addresses, phone numbers, URLs and people's names. None of
them may leave the workspace: the report, the JSON, the workbook and the app show
notes only through :func:`royalroad.text.snippets.snippet`, which replaces each with
a placeholder (``[email]``, ``[phone]``, ``[url]``, ``[name]``). The tokeniser blanks
the same spans before it counts words, so no address or number becomes a term.

What is found here, on the NFKC-normalised text (full-width digits and ``＠`` are
plain ASCII by then):

* e-mail addresses and URLs (``http(s)://…``, ``www.…``);
* phone numbers: Japanese landlines and mobiles with hyphens, spaces, brackets or
  none (``03-1234-5678``, ``090-1234-5678``, ``(03) 1234-5678``, ``0312345678``,
  ``0120-123-456``), and international numbers (``+81 3-1234-5678``,
  ``+81-90-1234-5678``, ``+1 (415) 555-0100``);
* English names next to a title or a role (``Mr. Smith``, ``Dr. Jane Doe``,
  ``John Smith, CTO``, ``CTO John Smith``).

Japanese names are found by the tokeniser (SudachiPy's proper-noun person tags, and
an unknown or proper noun right before さん・様・氏・殿): see
:mod:`royalroad.text.japanese`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KINDS = ("email", "url", "phone", "name")
PLACEHOLDER = {k: f"[{k}]" for k in KINDS}

_DASH = r"[-‐‑‒–—―ー−]"
_SEP = rf"(?:{_DASH}|\s)?"
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
URL = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+[A-Za-z0-9/#=&_~\-]", re.IGNORECASE
)
PHONE = re.compile(
    "|".join(
        (
            # international: +81 3-1234-5678, +81-90-1234-5678, +1 (415) 555-0100
            rf"\+\d{{1,3}}{_SEP}\(?\d{{1,4}}\)?{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}",
            # Japanese with separators or brackets: 03-1234-5678, (03) 1234-5678, 03(1234)5678
            rf"\(0\d{{1,4}}\)\s?\d{{1,4}}{_SEP}\d{{3,4}}",
            r"0\d{1,4}\(\d{1,4}\)\d{3,4}",
            rf"0\d{{1,4}}{_DASH}\d{{1,4}}{_DASH}\d{{3,4}}",
            r"0\d{1,4}\s\d{1,4}\s\d{3,4}",
            # ten or eleven digits in one run: 0312345678, 09012345678
            r"0\d{9,10}",
        )
    ).join((r"(?<![\w+])(?:", r")(?!\w)"))
)
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?"
_ROLE = (
    r"(?:CEO|CTO|CFO|COO|CIO|CMO|VP|SVP|EVP|President|Director|Manager|Head|Chief|"
    r"Engineer|Lead|Partner|Founder|Owner|Buyer|Officer)"
)
_NAME = r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){0,2}"
_FULL_NAME = r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){1,2}"
NAME_EN = [
    re.compile(p)
    for p in (
        rf"\b{_TITLE} ?(?P<n>{_NAME})",  # Mr. Smith, Dr. Jane Doe, Ms.Tanaka
        rf"\b(?P<n>{_FULL_NAME}),? \(?(?:the |our |their )?{_ROLE}\b",  # John Smith, CTO
        rf"\b{_ROLE},? (?P<n>{_FULL_NAME})",  # CTO John Smith, CTO, John Smith
    )
]
"""English names, in group ``n``: next to a title (one or more capitalised words) or a
role (first and last name)."""
_NOT_NAMES = frozenset(
    str.split(
        "The Our Their Your His Her Its This That These Those A An And Or With Met Call Called "
        "Mail Sent Team Sales Product Project Office Dept Department Company Customer Client "
        "Decision Maker Budget Head Lead Chief Engineer Manager Director President Officer "
        "Partner Founder Owner Buyer Senior Junior Vice General Account"
    )
)


_DIGITS = re.compile(r"\d{3}")
_CAPITAL = re.compile(r"[A-Z][a-z]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def normalise(text: str) -> str:
    """NFKC (full-width Latin and digits to ASCII, half-width kana to full-width) and
    ``\\r\\n`` to ``\\n``.

    >>> normalise("ＰｏＣ　ｳｪﾋﾞﾅｰ\\r\\n")
    'PoC ウェビナー\\n'
    """
    return unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")


def find(text: str) -> list[Span]:
    """E-mail addresses, URLs, phone numbers and titled English names in ``text``
    (normalised), without overlaps, in text order.

    >>> [s.kind for s in find("Mr. Smith (smith@example.com, 03-1234-5678)")]
    ['name', 'email', 'phone']
    """
    found: list[Span] = []
    patterns: list[tuple[str, re.Pattern[str], int | str]] = []
    # cheap tests first: most notes hold no address, no digit run, no capital letter
    if "@" in text:
        patterns.append(("email", EMAIL, 0))
    if "://" in text or "www." in text.lower():
        patterns.append(("url", URL, 0))
    if _DIGITS.search(text):
        patterns.append(("phone", PHONE, 0))
    if _CAPITAL.search(text):
        patterns += [("name", p, "n") for p in NAME_EN]
    for kind, pattern, group in patterns:
        for m in pattern.finditer(text):
            s, e = m.span(group)
            if kind == "name" and any(w in _NOT_NAMES for w in re.split(r"[ \-]", text[s:e])):
                continue
            if any(s < f.end and f.start < e for f in found):
                continue  # a URL's digits are no phone number; an address holds no name
            found.append(Span(s, e, kind))
    return sorted(found, key=lambda x: x.start)


def blank(text: str, spans: list[Span]) -> str:
    """``text`` with each span replaced by as many line breaks: the offsets stay, and
    no word or word pair is formed across a masked span."""
    if not spans:
        return text
    out, at = [], 0
    for s in spans:
        out += [text[at : s.start], "\n" * (s.end - s.start)]
        at = s.end
    out.append(text[at:])
    return "".join(out)


def masked(text: str, spans: list[Span]) -> str:
    """``text`` with every span replaced by its placeholder.

    >>> masked("call 090-1234-5678", find("call 090-1234-5678"))
    'call [phone]'
    """
    out, at = [], 0
    for s in sorted(spans, key=lambda x: x.start):
        if s.start < at:
            continue
        out += [text[at : s.start], PLACEHOLDER[s.kind]]
        at = s.end
    out.append(text[at:])
    return "".join(out)
