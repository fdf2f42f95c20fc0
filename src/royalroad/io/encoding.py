"""Detect the text encoding of a delimited file, never ask the user.

Order of evidence:

1. a byte-order mark (UTF-8, UTF-16) — Excel's "CSV UTF-8" writes one;
2. strict UTF-8 — most exports today;
3. strict CP932 when the text then reads as Japanese — what Excel writes in Japan
   ("Shift_JIS" in its menus is really CP932, which adds ①, ㈱, NEC/IBM kanji);
4. charset-normalizer's best guess for everything else (EUC-JP, cp1250, …), except
   that Windows-1252, the code page of Excel in Western Europe and the Americas, wins
   whenever the guess is another single-byte Latin code page (or a guess made with
   no evidence) and cp1252 reads every non-ASCII character as a Western European
   letter or sign: for short files charset-normalizer ties cp1250 with cp1252 (and
   read ``naïve`` as Urdu, cp1006), turning ``ï`` into ``ď``.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from royalroad.errors import InputError

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_FULL_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # without half-width katakana
_SJIS_FAMILY = {"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213", "ms932", "sjis"}
_LATIN_FAMILY = {
    "cp1250",
    "cp1252",
    "cp1254",
    "cp1257",
    "latin_1",
    "iso8859_1",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_9",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "cp437",
    "cp775",
    "cp850",
    "cp852",
    "cp858",
    "mac_roman",
    "mac_latin2",
    "mac_iceland",
    "mac_turkish",
}
# Letters and signs of Western European text as cp1252 decodes them. Left out on
# purpose: š ž Š Ž and the superscripts/fractions, which cp1252 produces from the
# Czech, Slovak and Polish letters of cp1250 (š ž ą ł ť …), so such files keep cp1250.
_WESTERN = set(
    "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞŒœŸ"
    "€‚„…†‡‰‹›‘’“”•–—™¡¢£¤¥¦§¨©ª«¬®¯°±´µ¶·¸º»¿×÷\u00a0"
)


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
    except UnicodeDecodeError as exc:
        _fail_if_broken_utf8(data, exc, source)
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        non_ascii = sum(1 for ch in text if ord(ch) > 127)
        if non_ascii and len(_JAPANESE.findall(text)) >= 0.5 * non_ascii:
            # EUC-JP bytes also decode as CP932, as half-width katakana and stray
            # kanji: prefer EUC-JP when it reads as more full-width kana and kanji
            try:
                euc = data.decode("euc_jp")
            except UnicodeDecodeError:
                euc = None
            if euc is not None and len(_FULL_JAPANESE.findall(euc)) > len(
                _FULL_JAPANESE.findall(text)
            ):
                return "euc_jp"
            return "cp932"
    guess = from_bytes(data[:1_000_000]).best()
    if guess is None:
        raise InputError("io.undecodable", file=source)
    encoding = guess.encoding.lower()
    if encoding in _SJIS_FAMILY:
        encoding = "cp932"
    if (
        encoding != "cp1252"
        and (encoding in _LATIN_FAMILY or guess.coherence == 0)
        and _western(data)
    ):
        encoding = "cp1252"
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise InputError("io.undecodable", file=source) from None
    return encoding


def _western(data: bytes) -> bool:
    """cp1252 decodes ``data`` and every non-ASCII character is Western European."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(ch in _WESTERN for ch in text if ord(ch) > 127)


def _fail_if_broken_utf8(data: bytes, exc: UnicodeDecodeError, source: str) -> None:
    """A UTF-8 file with a few bad bytes (a damaged export, two files pasted together)
    must not be re-read as CP932 mojibake or reported as undetectable: name the line.

    "Mostly UTF-8" means at least three valid multi-byte characters and twice as many
    as invalid bytes: CP932 or Latin text almost never forms a valid UTF-8 sequence,
    so such a file is UTF-8 with damage, and any guess would silently turn part of it
    into mojibake (charset-normalizer read a UTF-8 file ending in CP932 as ptcp154).
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127) - bad
    if valid >= 3 and valid >= 2 * bad:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("io.bad_utf8", file=source, line=line, byte=f"0x{data[exc.start]:02X}")


def decode_as(data: bytes, encoding: str, source: str) -> tuple[str, str]:
    """Decode ``data`` with the codec the user named; return (codec, text).

    An unknown codec name or a byte the codec cannot read is one line naming the
    file (and the line of the first bad byte), never a silent replacement.

    >>> decode_as("ｶﾅ,髙".encode("cp932"), "Shift_JIS", "x.csv")
    ('cp932', 'ｶﾅ,髙')
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError("io.bad_encoding", file=source, value=encoding) from None
    if name in _SJIS_FAMILY or name.replace("-", "_") in _SJIS_FAMILY:
        name = "cp932"  # Excel's "Shift_JIS" is CP932 (①, ㈱, NEC/IBM kanji)
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "io.wrong_encoding",
            file=source,
            encoding=encoding,
            line=line,
            byte=f"0x{data[exc.start]:02X}",
        ) from None
    return name, text
