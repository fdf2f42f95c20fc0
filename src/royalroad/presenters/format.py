"""Number formats every view shares: terminal, report, workbook captions, app.

Pure string functions over numbers (no rich, no HTML), so each presenter renders the
same figure the same way:

* a p- or q-value that underflowed (0.0 from Fisher's test on a big table) reads
  ``< 1e-300``, never ``0``;
* an odds ratio with an empty cell is said in words — "no win without it" — instead
  of the Haldane-corrected number (46,927) that only reflects the +0.5 correction.

>>> p_value_text(0.0, "en"), p_value_text(3.2e-12, "en"), p_value_text(0.0312, "en")
('< 1e-300', '3.2e-12', '0.031')
>>> odds_ratio_text(12.3456, (8.1, 18.8), None, "en")
'12.35 [8.10–18.80]'
>>> odds_ratio_text(46927.0, (2800.0, 7.9e5), "no_win_without", "en")
'no win without it'
"""

from __future__ import annotations

import math

from royalroad.i18n import t

P_FLOOR = 1e-300
"""Below this a p-value is shown as ``< 1e-300``: Fisher's test returns 0.0 once the
true value underflows double precision (about 1e-308), so digits there mean nothing."""

DASH = "–"


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def pct(x: float | None) -> str:
    """``0.634`` → ``63%``; missing → ``–``."""
    return f"{100 * x:.0f}%" if _finite(x) else DASH  # type: ignore[operator]


def ratio(x: float | None) -> str:
    """Two decimals below 100, whole numbers above; missing or infinite → ``–``."""
    if not _finite(x):
        return DASH
    assert x is not None
    return f"{x:.2f}" if x < 100 else f"{x:,.0f}"


def interval(ci: tuple[float, float] | None, fmt=ratio) -> str:
    """``[lo–hi]`` in the given format; empty without an interval."""
    if not ci:
        return ""
    return f"[{fmt(ci[0])}–{fmt(ci[1])}]"


def p_value_text(p: float | None, lang: str | None = None) -> str:
    """A p- or q-value: two significant digits, scientific below 0.001, and
    ``< 1e-300`` where the float ran out (never ``0``)."""
    if p is None or not isinstance(p, (int, float)) or math.isnan(p):
        return DASH
    if p < P_FLOOR:
        return t("format.p_below", lang=lang, limit="1e-300")
    if p < 0.001:
        return f"{p:.1e}"
    return f"{p:.2g}"


def zero_cell_text(zero_cell: str, lang: str | None = None) -> str:
    """The empty cell of an odds ratio in words (codes of :func:`royalroad.stats.zero_cell`)."""
    return t(f"format.zero.{zero_cell}", lang=lang)


def odds_ratio_text(
    odds_ratio: float | None,
    ci: tuple[float, float] | None,
    zero_cell: str | None,
    lang: str | None = None,
) -> str:
    """``12.35 [8.10–18.80]``; with an empty cell the words for it (the number is only
    the Haldane correction's); without an estimate ``–``."""
    if zero_cell:
        return zero_cell_text(zero_cell, lang)
    if not _finite(odds_ratio):
        return DASH
    text = ratio(odds_ratio)
    bounds = interval(ci) if ci and all(_finite(v) for v in ci) else ""
    return f"{text} {bounds}".strip()
