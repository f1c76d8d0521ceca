from django.conf import settings
from django.http import HttpRequest
from django.utils.http import escape_leading_slashes

from portal.caching import LazyPlacesVersion, LazyVersion


def display(request: HttpRequest) -> dict:
    """Whether the visitor chose elder mode (长者模式); read by base.html on every page. And
    ``this_page``, this page's path for the forms that come back to it (``next``): a path such as
    //evil.example (asked for as https://portal//evil.example) is written /%2Fevil.example, so
    that no page hands out a ``next`` a browser would read as another host."""
    return {
        "elder_mode": request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1",
        "this_page": escape_leading_slashes(request.get_full_path()),
        "content_version": LazyVersion(),
        "places_version": LazyPlacesVersion(),
    }
