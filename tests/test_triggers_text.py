"""Issue 15, text: tokens of hand-made Japanese and English notes (negation, normalisation,
mixed languages), the trigger dictionary (variants, negative counterparts, bad files),
masking of personal data, and snippets.

Expected tokens are written out by hand from what a reader of the sentence would count;
never taken from the tokeniser's own output.
"""

from __future__ import annotations

import pytest

from royalroad.errors import InputError
from royalroad.text import dictionary as dic
from royalroad.text import mask
from royalroad.text.snippets import snippet
from royalroad.text.tokens import Tokeniser


@pytest.fixture(scope="module")
def tk():
    return Tokeniser()


@pytest.fixture(scope="module")
def defaults(tk):
    return dic.load(None, tk)


def words(tk, text):
    return [[w for w, _ in seg] for seg in tk.phrases(text)]


def cats(d, tk, text):
    m = d.matcher()
    return sorted(d.categories[i].name for i in m.match(tk.phrases(text)))


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("予算確保済み", [["予算", "確保"]]),
        ("予算未確保", [["予算", "¬確保"]]),  # 未 fused into the word
        ("予算がまだ確保できていない", [["予算", "¬確保"]]),  # ない across でき・て・い
        ("予算は確保できません", [["予算", "¬確保"]]),  # ません → ず
        ("予算がない", [["¬予算"]]),  # 無い negates the noun before the particle
        ("予算なし", [["¬予算"]]),
        ("決裁者は同席しなかった", [["決裁者", "¬同席"]]),
        ("導入時期未定", [["導入", "時期", "未定"]]),  # 未定 is a word of its own
        ("導入時期が決まっていない", [["導入", "時期", "¬決まる"]]),
        ("比較の資料を送付", [["比較", "資料", "送付"]]),  # particles dropped, phrase kept
        ("打合せ、打ち合わせ、打合わせ", [["打ち合わせ"], ["打ち合わせ"], ["打ち合わせ"]]),
        ("ｳｪﾋﾞﾅｰ参加", [["ウェビナー", "参加"]]),  # half-width kana, normalised
    ],
)
def test_japanese_words_negation_and_normalisation(tk, text, expected):
    assert words(tk, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Budget secured.", [["budget", "secured"]]),
        ("Budget not secured yet.", [["budget", "¬secured"]]),
        ("The budget has not been secured", [["budget", "¬secured"]]),
        ("No budget this year", [["¬budget", "year"]]),
        ("They don't have a budget", [["¬budget"]]),  # n't; have and a are stop words
        (
            "Decision maker joined, timeline fixed",
            [["decision", "maker", "joined"], ["timeline", "fixed"]],
        ),
        ("ＢＵＤＧＥＴ　ＳＥＣＵＲＥＤ", [["budget", "secured"]]),  # full-width Latin
    ],
)
def test_english_words_lower_case_stop_words_and_negation(tk, text, expected):
    assert words(tk, text) == expected


def test_a_note_may_mix_both_languages(tk):
    text = "訪問メモ: budget not secured とのこと。比較表を送付。Next step: demo"
    got = tk.analyse(text)
    by_lang = {
        lang: [t[0] for seg in got.segments for t in seg if t[1] == lang] for lang in ("ja", "en")
    }
    assert by_lang["ja"] == ["訪問", "比較", "表", "送付"]
    assert by_lang["en"] == ["budget", "¬secured", "next", "step", "demo"]
    assert got.langs == {"ja", "en"}
    # a pair never spans two languages
    terms = tk.terms(text)
    assert ("budget ¬secured", "en") in terms and ("比較 表", "ja") in terms
    assert ("訪問 budget", "ja") not in terms and ("訪問 budget", "en") not in terms


def test_terms_are_unigrams_and_bigrams_with_their_language(tk):
    assert tk.terms("予算未確保。No budget") == {
        ("予算", "ja"),
        ("¬確保", "ja"),
        ("予算 ¬確保", "ja"),
        ("¬budget", "en"),
    }


def test_person_names_and_contact_details_never_become_terms(tk):
    text = "山田太郎様(yamada@example.co.jp、090-1234-5678)と Mr. John Smith に比較資料を送付"
    terms = {t for t, _ in tk.terms(text)}
    for part in ("山田", "太郎", "yamada", "example", "090", "john", "smith"):
        assert not any(part in t for t in terms), part
    assert "比較 資料" in terms


# ---------------------------------------------------------------- the dictionary


def test_variants_match_one_category(tk, defaults):
    for text in (
        "比較表をお送りした",
        "比較資料を送付",
        "比較シートで説明",
        "比較の資料を送付",
        "Sent the comparison table",
        "COMPARISON SHEET reviewed",
    ):
        assert cats(defaults, tk, text) == ["比較資料"], text
    assert cats(defaults, tk, "ｳｪﾋﾞﾅｰに参加") == ["ウェビナー・信頼"]
    assert cats(defaults, tk, "ウェビナーに参加") == ["ウェビナー・信頼"]


def test_negation_lands_in_the_negative_counterpart(tk, defaults):
    assert cats(defaults, tk, "予算未確保") == ["予算未確保"]
    assert cats(defaults, tk, "予算確保済み") == ["予算確保"]
    assert cats(defaults, tk, "予算がまだ確保できていない") == ["予算未確保"]
    assert cats(defaults, tk, "Budget not secured") == ["予算未確保"]
    assert cats(defaults, tk, "Budget secured") == ["予算確保"]
    assert cats(defaults, tk, "導入時期未定") == ["導入時期未定"]
    assert cats(defaults, tk, "導入時期確定") == ["導入時期確定"]


def test_defaults_cover_the_articles_triggers(defaults):
    names = defaults.names()
    for name in (
        "比較資料",
        "試作・成果確認",
        "社内説得・稟議",
        "ウェビナー・信頼",
        "技術者同士",
        "実物・展示会",
        "予算確保",
        "決裁者同席",
        "導入時期確定",
        "予算未確保",
        "決裁者不在",
        "導入時期未定",
    ):
        assert name in names
    by = {c.name: c for c in defaults.categories}
    assert by["予算未確保"].polarity == "negative" and by["比較資料"].polarity == "positive"
    assert by["比較資料"].label("en") == "comparison material"


def test_a_user_file_extends_replaces_and_removes(tmp_path, tk):
    f = tmp_path / "my.yaml"
    f.write_text(
        "categories:\n"
        "  比較資料:\n"
        "    ja: [比較資料]\n"
        "  稟議:\n"
        "    label: {en: approval, ja: 稟議}\n"
        "    polarity: positive\n"
        "    ja: [稟議書, 決裁申請]\n"
        "    en: [approval request]\n"
        "  競合比較:\n"
        "    ja: []\n",
        encoding="utf-8",
    )
    d = dic.load(f, tk)
    by = {c.name: c for c in d.categories}
    assert by["比較資料"].words == (("比較", "資料"),)  # replaced: 比較表 no longer in it
    assert "競合比較" not in by  # removed
    assert by["稟議"].label("ja") == "稟議" and by["稟議"].polarity == "positive"
    assert "予算確保" in by  # the other defaults stay
    only = tmp_path / "only.yaml"
    only.write_text("use_defaults: false\ncategories:\n  x:\n    en: [pilot]\n", encoding="utf-8")
    assert dic.load(only, tk).names() == ["x"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("categories:\n  a:\n    ja: [比較資料\n", 4, "not valid YAML"),
        ("categories:\n  a:\n    ja: 比較資料\n", 3, "'ja' must be a list of phrases"),
        ("categories:\n  a:\n    jp: [比較資料]\n", 3, "unknown key 'jp'"),
        ("categories:\n  a:\n    polarity: good\n    ja: [x]\n", 3, "polarity 'good'"),
        ("categories:\n  a:\n    ja: [の]\n", 3, "has no word left"),
        ("categories:\n  a:\n    ja: [比較、資料]\n", 3, "contains punctuation"),
        ("categories:\n  a:\n    ja: [x]\n  a:\n    ja: [y]\n", 4, "'a' appears twice"),
        ("cats:\n  a: {}\n", 1, "unknown key 'cats'"),
        ("- just\n- a list\n", 1, "must be a mapping"),
    ],
)
def test_a_bad_file_is_one_error_with_the_file_and_line(tmp_path, tk, text, line, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        dic.load(f, tk)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{f}, line {line}: "), msg
    assert message in msg


def test_a_missing_or_binary_file_is_one_error(tmp_path, tk):
    with pytest.raises(InputError, match="trigger dictionary not found"):
        dic.load(tmp_path / "nope.yaml", tk)
    f = tmp_path / "sjis.yaml"
    f.write_bytes("categories:\n  比較:\n    ja: [比較表]\n".encode("cp932"))
    with pytest.raises(InputError, match="must be UTF-8"):
        dic.load(f, tk)


# ---------------------------------------------------------------- masking


NOTES = [
    # (note, the strings that must not survive)
    (
        "佐藤部長(sato@example.co.jp)より電話 03-1234-5678。比較資料を送付済み。",
        ["佐藤", "sato@example.co.jp", "03-1234-5678"],
    ),
    (
        "田中様の携帯 090-1234-5678 / 代表 +81 3-1234-5678。"
        "詳細は https://example.com/deal?id=42 。予算未確保",
        ["田中", "090-1234-5678", "+81 3-1234-5678", "https://example.com/deal?id=42"],
    ),
    (
        "鈴木さんから折り返し(0312345678、+81-90-1234-5678、(03) 1234-5678)。導入時期未定。",
        ["鈴木", "0312345678", "+81-90-1234-5678", "(03) 1234-5678"],
    ),
    (
        "Call with Mr. Smith (john.smith@acme.com, +1 (415) 555-0100): budget secured. "
        "See www.acme.com/deal",
        ["Smith", "john.smith@acme.com", "+1 (415) 555-0100", "www.acme.com/deal"],
    ),
    (
        "Jane Doe, CTO, said the comparison sheet was convincing; call 090-9876-5432.",
        ["Jane Doe", "090-9876-5432"],
    ),
    (
        "全角の電話番号 ０３－１２３４－５６７８ で予算確保の連絡",
        ["03-1234-5678", "０３－１２３４－５６７８"],
    ),
]


@pytest.mark.parametrize(("note", "secrets"), NOTES)
def test_snippets_mask_names_phones_emails_and_urls(tk, defaults, note, secrets):
    words_ = [w for c in defaults.categories for w in c.words]
    got = snippet(tk, note, words_, context=200)
    assert got is not None
    text, start, end = got
    for s in secrets:
        assert s not in text, (s, text)
    assert "[" in text  # a placeholder stands where the data was
    phrase = text[start:end]
    assert phrase and "[" not in phrase


def test_dates_amounts_and_ids_are_not_phone_numbers():
    text = "2024-01-05 に 1,200,000円 の見積、10:30-11:00、No.12345、予算300万円"
    assert mask.find(text) == []


def test_snippet_is_cut_around_the_phrase_with_the_highlight_on_it(tk):
    note = "定例連絡。" * 20 + "先方より比較表を見て前向きとのこと。" + "次回は来月。" * 20
    text, start, end = snippet(tk, note, [("比較", "表")], context=10)
    assert text[start:end] == "比較表"
    assert text.startswith("…") and text.endswith("…")
    assert len(text) <= 10 + 3 + 10 + 2
