"""The one ja/en message catalogue.

Every user-facing string goes through :func:`t`. Messages live in
the ``*.toml`` files of this package (one table per key, with ``en`` and ``ja``; one
file per area so that areas can grow independently), and a test checks that every
key has both languages and the same placeholders, and that no key is defined twice.

The default language follows the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``:
``ja_JP.UTF-8`` gives Japanese); :func:`set_lang` or ``--lang`` overrides it.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

LANGS = ("en", "ja")

_lang: ContextVar[str | None] = ContextVar("royalroad_lang", default=None)


def default_lang() -> str:
    """Language from the locale environment: ``ja`` for a Japanese locale, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def get_lang() -> str:
    return _lang.get() or default_lang()


def set_lang(lang: str | None) -> None:
    """Set the language for this context; ``None`` returns to the locale default."""
    if lang is not None and lang not in LANGS:
        from royalroad.errors import InputError

        raise InputError("error.bad_lang", value=lang, allowed=", ".join(LANGS))
    _lang.set(lang)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    files = sorted(
        (f for f in resources.files(__package__).iterdir() if f.name.endswith(".toml")),
        key=lambda f: f.name,
    )
    for f in files:
        for key, entry in tomllib.loads(f.read_text(encoding="utf-8")).items():
            if key in merged:
                raise RuntimeError(f"message key defined twice: {key} ({f.name})")
            merged[key] = entry
    return merged


def t(key: str, /, lang: str | None = None, **params: Any) -> str:
    """Render message ``key`` in ``lang`` (default: current language).

    >>> t("word.won", lang="ja")
    '受注'
    """
    entry = catalogue().get(key)
    if entry is None:
        raise KeyError(f"message key not in catalogue: {key}")
    template = entry[lang or get_lang()]
    return template.format(**params) if params else template


def join(items, lang: str | None = None) -> str:
    """A list in running text: ``a, b`` in English, ``a、b`` in Japanese.

    >>> join(["資料送付", "技術打合せ"], "ja"), join(["a", "b"], "en")
    ('資料送付、技術打合せ', 'a, b')
    """
    return ("、" if (lang or get_lang()) == "ja" else ", ").join(str(i) for i in items)


def has(key: str) -> bool:
    return key in catalogue()
