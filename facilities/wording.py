"""What a facility can be found by, as words an index holds, and what a resident typed, as a query
on them. Pure: text in, text out; ``Facility.search`` and the loaders call it.

A Chinese name has no spaces, and residents type any part of it: 食堂 for 康宁社区食堂. So the
index holds every character and every pair of neighbouring characters (单字 and 双字), and a
typed run of characters is the pairs it is made of, all present. Residents who type pinyin type
the whole syllables (``shitang``) or, as input methods teach them, the initials (``st``): the
index holds the name's pinyin, and its initials, from every syllable on, so a typed prefix of
either finds the name. Latin words (an operator's, an address's ``A座``) are held lower-cased.
"""

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN = re.compile(r"[a-z0-9]+")


def _runs(text: str) -> tuple[list[str], list[str]]:
    """The runs of Chinese characters and the Latin words of ``text``."""
    lowered = (text or "").lower()
    return HAN.findall(lowered), LATIN.findall(lowered)


@lru_cache(maxsize=8192)
def _syllables(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each Chinese character's pinyin syllable (no tones) and its initial letter."""
    han = "".join(HAN.findall(name or ""))
    full = tuple(s.lower() for s in lazy_pinyin(han))
    initials = tuple(s[0] for s in lazy_pinyin(han, style=Style.FIRST_LETTER) if s)
    return full, initials


def tokens(name: str, *more: str) -> str:
    """The index words of a facility: the characters and pairs of its name and of ``more``
    (address, operator), their Latin words, and the name's pinyin and initials from each
    syllable on. Space-separated, each once, in a stable order."""
    words: dict[str, None] = {}
    for text in (name, *more):
        han, latin = _runs(text)
        for run in han:
            words.update(dict.fromkeys(run))
            words.update(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
        words.update(dict.fromkeys(latin))
    full, initials = _syllables(name)
    for i in range(len(full)):
        words["".join(full[i:])] = None
        words["".join(initials[i:])] = None
    return " ".join(w for w in words if w)


def query(word: str) -> str | None:
    """One typed word as a PostgreSQL text-search query on ``tokens``: every pair of its
    characters (or its one character), and each Latin part as a prefix. None when it holds
    nothing searchable (punctuation only)."""
    han, latin = _runs(word)
    parts = []
    for run in han:
        pairs = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        parts += [f"'{p}'" for p in dict.fromkeys(pairs)]
    parts += [f"'{w}':*" for w in dict.fromkeys(latin)]
    return " & ".join(parts) or None


def words(text: str) -> list[str]:
    """What a resident typed, as its words: split at spaces (also the full-width one) and
    commas; each word must match."""
    return [w for w in re.split(r"[\s,，、;；]+", (text or "").strip()) if w]
