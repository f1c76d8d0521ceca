"""Two-step sign-in: a code from a phone authenticator app (TOTP) after the password.

Staff, officials and administrators must use it; residents may turn it on for their own account.
The devices and the code checks (with their own slow-down after wrong codes) are django-otp's;
this module decides who needs a second step and keeps a half-signed-in session to the pages that
finish it.

After the password, ``signed_in`` marks the session as waiting for the second step: ``"enrol"``
when the account must have an authenticator and has none yet, else ``"verify"``. Until the step
is done, ``SecondFactorMiddleware`` sends every page to the two-step pages (signing out, the
language switch and static files aside), and ``communities.access.scope_for`` gives such a
session no powers at all, so a page that forgot to ask still shows nothing.
"""

import base64
import io

import segno
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.models import Membership

PENDING = "second_step"  # session key: "enrol" or "verify" until the step is done
ENROL = "enrol"
VERIFY = "verify"
CODES_TO_SHOW = "recovery_codes_to_show"  # new recovery codes, shown once
RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"


def required(user) -> bool:
    """Whether this account may not work without a second factor: anyone holding a role, and
    anyone who can open the back office."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user).exists()


def authenticator(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_verified(user) -> bool:
    """Whether this request's user passed the second step. A user object that came from
    elsewhere than a request (a management command, a test building data) has no such step."""
    check = getattr(user, "is_verified", None)
    return check is None or check()


def signed_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a password alone leaves the session waiting for the second
    step when the account needs one or has turned it on."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if authenticator(user) is not None:
        request.session[PENDING] = VERIFY
    elif required(user):
        request.session[PENDING] = ENROL
    else:
        request.session.pop(PENDING, None)


def pending(request: HttpRequest) -> str:
    """ "enrol", "verify", or "" when nothing is waiting."""
    return request.session.get(PENDING, "") if hasattr(request, "session") else ""


def step_url(request: HttpRequest, step: str, next_url: str = "") -> str:
    """The page for ``step``, carrying where to go afterwards."""
    url = reverse("two-factor-setup" if step == ENROL else "two-factor")
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}" if next_url else url


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def begin(request: HttpRequest, next_url: str = "") -> HttpResponse:
    """Send a signed-in user who still owes the second step to the page that takes it (for a
    session that began before the step was required)."""
    step = VERIFY if authenticator(request.user) is not None else ENROL
    request.session[PENDING] = step
    return redirect(step_url(request, step, next_url))


def finish(request: HttpRequest, device) -> None:
    """The second step is done: this session is verified by ``device``."""
    otp_login(request, device)
    request.session.pop(PENDING, None)
    request.session.cycle_key()


def new_authenticator(user) -> TOTPDevice:
    """An unconfirmed authenticator for the set-up page, kept until confirmed or replaced."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm(user, device: TOTPDevice) -> list[str]:
    """Make ``device`` the user's one authenticator, with a fresh set of recovery codes."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes; each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def turn_off(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def match(user, code: str):
    """The device that accepts ``code``: the authenticator for six digits, else a recovery code.
    Returns (device or None, seconds to wait when the device is slowed down after wrong codes)."""
    code = "".join(code.split()).lower()
    if code.isdigit():
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    else:
        devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
    wait = 0
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if not allowed:
            wait = max(wait, seconds_until((data or {}).get("locked_until")))
            continue
        with transaction.atomic():
            if device.verify_token(code):
                return device, 0
    return None, wait


def seconds_until(moment) -> int:
    if moment is None:
        return 1
    from django.utils import timezone

    return max(1, int((moment - timezone.now()).total_seconds()) + 1)


def secret_groups(device: TOTPDevice) -> str:
    """The key as the apps' "enter a setup key" screens want it: base32, in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice, *, title: str) -> SafeString:
    """The set-up QR code as inline SVG (no style attribute: the CSP allows none)."""
    out = io.BytesIO()
    segno.make_qr(device.config_url, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        title=title,
        svgclass="qr",
        lineclass="qr__modules",
        omitsize=True,
        border=4,
        dark="#000000",
        light="#ffffff",
    )
    return mark_safe(out.getvalue().decode())  # segno's own markup, title escaped by segno


class SecondFactorMiddleware:
    """Keeps a session that still owes the second step on the pages that take it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def open_prefixes(self) -> tuple[str, ...]:
        if self._open is None:
            self._open = (
                reverse("two-factor"),  # and the set-up and codes pages below it
                reverse("logout"),
                reverse("set_language"),
                reverse("communities:display"),
                reverse("healthz"),
                settings.STATIC_URL,
                "/favicon.ico",
            )
        return self._open

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending(request)
        if (
            step
            and request.user.is_authenticated
            and not request.path.startswith(self.open_prefixes())
        ):
            if request.user.is_verified():
                request.session.pop(PENDING, None)
            else:
                next_url = request.get_full_path() if request.method == "GET" else ""
                return redirect(step_url(request, step, next_url))
        return self.get_response(request)
