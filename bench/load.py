"""Load benchmark: the production server (`make serve`'s) under HTTP load from wrk, page by page,
against Django's own floor.

    make bench                       # or: python bench/load.py [--seconds 10] [--server NAME]

Starts the server on 127.0.0.1:8100 with DEBUG off and the floor page routed (BENCH_FLOOR), then
for the floor and every page kind runs wrk (16 connections on loopback, a separate process) and
prints requests per second, the ratio to the floor, p50 / p95 / p99 latency, errors (socket
errors and 4xx/5xx answers) and the page weight (HTML gzip-compressed plus the CSS and JS it
loads, compressed as the server sends them). Not a test: it reports.

Public pages load anonymously; officials' pages (the coverage reports) load as the bench's own
official of 洛龙区, and residents' pages (the course pages uncached, /me/) as the bench's own
resident, each through a session made for them in the store the server reads. A signed-in page
must answer 200 (not a redirect to the sign-in page) before it is loaded, and no 4xx/5xx under
load.

Adding a page is one line in PAGES. ``--server`` picks one of SERVERS, to compare app servers on
the same data.
"""

import argparse
import contextlib
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.core.management import call_command  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from communities import two_factor  # noqa: E402
from communities.models import District, Membership, ResidentialCompound  # noqa: E402

HOST, PORT = "127.0.0.1", 8100
BASE = f"http://{HOST}:{PORT}"
CONNECTIONS = 16
PY = sys.executable
BIN = Path(PY).parent

# The app servers compared (README "Production" says which won). Each serves portal's WSGI app
# with 2 processes, one per core; ``start`` fills in the address.
SERVERS = {
    "gunicorn-gthread": [str(BIN / "gunicorn"), "portal.wsgi", "--bind", "{host}:{port}",
                         "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
    "gunicorn-sync": [str(BIN / "gunicorn"), "portal.wsgi", "--bind", "{host}:{port}",
                      "--workers", "4", "--worker-class", "sync"],
    "granian": [str(BIN / "granian"), "--interface", "wsgi", "--host", "{host}", "--port", "{port}",
                "--workers", "2", "--blocking-threads", "4", "portal.wsgi:application"],
}  # fmt: skip


def _dikan() -> int:
    return ResidentialCompound.objects.get(name="地勘三院小区").pk


def _a_service() -> str:
    from facilities.models import Facility
    from opendata import hsds

    return hsds.facility_service_id(Facility.objects.get(slug="xiaonuanchaoshi").pk)


# (name, path or a function that makes one[, who loads it: "official" or "resident"; else
# anonymous]). Adding
# a page to the benchmark is one line here.
PAGES = [
    ("floor", "/bench/floor/"),
    ("home", "/"),
    ("community list", "/communities/"),
    ("community page", "/communities/shiyou/"),
    ("search", "/search/?q=社区"),
    ("facility search", "/facilities/?q=看病"),
    ("facilities near", lambda: f"/facilities/?near={_dikan()}&category=canteen&open_now=on"),
    ("facility page", "/facilities/xiaonuanchaoshi/"),
    ("poster", "/facilities/xiaonuanchaoshi/poster/"),
    ("courses", "/courses/"),
    ("course page", "/courses/sheying/"),
    ("wishes", "/wishes/"),
    # The same pages for a signed-in resident: the shared pages with their own parts filled in
    # (portal/personal.py), and /me/, theirs alone; the floor signed in is what reading the
    # session and the account costs any such page.
    ("floor, signed in", "/bench/floor/", "resident"),
    ("home, signed in", "/", "resident"),
    ("finder, signed in", "/facilities/?q=食堂", "resident"),
    (
        "near, signed in",
        lambda: f"/facilities/?near={_dikan()}&category=canteen&open_now=on",
        "resident",
    ),
    ("facility, signed in", "/facilities/xiaonuanchaoshi/", "resident"),
    ("courses, signed in", "/courses/", "resident"),
    ("course, signed in", "/courses/sheying/", "resident"),
    ("my classes", "/me/", "resident"),
    ("wishes, signed in", "/wishes/", "resident"),
    # The officials' coverage reports, as the bench's own official of 洛龙区 sees them.
    ("coverage report", "/reports/", "official"),
    ("report matrix", "/reports/matrix/", "official"),
    ("report gaps", "/reports/gaps/", "official"),
    ("report sites", "/reports/sites/?service=canteen", "official"),
    ("report community", "/reports/communities/shiyou/", "official"),
    ("report xlsx", "/reports/export.xlsx", "official"),
    # The open-data API (HSDS 3.1), as another system reads it.
    ("api services", "/api/hsds/services"),
    ("api service", lambda: f"/api/hsds/services/{_a_service()}"),
    ("api near", lambda: f"/api/hsds/service_at_locations?compound={_dikan()}&proximity=1000"),
    ("api organizations", "/api/hsds/organizations"),
]

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "p50": %d, "p95": %d, "p99": %d, "errors": %d, '
      .. '"status_errors": %d, "timeouts": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status, e.status,
    e.timeout))
end
"""


def prepare(city: bool) -> None:
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    if city and not ResidentialCompound.objects.filter(community__slug__startswith="gen-").exists():
        call_command("generate_city", compounds=20000, facilities=50000, seed=1, verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)


def official():
    """The bench's own official of 洛龙区 (made once)."""
    user, _ = get_user_model().objects.get_or_create(username="bench-official")
    Membership.objects.get_or_create(
        user=user, role=Membership.Role.OFFICIAL, district=District.objects.get(name="洛龙区")
    )
    return user


def resident():
    """The bench's own resident, born 1958, with a seat in 林园社区's 烹饪 (made once)."""
    from courses import enrolment
    from courses.models import CourseClass
    from residents.models import Resident

    phone = "13899990000"
    user, _ = get_user_model().objects.get_or_create(username=phone)
    Resident.objects.get_or_create(
        user=user, defaults={"name": "压测居民", "phone": phone, "birth_year": 1958}
    )
    cooking = CourseClass.objects.filter(course__name="烹饪").order_by("-pk").first()
    if cooking and not cooking.enrolments.filter(user=user).exists():
        # When the window has closed, /me/ shows no class.
        with contextlib.suppress(enrolment.Refused):
            enrolment.enrol(user, cooking)
    return user


def session_for(user) -> str:
    """The key of a fresh session for ``user``, in the store the server reads. An account that
    must sign in in two steps gets an authenticator (made once) and a session that has passed
    the second step, as the code page leaves it."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if two_factor.required(user):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench phone", defaults={"confirmed": True}
        )
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return session.session_key


def end_session(key: str) -> None:
    import_module(settings.SESSION_ENGINE).SessionStore(key).delete()


def start(server: str, redis: bool = True, port: int = PORT) -> subprocess.Popen:
    """``server`` serving the portal on ``port`` (``PORT`` unless another is asked for), once it
    answers its health check."""
    env = {**os.environ, "DEBUG": "false", "BENCH_FLOOR": "true"}
    if not redis:
        env["REDIS_URL"] = ""
    command = [arg.replace("{host}", HOST).replace("{port}", str(port)) for arg in SERVERS[server]]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{server} did not come up: {process.stderr.read().decode()[-2000:]}")


def url(path: str) -> str:
    """The page's address, its non-ASCII characters quoted; the query's separators (and anything
    quoted already) kept as they are, so ``?service=canteen&plan=on`` reaches the server whole."""
    return BASE + urllib.parse.quote(path, safe="/?=&%+")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as an HTTPError, not as the page it points to


_opener = urllib.request.build_opener(_NoRedirect)


def check(path: str, headers: dict[str, str]) -> None:
    """Stop unless the page answers 200 itself, to the headers wrk will send: a signed-in page
    that redirects to the sign-in page would otherwise load that redirect (not an error to wrk)."""
    try:
        with _opener.open(urllib.request.Request(url(path), headers=headers)) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = f"{error.code} {error.headers.get('Location', '')}".strip()
    if status != 200:
        raise SystemExit(f"{path} answered {status}, not 200: is the session signed in?")


def weight(path: str, headers: dict[str, str]) -> int:
    """Bytes a first visit downloads: the HTML gzip-compressed, plus the stylesheets and scripts
    it names, as the server sends them to a browser that accepts brotli."""
    with _opener.open(urllib.request.Request(url(path), headers=headers)) as response:
        html = response.read()
    total = len(gzip.compress(html, 6))
    for asset in set(re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)):
        request = urllib.request.Request(
            BASE + asset.decode(), headers={"Accept-Encoding": "br, gzip"}
        )
        with urllib.request.urlopen(request) as response:
            total += len(response.read())
    return total


def load(path: str, seconds: int, script: str, headers: dict[str, str]) -> dict:
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script, *header_args, url(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.split("RESULT ", 1)[1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


# What each page must reach (issue 20): a visitor's page half the floor, a signed-in person's
# page 0.35 of it, and the signed-in floor 0.6; every page p95 under 100 ms, no errors, at most
# 100 KB.
def target(name: str, who: str) -> float:
    if name == "floor":
        return 1.0
    if name == "floor, signed in":
        return 0.6
    return 0.5 if who == "anonymous" else 0.35


def run(pages, as_who, seconds: int, script: str, label: str) -> tuple[list[str], list[str]]:
    """Loads each page after the floor; prints a row each. Returns (pages that failed under
    load, pages that miss their target)."""
    print(label)
    print(
        f"{'page':<19} {'as':<9} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'weight KB':>9}  target"
    )
    floor, failed, missed = None, [], []
    for name, path, who in pages:
        headers = as_who[who]
        check(path, headers)
        load(path, 2, script, headers)  # warm up: templates, connections, caches
        result = load(path, seconds, script, headers)
        floor = floor or result["rps"]
        ratio = result["rps"] / floor
        size = weight(path, headers) / 1024
        misses = [
            why
            for why, bad in (
                (f"ratio < {target(name, who)}", ratio < target(name, who) - 1e-9),
                ("p95 ≥ 100 ms", result["p95"] >= 100_000),
                ("errors", result["errors"] > 0),
                ("> 100 KB", size > 100),
            )
            if bad
        ]
        print(
            f"{name:<19} {who:<9} {result['rps']:>8.0f} {ratio:>6.2f} "
            f"{result['p50'] / 1000:>7.1f} {result['p95'] / 1000:>7.1f} "
            f"{result['p99'] / 1000:>7.1f} {result['errors']:>6} {size:>9.1f}  "
            f"{'meets' if not misses else 'MISSES: ' + ', '.join(misses)}",
            flush=True,
        )
        if misses:
            missed.append(f"{name} ({', '.join(misses)})")
        if who != "anonymous" and result["status_errors"]:
            failed.append(name)  # 4xx/5xx: the session, or the page, is broken
        elif result["timeouts"]:
            print(f"  ({result['timeouts']} of the errors: answers slower than wrk's 2 s)")
    return failed, missed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--server", choices=SERVERS, default=os.environ.get("SERVER", "granian"))
    parser.add_argument("--no-city", action="store_true", help="demo data only")
    parser.add_argument("--only", nargs="*", help="page names to run (the floor always runs)")
    parser.add_argument(
        "--skip-without-redis",
        action="store_true",
        help="with Redis, do not run the visitors' pages again without it",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk (make bench installs it)")
    prepare(city=not args.no_city)
    if args.only and (unknown := set(args.only) - {page[0] for page in PAGES}):
        raise SystemExit(f"no such page: {', '.join(sorted(unknown))}")
    pages = [
        (name, p() if callable(p) else p, who[0] if who else "anonymous")
        for name, p, *who in PAGES
        if not args.only or name == "floor" or name in args.only
    ]
    people = {"official": official, "resident": resident}
    sessions = {
        who: session_for(make()) for who, make in people.items() if any(w == who for *_, w in pages)
    }
    as_who = {"anonymous": {}} | {
        who: {"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"} for who, key in sessions.items()
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    data = "demo data + generated city" if not args.no_city else "demo data"
    store = "Redis" if settings.REDIS_URL else "PostgreSQL (no Redis)"
    failed, missed = [], []
    try:
        process = start(args.server)
        try:
            label = f"{args.server}, {CONNECTIONS} connections, {args.seconds} s a page, {data}"
            f, m = run(pages, as_who, args.seconds, script.name, f"{label}, cache in {store}")
            failed += f
            missed += m
        finally:
            process.terminate()
            process.wait(timeout=10)
        visitors = [page for page in pages if page[2] == "anonymous"]
        if settings.REDIS_URL and not args.skip_without_redis and len(visitors) > 1:
            # The visitors' pages again with the cache and sessions in PostgreSQL.
            process = start(args.server, redis=False)
            try:
                print()
                f, m = run(
                    visitors,
                    as_who,
                    args.seconds,
                    script.name,
                    "the visitors' pages again, cache and sessions in PostgreSQL (no Redis)",
                )
                failed += f
                missed += [f"{name}, no Redis" for name in m]
            finally:
                process.terminate()
                process.wait(timeout=10)
    finally:
        os.unlink(script.name)
        for key in sessions.values():
            end_session(key)
    print()
    print("every page meets its target" if not missed else f"missed: {'; '.join(missed)}")
    if failed:
        raise SystemExit(f"signed-in pages answered 4xx/5xx under load: {', '.join(failed)}")


if __name__ == "__main__":
    main()
