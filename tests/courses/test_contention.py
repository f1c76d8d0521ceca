"""200 people press "Confirm" at once for a 30-seat class, each over their own HTTP connection to
a running server (gunicorn, several processes and threads) on the real test database: exactly 30
get seats, 170 wait, in the order the class's lock let them in, nobody twice, no server error."""

import secrets
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from courses.models import Term
from tests.courses.conftest import make_class, residents
from tests.portal.test_two_servers import BIN, ROOT, _free_port, server_env, wait_until_up

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE, SEATS = 200, 30


@pytest.fixture
def open_class(community_a, compound_a):
    now = timezone.now()
    term = Term.objects.create(
        community=community_a,
        year=now.year,
        season=Term.Season.AUTUMN,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=(now + timedelta(days=20)).date(),
        ends_on=(now + timedelta(days=140)).date(),
        class_limit=2,
    )
    return make_class(term, compound_a, "烹饪", capacity=SEATS)


@pytest.fixture
def server():
    env = server_env("contention")
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "4", "--threads", "8", "--worker-class", "gthread", "--backlog", "512"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def signed_in(user) -> str:
    """A session for ``user`` in the database the server reads, as a browser would hold it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def test_200_at_once_for_30_seats(server, open_class):
    people = residents(PEOPLE, start=13300000000)
    sessions = [signed_in(u) for u in people]
    url = f"{server}/courses/classes/{open_class.pk}/enrol/"
    start = threading.Barrier(PEOPLE)
    answers: list[int] = [0] * PEOPLE

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the answer itself is what counts: a redirect to /me/

    opener = urllib.request.build_opener(Stay)

    def confirm(i: int) -> None:
        token = secrets.token_hex(16)  # 32 characters: a CSRF secret used as the token itself
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
            headers={"Cookie": f"sessionid={sessions[i]}; csrftoken={token}", "Referer": url},
        )
        start.wait()
        try:
            with opener.open(request, timeout=60) as response:
                answers[i] = response.status
        except urllib.error.HTTPError as error:
            answers[i] = error.code

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(PEOPLE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(set(answers)) == [302], answers  # every one sent on to /me/, none refused
    rows = list(open_class.enrolments.order_by("id").values_list("user_id", "status"))
    assert len(rows) == PEOPLE and len({u for u, _ in rows}) == PEOPLE  # nobody twice
    statuses = [s for _, s in rows]
    assert statuses == ["enrolled"] * SEATS + ["waitlisted"] * (PEOPLE - SEATS)
    open_class.refresh_from_db()
    assert open_class.enrolled_count == SEATS
