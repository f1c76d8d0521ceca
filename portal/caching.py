"""Cached fragments that are never stale after an edit.

Every cached fragment's key holds the *content version*: one number in the shared cache that any
write to the places, facilities, hours or menus moves on (signals in the apps' ready(), and the
bulk loaders call ``bump()`` themselves). A staff edit therefore makes every fragment that could
show it a miss on the next request, on every app server at once, because they share the cache.
Old entries are never read again and expire on their own.

What shows places only (the home page's tree, the community and subdistrict choices, the city's
totals) is kept under the *places version* instead, which only a change to the places moves on
(``bump`` moves both; the signals of facilities, hours, menus, courses and wishes call
``bump_content``, which leaves it): an edit to a canteen's menu does not make the home page
draw 2,500 communities again.
"""

import hashlib
import threading
import time
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

VERSION_KEY = "content-version"
PLACES_KEY = "places-version"
TIMEOUT = 24 * 3600


def content_version() -> int:
    return _version(VERSION_KEY)


def places_version() -> int:
    return _version(PLACES_KEY)


def _version(name: str) -> int:
    version = cache.get(name)
    if version is None:
        # Milliseconds, so a cache that lost the key never reuses an old version number.
        cache.add(name, int(time.time() * 1000), None)
        version = cache.get(name)
    return version


_held = threading.local()


def bump(*args, **kwargs) -> None:
    """Move the content version and the places version on; usable as a signal receiver (the
    places' own signals), and what every bulk loader calls."""
    if getattr(_held, "depth", 0):
        _held.missed = True
        return
    _move(VERSION_KEY)
    _move(PLACES_KEY)


def bump_content(*args, **kwargs) -> None:
    """Move the content version on, not the places version: a signal receiver for what is not
    a place (a facility, its hours and menus, courses, wishes)."""
    if getattr(_held, "depth", 0):
        _held.missed = True
        return
    _move(VERSION_KEY)


def _move(name: str) -> None:
    try:
        cache.incr(name)
    except ValueError:  # not there (yet, or evicted)
        cache.set(name, int(time.time() * 1000), None)


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


def cached_places(name: str, *parts, build):
    """``build()``'s value, cached under the places version and ``parts``: for what shows
    places only."""
    entry = ":".join([name, "places", str(places_version()), *map(str, parts)])
    return cache.get_or_set(entry, build, TIMEOUT)


class LazyVersion:
    """The content version for templates' {% cache %} tags, read only when a tag asks."""

    def __str__(self) -> str:
        return str(content_version())


class LazyPlacesVersion:
    """The places version, likewise."""

    def __str__(self) -> str:
        return str(places_version())


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


def _versions(stamps) -> tuple[int, list[int]]:
    """The content version and the named stamps, in one round trip."""
    keys = [f"stamp:{name}" for name in stamps]
    found = cache.get_many([VERSION_KEY, *keys])
    version = found.get(VERSION_KEY)
    if version is None:
        version = content_version()
    return version, [found.get(k) or 0 for k in keys]


def this_minute_under(name: str, *parts, stamps, build):
    """``this_minute``, kept also under the named stamps (a person's, a course's seats), all of
    which are read with the content version in one round trip."""
    version, values = _versions(stamps)
    minute = timezone.localtime().strftime("%Y%m%d%H%M")
    entry_key = ":".join([name, str(version), minute, *map(str, parts), *map(str, values)])
    hit = cache.get(entry_key)
    if hit is None:
        hit = build()
        cache.set(entry_key, hit, 120)
    return hit


def person_stamp(user_id: int) -> str:
    """The name of one person's counter: what is kept of their own parts (my place in a class,
    my support on a wish, /me/) is kept under it, and any change of theirs moves it on."""
    return f"person:{user_id}"


def person_moved(*user_ids: int | None) -> None:
    """After the transaction commits, those people's own parts are made anew."""
    from django.db import transaction

    ids = {pk for pk in user_ids if pk is not None}
    if ids:
        transaction.on_commit(lambda: [restamp(person_stamp(pk)) for pk in ids])


def this_minute(name: str, *parts, build):
    """``build()``'s value, cached under the content version and ``parts`` for the current
    minute: for what moves without moving the content version (seats, say)."""
    minute_key = key(name, timezone.localtime().strftime("%Y%m%d%H%M"), *parts)
    hit = cache.get(minute_key)
    if hit is None:
        hit = build()
        cache.set(minute_key, hit, 120)
    return hit


def public_page(view=None, *, stamps=None, shared=True):
    """Cache a public page's HTML per address, language, elder mode and htmx fragment, under the
    content version and the current minute (pages say what is open now), for everyone.

    The page is rendered for nobody (portal.personal.as_nobody) and kept with its holes: a
    signed-in person's request reads it and fills in their own parts (portal.personal); a
    visitor's reads it with the visitor's parts filled in already (a second entry), unless the
    visitor has messages waiting. ``stamps(request, **kwargs)`` names counters
    (``stamp``) the page also depends on: a course's seats, say. ``shared=False`` keeps the
    old way for a page whose personal parts are not holes yet: signed-in people get their own
    rendering. Anything but a plain 200 is not kept.

    Nothing personal is ever kept: the language and elder-mode switches carry no CSRF token
    (they only set a display preference, see portal.urls and communities.views.set_display),
    and a shared rendering that holds one is refused (portal.personal.shared).
    """
    if view is None:
        return lambda view: public_page(view, stamps=stamps, shared=shared)

    from portal import personal

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES
        if request.method != "GET" or (signed_in and not shared):
            return view(request, *args, **kwargs)
        version, parts = _versions(stamps(request, *args, **kwargs) if stamps else [])
        page_key = ":".join(
            [
                "page",
                str(version),
                "htmx" if request.headers.get("HX-Request") else "full",
                *map(str, _asked(request)),
                *map(str, parts),
            ]
        )
        # A visitor with no messages waiting sees what every such visitor sees.
        plain = not signed_in and CookieStorage.cookie_name not in request.COOKIES
        if plain:
            hit = cache.get(f"{page_key}:visitor")
            if hit is not None:
                content, content_type = hit
                return HttpResponse(content, content_type=content_type)
        hit = cache.get(page_key)
        if hit is None:
            with personal.as_nobody(request):
                response = view(request, *args, **kwargs)
            if (
                response.status_code != 200
                or response.cookies
                or getattr(response, "streaming", False)
            ):
                return response
            hit = (personal.shared(response.content), response["Content-Type"])
            cache.set(page_key, hit, 120)
        content, content_type = hit
        if plain:
            content = personal.fill(request, content)
            cache.set(f"{page_key}:visitor", (content, content_type), 120)
        # A signed-in person's parts are filled by personal.PersonalPartsMiddleware.
        return HttpResponse(content, content_type=content_type)

    return wrapped
