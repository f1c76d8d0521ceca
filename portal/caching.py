"""Cached fragments that are never stale after an edit.

Every cached fragment's key holds the *content version*: one number in the shared cache that any
write to the places, facilities, hours or menus moves on (signals in the apps' ready(), and the
bulk loaders call ``bump()`` themselves). A staff edit therefore makes every fragment that could
show it a miss on the next request, on every app server at once, because they share the cache.
Old entries are never read again and expire on their own.
"""

import time

from django.core.cache import cache

VERSION_KEY = "content-version"
TIMEOUT = 24 * 3600


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # Milliseconds, so a cache that lost the key never reuses an old version number.
        cache.add(VERSION_KEY, int(time.time() * 1000), None)
        version = cache.get(VERSION_KEY)
    return version


def bump(*args, **kwargs) -> None:
    """Move the content version on; usable as a signal receiver."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there (yet, or evicted)
        cache.set(VERSION_KEY, int(time.time() * 1000), None)


def key(name: str, *parts) -> str:
    return ":".join([name, str(content_version()), *map(str, parts)])


def cached(name: str, *parts, build):
    """``build()``'s value, cached under the current content version and ``parts``."""
    return cache.get_or_set(key(name, *parts), build, TIMEOUT)


class LazyVersion:
    """The content version for templates' {% cache %} tags, read only when a tag asks."""

    def __str__(self) -> str:
        return str(content_version())
