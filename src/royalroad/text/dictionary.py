"""The trigger dictionary: category → phrases, read from YAML, matched on normalised words.

The defaults ship in ``royalroad/text/triggers.yaml`` (the article's decision triggers,
common buying signals and their negative counterparts); a user's file extends or
replaces them (see the comments at the top of that file). A file that cannot be used
is one error naming the file and the line (:class:`~royalroad.errors.InputError`).

A phrase is tokenised exactly like a note (:class:`~royalroad.text.tokens.Tokeniser`)
and matches when its words appear side by side in one phrase of a note, so 比較の資料
matches 比較資料, ｳｪﾋﾞﾅｰ matches ウェビナー, and 予算未確保 (``予算 ¬確保``) never matches
予算確保.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from royalroad.errors import InputError
from royalroad.text.tokens import Tokeniser

POLARITIES = ("positive", "negative", "neutral")
CATEGORY_KEYS = ("label", "polarity", "ja", "en")
DEFAULTS = "triggers.yaml"


@dataclass(frozen=True)
class Category:
    """One trigger category and its phrases (as written, and as words)."""

    name: str
    label_en: str
    label_ja: str
    polarity: str
    phrases: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]
    """Each phrase as its normalised words (``("予算", "¬確保")``)."""

    def label(self, lang: str | None = None) -> str:
        from royalroad.i18n import get_lang

        return self.label_ja if (lang or get_lang()) == "ja" else self.label_en

    def to_dict(self) -> dict:
        return {
            "category": self.name,
            "label": {"en": self.label_en, "ja": self.label_ja},
            "polarity": self.polarity,
            "phrases": list(self.phrases),
        }


@dataclass(frozen=True)
class TriggerDictionary:
    categories: tuple[Category, ...]
    source: str
    """Where it came from: ``defaults``, or the user's file."""

    def names(self) -> list[str]:
        return [c.name for c in self.categories]

    def matcher(self) -> Matcher:
        return Matcher(self.categories)


class Matcher:
    """Which categories a note's phrases mention, and where."""

    def __init__(self, categories: Sequence[Category]) -> None:
        self.categories = tuple(categories)
        index: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for ci, c in enumerate(self.categories):
            for w in c.words:
                index.setdefault(w[0], []).append((w, ci))
        self._index = index

    def match(self, phrases: Iterable[Sequence[tuple[str, str]]]) -> set[int]:
        """Indices of the categories mentioned in ``phrases`` (``(word, lang)`` tuples)."""
        hits: set[int] = set()
        index = self._index
        for seg in phrases:
            words = [w for w, _ in seg]
            for i, w in enumerate(words):
                for ph, ci in index.get(w, ()):
                    if ci not in hits and tuple(words[i : i + len(ph)]) == ph:
                        hits.add(ci)
        return hits


def find_words(segments, words: Sequence[str]) -> tuple[int, int] | None:
    """Where ``words`` first stand side by side in ``segments`` (tokens with offsets):
    ``(start, end)`` in the note's normalised text, or None."""
    n = len(words)
    for seg in segments:
        texts = [tok[0] for tok in seg]
        for i in range(len(texts) - n + 1):
            if texts[i : i + n] == list(words):
                return seg[i][2], seg[i + n - 1][3]
    return None


# --- reading the YAML ---------------------------------------------------------------


def load(path: str | Path | None = None, tokeniser: Tokeniser | None = None) -> TriggerDictionary:
    """The default dictionary, extended or replaced by the YAML file at ``path``.

    >>> d = load()
    >>> d.names()[:3]
    ['比較資料', '試作・成果確認', '社内説得・稟議']
    """
    tk = tokeniser or Tokeniser()
    text = resources.files("royalroad.text").joinpath(DEFAULTS).read_text(encoding="utf-8")
    defaults, _ = _parse(text, DEFAULTS, tk, user=False)
    if path is None:
        return TriggerDictionary(tuple(defaults.values()), "defaults")
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("triggers.file_missing", file=str(path)) from None
    except OSError as exc:
        raise InputError("triggers.file_unreadable", file=str(path), detail=exc.strerror) from None
    try:
        user_text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("triggers.file_encoding", file=str(path)) from None
    user, use_defaults = _parse(user_text, str(path), tk, user=True)
    merged = dict(defaults) if use_defaults else {}
    for name, cat in user.items():
        if cat.words:
            merged[name] = cat
        else:
            merged.pop(name, None)
    if not merged:
        raise InputError("triggers.yaml.empty", file=str(path))
    return TriggerDictionary(tuple(merged.values()), str(path))


class _Bad(Exception):
    def __init__(self, node: Any, key: str, **params: Any) -> None:
        super().__init__(key)
        self.line = node.start_mark.line + 1 if node is not None else 1
        self.key = key
        self.params = params


def _parse(text: str, file: str, tk: Tokeniser, *, user: bool) -> tuple[dict[str, Category], bool]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise InputError(
            "triggers.yaml.syntax", file=file, line=line, detail=exc.problem or str(exc)
        ) from None
    except yaml.YAMLError as exc:
        raise InputError("triggers.yaml.syntax", file=file, line=1, detail=str(exc)) from None
    try:
        return _categories(root, tk, user=user)
    except _Bad as bad:
        from royalroad.i18n import t

        params = dict(bad.params)
        if "what" in params:  # rendered now, in the language of the run
            params["what"] = t(f"triggers.yaml.what.{params['what']}")
        raise InputError(bad.key, file=file, line=bad.line, **params) from None


def _mapping(node: Any, what: str) -> list[tuple[Any, Any]]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise _Bad(node, "triggers.yaml.not_mapping", what=what)
    seen: set[str] = set()
    for k, _ in node.value:
        name = _scalar(k, what)
        if name in seen:
            raise _Bad(k, "triggers.yaml.duplicate", name=name)
        seen.add(name)
    return list(node.value)


def _scalar(node: Any, what: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _Bad(node, "triggers.yaml.not_text", what=what)
    return str(node.value).strip()


def _categories(root: Any, tk: Tokeniser, *, user: bool) -> tuple[dict[str, Category], bool]:
    if root is None:
        raise _Bad(None, "triggers.yaml.no_categories")
    use_defaults = True
    cats_node = None
    for k, v in _mapping(root, "file"):
        key = _scalar(k, "top_key")
        if key == "categories":
            cats_node = v
        elif key == "use_defaults" and user:
            if v.value not in ("true", "false", "yes", "no", "True", "False"):
                raise _Bad(v, "triggers.yaml.not_bool", name=key)
            use_defaults = v.value in ("true", "yes", "True")
        else:
            allowed = "categories, use_defaults" if user else "categories"
            raise _Bad(k, "triggers.yaml.unknown_key", name=key, allowed=allowed)
    if cats_node is None:
        raise _Bad(root, "triggers.yaml.no_categories")
    out: dict[str, Category] = {}
    for k, v in _mapping(cats_node, "categories"):
        name = _scalar(k, "category_name")
        out[name] = _category(name, v, tk)
    return out, use_defaults


def _category(name: str, node: Any, tk: Tokeniser) -> Category:
    import yaml

    label = {"en": name, "ja": name}
    polarity = "neutral"
    phrases: list[str] = []
    words: list[tuple[str, ...]] = []
    for k, v in _mapping(node, "category"):
        key = _scalar(k, "category_key")
        if key == "label":
            if isinstance(v, yaml.ScalarNode):
                label = {"en": _scalar(v, "label"), "ja": _scalar(v, "label")}
            else:
                for lk, lv in _mapping(v, "label"):
                    lang = _scalar(lk, "lang")
                    if lang not in ("en", "ja"):
                        raise _Bad(lk, "triggers.yaml.unknown_key", name=lang, allowed="en, ja")
                    label[lang] = _scalar(lv, "label")
        elif key == "polarity":
            polarity = _scalar(v, "polarity")
            if polarity not in POLARITIES:
                raise _Bad(
                    v, "triggers.yaml.bad_polarity", value=polarity, allowed=", ".join(POLARITIES)
                )
        elif key in ("ja", "en"):
            if not isinstance(v, yaml.SequenceNode):
                raise _Bad(v, "triggers.yaml.not_list", name=key)
            for item in v.value:
                phrase = _scalar(item, "phrase")
                segs = tk.phrases(phrase)
                if not segs:
                    raise _Bad(item, "triggers.yaml.no_words", phrase=phrase)
                if len(segs) > 1:
                    raise _Bad(item, "triggers.yaml.split_phrase", phrase=phrase)
                phrases.append(phrase)
                w = tuple(word for word, _ in segs[0])
                if w not in words:
                    words.append(w)
        else:
            raise _Bad(k, "triggers.yaml.unknown_key", name=key, allowed=", ".join(CATEGORY_KEYS))
    return Category(name, label["en"], label["ja"], polarity, tuple(phrases), tuple(words))
