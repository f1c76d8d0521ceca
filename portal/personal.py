"""A person's own parts of pages that are otherwise the same for everyone.

A public page (portal.caching.public_page) is rendered once per address, language and mode and
kept in the shared cache, for visitors and signed-in people alike. Where it shows something of
the person who asks (the header's "My account" or "Sign in", the messages after a change, my
place in a class, my support on a wish, the forms that post with my CSRF token), the template
leaves a *hole* instead: ``{% personal "name" key %}`` writes ``<!--personal name key-->``
(portal/templatetags/personal.py). Before a response leaves, ``PersonalPartsMiddleware`` fills
every hole for the request it answers: each kind of part is asked once for all its keys on the
page (``@part("name")``: one query for all the wishes on a page, say), so a signed-in page costs
the shared page's cache entry plus its person's few small parts.

Escaped text cannot open an HTML comment, so nothing a resident typed can make a hole; the keys
are ids and slugs only. A page rendered to be shared is rendered for nobody
(``as_nobody``): a view that reads ``request.user`` there sees a visitor, and a CSRF token in
what would be shared is refused (``SharedTokenError``).
"""

import re
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

MARK = re.compile(rb"<!--personal ([a-z][a-z-]*)(?: ([\w.:-]+))?-->")
_KEY = re.compile(r"[\w.:-]+")

# name → fill(request, keys) → {key: html}
_parts: dict[str, Callable[[HttpRequest, list[str]], dict[str, str]]] = {}


class SharedTokenError(RuntimeError):
    """A CSRF token was about to be kept in a page shared with everyone."""


def part(name: str):
    """Register ``fill(request, keys) -> {key: html}`` as the part ``name``."""

    def register(fill):
        _parts[name] = fill
        return fill

    return register


def hole(name: str, key: object = "") -> SafeString:
    key = str(key)
    if name not in _parts:
        raise KeyError(f"no personal part named {name!r}")
    if key and not _KEY.fullmatch(key):
        raise ValueError(f"a personal part's key is an id or a slug, not {key!r}")
    return mark_safe(f"<!--personal {name} {key}-->" if key else f"<!--personal {name}-->")


def render(template: str, context: dict) -> str:
    """A part's HTML: a small template rendered without the context processors (a part says
    what it needs)."""
    return get_template(template).render(context)


EACH = "<!--each-->"


def render_each(template: str, context: dict, items: list) -> list[str]:
    """One part's HTML for each of ``items``, in one rendering: the template loops over
    ``items`` and writes ``<!--each-->`` before each one."""
    html = get_template(template).render(context | {"items": items})
    made = html.split(EACH)[1:]
    if len(made) != len(items):
        raise ValueError(f"{template} wrote {len(made)} parts for {len(items)} items")
    return made


def fill(request: HttpRequest, content: bytes) -> bytes:
    """``content`` with every hole filled for ``request``. A part may leave holes of its own
    (a kept part's CSRF token): they are filled in a second pass."""
    for _pass in range(3):
        if b"<!--personal " not in content:
            break
        content = _fill_once(request, content)
    return content


def _fill_once(request: HttpRequest, content: bytes) -> bytes:
    found = list(MARK.finditer(content))
    if not found:
        return content
    keys: dict[str, list[str]] = defaultdict(list)
    for match in found:
        name, key = match.group(1).decode(), (match.group(2) or b"").decode()
        if key not in keys[name]:
            keys[name].append(key)
    made = {name: _parts[name](request, wanted) for name, wanted in keys.items()}
    return MARK.sub(
        lambda m: made[m.group(1).decode()][(m.group(2) or b"").decode()].encode(), content
    )


def shared(content: bytes) -> bytes:
    """``content`` if it may be kept for everyone: it must hold no CSRF token."""
    if b"csrfmiddlewaretoken" in content:
        raise SharedTokenError("a shared page holds a CSRF token: put its form in a part")
    return content


@contextmanager
def as_nobody(request: HttpRequest):
    """While a shared page is rendered, the request is nobody's: a visitor's, with no messages."""
    user = request.user if hasattr(request, "user") else None
    nobody = AnonymousUser()
    nobody.otp_device = None
    nobody.is_verified = lambda: False
    request.user = nobody
    try:
        yield
    finally:
        if user is not None:
            request.user = user


class PersonalPartsMiddleware:
    """Fills the holes of every HTML page for the person it answers (the last middleware: the
    session, the user and the messages are there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not getattr(response, "streaming", False)
            and response.get("Content-Type", "").startswith("text/html")
            and b"<!--personal " in response.content
        ):
            response.content = fill(request, response.content)
        return response


# ---- the parts every page has ----


@part("account-link")
def _account_link(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """The header's last link: my account when signed in, else signing in."""
    match = getattr(request, "resolver_match", None)
    html = render(
        "includes/personal/account_link.html",
        {
            "signed_in": request.user.is_authenticated,
            "view_name": match.view_name if match else "",
        },
    )
    return dict.fromkeys(keys, html)


@part("csrf")
def _csrf(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """My CSRF token for a form on a page that is kept (shared, or kept for me)."""
    from django.middleware.csrf import get_token

    html = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    return dict.fromkeys(keys, html)


@part("messages")
def _messages(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """What the last change said ("You are enrolled…"), shown once."""
    from django.contrib.messages import get_messages

    html = render("includes/personal/messages.html", {"messages": list(get_messages(request))})
    return dict.fromkeys(keys, html)
