"""A resident's own pages: registering, the privacy notice, "my data" and deleting the account."""

import json
from itertools import groupby

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from communities.models import Community, ResidentialCompound
from courses.models import Enrolment
from portal.lib.http import client_address
from residents import privacy
from residents.forms import PHONE_TAKEN, DeleteAccountForm, RegistrationForm
from residents.models import Resident

# Registration attempts per client address and hour: enough for a family registering together
# with a few typos, too few for a script trying numbers.
REGISTRATION_LIMIT = 10
REGISTRATION_WINDOW = 3600
# Above this many compounds in the city, the page asks for the community first (the list of a
# whole city would be megabytes); the same threshold as the facility finder's.
COMPOUND_OPTION_LIMIT = 500

TOO_MANY = _(
    "Too many registrations from this connection in the last hour. Wait an hour and try "
    "again, or ask your community office to register you at the desk."
)


def _over_limit(request: HttpRequest) -> bool:
    """Count one attempt from this address; True once the hour's allowance is spent."""
    key = f"register-attempts:{client_address(request)}"
    cache.add(key, 0, REGISTRATION_WINDOW)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, REGISTRATION_WINDOW)
        attempts = 1
    return attempts > REGISTRATION_LIMIT


def _compound_groups(community_slug: str, chosen: str) -> tuple[list, list | None]:
    """(community name, [(id, name, selected), …]) groups for the compound select and, when the
    city has too many compounds to list at once, (district, [(slug, name, selected), …]) groups
    for a community select that narrows it (else None). Two or three queries."""
    compounds = ResidentialCompound.objects.order_by(
        "community__subdistrict__code", "community__name", "community_id", "name"
    )
    communities = None
    if ResidentialCompound.objects.count() > COMPOUND_OPTION_LIMIT:
        rows = Community.objects.order_by(
            "subdistrict__district__code", "subdistrict__code", "name"
        ).values_list("slug", "name", "subdistrict__district__name", "subdistrict__name")
        communities = [
            (district, [(slug, name, slug == community_slug) for slug, name, *_ in group])
            for district, group in groupby(rows, key=lambda r: f"{r[2]} {r[3]}")
        ]
        compounds = compounds.filter(community__slug=community_slug or None)
    rows = compounds.values_list("id", "name", "community__name", "community_id")
    groups = [
        (community, [(pk, name, str(pk) == chosen) for pk, name, *_ in group])
        for (community, _id), group in groupby(rows, key=lambda r: (r[2], r[3]))
    ]
    return groups, communities


def _register_page(
    request: HttpRequest, form: RegistrationForm, status: int = 200, throttled: bool = False
) -> HttpResponse:
    compounds, communities = _compound_groups(
        form["community"].value() or "", str(form["compound"].value() or "")
    )
    return render(
        request,
        "residents/register.html",
        {
            "form": form,
            "compound_groups": compounds,
            "community_groups": communities,
            "too_many": TOO_MANY if throttled else None,
        },
        status=status,
    )


def _typed(request: HttpRequest) -> RegistrationForm:
    """An unbound form holding what was typed, passwords left out: shown again without errors."""
    typed = {k: v for k, v in request.POST.items() if not k.startswith("password")}
    return RegistrationForm(initial=typed)


@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("communities:account")
    if request.method == "GET":
        return _register_page(request, RegistrationForm())
    if "show_compounds" in request.POST:
        # The "show its compounds" button of a large city: the form again, with the chosen
        # community's compounds and no error messages yet.
        return _register_page(request, _typed(request))
    if _over_limit(request):
        return _register_page(request, _typed(request), status=429, throttled=True)
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        return _register_page(request, form)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=data["phone"], password=data["password1"], is_staff=False
            )
            Resident.objects.create(
                user=user,
                name=data["name"],
                phone=data["phone"],
                birth_year=data["birth_year"],
                compound=data["compound"],
                privacy_accepted_at=timezone.now(),
            )
    except IntegrityError:
        # The same number, registered a moment ago by another request.
        form.add_error("phone", forms.ValidationError(PHONE_TAKEN, code="taken"))
        return _register_page(request, form)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("communities:account")


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "residents/privacy.html")


def _own_profile(request: HttpRequest) -> Resident:
    return get_object_or_404(
        Resident.objects.select_related("compound__community"), user=request.user
    )


@never_cache
@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    resident = _own_profile(request)
    return render(
        request, "residents/data.html", {"resident": resident, "data": privacy.my_data(resident)}
    )


@never_cache
@login_required
@require_GET
def my_data_json(request: HttpRequest) -> HttpResponse:
    resident = _own_profile(request)
    exported = timezone.localtime().isoformat(timespec="seconds")
    body = json.dumps(
        {"exported": exported, **privacy.my_data(resident)},
        ensure_ascii=False,
        indent=2,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"my-data-{timezone.localdate():%Y%m%d}.json"
    )
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    if not privacy.may_delete_self(request.user):
        status = 403 if request.method == "POST" else 200
        return render(request, "residents/delete_refused.html", status=status)
    resident = _own_profile(request)
    live = resident.user.enrolments.filter(status__in=Enrolment.LIVE).count()
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        privacy.delete_account(request.user)
        logout(request)
        return redirect("residents:deleted")
    return render(
        request, "residents/delete.html", {"form": form, "resident": resident, "live": live}
    )


@require_GET
def deleted(request: HttpRequest) -> HttpResponse:
    """Where a deleted account lands: the public pages keep no messages, so a page of its own."""
    return render(request, "residents/deleted.html")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    """Choose one's own password: after staff gave a one-time one at the desk or by a reset, or
    whenever one likes. The rest of one's sessions end; this one stays signed in."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(
            request,
            _("Your password is changed. Use the new one the next time you sign in."),
        )
        return redirect("communities:account")
    return render(request, "residents/password.html", {"form": form})
