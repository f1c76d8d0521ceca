"""Wishes: the public list, a wish's page, posting one, supporting one, and the officials' summary.

Each view gathers what its template shows in a fixed number of queries; the templates loop over
prepared rows only.
"""

import hashlib
from dataclasses import dataclass
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import escape_leading_slashes, url_has_allowed_host_and_scheme, urlencode
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from communities import access
from communities.models import Community
from portal import caching, personal
from portal.lib import ratelimit
from portal.lib.http import client_address
from residents.models import Resident
from wishes.forms import WishFilterForm, WishForm
from wishes.models import Support, Wish

PAGE_SIZE = 20


def _community_rows():
    return list(
        Community.objects.order_by(
            "subdistrict__district__code", "subdistrict__code", "name"
        ).values_list("pk", "slug", "name", "subdistrict__district__name")
    )


def _community_groups(rows, chosen: str, key: int):
    """(district, [(value, name, selected), …]) for a community select; ``key`` picks the value
    (0: id, 1: slug)."""
    return [
        (district, [(row[key], row[2], str(row[key]) == chosen) for row in group])
        for district, group in groupby(rows, key=lambda r: r[3])
    ]


def _community_options(chosen: str) -> str:
    """The community select's options, grouped by district: thousands in a generated city, so
    rendered once per content version and choice, for visitors and residents alike."""

    def build() -> str:
        groups = _community_groups(_community_rows(), chosen, key=1)
        return render_to_string("wishes/community_options.html", {"community_groups": groups})

    return caching.cached_places("wish-community-options", chosen[:100], build=build)


def _public(queryset):
    return queryset.select_related("community", "author__resident")


def _back(request: HttpRequest, default: str) -> str:
    """Where the page that posted came from, if it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# ---- residents' pages ----


@require_GET
@vary_on_headers("HX-Request")  # the page and its fragment must not share a cache entry
@caching.public_page
def wish_list(request: HttpRequest) -> HttpResponse:
    form = WishFilterForm(request.GET)
    page, wishes = None, []
    if form.is_valid():
        data = form.cleaned_data
        found = _public(Wish.objects.all())
        if data["community"]:
            found = found.filter(community__slug=data["community"])
        if data["kind"]:
            found = found.filter(kind=data["kind"])
        if data["status"]:
            found = found.filter(status=data["status"])
        found = found.newest() if data["sort"] == "newest" else found.by_support()
        page = Paginator(found, PAGE_SIZE).get_page(data["page"] or 1)
        wishes = list(page.object_list)

    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "wishes": wishes, "page_query": query.urlencode()}
    if request.htmx:
        return render(request, "wishes/list.html#results", context)

    def filters() -> str:
        """The heading and filters: nobody's own, rendered once a minute per address."""
        # A community that exists, or none: what was typed never becomes a cache key.
        community = "" if "community" in form.errors else form.cleaned_data.get("community", "")
        chosen = {"community_options": _community_options(community)}
        return render_to_string("wishes/list.html#filters", context | chosen, request)

    context["filters"] = caching.shared_fragment(request, "wish-filters", filters)
    return render(request, "wishes/list.html", context)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    wish = get_object_or_404(_public(Wish.objects.all()), pk=pk)
    return render(request, "wishes/detail.html", {"wish": wish})


@personal.part("wish-support")
def _support_part(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """My part of each wish's support box on a page: that I support it, the button, or, for a
    visitor, signing in. A signed-in person's are kept for the minute until their support
    changes (their stamp), with the form's CSRF token left as a hole of its own."""
    this_page = escape_leading_slashes(request.get_full_path())
    if not request.user.is_authenticated:
        return _support_parts(keys, set(), signed_in=False, this_page=this_page)
    user = request.user

    def build() -> dict[str, str]:
        pks = [int(k) for k in keys]
        supported = set(
            Support.objects.filter(user=user, wish__in=pks).values_list("wish_id", flat=True)
        )
        return _support_parts(keys, supported, signed_in=True, this_page=this_page)

    asked = hashlib.sha256(f"{this_page} {' '.join(keys)}".encode()).hexdigest()[:32]
    return caching.this_minute_under(
        "wish-support",
        user.pk,
        get_language(),
        asked,
        stamps=[caching.person_stamp(user.pk)],
        build=build,
    )


def _support_parts(keys, supported: set[int], *, signed_in: bool, this_page: str):
    items = [
        (int(key), int(key) in supported, reverse("wishes:detail", args=[int(key)])) for key in keys
    ]
    context = {"signed_in": signed_in, "this_page": this_page}
    made = personal.render_each("wishes/personal/support.html", context, items)
    return dict(zip(keys, made, strict=True))


def _home_community(user) -> int | None:
    """The community of the compound the resident lives in, if they have said."""
    return (
        Resident.objects.filter(user=user, compound__isnull=False)
        .values_list("compound__community_id", flat=True)
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    address = client_address(request)
    if request.method == "POST":
        form = WishForm(request.POST, user=request.user, address=address)
        if form.is_valid():
            wish = form.save()
            messages.success(
                request,
                _("Thank you. Your wish is posted, and your support is counted on it."),
            )
            return redirect(wish)
    else:
        form = WishForm(
            initial={"community": _home_community(request.user)},
            user=request.user,
            address=address,
        )
    chosen = form["community"].value()
    return render(
        request,
        "wishes/new.html",
        {
            "form": form,
            "community_groups": _community_groups(
                _community_rows(), str(chosen) if chosen else "", key=0
            ),
        },
    )


# Support given per account and per client address in an hour: each account counts once per
# wish anyway; these stop a script with many accounts from piling support onto one.
SUPPORT_PER_ACCOUNT = 60
SUPPORT_PER_ADDRESS = 100
SUPPORT_WINDOW = 3600


@require_POST
def support(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the signed-in account's support, once. htmx gets the support box back in place of
    the button; a plain form post goes back to the page it came from."""
    wish = get_object_or_404(Wish.objects.only("pk", "title"), pk=pk)
    back = _back(request, wish.get_absolute_url())
    if not request.user.is_authenticated:
        login = redirect_to_login(back)
        return HttpResponseClientRedirect(login.url) if request.htmx else login
    if not ratelimit.allowed(
        request,
        "support",
        per_account=SUPPORT_PER_ACCOUNT,
        per_address=SUPPORT_PER_ADDRESS,
        window=SUPPORT_WINDOW,
    ):
        note = _("Too much support from this connection in the last hour. Try again later.")
        if request.htmx:
            return render(request, "wishes/support.html", {"wish": wish, "note": note})
        messages.error(request, note)
        return redirect(back)
    added = Wish.add_support(wish.pk, request.user)
    if added:
        note = _("Thank you: your support is counted.")
    else:
        note = _("You already support this wish. Each account counts once.")
    if request.htmx:
        wish.support_count = Wish.objects.values_list("support_count", flat=True).get(pk=pk)
        return render(request, "wishes/support.html", {"wish": wish, "note": note})
    (messages.success if added else messages.info)(request, note)
    return redirect(back)


# ---- officials ----


@dataclass(frozen=True)
class SummaryRow:
    community: str
    kind: str
    link: str  # the list, filtered to this community and kind
    counts: list[tuple[str, int, str]]  # (status, count, link) in Wish.Status order
    total: int
    supporters: int


@login_required
@require_GET
def summary(request: HttpRequest) -> HttpResponse:
    """Wishes in the user's area, by community and kind: how many wait, are planned, done or
    declined, and how much support they have. One query."""
    if not access.scope_for(request.user).reads_anything:
        raise PermissionDenied
    statuses = list(Wish.Status)
    counts = {s.value: Count("pk", filter=Q(status=s)) for s in statuses}
    grouped = (
        access.readable(Wish.objects.all(), request.user)
        .values("community__slug", "community__name", "kind")
        .annotate(**counts, total=Count("pk"), supporters=Sum("support_count"))
        .order_by(
            "community__subdistrict__district__code",
            "community__subdistrict__code",
            "community__name",
            "community__slug",
        )
    )
    kinds = list(Wish.Kind)
    list_url = reverse("wishes:list")
    rows, totals = [], {s.value: 0 for s in statuses} | {"total": 0, "supporters": 0}
    # Kinds in their own order (course, facility, service) within each community.
    ordered = []
    for _slug, group in groupby(grouped, key=lambda g: g["community__slug"]):
        ordered += sorted(group, key=lambda g: kinds.index(g["kind"]))
    for g in ordered:
        query = {"community": g["community__slug"], "kind": g["kind"]}
        rows.append(
            SummaryRow(
                community=g["community__name"],
                kind=capfirst(Wish.Kind(g["kind"]).label),
                link=f"{list_url}?{urlencode(query)}",
                counts=[
                    (
                        capfirst(s.label),
                        g[s.value],
                        f"{list_url}?{urlencode(query | {'status': s.value})}",
                    )
                    for s in statuses
                ],
                total=g["total"],
                supporters=g["supporters"] or 0,
            )
        )
        for key in totals:
            totals[key] += g[key] or 0
    return render(
        request,
        "wishes/summary.html",
        {
            "rows": rows,
            "totals": [(capfirst(s.label), totals[s.value]) for s in statuses],
            "total": totals["total"],
            "supporters": totals["supporters"],
        },
    )
