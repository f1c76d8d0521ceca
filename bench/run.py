"""Page benchmarks: render the public pages repeatedly against the demo data and print numbers.

    make bench            # or: DATABASE_URL=… python bench/run.py [repeats]

Prints, per page, the median and 95th-percentile server time (Django test client, no network)
and the number of SQL queries, each request a cache miss (the content version moves on before
it): what a page costs to render. bench/load.py measures the served site, caches included.
Not a test: it reports, and stops only if a page fails.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
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


def _staff_client() -> Client:
    """A client signed in as the bench's own staff member of 林园社区 (made once)."""
    from django.contrib.auth import get_user_model

    from communities.models import Community
    from communities.roles import make_staff

    user, _ = get_user_model().objects.get_or_create(username="bench-staff")
    make_staff(user, Community.objects.get(name="林园社区"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _official_client() -> Client:
    """A client signed in as the bench's own official of 洛龙区 (made once)."""
    from django.contrib.auth import get_user_model

    from communities.models import District, Membership

    user, _ = get_user_model().objects.get_or_create(username="bench-official")
    Membership.objects.get_or_create(
        user=user, role=Membership.Role.OFFICIAL, district=District.objects.get(name="洛龙区")
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def main(repeats: int) -> None:
    call_command("migrate", verbosity=0)
    # Pages name static files by their hashed names, as in production: the manifest must exist.
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    client = Client(HTTP_HOST="localhost")
    print(
        f"{'page':<18} {'median ms':>10} {'p95 ms':>8} {'queries':>8}   ({repeats} requests each)"
    )
    staff = _staff_client()
    pages = [(name, path, client) for name, path in PAGES]
    pages += [(name, path, staff) for name, path in STAFF_PAGES]
    official = _official_client()
    pages += [(name, path, official) for name, path in OFFICIAL_PAGES]
    for name, path, client in pages:
        path = path() if callable(path) else path
        headers = {"HX-Request": "true"} if "htmx" in name else {}
        client.get(path, headers=headers)  # warm up templates and the connection
        timings = []
        for _ in range(repeats):
            caching.bump()  # a cache miss every time: this measures rendering, not the cache
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{name:<18} {statistics.median(timings):>10.2f} {p95:>8.2f} {len(queries):>8}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
