"""Detect the text encoding of a delimited file, never ask the user.

Order of evidence:

1. a byte-order mark (UTF-8, UTF-16) — Excel's "CSV UTF-8" writes one. A UTF-8
   mark followed by a CP932 body (a tool that prepends the mark to whatever it
   copies) is read as CP932, and the summary says so;
2. strict UTF-8 — most exports today;
3. strict CP932 when the text then reads as Japanese — what Excel writes in Japan
   ("Shift_JIS" in its menus is really CP932, which adds ①, ㈱, NEC/IBM kanji);
4. **damaged** CP932 or UTF-8: a file that is CP932 (or UTF-8) but for a few bytes —
   an export cut in the middle of a character, one byte flipped, one row pasted
   from another file — is read in that encoding, never guessed as another code
   page (charset-normalizer read such CP932 files as cp1256, cp1251, mac_latin2 or
   cp855, and an ASCII file with one stray byte as cp1252 or cp437). The rows that
   hold the bad bytes are quarantined (``bad_encoding``, with the line and the
   byte); a damaged header, or damage on many lines, is one fatal line;
5. charset-normalizer's best guess for everything else (EUC-JP, cp1250, …), except
   that Windows-1252, the code page of Excel in Western Europe and the Americas, wins
   whenever the guess is another single-byte Latin code page (or a guess made with
   no evidence) and cp1252 reads every non-ASCII character as a Western European
   letter or sign: for short files charset-normalizer ties cp1250 with cp1252 (and
   read ``naïve`` as Urdu, cp1006), turning ``ï`` into ``ď``.

"CP932 but for a few bytes" means: at least three Japanese characters and three
times as many as bad bytes, and double-byte characters shaped like Japanese text
(a third or more with a trail byte of 0x80 or above; Latin text that happens to
form CP932 pairs has ASCII letters as trail bytes). "UTF-8 but for a few bytes":
three valid multi-byte characters and twice as many as bad bytes, or a pure ASCII
file with at most three stray bytes that cp1252 would not read as plausible
Western text (an accented letter inside a word, or a common sign such as € or “).
In a CP932 file, the bytes 0x80, 0xA0 and 0xFD–0xFF, which Python maps to C1 and
private-use characters, are bad bytes too: Excel never writes them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from charset_normalizer import from_bytes

from royalroad.errors import InputError

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_FULL_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # without half-width katakana
# Full-width Japanese text: kana, kanji, CJK punctuation and full-width forms.
_FULL_JAPANESE_TEXT = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff01-\uff5e]")
# What Python's cp932 makes of bytes Excel never writes: 0x80 → U+0080, 0xA0 and
# 0xFD–0xFF → private use (U+F8F0–U+F8F3).
_CP932_STRAYS = re.compile("[\x80\uf8f0-\uf8f3]")
# CP932 read pair by pair: (lead, trail) of a double-byte character, or a single byte.
_SJIS_PAIR = re.compile(rb"([\x81-\x9f\xe0-\xfc])([\x40-\x7e\x80-\xfc])|[\x00-\xff]", re.S)
_SAMPLE_BYTES = 1 << 20
_BREAK = re.compile(rb"(\r\n|\r|\n)")
_BREAK_TEXT = re.compile(r"\r\n|\r|\n")
_SJIS_FAMILY = {"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213", "ms932", "sjis"}
_OTHER_CJK = {
    "cp949",
    "euc_kr",
    "johab",
    "gb2312",
    "gbk",
    "gb18030",
    "hz",
    "big5",
    "big5hkscs",
    "cp950",
    "euc_jis_2004",
    "euc_jisx0213",
    "iso2022_jp",
}
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
# For telling a cp1252 file with a few accented letters from ASCII with stray bytes:
# letters count inside a word only; ÿ (0xFF, the commonest filler byte) never does.
_LETTERS = set("àáâãäåæçèéêëìíîïñòóôõöøùúûüýßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŒœ")
_SIGNS = set("€£¥¢°±×÷§©®™«»‘’“”„…•–—¿¡µ½¼¾²³·\u00a0")


@dataclass(frozen=True)
class Decoded:
    """A file's text and how it was read.

    ``bad_lines`` maps each physical line (1-based; CRLF, CR and LF all end a line,
    as for the csv module) that holds bytes the encoding cannot read to the first
    such byte; those bytes are U+FFFD in ``text``.
    """

    text: str
    encoding: str
    bad_lines: dict[int, int] = field(default_factory=dict)
    note: str | None = None


def detect_encoding(data: bytes, source: str) -> str:
    """Return the codec :func:`decode` reads ``data`` with.

    >>> detect_encoding("商談ID".encode("cp932"), "x.csv")
    'cp932'
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b", "x.csv")
    'utf-8-sig'
    """
    if data.startswith(codecs.BOM_UTF8):
        return _detect_after_bom(data, source)[0]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return _detect(data, source)[0]


def decode(data: bytes, source: str, encoding: str | None = None) -> Decoded:
    """Decode a text file: with ``encoding`` when given (strictly), else as detected.

    >>> d = decode("商談ID,金額,会社名\\n".encode("cp932") + b"A1,\\x81\\n", "x.csv")
    >>> d.encoding, d.bad_lines
    ('cp932', {2: 129})
    """
    if encoding is not None:
        name, text = decode_as(data, encoding, source)
        return Decoded(text, name)
    if data.startswith(codecs.BOM_UTF8):
        enc, damaged, note = _detect_after_bom(data, source)
        body = data[len(codecs.BOM_UTF8) :]
        codec = "utf-8" if enc == "utf-8-sig" else enc
        if damaged:
            text, bad = _decode_lines(body, codec)
            return Decoded(text, enc, bad, note)
        return Decoded(body.decode(codec), enc, note=note)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            line = len(_BREAK_TEXT.findall(data[: exc.start].decode("utf-16", "replace"))) + 1
            raise InputError(
                "io_damage.bad_utf16", file=source, line=line, byte=f"0x{data[exc.start]:02X}"
            ) from None
    enc, damaged = _detect(data, source)
    if damaged:
        text, bad = _decode_lines(data, enc)
        return Decoded(text, enc, bad)
    return Decoded(data.decode(enc), enc)


def _detect_after_bom(data: bytes, source: str) -> tuple[str, bool, str | None]:
    """(codec, damaged, note) of a file that starts with a UTF-8 byte-order mark."""
    body = data[len(codecs.BOM_UTF8) :]
    try:
        body.decode("utf-8")
        return "utf-8-sig", False, None
    except UnicodeDecodeError:
        pass
    enc, damaged = _detect(body, source)
    if enc in ("cp932", "euc_jp"):
        return enc, damaged, "bom_mismatch"
    return "utf-8-sig", True, None  # a UTF-8 file, as its mark says, with bad bytes


def _detect(data: bytes, source: str) -> tuple[str, bool]:
    """(codec, damaged) of a file without a byte-order mark."""
    try:
        data.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError:
        pass
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
                return "euc_jp", False
            return "cp932", bool(_CP932_STRAYS.search(text))
    # Damaged: CP932 (or EUC-JP) or UTF-8 but for a few bytes. Japanese UTF-8 read as
    # CP932 can pass for damaged CP932 too (its continuation bytes make high trail
    # bytes): when both fit, the reading with fewer bad bytes wins.
    japanese = _damaged_japanese(data)
    utf8_bad = _damaged_utf8(data)
    if japanese is not None and (utf8_bad is None or japanese[1] <= utf8_bad):
        return japanese[0], True
    if utf8_bad is not None:
        return "utf-8", True
    guess = from_bytes(data[:1_000_000]).best()
    if guess is None:
        raise InputError("io.undecodable", file=source)
    encoding = guess.encoding.lower()
    if encoding in _SJIS_FAMILY:
        encoding = "cp932"
    if encoding in _OTHER_CJK and guess.coherence == 0 and _strict(data, "euc_jp"):
        # A short EUC-JP file without kana (商談ID,結果,受注…) decodes as Korean or
        # Chinese too, and charset-normalizer has no language evidence to choose:
        # royalroad's users are in Japan, so Japanese it is.
        return "euc_jp", False
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
    return encoding, False


def _strict(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _bad_count(text: str, cp932: bool) -> int:
    bad = text.count("\ufffd")
    return bad + len(_CP932_STRAYS.findall(text)) if cp932 else bad


def _damaged_japanese(data: bytes) -> tuple[str, int] | None:
    """``("cp932", bad bytes)`` (or EUC-JP) when ``data`` is Japanese text but for a few bytes."""
    text = data.decode("cp932", errors="replace")
    bad = _bad_count(text, cp932=True)
    japanese = len(_FULL_JAPANESE_TEXT.findall(text))
    if not bad or japanese < 3 or japanese < 3 * bad:
        return None
    pairs = _SJIS_PAIR.findall(data[:_SAMPLE_BYTES])
    doubles = [trail for lead, trail in pairs if lead]
    if not doubles or sum(1 for b in doubles if b[0] >= 0x80) < 0.3 * len(doubles):
        return None
    euc = data.decode("euc_jp", errors="replace")
    euc_bad = _bad_count(euc, cp932=False)
    if euc_bad < bad and len(_FULL_JAPANESE.findall(euc)) > len(_FULL_JAPANESE.findall(text)):
        return "euc_jp", euc_bad
    return "cp932", bad


def _damaged_utf8(data: bytes) -> int | None:
    """UTF-8 with a few bad bytes: a damaged export, two files pasted together.

    "Mostly UTF-8" means at least three valid multi-byte characters and twice as many
    as invalid bytes: CP932 or Latin text almost never forms a valid UTF-8 sequence,
    so such a file is UTF-8 with damage, and any guess would silently turn part of it
    into mojibake (charset-normalizer read a UTF-8 file ending in CP932 as ptcp154).
    A pure ASCII file with up to three stray bytes is UTF-8 too, unless cp1252 reads
    them as plausible Western text. Returns the number of bad bytes, or None.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127) - bad
    if valid >= 3 and valid >= 2 * bad:
        return bad
    if valid >= 10 and 2 * valid >= bad:
        return bad  # two files pasted together: UTF-8, too damaged to read (a fatal line)
    if valid == 0 and bad <= 3 and not _plausible_cp1252(data):
        return bad
    return None


def _plausible_cp1252(data: bytes) -> bool:
    """cp1252 reads every non-ASCII byte as an accented letter inside a word or a
    common sign (€, “, –, °, …): how Western text looks, unlike a stray byte."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    for i, ch in enumerate(text):
        if ord(ch) < 128 or ch in _SIGNS:
            continue
        if ch in _LETTERS:
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            if before.isalpha() or after.isalpha():
                continue
        return False
    return True


def _decode_lines(data: bytes, codec: str) -> tuple[str, dict[int, int]]:
    """Decode line by line; bad bytes become U+FFFD and are recorded by line.

    Splitting the bytes at CR and LF is safe in UTF-8, CP932 and EUC-JP: neither
    byte is ever part of a multi-byte character.
    """
    parts = _BREAK.split(data)
    out: list[str] = []
    bad: dict[int, int] = {}
    strays = codec == "cp932"
    for i in range(0, len(parts), 2):
        chunk = parts[i]
        try:
            piece = chunk.decode(codec)
        except UnicodeDecodeError as exc:
            bad[i // 2 + 1] = chunk[exc.start]
            piece = chunk.decode(codec, errors="replace")
        if strays and _CP932_STRAYS.search(piece):
            first = _CP932_STRAYS.search(piece)
            assert first is not None
            bad.setdefault(i // 2 + 1, first.group().encode("cp932")[0])
            piece = _CP932_STRAYS.sub("\ufffd", piece)
        out.append(piece)
        if i + 1 < len(parts):
            out.append(parts[i + 1].decode("ascii"))
    return "".join(out), bad


def _western(data: bytes) -> bool:
    """cp1252 decodes ``data`` and every non-ASCII character is Western European."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(ch in _WESTERN for ch in text if ord(ch) > 127)


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
