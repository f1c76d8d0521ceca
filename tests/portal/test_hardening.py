"""Security settings every page carries, the production deploy check, and staff sessions that end
after inactivity."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from portal.middleware import StaffIdleTimeoutMiddleware
from tests.conftest import client_for


def test_the_production_settings_pass_the_deploy_check_without_a_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={
            # The production environment: without the test run's async-unsafe switch.
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-key-" + "x7Qp9Lr2Vt5Zw8Ky3Nb6" * 3,
            "ALLOWED_HOSTS": "portal.example.cn",
            "CSRF_TRUSTED_ORIGINS": "https://portal.example.cn",
            "BEHIND_TLS_PROXY": "true",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, "/", 200),
        (None, "/courses/", 200),
        (None, "/no-such-page/", 404),
        (None, "/admin/login/", 200),
        ("staff_a", "/admin/", 200),
        ("official", "/reports/", 200),
        ("resident", "/accounts/", 200),
    ],
)
def test_every_kind_of_page_carries_the_security_headers(request, community_a, who, path, status):
    client = client_for(request.getfixturevalue(who)) if who else request.getfixturevalue("client")

    response = client.get(path)

    assert response.status_code == status
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy
    assert "geolocation=(self)" in policy  # "near me" on our own pages only


def _idle(client, seconds: int) -> None:
    session = client.session
    session[StaffIdleTimeoutMiddleware.KEY] = int(time.time()) - seconds
    session.save()


def test_a_staff_session_ends_after_half_an_hour_without_a_request(staff_a):
    client = client_for(staff_a)
    assert client.get("/admin/").status_code == 200

    _idle(client, settings.STAFF_IDLE_SECONDS + 5)
    response = client.get("/admin/facilities/facility/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/facilities/facility/")
    assert client.get("/admin/").status_code == 302  # signed out, not just turned away once
    assert "_auth_user_id" not in client.session


def test_a_staff_member_at_work_stays_signed_in(staff_a):
    client = client_for(staff_a)
    client.get("/admin/")
    _idle(client, settings.STAFF_IDLE_SECONDS - 60)

    assert client.get("/admin/").status_code == 200
    seen = client.session[StaffIdleTimeoutMiddleware.KEY]
    assert int(time.time()) - seen < 5  # the clock starts again from this request


def test_residents_keep_their_usual_session(resident):
    client = client_for(resident)
    _idle(client, settings.STAFF_IDLE_SECONDS * 10)

    assert client.get("/accounts/").status_code == 200
