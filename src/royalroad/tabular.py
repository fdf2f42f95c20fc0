"""Small HTML tables for notebooks: what a result's ``_repr_html_`` shows in Jupyter.

Pure string building with every cell escaped, so that result types can render
themselves without importing a presenter (imports flow one way: analyses never
import the report). The report and the app have their own, richer views.

>>> html_table(["a", "b"], [["<x>", 1]], caption="T")[:62]
'<table class="royalroad"><caption>T</caption><thead><tr><th>a<'
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any


def _cell(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    note: str | None = None,
) -> str:
    """A compact ``<table>``: optional caption above, optional note below."""
    head = "".join(f"<th>{_cell(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    cap = f"<caption>{_cell(caption)}</caption>" if caption else ""
    out = (
        f'<table class="royalroad">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
    return out + (f"<p>{_cell(note)}</p>" if note else "")


def pct(x: float | None) -> str:
    """``0.634`` → ``63%``; missing or NaN → ``–``."""
    return "–" if x is None or x != x else f"{100 * x:.0f}%"
