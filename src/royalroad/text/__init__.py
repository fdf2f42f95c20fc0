"""Text processing for sales notes: tokens, negation, trigger phrases, masking.

Japanese is tokenised with SudachiPy (``sudachidict-core``, split mode C, normalised
forms), English with a plain tokenizer and lower-casing; a note may mix both
(:mod:`~royalroad.text.tokens`). Negation stays with its word, so 予算未確保 becomes
``予算 ¬確保`` and never counts as 予算確保. Trigger phrases come from a YAML
dictionary (:mod:`~royalroad.text.dictionary`) and match on the same normalised
tokens. Personal data (e-mail addresses, phone numbers, URLs, person names) is masked
in everything shown (:mod:`~royalroad.text.mask`).

Nothing here touches the workspace: the analysis (:mod:`royalroad.analysis.triggers`)
sends the distinct texts through :class:`~royalroad.text.tokens.Tokeniser` once and
counts in the engine.
"""

from __future__ import annotations

NEG = "¬"
"""Marks a negated word in a term: ``¬確保``, ``budget ¬secured``."""

__all__ = ["NEG"]
