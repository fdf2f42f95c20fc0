"""The distinct note texts, tokenised once, as small tables for the engine.

The engine hands over each distinct text once (``SELECT DISTINCT text``); Python
tokenises it (every distinct *sentence* once, through a cache) and returns three
Arrow tables the engine joins back to the notes:

* ``texts``: ``tid, text, lang`` (ja, en, mixed or none, by the words kept);
* ``terms``: ``tid, term_id`` for every unigram and bigram of the text;
* ``cats``: ``tid, cat_id`` for every trigger category the text mentions.

Counting leads per term and outcome then happens in the engine
(:mod:`royalroad.analysis.triggers_queries`), however many notes there are.

On Spark or a warehouse too, tokenising runs here: the distinct texts are collected
into Python (a row per distinct text, not per note; the examples later fetch up to
eight more per top term and outcome), and the three tables go back as the engine's
temporary tables (:meth:`~royalroad.engine.Workspace.materialized`: cached
DataFrames on Spark).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from royalroad.text.dictionary import Matcher
from royalroad.text.tokens import Tokeniser, terms_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    import ibis.expr.types as ir

    from royalroad.engine import Workspace

_LANG_NAMES = ("none", "ja", "en", "mixed")  # by bit mask: 1 ja, 2 en


@dataclass(frozen=True)
class TextIndex:
    texts: pa.Table
    terms: pa.Table
    cats: pa.Table
    vocabulary: list[tuple[str, str]]
    """``term_id`` → ``(term, lang)``."""


def index_texts(
    texts: Sequence[str], matcher: Matcher, tokeniser: Tokeniser, *, terms: bool = True
) -> TextIndex:
    """Tokenise every text (its position is its ``tid``); sentences are done once each."""
    vocab: dict[tuple[str, str], int] = {}
    cache: dict[str, tuple[tuple[int, ...], frozenset[int], int]] = {}
    tid_t: list[int] = []
    term_ids: list[int] = []
    tid_c: list[int] = []
    cat_ids: list[int] = []
    langs = np.zeros(len(texts), dtype=np.int8)
    for tid, raw in enumerate(texts):
        ids: set[int] = set()
        cats: set[int] = set()
        mask = 0
        for s in tokeniser.split(raw):
            hit = cache.get(s)
            if hit is None:
                ph = tokeniser.sentence_phrases(s)
                found = terms_of(ph) if terms else set()
                hit = cache[s] = (
                    tuple(vocab.setdefault(x, len(vocab)) for x in found),
                    frozenset(matcher.match(ph)),
                    (1 if any(w[1] == "ja" for seg in ph for w in seg) else 0)
                    | (2 if any(w[1] == "en" for seg in ph for w in seg) else 0),
                )
            ids.update(hit[0])
            cats |= hit[1]
            mask |= hit[2]
        langs[tid] = mask
        tid_t += [tid] * len(ids)
        term_ids += sorted(ids)
        tid_c += [tid] * len(cats)
        cat_ids += sorted(cats)
    i32 = pa.int32()
    return TextIndex(
        texts=pa.table(
            {
                "tid": pa.array(np.arange(len(texts)), i32),
                "text": pa.array(list(texts), pa.string()),
                "lang": pa.array([_LANG_NAMES[m] for m in langs], pa.string()),
            }
        ),
        terms=pa.table({"tid": pa.array(tid_t, i32), "term_id": pa.array(term_ids, i32)}),
        cats=pa.table({"tid": pa.array(tid_c, i32), "cat_id": pa.array(cat_ids, i32)}),
        vocabulary=sorted(vocab, key=vocab.__getitem__),
    )


@dataclass(frozen=True)
class Uploaded:
    """The index as temporary tables of the workspace (for the block's duration)."""

    texts: ir.Table
    terms: ir.Table
    cats: ir.Table
    index: TextIndex


@contextmanager
def uploaded(ws: Workspace, index: TextIndex) -> Iterator[Uploaded]:
    import ibis

    with ExitStack() as stack:
        tables: list[Any] = [
            stack.enter_context(ws.materialized(ibis.memtable(t), hint))
            for t, hint in ((index.texts, "tx"), (index.terms, "tt"), (index.cats, "tc"))
        ]
        yield Uploaded(tables[0], tables[1], tables[2], index)
