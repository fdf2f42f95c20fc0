"""Escaping for spreadsheet and CSV cells: user text must never run as a formula.

Activity names, segment values, file names, quarantined raw lines and notes come
from customers' CRM exports. A spreadsheet program evaluates a cell that starts with
``=``, ``+``, ``-`` or ``@`` (and, on import, one that starts with a tab or a
carriage return) as a formula: ``=cmd|' /C calc'!A0`` or ``=HYPERLINK(...)`` are the
classic CSV/formula-injection payloads (OWASP "CSV Injection").

* In ``.xlsx`` files we write text with ``write_string`` (never a formula) and give
  formula-like text the ``quote_prefix`` cell format, so Excel keeps it text even
  when the user edits the cell (see :mod:`royalroad.report.excel`).
* In CSV exports, where no cell type exists, :func:`csv_safe` prefixes a single
  quote, as OWASP recommends. Quoting of separators and double quotes is left to
  :mod:`csv`.

Detection is deliberately generous: full-width ``＝ ＋ － ＠`` (Japanese input
methods produce them, and Japanese Excel converts them when typing) and triggers
after leading blanks count too. A false positive only shows a visible quote in a
CSV cell; a false negative runs code.
"""

from __future__ import annotations

FORMULA_TRIGGERS = frozenset("=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20")
"""First characters that make a spreadsheet treat a cell as a formula."""

EXCEL_MAX_CHARS = 32_767
"""The most characters one Excel cell holds."""


def is_formula_like(text: str | None) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula.

    >>> [is_formula_like(s) for s in ("=1+1", "-2", "@SUM(A1)", "\\t=1", " =1", "見積依頼", "")]
    [True, True, True, True, True, False, False]
    """
    if not text:
        return False
    return text[0] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS


def csv_safe(text: str | None) -> str:
    """``text`` for a CSV cell: a leading ``'`` when it could run as a formula.

    ``None`` becomes the empty string.

    >>> csv_safe("=HYPERLINK(\\"http://x\\")"), csv_safe("技術打合せ"), csv_safe(None)
    ('\\'=HYPERLINK("http://x")', '技術打合せ', '')
    """
    if text is None:
        return ""
    return "'" + text if is_formula_like(text) else text


def excel_text(text: str) -> str:
    """``text`` cut to what one Excel cell holds, ending in ``…`` when cut.

    >>> len(excel_text("x" * 40_000)) == EXCEL_MAX_CHARS
    True
    """
    if len(text) <= EXCEL_MAX_CHARS:
        return text
    return text[: EXCEL_MAX_CHARS - 1] + "…"
