"""Load benchmark: the production server (`make serve`'s) under HTTP load from wrk, page by page,
against Django's own floor.

    make bench                       # or: python bench/load.py [--seconds 10] [--server NAME]

Starts the server on 127.0.0.1:8100 with DEBUG off and the floor page routed (BENCH_FLOOR), then
for the floor and every public page kind runs wrk (16 connections on loopback, a separate
process) and prints requests per second, the ratio to the floor, p50 / p95 / p99 latency, errors
(socket errors and 4xx/5xx answers) and the page weight (HTML gzip-compressed plus the CSS and JS
it loads, compressed as the server sends them). Not a test: it reports.

Adding a page is one line in PAGES. ``--server`` picks one of SERVERS, to compare app servers on
the same data.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from communities.models import ResidentialCompound  # noqa: E402

HOST, PORT = "127.0.0.1", 8100
BASE = f"http://{HOST}:{PORT}"
CONNECTIONS = 16
PY = sys.executable
BIN = Path(PY).parent

# The app servers compared (README "Production" says which won). Each serves portal's WSGI app
# with 2 processes, one per core.
SERVERS = {
    "gunicorn-gthread": [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"{HOST}:{PORT}",
                         "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
    "gunicorn-sync": [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"{HOST}:{PORT}",
                      "--workers", "4", "--worker-class", "sync"],
    "granian": [str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(PORT),
                "--workers", "2", "--blocking-threads", "4", "portal.wsgi:application"],
}  # fmt: skip


def _dikan() -> int:
    return ResidentialCompound.objects.get(name="地勘三院小区").pk


# (name, path or a function that makes one). Adding a page to the benchmark is one line here.
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
]

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "p50": %d, "p95": %d, "p99": %d, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def prepare(city: bool) -> None:
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    if city and not ResidentialCompound.objects.filter(community__slug__startswith="gen-").exists():
        call_command("generate_city", compounds=20000, facilities=50000, seed=1, verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)


def start(server: str) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "false", "BENCH_FLOOR": "true"}
    process = subprocess.Popen(
        SERVERS[server], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{server} did not come up: {process.stderr.read().decode()[-2000:]}")


def weight(path: str) -> int:
    """Bytes a first visit downloads: the HTML gzip-compressed, plus the stylesheets and scripts
    it names, as the server sends them to a browser that accepts brotli."""
    with urllib.request.urlopen(BASE + urllib.parse.quote(path, safe="/?=&")) as response:
        html = response.read()
    total = len(gzip.compress(html, 6))
    for asset in set(re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)):
        request = urllib.request.Request(
            BASE + asset.decode(), headers={"Accept-Encoding": "br, gzip"}
        )
        with urllib.request.urlopen(request) as response:
            total += len(response.read())
    return total


def load(path: str, seconds: int, script: str) -> dict:
    url = BASE + urllib.parse.quote(path, safe="/?=&")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.split("RESULT ", 1)[1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--server", choices=SERVERS, default=os.environ.get("SERVER", "granian"))
    parser.add_argument("--no-city", action="store_true", help="demo data only")
    parser.add_argument("--only", nargs="*", help="page names to run (the floor always runs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk (make bench installs it)")
    prepare(city=not args.no_city)
    pages = [
        (name, p() if callable(p) else p)
        for name, p in PAGES
        if not args.only or name == "floor" or name in args.only
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    process = start(args.server)
    try:
        print(
            f"{args.server}, {CONNECTIONS} connections, {args.seconds} s a page, "
            f"{'demo data + generated city' if not args.no_city else 'demo data'}"
        )
        print(
            f"{'page':<16} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6} {'weight KB':>9}"
        )
        floor = None
        for name, path in pages:
            load(path, 2, script.name)  # warm up: templates, connections, caches
            result = load(path, args.seconds, script.name)
            floor = floor or result["rps"]
            print(
                f"{name:<16} {result['rps']:>8.0f} {result['rps'] / floor:>6.2f} "
                f"{result['p50'] / 1000:>7.1f} {result['p95'] / 1000:>7.1f} "
                f"{result['p99'] / 1000:>7.1f} {result['errors']:>6} "
                f"{weight(path) / 1024:>9.1f}",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
        os.unlink(script.name)


if __name__ == "__main__":
    main()
