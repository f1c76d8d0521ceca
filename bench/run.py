"""Page benchmarks: render the public pages repeatedly against the demo data and print numbers.

    make bench            # or: DATABASE_URL=… python bench/run.py [repeats]

Prints, per page, the median and 95th-percentile server time (Django test client, no network)
and the number of SQL queries, each request a cache miss (the content version moves on before
it, as after any staff edit to a facility): what a page costs to render, on the demo data and
the generated city (made when absent), against the first-render targets. bench/load.py measures
the served site, caches included.
Not a test: it reports, and stops only if a page fails.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/load.py's sessions
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from portal import caching  # noqa: E402


def _dikan() -> int:
    from communities.models import ResidentialCompound

    return ResidentialCompound.objects.get(name="地勘三院小区").pk


# (name, path or a function that makes one). Adding a page to the benchmark is one line here.
PAGES = [
    ("home", "/"),
    ("community list", "/communities/"),
    ("community page", "/communities/shiyou/"),
    ("search", "/search/?q=社区"),
    ("search (htmx)", "/search/?q=小区"),
    ("facility search", "/facilities/?q=看病"),
    ("facilities near", lambda: f"/facilities/?near={_dikan()}&category=canteen&open_now=on"),
    ("facilities (htmx)", lambda: f"/facilities/?near={_dikan()}&q=看病"),
    ("facility page", "/facilities/xiaonuanchaoshi/"),
    ("poster", "/facilities/xiaonuanchaoshi/poster/"),
    ("courses", "/courses/"),
    ("course page", "/courses/sheying/"),
    ("wishes", "/wishes/"),
    ("healthz", "/healthz"),
]
# Pages of signed-in staff and officials (never cached whole), as 林园社区's staff member sees
# them.
STAFF_PAGES = [
    ("staff desk", "/admin/"),
    ("admin facilities", "/admin/facilities/facility/"),
    ("admin changes", "/admin/changes/"),
    ("import page", "/admin/facilities/facility/import/"),
    ("facility history", lambda: f"/facilities/{_linyuan_canteen()}/history/"),
    ("changes in my area", "/accounts/changes/"),
]
# Pages of officials, as the bench's own official of 洛龙区 sees them.
OFFICIAL_PAGES = [
    ("coverage report", "/reports/"),
    ("report matrix", "/reports/matrix/"),
    ("report gaps", "/reports/gaps/"),
    ("report sites", "/reports/sites/?service=canteen"),
    ("report community", "/reports/communities/shiyou/"),
    ("report xlsx", "/reports/export.xlsx"),
]


def _linyuan_canteen() -> str:
    from facilities.models import Facility

    return Facility.objects.get(name="林园小区助餐点").slug


def _signed_in(user) -> Client:
    """A client with a session for ``user`` in the store the pages read, past the second
    sign-in step (as bench/load.py makes them): a role account without it would measure the
    step's page."""
    from load import session_for

    client = Client(HTTP_HOST="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_for(user)
    return client


def _staff_client() -> Client:
    """The bench's own staff member of 林园社区 (made once)."""
    from django.contrib.auth import get_user_model

    from communities.models import Community
    from communities.roles import make_staff

    user, _ = get_user_model().objects.get_or_create(username="bench-staff")
    make_staff(user, Community.objects.get(name="林园社区"))
    return _signed_in(user)


def _official_client() -> Client:
    """The bench's own official of 洛龙区 (made once)."""
    from load import official

    return _signed_in(official())


def _generated(kind: str) -> str:
    """A page of the generated city (generate_city), or "" when it is not there."""
    from communities.models import Community, ResidentialCompound
    from facilities.models import Facility

    community = Community.objects.filter(slug__startswith="gen-").order_by("pk").first()
    if community is None:
        return ""
    if kind == "community":
        return f"/communities/{community.slug}/"
    if kind == "near":
        compound = ResidentialCompound.objects.filter(community=community).order_by("pk").first()
        return f"/facilities/?near={compound.pk}&category=canteen&open_now=on"
    if kind == "finder":
        return f"/facilities/?q=食堂&area={community.subdistrict.code}"
    facility = Facility.objects.filter(community=community).order_by("pk").first()
    return f"/facilities/{facility.slug}/"


# Public pages of the generated city (20,000 compounds, 50,000 facilities, 2,486 communities).
CITY_PAGES = [
    ("city: community", lambda: _generated("community")),
    ("city: finder", lambda: _generated("finder")),
    ("city: near", lambda: _generated("near")),
    ("city: facility", lambda: _generated("facility")),
]

# First renders must take at most (issue 20): a public page 30 ms, a district's report page
# 50 ms, the city-wide overview 300 ms. Staff pages have no target here.
PUBLIC_MS, DISTRICT_MS, CITY_MS = 30, 50, 300


def _city_admin_client() -> Client:
    """The bench's own city administrator (made once)."""
    from django.contrib.auth import get_user_model

    from communities.models import Membership

    user, _ = get_user_model().objects.get_or_create(
        username="bench-cityadmin", defaults={"is_staff": True}
    )
    Membership.objects.get_or_create(user=user, role=Membership.Role.CITY_ADMIN)
    return _signed_in(user)


# Keyword searches over the whole city (the finder's and the API's one path, with no cache in
# front): the matches' count and the first page's ids, as the finder reads them.
KEYWORDS = ["食堂", "看病", "st", "shitang", "食堂 林园", "我想找个吃饭的地方", "理发 老年"]
KEYWORD_MS = 20


def keyword_search(repeats: int) -> list[str]:
    from facilities import matching, wording
    from facilities.models import Category, Facility
    from facilities.views import PAGE_SIZE, _category_terms

    categories = list(Category.objects.all())
    terms = _category_terms(categories)
    by_code = {c.code: c.pk for c in categories}
    print(
        f"\n{'keyword search':<20} {'median ms':>10} {'p95 ms':>8} {'matches':>8}  target   "
        f"(the query alone, every facility in the city; {repeats} each)"
    )
    missed = []
    for text in KEYWORDS:
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            ids = {
                word: [by_code[code] for code in matching.matching_codes(word, terms)]
                for word in wording.words(text)
            }
            found = Facility.objects.visible().search(text, lambda w, ids=ids: ids.get(w, []))
            count = found.count()
            list(found.order_by("category__sort_order", "name", "pk").values_list("pk")[:PAGE_SIZE])
            timings.append((time.perf_counter() - start) * 1000)
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        verdict = "meets" if median <= KEYWORD_MS else "MISSES"
        if median > KEYWORD_MS:
            missed.append(f"search {text}")
        print(f"{text:<20} {median:>10.2f} {p95:>8.2f} {count:>8}  {KEYWORD_MS:>4} ms {verdict}")
    return missed


def main(repeats: int) -> None:
    from load import prepare

    # The demo data and the generated city, with static files collected (pages name them by
    # their hashed names, as in production).
    prepare(city=True)
    client = Client(HTTP_HOST="localhost")
    print(
        "First renders: before every request a facility edit moves the content version on, so "
        "nothing the page shows is cached\n(what shows places only is kept until a place "
        "changes: the last row moves that on too)."
    )
    print(
        f"{'page':<20} {'median ms':>10} {'p95 ms':>8} {'queries':>8}  target   "
        f"({repeats} requests each)"
    )
    staff = _staff_client()
    pages = [(name, path, client, PUBLIC_MS) for name, path in PAGES + CITY_PAGES]
    pages += [(name, path, staff, None) for name, path in STAFF_PAGES]
    official = _official_client()
    pages += [(name, path, official, DISTRICT_MS) for name, path in OFFICIAL_PAGES]
    pages.append(("city overview", "/reports/", _city_admin_client(), CITY_MS))
    pages.append(("home, places edited", "/", client, PUBLIC_MS))
    missed = []
    for name, path, client, target in pages:
        path = path() if callable(path) else path
        if not path:
            print(f"{name:<20} (no generated city: manage.py generate_city)")
            continue
        headers = {"HX-Request": "true"} if "htmx" in name else {}
        client.get(path, headers=headers)  # warm up templates and the connection
        timings = []
        for _ in range(repeats):
            # A cache miss every time: this measures rendering, not the cache.
            (caching.bump if name == "home, places edited" else caching.bump_content)()
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        verdict = ""
        if target is not None:
            verdict = f"{target:>4} ms " + ("meets" if median <= target else "MISSES")
            if median > target:
                missed.append(name)
        print(f"{name:<20} {median:>10.2f} {p95:>8.2f} {len(queries):>8}  {verdict}")
    missed += keyword_search(repeats)
    print("every first render meets its target" if not missed else f"missed: {', '.join(missed)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
