import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class CookieLocaleMiddleware:
    """The language is the visitor's own choice (the language switch's cookie), else zh-hans.

    Django's LocaleMiddleware would follow the browser's Accept-Language; here the portal speaks
    Chinese until someone asks for English, as DESIGN.md sets out.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


class PermissionsPolicyMiddleware:
    """What the browser may let our pages use: the position, for "near me" on our own pages, and
    nothing else (camera, microphone, payment…); no page may be put in another's frame either
    (CSP frame-ancestors and X-Frame-Options say so)."""

    POLICY = (
        "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), serial=(), "
        "bluetooth=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), "
        "display-capture=(), interest-cohort=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.POLICY)
        return response


class StaffIdleTimeoutMiddleware:
    """Staff and administrators are signed out after ``STAFF_IDLE_SECONDS`` without a request,
    whatever the session's own lifetime: a back-office screen left open at a service desk must
    not stay usable. The last moment seen is written at most once a minute."""

    KEY = "staff_seen_at"

    @classmethod
    def signed_in(cls, sender, request, user, **kwargs) -> None:
        """The clock starts at sign-in (a user_logged_in receiver), with the session's own
        save, so the first pages after it write nothing more."""
        if request is not None and hasattr(request, "session"):
            request.session[cls.KEY] = int(time.time())

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            now = int(time.time())
            seen = request.session.get(self.KEY)
            if seen is not None and now - seen > settings.STAFF_IDLE_SECONDS:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)s minutes without activity.")
                    % {"minutes": settings.STAFF_IDLE_SECONDS // 60},
                )
                return redirect_to_login(request.get_full_path())
            if seen is None or now - seen >= 60:
                request.session[self.KEY] = now
        return self.get_response(request)


class NulInAddressMiddleware:
    """A NUL character in the path or a query parameter is a 400 at once. No page takes one,
    and PostgreSQL refuses it in any text it is handed, so a view that looks a parameter up
    (the back office's list filters among them) would otherwise answer 500."""

    # The open-data API checks its own parameters and answers bad ones in JSON (opendata/query).
    OWN_CHECKS = ("/api/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.OWN_CHECKS):
            return self.get_response(request)
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)
