from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from communities.forms import DisplayForm, SearchForm
from communities.models import Community, District, ResidentialCompound, Subdistrict
from portal import audit, caching

SEARCH_LIMIT = 20
ELDER_COOKIE_AGE = 365 * 24 * 3600


# A district with more communities than this lists its subdistricts on the home page, each
# linking to its communities, so the page stays small whatever the city's size.
HOME_TREE_LIMIT = 80
COMMUNITY_PAGE = 100
CHANGES_SHOWN = 100  # the latest changes on the "changes in my area" page


def place_tree() -> list[District]:
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
        # Said here rather than by the template: a city's 200 subdistricts each say it.
        subdistrict.count_text = ngettext(
            "%(counter)s community", "%(counter)s communities", subdistrict.community_count
        ) % {"counter": subdistrict.community_count}
        served[subdistrict.district_id].append(subdistrict)
    for district in districts:
        district.served = served[district.pk]
        district.collapsed = district.pk not in small
    return districts


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
def changes(request: HttpRequest) -> HttpResponse:
    """The latest recorded changes in the communities I keep or read as an official."""
    entries = audit.in_scope(request.user, CHANGES_SHOWN)
    return render(request, "communities/changes.html", {"entries": entries})
