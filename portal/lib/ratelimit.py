"""Allowances per account and per client address, counted in the shared cache, so every app
server sees the same count: a script cannot churn waiting lists or pile up support, while a
family behind one home router or a busy desk stays well inside them."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from portal.lib.http import client_address


def _spend(key: str, window: int) -> int:
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def allowed(
    request: HttpRequest, action: str, *, per_account: int, per_address: int, window: int
) -> bool:
    """Count one ``action`` by this request's account and address; False once either has spent
    its allowance for the ``window`` (seconds) that began with its first. Always True with
    ``ALLOWANCES`` off: for benchmarks and the fault test, thousands of people from one
    address."""
    if not settings.ALLOWANCES:
        return True
    mine = _spend(f"allowance:{action}:user:{request.user.pk}", window)
    theirs = _spend(f"allowance:{action}:addr:{client_address(request)}", window)
    return mine <= per_account and theirs <= per_address
