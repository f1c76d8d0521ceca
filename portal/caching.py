"""Cached fragments that are never stale after an edit.

Every cached fragment's key holds the *content version*: one number in the shared cache that any
write to the places, facilities, hours or menus moves on (signals in the apps' ready(), and the
bulk loaders call ``bump()`` themselves). A staff edit therefore makes every fragment that could
show it a miss on the next request, on every app server at once, because they share the cache.
Old entries are never read again and expire on their own.
"""

import hashlib
import threading
import time
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

VERSION_KEY = "content-version"
TIMEOUT = 24 * 3600


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # Milliseconds, so a cache that lost the key never reuses an old version number.
        cache.add(VERSION_KEY, int(time.time() * 1000), None)
        version = cache.get(VERSION_KEY)
    return version


_held = threading.local()


def bump(*args, **kwargs) -> None:
    """Move the content version on; usable as a signal receiver."""
    if getattr(_held, "depth", 0):
        _held.missed = True
        return
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there (yet, or evicted)
        cache.set(VERSION_KEY, int(time.time() * 1000), None)


@contextmanager
def bump_once():
    """Hold back the bumps of a bulk change (one per deleted row, say) and bump once at the end:
    with the database cache every bump is a write."""
    _held.depth = getattr(_held, "depth", 0) + 1
    try:
        yield
    finally:
        _held.depth -= 1
        if not _held.depth and getattr(_held, "missed", False):
            _held.missed = False
            bump()


def key(name: str, *parts) -> str:
    return ":".join([name, str(content_version()), *map(str, parts)])


def cached(name: str, *parts, build):
    """``build()``'s value, cached under the current content version and ``parts``."""
    return cache.get_or_set(key(name, *parts), build, TIMEOUT)


class LazyVersion:
    """The content version for templates' {% cache %} tags, read only when a tag asks."""

    def __str__(self) -> str:
        return str(content_version())


def _asked(request: HttpRequest) -> tuple:
    """What a public rendering depends on besides the content: language, elder mode, the minute
    (pages say what is open now) and the address."""
    return (
        request.LANGUAGE_CODE,
        request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1",
        timezone.localtime().strftime("%Y%m%d%H%M"),
        hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32],
    )


def shared_fragment(request: HttpRequest, name: str, build) -> str:
    """HTML that is the same for everyone who asks the same address in the same language and
    mode, signed in or not (a course list's results, say): ``build()``'s value, cached like
    ``public_page`` under the content version and the current minute. Pages for signed-in people
    render their personal parts around it."""
    return this_minute(name, *_asked(request), build=build)


def stamp(name: str) -> int:
    """A counter of one thing's changes (a course's seats, say), for keys that must move on
    with it without moving the content version of everything."""
    return cache.get(f"stamp:{name}") or 0


def restamp(name: str) -> None:
    """Move ``stamp(name)`` on; a lost or evicted counter starts again from the clock."""
    try:
        cache.incr(f"stamp:{name}")
    except ValueError:
        cache.set(f"stamp:{name}", int(time.time() * 1000), TIMEOUT)


def this_minute(name: str, *parts, build):
    """``build()``'s value, cached under the content version and ``parts`` for the current
    minute: for what moves without moving the content version (seats, say)."""
    minute_key = key(name, timezone.localtime().strftime("%Y%m%d%H%M"), *parts)
    hit = cache.get(minute_key)
    if hit is None:
        hit = build()
        cache.set(minute_key, hit, 120)
    return hit


def public_page(view):
    """Cache a public page's HTML for anonymous visitors, per address, language, elder mode and
    htmx fragment, under the content version and the current minute (pages say what is open
    now). Signed-in people (a session cookie) and anything but a plain 200 bypass it.

    Pages for anonymous visitors hold nothing personal: the language and elder-mode switches
    carry no CSRF token (they only set a display preference, see portal.urls and
    communities.views.set_display), so one rendering serves everyone who asks the same thing.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET" or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return view(request, *args, **kwargs)
        page_key = key(
            "page", "htmx" if request.headers.get("HX-Request") else "full", *_asked(request)
        )
        hit = cache.get(page_key)
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.cookies
            and not getattr(response, "streaming", False)
        ):
            cache.set(page_key, (response.content, response["Content-Type"]), 120)
        return response

    return wrapped
