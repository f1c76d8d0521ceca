"""Readable URL slugs for Chinese place names."""

import re

from django.utils.text import slugify
from pypinyin import lazy_pinyin

# Administrative suffixes that every name of a level carries add nothing to a URL.
_SUFFIXES = ("社区", "小区", "街道")


def pinyin_slug(name: str, max_length: int = 60) -> str:
    """``林园社区`` → ``linyuan``, ``6·Da七彩城`` → ``6daqicaicheng``; never empty.

    A name with nothing transliterable (only punctuation, say) falls back to ``place``.
    """
    stem = name.strip()
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem.removesuffix(suffix)
            break
    # Syllables of one name run together (``linyuan``), as on Chinese road signs and URLs.
    slug = slugify("".join(lazy_pinyin(stem)))
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:max_length].strip("-")
    return slug or "place"


def unique_slug(base: str, taken) -> str:
    """``base`` itself, or ``base-2``, ``base-3``… whichever ``taken(candidate)`` says is free."""
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
