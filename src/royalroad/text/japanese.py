"""Japanese words with SudachiPy: split mode C, normalised forms, negation kept.

SudachiPy and ``sudachidict-core`` come from the package registry (the ``ja`` extra);
nothing is downloaded at run time. Mode C keeps compounds whole (決裁者, 価格面), and
the normalised form folds spelling variants together (打合せ・打ち合わせ・打合わせ →
打ち合わせ; ｳｪﾋﾞﾅｰ → ウェビナー).

Kept: nouns, verbs, adjectives, adjectival nouns (形状詞) and noun-like suffixes
(同士), minus the stop words of :mod:`royalroad.text.stopwords`. Numbers, particles,
auxiliaries and adverbs are dropped; punctuation breaks a phrase. Person names
(固有名詞・人名, or an unknown or proper noun right before さん・様・氏・殿) are
dropped and their spans reported, so that snippets can mask them.

Negation stays with its word: a negator (ない・無い・ず・ぬ・なし・無し, and ん, which
Sudachi normalises to ず) marks the nearest word before it in the same phrase, across
particles and light verbs (予算がない → ``¬予算``; 確保できていない → ``¬確保``); the
prefix 未 marks the word it is part of or stands before (未確保 → ``¬確保``). 未定 and
不明 are words of their own.
"""

from __future__ import annotations

import threading
from typing import Any

from royalroad.errors import InputError
from royalroad.text import NEG
from royalroad.text.stopwords import JA as STOP

NEGATORS = frozenset({"ない", "無い", "ず", "ぬ", "無し", "なし"})
NEG_PREFIXES = frozenset({"未", "不", "非", "無"})
HONORIFICS = frozenset({"さん", "様", "さま", "氏", "殿", "君", "くん", "ちゃん"})

# what a part of speech does here
CONTENT, PROPER, NAME, PREFIX, BREAK, AUX, SKIP = range(7)
_KEEP = {"名詞", "動詞", "形容詞", "形状詞", "接尾辞"}
_BREAKS = {"補助記号", "記号"}

_dictionary: Any = None
_lock = threading.Lock()


def dictionary() -> Any:
    """The SudachiPy core dictionary, loaded once per process (about 0.1 s)."""
    global _dictionary
    with _lock:
        if _dictionary is None:
            try:
                from sudachipy import Dictionary
            except ImportError:
                raise InputError("triggers.no_sudachi") from None
            try:
                _dictionary = Dictionary(dict="core")
            except Exception as exc:  # noqa: BLE001 - sudachipy raises its own errors
                raise InputError("triggers.no_sudachi_dict", detail=str(exc)) from None
        return _dictionary


def _kind(pos: tuple[str, ...]) -> int:
    top = pos[0]
    if top == "名詞" and pos[1] == "数詞":
        return SKIP
    if top == "名詞" and pos[1] == "固有名詞":
        return NAME if pos[2] == "人名" else PROPER
    if top in _KEEP:
        return CONTENT
    if top == "接頭辞":
        return PREFIX
    if top in _BREAKS:
        return BREAK
    if top == "助動詞":
        return AUX
    return SKIP


Token = tuple[str, str, int, int]
"""``(text, lang, start, end)``: a kept word, its language and where it stands."""


class Japanese:
    """One SudachiPy tokenizer (not shared between threads: each tokeniser has its own)."""

    def __init__(self) -> None:
        from sudachipy import SplitMode

        d = dictionary()
        self._tok = d.tokenizer(mode=SplitMode.C)
        self._pos_of = d.pos_of
        self._kinds: dict[int, int] = {}

    def kind(self, pos_id: int) -> int:
        k = self._kinds.get(pos_id)
        if k is None:
            k = self._kinds[pos_id] = _kind(tuple(self._pos_of(pos_id)))
        return k

    def segments(
        self,
        text: str,
        base: int,
        names: list[tuple[int, int]] | None,
        *,
        offsets: bool = True,
    ) -> list[list[Token]] | list[list[tuple[str, str]]]:
        """Phrases of kept words in ``text`` (offsets shifted by ``base``): a phrase
        ends at punctuation and at a name. Names' spans go to ``names`` when given.
        Without ``offsets`` the words are ``(word, lang)`` pairs (the fast path)."""
        segs: list = []
        cur: list = []
        pending_neg = False
        kinds = self._kinds
        ms = self._tok.tokenize(text)
        n = len(ms)
        for i in range(n):
            m = ms[i]
            pid = m.part_of_speech_id()
            k = kinds.get(pid)
            if k is None:
                k = self.kind(pid)
            if k == SKIP:
                continue
            if k == BREAK:
                if cur:
                    segs.append(cur)
                    cur = []
                pending_neg = False
                continue
            if k == PREFIX:
                pending_neg = m.surface() in NEG_PREFIXES
                continue
            norm = m.normalized_form()
            if k == AUX or norm in NEGATORS:
                if norm in NEGATORS and cur and not cur[-1][0].startswith(NEG):
                    cur[-1] = (NEG + cur[-1][0], *cur[-1][1:])
                continue
            if k == NAME or (
                (k == PROPER or m.is_oov()) and i + 1 < n and ms[i + 1].surface() in HONORIFICS
            ):
                if names is not None:
                    names.append((base + m.begin(), base + m.end()))
                if cur:
                    segs.append(cur)
                    cur = []
                pending_neg = False
                continue
            if norm in STOP:
                continue
            if len(norm) >= 3 and norm[0] == "未":
                norm = NEG + norm[1:]
            elif pending_neg:
                norm = NEG + norm
            pending_neg = False
            if offsets:
                cur.append((norm, "ja", base + m.begin(), base + m.end()))
            else:
                cur.append((norm, "ja"))
        if cur:
            segs.append(cur)
        return segs
