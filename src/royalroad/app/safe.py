"""User text in Streamlit elements that render Markdown, shown as the text it is.

Streamlit renders Markdown (and LaTeX between ``$``, and its ``:color[…]`` directives)
in ``st.success``/``info``/``warning``/``error``, ``st.caption``, ``st.markdown``,
``st.table`` cells, expander titles and widget labels. An activity named
``![x](http://host/beacon.png)`` would make the browser fetch that URL the moment the
goal sentence is shown; ``[x](…)`` would be a link, ``*x*`` emphasis, ``$…$`` a formula.

:func:`md_escape` backslash-escapes every ASCII punctuation character: CommonMark
treats ``\\`` + punctuation as that character, literally, so the text is displayed
exactly as it is, whatever syntax it holds (images, links, HTML, emphasis, code,
headings, tables, strikethrough, LaTeX). GitHub-style *literal* autolinks
(``http://…``, ``www.…``, ``name@host.tld``) are different: Streamlit's renderer finds
them in the text after escapes are resolved, so a word joiner (U+2060, invisible) goes
after ``http``/``www``/``mailto`` and after ``@`` to keep them plain text. Line breaks
become spaces (a value could otherwise start a new Markdown block). Elements that never
render Markdown (``st.text``, ``st.code``, ``st.dataframe``, option lists) get the raw
text.
"""

from __future__ import annotations

import re
from typing import Any

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|mailto|xmpp)(?=[:.])|(@)")
WORD_JOINER = "\u2060"


def md_escape(text: object) -> str:
    r"""``text`` as Markdown that displays exactly ``text``.

    >>> md_escape("![x](h/b.png)")
    '\\!\\[x\\]\\(h\\/b\\.png\\)'
    >>> md_escape("www.example.com") == "www\u2060\\.example\\.com"
    True
    >>> md_escape("受注 *確定*\n# 見出し")
    '受注 \\*確定\\* \\# 見出し'
    """
    plain = _AUTOLINK.sub(lambda m: m[0] + WORD_JOINER, _BREAKS.sub(" ", str(text)))
    return _PUNCT.sub(r"\\\1", plain)


def md_params(**params: Any) -> dict[str, str]:
    """Catalogue parameters escaped for Markdown (the template itself is ours, trusted)."""
    return {k: md_escape(v) for k, v in params.items()}


def md_frame(frame):
    """A copy of a DataFrame for ``st.table`` (which renders Markdown in every cell):
    headers and text cells escaped, numbers left as numbers."""
    out = frame.copy()
    out.columns = [md_escape(c) for c in frame.columns]
    for col in out.columns:
        out[col] = out[col].map(lambda v: md_escape(v) if isinstance(v, str) else v)
    return out


def md_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``st.table`` rows (a list of dicts) with keys and text values escaped."""
    return [
        {md_escape(k): md_escape(v) if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]
