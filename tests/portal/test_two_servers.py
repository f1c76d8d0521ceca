"""Two app servers behind one database behave as one: a session, the sign-in throttle and a cached
fragment hold across them (README "Scaling out").

Both servers are real processes (gunicorn) on their own ports, with the production settings:
sessions and cache in the shared store — Redis when REDIS_URL is set, else the database.
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from communities.models import Community, ResidentialCompound
from communities.roles import make_staff
from tests.conftest import PASSWORD, _user, key_on_page, totp_code

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent


def _database_url() -> str:
    """The test database as a DATABASE_URL for the servers."""
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "")
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    if (db["HOST"] or "").startswith("/"):
        return f"postgres://{user}@/{db['NAME']}?host={urllib.parse.quote(db['HOST'])}"
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(name: str) -> dict[str, str]:
    """The environment of an app server on the test database, with production settings (no
    test-run or DEBUG flags) and a cache of its own; the cache table is made."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_VERSION", "TESTING", "DEBUG", "REDIS_URL"}
    }
    env |= {
        "DATABASE_URL": _database_url(),
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DATABASE_POOL": "false",
        "TESTING": "true",  # the test users' fast password hashes
        "CACHE_KEY_PREFIX": f"{name}-{os.getpid()}-{time.time_ns()}",
    }
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    return env


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            time.sleep(0.1)


REDIS = os.environ.get("TWO_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    parts = urllib.parse.urlsplit(REDIS)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["database", "redis"])
def servers(request, transactional_db):
    """Two servers sharing the test database, and for "redis" a Redis for cache and sessions
    (skipped where no Redis answers; this machine kind runs one)."""
    env = server_env("two-servers")
    if request.param == "redis":
        if not _redis_answers():
            pytest.skip(f"no Redis at {REDIS}")
        env["REDIS_URL"] = REDIS
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_up(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


class Browser:
    """A visitor with a cookie jar, talking to whichever server a URL names."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=10) as response:
            return response.read().decode()

    def post_form(self, page_url: str, fields: dict, action: str | None = None) -> str:
        """Submit the form of ``page_url`` (with its CSRF token) to ``action``, which may be on
        the other server."""
        html = self.get(page_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(
            action or page_url, data=data, headers={"Referer": page_url}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            return error.read().decode()


def sign_in(browser: Browser, url: str, username: str, password: str) -> str:
    html = browser.post_form(url + "/accounts/login/", {"username": username, "password": password})
    if 'id="setup-key"' in html:  # staff set up their authenticator at the first sign-in
        code = totp_code(key_on_page(html))
        html = browser.post_form(url + "/accounts/two-factor/setup/", {"code": code})
    return html


@pytest.fixture
def staff(community_a, compound_a):
    user = _user("staff-two")
    make_staff(user, community_a)
    return user


def test_a_session_started_on_one_server_is_known_to_the_other(servers, staff):
    a, b = servers
    browser = Browser()
    sign_in(browser, a, "staff-two", PASSWORD)
    assert "staff-two" in browser.get(b + "/accounts/")


def test_the_sign_in_throttle_counts_failures_on_both_servers(servers, staff):
    a, b = servers
    for url in (a, b, a, b, a):
        sign_in(Browser(), url, "staff-two", "wrong-password")
    browser = Browser()
    html = sign_in(browser, b, "staff-two", PASSWORD)
    assert "登录失败次数过多，请等 15 分钟后再试" in html  # the right password, refused
    assert "staff-two" not in browser.get(a + "/accounts/login/")


def test_a_cached_fragment_changes_on_both_servers_after_an_edit_on_one(
    servers, staff, community_a, compound_a
):
    a, b = servers
    ResidentialCompound.objects.create(
        community=community_a, name="新竹二区", latitude=43.882, longitude=125.272
    )
    visitor = Browser()
    assert "2 个小区" in visitor.get(a + "/") and "2 个小区" in visitor.get(b + "/")
    # A write that sends no signal changes nothing the servers show: they answer from the cache.
    Community.objects.filter(pk=community_a.pk).update(name="悄悄改名社区")
    assert "悄悄改名社区" not in visitor.get(b + "/")

    browser = Browser()
    sign_in(browser, a, "staff-two", PASSWORD)
    delete = f"{a}/admin/communities/residentialcompound/{compound_a.pk}/delete/"
    browser.post_form(delete, {"post": "yes"})
    assert not ResidentialCompound.objects.filter(pk=compound_a.pk).exists()
    for url in (b, a):
        html = visitor.get(url + "/")
        assert "1 个小区" in html and "悄悄改名社区" in html


def test_my_own_parts_of_a_shared_page_are_mine_on_both_servers(servers, community_a):
    """The wish list is rendered once for everyone; my support shows on the other server at
    once, and never on another person's page (portal/personal.py)."""
    from wishes.models import Wish

    a, b = servers
    wish = Wish.objects.create(
        community=community_a, kind=Wish.Kind.SERVICE, title="理发点", text="说明"
    )
    me, other = Browser(), Browser()
    for browser, name in ((me, "resident-one"), (other, "resident-two")):
        _user(name)
        sign_in(browser, a, name, PASSWORD)
    for browser in (me, other):
        assert "我也需要" in browser.get(b + "/wishes/")  # the list is kept now, on both
    Browser().get(a + "/wishes/")

    # My support, posted to server a from the list server b gave me.
    me.post_form(b + "/wishes/", {"next": "/wishes/"}, action=f"{a}/wishes/{wish.pk}/support/")

    assert wish.supports.count() == 1
    for url in (b, a):
        assert "您已支持这条需求。" in me.get(url + "/wishes/")
        theirs = other.get(url + "/wishes/")
        assert "您已支持这条需求。" not in theirs and "我也需要" in theirs


def test_a_role_taken_away_on_one_server_is_gone_on_the_other(
    servers, staff, city_admin, community_a
):
    """The account is read with the session from a snapshot; the city administrator removing a
    role on one server moves every snapshot on, whichever server then answers
    (communities/sessions.py)."""
    from communities.models import Membership

    a, b = servers
    browser = Browser()
    sign_in(browser, a, "staff-two", PASSWORD)
    assert community_a.name in browser.get(b + "/accounts/")
    assert community_a.name in browser.get(a + "/accounts/")  # both have read the account

    admin = Browser()
    sign_in(admin, b, "cityadmin", PASSWORD)
    role = Membership.objects.get(user=staff)
    admin.post_form(f"{b}/admin/communities/membership/{role.pk}/delete/", {"post": "yes"})
    assert not Membership.objects.filter(user=staff).exists()

    for url in (a, b):
        html = browser.get(url + "/accounts/")
        assert "staff-two" in html and community_a.name not in html
