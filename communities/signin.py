"""Slowing down password guessing, by account and by client address, without letting anyone lock
a senior out of their own account.

Three limits, each over the last ``WINDOW`` (the cool-off: a failure older than that no longer
counts, so every lock lifts by itself):

- ``PAIR_LIMIT`` failures for one user name from one address: that address waits before trying
  that user name again. This is the limit a guesser meets first.
- ``ADDRESS_LIMIT`` failures from one address, whatever the user names: one machine trying many
  accounts (credential stuffing) waits.
- ``ACCOUNT_LIMIT`` failures for one user name from all addresses together: guessing spread over
  many machines waits too, but a browser that has signed in to this account before (it holds the
  signed ``KNOWN_DEVICE_COOKIE``) is not held back by it. Strangers failing on someone's account
  therefore cannot keep its owner out; only the owner's own address and browser count against
  the owner.

Failures are rows in PostgreSQL, so every app server sees the same counts. The address is
``portal.lib.http.client_address``: behind the TLS proxy, the one the proxy itself appended to
X-Forwarded-For; otherwise the connection's.

Why not django-axes: it compares every lockout rule against one failure limit, while the pair,
address and account limits here need different sizes (README "Security"), and it has no notion
of a browser known to the account.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import SignInFailure
from portal.lib.http import client_address

PAIR_LIMIT = 5
ADDRESS_LIMIT = 30
ACCOUNT_LIMIT = 20
WINDOW = timedelta(minutes=15)

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SALT = "communities.signin.known-device"
KNOWN_DEVICE_AGE = 180 * 24 * 3600


def _address(request) -> str:
    return client_address(request)[:45] if request is not None else ""


def known_account(request) -> str:
    """The user name (lower case) this browser has signed in as before, or ""."""
    if request is None:
        return ""
    value = request.COOKIES.get(KNOWN_DEVICE_COOKIE, "")
    try:
        return signing.loads(value, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_AGE)
    except signing.BadSignature:
        return ""


def throttled(username: str, request) -> str:
    """Which limit this attempt meets: "pair", "address", "account", or "" for none. One
    query."""
    address = _address(request)
    mine = Q(username__iexact=username)
    counts = SignInFailure.objects.filter(
        Q(mine) | Q(address=address), at__gte=timezone.now() - WINDOW
    ).aggregate(
        pair=Count("pk", filter=mine & Q(address=address)),
        address=Count("pk", filter=Q(address=address)),
        account=Count("pk", filter=mine),
    )
    if counts["pair"] >= PAIR_LIMIT:
        return "pair"
    if address and counts["address"] >= ADDRESS_LIMIT:
        return "address"
    if counts["account"] >= ACCOUNT_LIMIT and known_account(request) != username.lower():
        return "account"
    return ""


def record_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    """``user_login_failed`` receiver."""
    username = str(credentials.get("username") or "")[:150]
    if not username:
        return
    now = timezone.now()
    SignInFailure.objects.filter(at__lt=now - WINDOW).delete()
    SignInFailure.objects.create(username=username, address=_address(request), at=now)


def clear_failures(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a correct password wipes this address's slate for the
    account, and the browser is remembered as known to it (``KnownDeviceMiddleware`` sets the
    cookie)."""
    SignInFailure.objects.filter(
        username__iexact=user.get_username(), address=_address(request)
    ).delete()
    if request is not None:
        request.known_device = user.get_username().lower()


class KnownDeviceMiddleware:
    """Sets the known-browser cookie on the response to a successful sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, "known_device", "")
        if username:
            response.set_cookie(
                KNOWN_DEVICE_COOKIE,
                signing.dumps(username, salt=KNOWN_DEVICE_SALT),
                max_age=KNOWN_DEVICE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


MESSAGES = {
    "pair": _(
        "Too many failed sign-ins for this user name. Wait %(minutes)d minutes, then try again."
    ),
    "address": _(
        "Too many failed sign-ins from this connection. Wait %(minutes)d minutes, then try again."
    ),
    "account": _(
        "Too many failed sign-ins for this user name from different places. Wait %(minutes)d "
        "minutes, or sign in from a phone or computer you have used for this account before."
    ),
}


class ThrottledSignInMixin:
    def clean(self):
        username = self.cleaned_data.get("username")
        if username and (limit := throttled(username, self.request)):
            raise forms.ValidationError(
                MESSAGES[limit],
                code="throttled",
                params={"minutes": int(WINDOW.total_seconds() // 60)},
            )
        return super().clean()


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """Our sign-in page's form."""


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form, with the same limits."""
