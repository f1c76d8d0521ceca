"""Small request helpers shared by views."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The visitor's address, for per-address rate limits. Behind our TLS proxy it is the last
    X-Forwarded-For entry, the one the proxy itself appended (earlier entries are whatever the
    client claimed)."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if last := forwarded.rsplit(",", 1)[-1].strip():
            return last
    return request.META.get("REMOTE_ADDR", "")
