"""Detect the text encoding of a delimited file, never ask the user.

Order of evidence:

1. a byte-order mark (UTF-8, UTF-16) — Excel's "CSV UTF-8" writes one;
2. strict UTF-8 — most exports today;
3. strict CP932 when the text then reads as Japanese — what Excel writes in Japan
   ("Shift_JIS" in its menus is really CP932, which adds ①, ㈱, NEC/IBM kanji);
4. charset-normalizer's best guess for everything else (cp1252, latin-1, EUC-JP…).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from royalroad.errors import InputError

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_SJIS_FAMILY = {"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213", "ms932", "sjis"}


def detect_encoding(data: bytes, source: str) -> str:
    """Return a Python codec name that decodes ``data`` without error.

    >>> detect_encoding("商談ID".encode("cp932"), "x.csv")
    'cp932'
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b", "x.csv")
    'utf-8-sig'
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        non_ascii = sum(1 for ch in text if ord(ch) > 127)
        if non_ascii and len(_JAPANESE.findall(text)) >= 0.5 * non_ascii:
            return "cp932"
    guess = from_bytes(data[:1_000_000]).best()
    if guess is None:
        raise InputError("io.undecodable", file=source)
    encoding = guess.encoding.lower()
    if encoding in _SJIS_FAMILY:
        encoding = "cp932"
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise InputError("io.undecodable", file=source) from None
    return encoding
