from django.conf import settings
from django.http import HttpRequest

from portal.caching import LazyVersion


def display(request: HttpRequest) -> dict:
    """Whether the visitor chose elder mode (长者模式); read by base.html on every page."""
    return {
        "elder_mode": request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1",
        "content_version": LazyVersion(),
    }
