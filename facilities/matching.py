"""Which categories a resident means by what they type: names, everyday words, and their pinyin.

吃饭 finds canteens, 看病 health stations, ``chifan`` the same as 吃饭. Pure: takes categories as
plain values and returns codes, so the search view, the home page and tests call one function.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin


@dataclass(frozen=True)
class Terms:
    code: str
    terms: tuple[str, ...]  # lower-case names and words, in characters and in pinyin


@lru_cache(maxsize=4096)
def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text)).lower()


@lru_cache(maxsize=256)
def terms_for(code: str, name_zh: str, name_en: str, words: tuple[str, ...]) -> Terms:
    """All the ways of naming one category. Cached: categories change rarely, and the key holds
    everything the result depends on, so an edit simply makes a new entry."""
    plain = [name_zh, *words]
    terms = {t.lower() for t in (*plain, name_en, code.replace("_", " "))}
    terms |= {_pinyin(t) for t in plain}
    return Terms(code, tuple(sorted(t for t in terms if t)))


def matching_codes(text: str, categories: Iterable[Terms]) -> list[str]:
    """Codes of the categories that ``text`` names.

    A category matches when the text contains one of its terms (看病 in 我要看病) or, for text of
    two characters or more, when a term contains the text (食堂 in 社区食堂, ``chao`` in
    ``chaoshi``). Pinyin needs three letters before it matches inside a term, so ``ch`` alone does
    not match half the city.
    """
    needle = text.strip().lower()
    if not needle:
        return []
    pinyin = _pinyin(needle) if not needle.isascii() else needle
    inside_ok = len(needle) >= (3 if needle.isascii() else 2)
    found = []
    for category in categories:
        for term in category.terms:
            if term in needle or (pinyin and term in pinyin and len(term) >= 3):
                found.append(category.code)
                break
            if inside_ok and needle in term:
                found.append(category.code)
                break
    return found
