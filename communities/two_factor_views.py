"""The two-step sign-in pages: the code after the password, setting up an authenticator, the
recovery codes, and (for residents, who chose it) turning it off. The rules are in
communities.two_factor."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from communities import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("sign-in", "Code"),
        max_length=32,
        error_messages={"required": gettext_lazy("Enter the code.")},
    )


def _wrong_code(form: CodeForm, wait: int, *, setting_up: bool = False) -> None:
    if wait:
        form.add_error(
            "code",
            _("Too many wrong codes. Wait %(seconds)d seconds, then try again.")
            % {"seconds": wait},
        )
    elif setting_up:  # no recovery codes yet
        form.add_error(
            "code",
            _(
                "That code is not right. Enter the six digits your authenticator app shows "
                "now for this site (they change every 30 seconds)."
            ),
        )
    else:
        form.add_error(
            "code",
            _(
                "That code is not right. Enter the six digits your authenticator app shows "
                "now (they change every 30 seconds), or one of your recovery codes."
            ),
        )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step at sign-in: six digits from the app, or a recovery code."""
    next_url = two_factor.safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    if request.user.is_verified():
        return redirect(next_url)
    if two_factor.authenticator(request.user) is None:
        return two_factor.begin(request, request.GET.get("next", ""))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, wait = two_factor.match(request.user, form.cleaned_data["code"])
        if device is not None:
            two_factor.finish(request, device)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; it cannot be used again. "
                        "Recovery codes left: %(count)d."
                    )
                    % {"count": two_factor.recovery_codes_left(request.user)},
                )
            return redirect(next_url)
        _wrong_code(form, wait)
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code (or type the key), then enter six digits.

    Replacing an authenticator that exists needs the second step first, or a stolen password
    alone could swap in the thief's phone."""
    user = request.user
    has_one = two_factor.authenticator(user) is not None
    if has_one and not user.is_verified():
        return redirect(two_factor.step_url(request, two_factor.VERIFY))
    next_url = two_factor.safe_next(request, reverse("communities:account"))
    device = two_factor.new_authenticator(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = "".join(form.cleaned_data["code"].split())
        allowed, data = device.verify_is_allowed()
        if allowed and code.isdigit() and device.verify_token(code):
            codes = two_factor.confirm(user, device)
            two_factor.finish(request, device)
            request.session[two_factor.CODES_TO_SHOW] = codes
            return redirect(f"{reverse('two-factor-codes')}?next={next_url}")
        _wrong_code(
            form,
            0 if allowed else two_factor.seconds_until((data or {}).get("locked_until")),
            setting_up=True,
        )
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "replacing": has_one,
            "required": two_factor.required(user),
            "secret": two_factor.secret_groups(device),
            "qr": two_factor.qr_svg(device, title=_("QR code for your authenticator app")),
            "account_name": user.get_username(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once; or how many are left, with a button for a new set."""
    if not request.user.is_verified():
        raise PermissionDenied
    if request.method == "POST":
        request.session[two_factor.CODES_TO_SHOW] = two_factor.new_recovery_codes(request.user)
        return redirect("two-factor-codes")
    shown = request.session.pop(two_factor.CODES_TO_SHOW, None)
    return render(
        request,
        "registration/two_factor_codes.html",
        {
            "codes": shown,
            "left": None if shown else two_factor.recovery_codes_left(request.user),
            "next": two_factor.safe_next(request, reverse("communities:account")),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def turn_off(request: HttpRequest) -> HttpResponse:
    """A resident who turned two-step sign-in on may turn it off; a role holder may not."""
    if two_factor.required(request.user) or not request.user.is_verified():
        raise PermissionDenied
    if request.method == "POST":
        two_factor.turn_off(request.user)
        messages.success(request, _("Two-step sign-in is off."))
        return redirect("communities:account")
    return render(request, "registration/two_factor_off.html")
