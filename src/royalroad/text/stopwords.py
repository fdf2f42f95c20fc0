"""Stop words: words that carry no trigger of their own, per language.

Japanese entries are SudachiPy *normalised* forms (為る, 出来る, 居る…), because that
is what the tokeniser compares; English entries are lower case. Particles, auxiliary
verbs, adverbs and symbols never become terms anyway (only nouns, verbs, adjectives
and noun-like suffixes do); the lists below remove what is left that says nothing:
light verbs (する, できる, いる, ある, なる), honorifics (さん, 様), formal nouns (こと,
もの, ため), the parties (弊社, 御社, 先方) and note boilerplate (件, 旨, 次回).

Negators are *not* stop words: ない, ず, 未, not, no, never and without attach to
the word they negate (see :mod:`royalroad.text.tokens`).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


JA = _words(
    """
    為る 出来る 居る 有る 在る 成る 行う 頂く 戴く 下さる 致す 御座る 貰う 呉れる 遣る 仕舞う
    置く 来る 行く 言う 思う 申す 参る 見える 為さる 御座います 付く 付ける 上げる 差し上げる
    こと 事 もの 物 ため 為 よう 様 方 所 ところ 時 とき 際 件 旨 点 中 等 など 達 たち 的 用
    さん 様 さま 氏 殿 君 くん ちゃん 各位 御中 済み 毎 頃 目 分 後 前 以上 以下 以外 同 当 各
    弊社 当社 御社 貴社 先方 当方 こちら そちら 私 我々 自分 皆様 皆さん 担当 担当者
    これ それ あれ どれ ここ そこ あそこ どこ 此れ 其れ 彼 此処 其処
    連絡 対応 お願い 願い 件名 メモ 本日 今日 明日 昨日 今回 前回 次回 今後 以降
    再度 引き続き フォロー 特記 事項 特記事項 感じ 辺り 程度 位 くらい ぐらい
    """
)

EN = _words(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can could did do does doing done down during each
    few for from further get got had has have having he her here hers herself him himself his
    how i if in into is it its itself just let me more most my myself of off on once only or
    other our ours ourselves out over own per same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    upon us very via was we were what when where which while who whom why will with would
    you your yours yourself yourselves yet still already re etc eg ie
    today tomorrow yesterday said says say told tell asked ask mr mrs ms dr
    """
)

NEGATORS_EN = _words(
    """
    not no never without cannot nor none neither lack lacks lacking nothing
    """
)
"""English words that negate the next content word (and every word ending in ``n't``)."""
