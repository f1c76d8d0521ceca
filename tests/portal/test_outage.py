"""Database outages (README "Database outages", portal/outage.py): pages answer a short 503 page
with Retry-After, at once while the database stays unreachable, and the site recovers by itself.

The fault test (marked ``fault``: ``pytest -m fault``) runs bench/outage.py, which stops and
starts a PostgreSQL of its own under the production server; the other tests point a Django
process at a port where nothing listens: real failed connections, not stand-ins for them.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from portal.outage import unreachable

ROOT = settings.BASE_DIR

VISIT = """
import json, time, django
django.setup()
from django.test import Client

answers = []
for path, cookies, pause in json.loads(PLAN):
    time.sleep(pause)
    client = Client(raise_request_exception=False)
    for name, value in cookies.items():
        client.cookies[name] = value
    start = time.monotonic()
    response = client.get(path, HTTP_HOST="localhost")
    answers.append({
        "status": response.status_code,
        "seconds": time.monotonic() - start,
        "headers": dict(response.headers),
        "html": response.content.decode(),
    })
print("ANSWERS " + json.dumps(answers))
"""


POOL_WAIT = 2  # seconds a request waits for a pooled connection, as in production


def visit_unreachable_database(plan: list, *, pool: bool) -> list[dict]:
    """Ask for each (path, cookies, pause before) of ``plan`` in one Django process whose
    database is a port where nothing listens."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/portal",
        "DATABASE_POOL": str(pool),
        "DATABASE_POOL_TIMEOUT": str(POOL_WAIT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "-c", VISIT.replace("PLAN", repr(json.dumps(plan)))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "ANSWERS " in result.stdout, result.stderr[-3000:]
    return json.loads(result.stdout.split("ANSWERS ", 1)[1])


def assert_outage_page(answer: dict, language: str) -> None:
    assert answer["status"] == 503
    assert answer["headers"]["Retry-After"] == "30"
    assert "no-store" in answer["headers"]["Cache-Control"]
    assert answer["headers"]["Content-Language"] == language
    assert "Content-Security-Policy" in answer["headers"]
    html = answer["html"]
    assert f'<html lang="{language}"' in html
    assert html.count("<h1>") == 1
    assert "<script" not in html and "style=" not in html
    assert '<link rel="stylesheet" href="/static/css/base.css">' in html


def test_pages_answer_the_outage_page_at_once_while_the_database_stays_unreachable():
    # With the pool: the first request waits for a connection (the pool's timeout); the
    # next ones are answered at once, and so is the one a second later that tries again (the
    # recovery itself is the fault test's).
    elder_english = {"django_language": "en", settings.ELDER_MODE_COOKIE: "1"}
    first, second, health, trial = visit_unreachable_database(
        [["/", {}, 0], ["/wishes/?kind=course", elder_english, 0], ["/healthz", {}, 0],
         ["/communities/", {}, 1.2]],
        pool=True,
    )  # fmt: skip
    assert_outage_page(first, "zh-hans")
    assert POOL_WAIT - 0.5 < first["seconds"] < POOL_WAIT + 2
    assert_outage_page(second, "en")
    assert second["seconds"] < 0.5
    assert '<html lang="en" class="elder">' in second["html"]
    assert "<h1>The service is briefly unavailable</h1>" in second["html"]
    assert 'href="/wishes/?kind=course">Try again</a>' in second["html"]
    assert health["status"] == 503 and health["seconds"] < 0.5
    assert_outage_page(trial, "zh-hans")
    assert trial["seconds"] < 0.5


def test_a_session_read_before_the_view_also_gives_the_outage_page():
    # A signed-in visitor's session and user are read by middleware before any view runs.
    (answer,) = visit_unreachable_database(
        [["/accounts/", {settings.SESSION_COOKIE_NAME: "a" * 32}, 0]], pool=False
    )
    assert_outage_page(answer, "zh-hans")


@pytest.mark.django_db
def test_a_failed_statement_is_not_taken_for_an_outage():
    with (
        pytest.raises(OperationalError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    assert caught.value.__cause__.sqlstate == "57014"  # query_canceled: the database is there
    assert not unreachable(caught.value)


# What the fault test saw, for the summary at the end of the run.
OUTAGE_REPORTS: list[str] = []


@pytest.mark.fault
def test_the_site_answers_503_through_a_real_outage_and_recovers_by_itself():
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "bench/outage.py"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        # Interrupted, the script still stops its server and its PostgreSQL.
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"bench/outage.py took over 300 s:\n{stdout[-4000:]}")
    print(stdout)  # the report: pytest shows it with -s, or when the test fails
    OUTAGE_REPORTS.append(stdout)  # and the run's summary shows it (tests/conftest.py)
    assert "RESULT " in stdout, stderr[-3000:]
    report = json.loads(stdout.split("RESULT ", 1)[1].splitlines()[0])
    assert report["problems"] == [], stdout[-4000:]
    # The same expectations, spelt out.
    assert report["under_load"]["statuses"].keys() <= {"200", "302"}
    assert report["after_quiet_restart"]["statuses"].keys() <= {"200", "302"}
    assert report["database_down"]["statuses"].keys() == {"503"}
    assert report["database_down"]["max_seconds"] <= 5
    assert report["healthz_down"]["statuses"].keys() == {"503"}
    assert report["static_during_outage"] and set(report["static_during_outage"]) == {200}
    assert report["database_back"]["statuses"].keys() <= {"200", "302", "503"}
    assert report["recovery_seconds"] <= 5
    assert report["writes"]["half_written"] == 0
    assert report["writes"]["acknowledged_missing"] == 0
    assert report["server_log"]["internal_server_error"] == 0
    assert time.monotonic() - start < 150
