from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from communities import access
from communities.forms import DisplayForm, SearchForm
from communities.models import Community, District, Membership, ResidentialCompound, Subdistrict
from courses import listing
from facilities.views import community_panels, home_panels
from portal import audit, caching
from residents.models import Resident

SEARCH_LIMIT = 20
ELDER_COOKIE_AGE = 365 * 24 * 3600


# A district with more communities than this lists its subdistricts on the home page, each
# linking to its communities, so the page stays small whatever the city's size.
HOME_TREE_LIMIT = 80
COMMUNITY_PAGE = 100
CHANGES_SHOWN = 100  # the latest changes on the "changes in my area" page


def _place_tree() -> list[District]:
    """Districts → subdistricts that have communities → communities (or, for large districts,
    the subdistricts' community counts), in three queries."""
    districts = list(
        District.objects.annotate(
            subdistrict_count=Count("subdistricts", distinct=True),
            community_count=Count("subdistricts__communities"),
        ).order_by("code")
    )
    subdistricts = list(
        Subdistrict.objects.annotate(community_count=Count("communities"))
        .filter(community_count__gt=0)
        .order_by("code")
    )
    small = {d.pk for d in districts if d.community_count <= HOME_TREE_LIMIT}
    communities = defaultdict(list)
    for community in (
        Community.objects.filter(subdistrict__district__in=small)
        .only("name", "slug", "subdistrict_id", "is_demo")
        .order_by("name")
    ):
        communities[community.subdistrict_id].append(community)
    served = defaultdict(list)
    for subdistrict in subdistricts:
        subdistrict.listed = communities[subdistrict.pk]
        served[subdistrict.district_id].append(subdistrict)
    for district in districts:
        district.served = served[district.pk]
        district.collapsed = district.pk not in small
    return districts


@require_GET
@caching.public_page
def home(request: HttpRequest) -> HttpResponse:
    def totals() -> dict:
        values = Community.objects.aggregate(communities=Count("id"), population=Sum("population"))
        values["compounds"] = ResidentialCompound.objects.count()
        return values

    return render(
        request,
        "communities/home.html",
        {
            # Built only when the cached tree fragment is missing (home.html's {% cache %}).
            "districts": SimpleLazyObject(_place_tree),
            "totals": caching.cached("home-totals", build=totals),
            "form": SearchForm(),
            **home_panels(),
            # Outside every content-version cache: enrolments move the seat counts.
            "open_classes": listing.for_home(timezone.now()),
        },
    )


@require_GET
@vary_on_headers("HX-Request")  # the page and its fragment must not share a cache entry
@caching.public_page
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    communities = compounds = None
    if form.is_valid():
        text = form.cleaned_data["q"]
        communities = list(
            Community.objects.search(text)
            .select_related("subdistrict__district")
            .order_by("name")[:SEARCH_LIMIT]
        )
        compounds = list(
            ResidentialCompound.objects.search(text)
            .select_related("community")
            .order_by("name")[:SEARCH_LIMIT]
        )
    template = "communities/search.html"
    if request.htmx:
        template += "#results"
    return render(
        request,
        template,
        {
            "form": form,
            "communities": communities,
            "compounds": compounds,
            "limit": SEARCH_LIMIT,
            "searched": "q" in request.GET,
        },
    )


@require_GET
@caching.public_page
def community_list(request: HttpRequest) -> HttpResponse:
    """Every community of the small districts; a large district's (or a subdistrict's)
    communities a page at a time when asked for by ``?district=`` or ``?subdistrict=``."""
    districts = list(
        District.objects.annotate(community_count=Count("subdistricts__communities"))
        .filter(community_count__gt=0)
        .order_by("code")
    )
    communities = (
        Community.objects.select_related("subdistrict__district")
        .annotate(compound_count=Count("compounds"))
        .order_by("subdistrict__district__code", "subdistrict__code", "name")
    )
    chosen = None
    if code := request.GET.get("subdistrict"):
        chosen = get_object_or_404(Subdistrict.objects.select_related("district"), code=code)
        communities = communities.filter(subdistrict=chosen)
    elif code := request.GET.get("district"):
        chosen = get_object_or_404(District, code=code)
        communities = communities.filter(subdistrict__district=chosen)
    else:
        small = [d for d in districts if d.community_count <= HOME_TREE_LIMIT]
        communities = communities.filter(subdistrict__district__in=small)
    page = Paginator(communities, COMMUNITY_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "communities/community_list.html",
        {
            "page": page,
            "chosen": chosen,
            "large_districts": [d for d in districts if d.community_count > HOME_TREE_LIMIT],
            "page_query": query.urlencode(),
        },
    )


@require_GET
@caching.public_page
def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    community = get_object_or_404(
        Community.objects.select_related("subdistrict__district"), slug=slug
    )
    compounds = list(community.compounds.order_by("-population", "name"))
    return render(
        request,
        "communities/community_detail.html",
        {
            "community": community,
            "compounds": compounds,
            "compound_population": sum(c.population for c in compounds),
            "compound_households": sum(c.households for c in compounds),
            **community_panels(community, compounds),
            "open_classes": listing.for_community(community, timezone.now()),
        },
    )


@csrf_exempt  # sets a display preference only; see portal.caching.public_page
@require_POST
def set_display(request: HttpRequest) -> HttpResponse:
    """Turn elder mode (长者模式) on or off: a plain form POST, so it works without JavaScript."""
    form = DisplayForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("elder must be 1 or 0")
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if form.cleaned_data["elder"] == "1":
        response.set_cookie(
            settings.ELDER_MODE_COOKIE,
            "1",
            max_age=ELDER_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(settings.ELDER_MODE_COOKIE, samesite="Lax")
    return response


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """Who I am here: my memberships and the communities they let me keep or read."""
    memberships = Membership.objects.filter(user=request.user).select_related(
        "community", "subdistrict__district", "district"
    )
    scope = access.scope_for(request.user)
    area = (
        Community.objects.readable_by(request.user)
        .select_related("subdistrict__district")
        .annotate(compound_count=Count("compounds"))
        .order_by("subdistrict__district__code", "subdistrict__code", "name")
    )
    # A resident's profile (residents.models), when this account has one.
    resident = (
        Resident.objects.filter(user=request.user).select_related("compound__community").first()
    )
    return render(
        request,
        "communities/account.html",
        {
            "memberships": memberships,
            "scope": scope,
            "area": area,
            "resident": resident,
            "two_step_on": request.user.is_verified(),
            "two_step_required": bool(memberships) or request.user.is_staff,
        },
    )


@login_required
@require_GET
def changes(request: HttpRequest) -> HttpResponse:
    """The latest recorded changes in the communities I keep or read as an official."""
    entries = audit.in_scope(request.user, CHANGES_SHOWN)
    return render(request, "communities/changes.html", {"entries": entries})
