from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from communities import two_factor_views
from communities import urls as communities_urls
from communities.signin import SignInForm
from facilities import urls as facilities_urls
from portal import pages
from portal.views import favicon, floor, healthz, photo

# The composite pages (portal.pages) join the namespaces of the apps they are about, so their
# names stay communities:home, communities:detail, communities:account and facilities:detail.
communities_patterns = [
    path("", pages.home, name="home"),
    path("communities/<slug:slug>/", pages.community_detail, name="detail"),
    path("accounts/", pages.account, name="account"),
    *communities_urls.urlpatterns,
]
facilities_patterns = [
    path("<slug:slug>/", pages.facility_detail, name="detail"),
    *facilities_urls.urlpatterns,
]

urlpatterns = [
    path("", include((communities_patterns, communities_urls.app_name))),
    path("facilities/", include((facilities_patterns, facilities_urls.app_name))),
    path("reports/", include("reports.urls")),
    path("courses/", include("courses.urls")),
    path("me/", include("courses.me_urls")),
    path("wishes/", include("wishes.urls")),
    path("api/hsds/", include("opendata.urls")),
    path("accounts/", include("residents.urls")),
    path("", include("notices.urls")),
    path("healthz", healthz, name="healthz"),
    # The language switch sets a display preference only, so it needs no CSRF token, and pages
    # for anonymous visitors can be cached whole (portal.caching.public_page).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor_views.verify, name="two-factor"),
    path("accounts/two-factor/setup/", two_factor_views.setup, name="two-factor-setup"),
    path("accounts/two-factor/codes/", two_factor_views.codes, name="two-factor-codes"),
    path("accounts/two-factor/off/", two_factor_views.turn_off, name="two-factor-off"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's).
    path("favicon.ico", favicon),
    path("media/photos/<str:name>", photo, name="photo"),
]

# While the database cannot be reached, a server error is the outage page (503, Retry-After).
handler500 = "portal.outage.server_error"

if settings.BENCH_FLOOR:
    urlpatterns.append(path("bench/floor/", floor, name="bench-floor"))
