"""A note → its phrases of kept words → terms (words and word pairs).

Steps, for every note:

1. **Normalise** (NFKC; :func:`royalroad.text.mask.normalise`) and **blank** personal
   data (e-mail addresses, URLs, phone numbers, titled English names): they never
   become terms.
2. **Sentences** end at 。！？!? , a line break, or a full stop before a space.
3. **Languages per sentence**: a sentence without Japanese goes to the English
   tokenizer (:mod:`royalroad.text.english`); in a Japanese sentence, runs of two or
   more Latin words go there too and the rest, single Latin words included (PoC,
   CAD), to SudachiPy (:mod:`royalroad.text.japanese`). So a note may mix both; a
   switch between the two breaks a phrase. A note is ``ja``, ``en`` or ``mixed`` by
   the words it kept.
4. **Terms**: every kept word (unigram) and every pair of neighbours within a
   phrase (bigram, ``"予算 ¬確保"``), each with its language.

Speed comes from doing each distinct sentence once: notes repeat boilerplate
("定例連絡", "引き続きフォロー") and whole templates, and :meth:`Tokeniser.analyse`
caches per sentence. Tokenising 100,000 notes takes seconds
(``benchmarks/notes_tokenise.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from royalroad.text import english, mask
from royalroad.text.japanese import Japanese, Token

SENTENCE_END = re.compile(r"[。．！？!?\n]+|\.(?=\s|$)")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
ENGLISH_RUN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9'’]*(?:[ \t,.:;&/\-]+[A-Za-z][A-Za-z0-9'’]*)+"
)
"""Two or more Latin words in a row: English inside a Japanese sentence. A single Latin
word there (PoC, CAD, Web) is part of the Japanese phrase and goes to Sudachi."""
LANGS = ("ja", "en")


def sentences(text: str) -> Iterable[tuple[int, str]]:
    """``(offset, sentence)`` for each non-blank sentence of ``text``."""
    at = 0
    for m in SENTENCE_END.finditer(text):
        if m.start() > at and not text[at : m.start()].isspace():
            yield at, text[at : m.start()]
        at = m.end()
    if at < len(text) and not text[at:].isspace():
        yield at, text[at:]


def terms_of(segments: Iterable[Sequence[tuple]]) -> set[tuple[str, str]]:
    """Unigrams and bigrams of phrases (of ``(word, lang, …)`` tuples), as ``(term, lang)``.

    >>> sorted(terms_of([[("予算", "ja", 0, 2), ("¬確保", "ja", 2, 5)]]))
    [('¬確保', 'ja'), ('予算', 'ja'), ('予算 ¬確保', 'ja')]
    """
    out: set[tuple[str, str]] = set()
    for seg in segments:
        prev = None
        for tok in seg:
            out.add((tok[0], tok[1]))
            if prev is not None:
                out.add((f"{prev[0]} {tok[0]}", tok[1]))
            prev = tok
    return out


@dataclass(frozen=True)
class Analysed:
    """One note: its normalised text, phrases with offsets into it, masked spans."""

    text: str
    segments: tuple[tuple[Token, ...], ...]
    private: tuple[mask.Span, ...]
    """E-mail addresses, URLs, phone numbers and names found (names from both tokenizers)."""

    @property
    def langs(self) -> frozenset[str]:
        return frozenset(tok[1] for seg in self.segments for tok in seg)


class Tokeniser:
    """Notes to phrases of kept words; SudachiPy is loaded only when Japanese appears.

    >>> tk = Tokeniser()
    >>> sorted(t for t, _ in tk.terms("予算未確保。Budget not secured."))
    ['budget', 'budget ¬secured', '¬secured', '¬確保', '予算', '予算 ¬確保']
    """

    def __init__(self) -> None:
        self._ja: Japanese | None = None
        self._cache: dict[str, tuple[tuple[tuple[str, str], ...], ...]] = {}

    @property
    def japanese(self) -> Japanese:
        if self._ja is None:
            self._ja = Japanese()
        return self._ja

    def _sentence(
        self, s: str, base: int, names: list[tuple[int, int]] | None, offsets: bool = True
    ) -> list:
        if not NON_ASCII.search(s):
            return english.segments(s, base, offsets=offsets)
        runs = list(ENGLISH_RUN.finditer(s))
        ja_text = s
        if runs:  # English out of Sudachi's way, offsets kept: a break each
            chars = list(s)
            for r in runs:
                chars[r.start() : r.end()] = "、" * (r.end() - r.start())
            ja_text = "".join(chars)
        segs: list = self.japanese.segments(ja_text, base, names, offsets=offsets)
        if runs:
            for r in runs:
                words = list(english.WORD.finditer(s, r.start(), r.end()))
                segs += english.segments(s, base, words, offsets=offsets)
            if offsets:  # in text order (without offsets, which order is no matter:
                segs.sort(key=lambda seg: seg[0][2])  # terms and matches are per phrase)
        return segs

    def analyse(self, raw: str) -> Analysed:
        """Every step with offsets (for snippets and highlighting; slower than
        :meth:`phrases`)."""
        text = mask.normalise(raw)
        private = mask.find(text)
        blanked = mask.blank(text, private)
        names: list[tuple[int, int]] = []
        segs: list[tuple[Token, ...]] = []
        for at, s in sentences(blanked):
            segs += [tuple(seg) for seg in self._sentence(s, at, names)]
        spans = private + [mask.Span(a, b, "name") for a, b in names]
        return Analysed(text, tuple(segs), tuple(sorted(spans, key=lambda x: x.start)))

    def split(self, raw: str) -> list[str]:
        """The sentences of a note, normalised, personal data blanked."""
        text = mask.normalise(raw)
        return [s for _, s in sentences(mask.blank(text, mask.find(text)))]

    def sentence_phrases(self, s: str) -> tuple[tuple[tuple[str, str], ...], ...]:
        """One sentence's phrases as ``(word, lang)`` tuples; cached."""
        hit = self._cache.get(s)
        if hit is None:
            hit = self._cache[s] = tuple(
                tuple(seg) for seg in self._sentence(s, 0, None, offsets=False)
            )
        return hit

    def phrases(self, raw: str) -> list[tuple[tuple[str, str], ...]]:
        """Phrases of a note as ``(word, lang)`` tuples, without offsets."""
        out: list[tuple[tuple[str, str], ...]] = []
        for s in self.split(raw):
            out += self.sentence_phrases(s)
        return out

    def terms(self, raw: str) -> set[tuple[str, str]]:
        """Unigrams and bigrams of one note, as ``(term, lang)``."""
        return terms_of(self.phrases(raw))
