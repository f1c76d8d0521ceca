"""Slowing down password guessing: after MAX_FAILURES failed sign-ins for one username within
WINDOW, that username cannot sign in (on our page or the admin's) until the window has passed.

Failures are rows in PostgreSQL, so every app server sees the same count. The count is per
username, not per address: behind a proxy every visitor may share one address.
"""

from datetime import timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import SignInFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def is_throttled(username: str) -> bool:
    since = timezone.now() - WINDOW
    recent = SignInFailure.objects.filter(username__iexact=username, at__gte=since)
    return recent.count() >= MAX_FAILURES


def record_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    """``user_login_failed`` receiver."""
    username = str(credentials.get("username") or "")[:150]
    if not username:
        return
    now = timezone.now()
    SignInFailure.objects.filter(at__lt=now - WINDOW).delete()
    SignInFailure.objects.create(username=username, at=now)


def clear_failures(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a correct password wipes the slate."""
    SignInFailure.objects.filter(username__iexact=user.get_username()).delete()


class ThrottledSignInMixin:
    throttled_message = _(
        "Too many failed sign-ins for this user name. Wait %(minutes)d minutes, then try again."
    )

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and is_throttled(username):
            raise forms.ValidationError(
                self.throttled_message,
                code="throttled",
                params={"minutes": int(WINDOW.total_seconds() // 60)},
            )
        return super().clean()


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """Our sign-in page's form."""


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form, with the same limit."""
