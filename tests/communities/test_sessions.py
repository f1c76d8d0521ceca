"""A signed-in request reads its session and its account (user, authenticator, scope) in one
round trip, writes nothing back, and never serves an account that changed since
(communities/sessions.py)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.models import Membership
from tests.conftest import client_for

ACCOUNT_TABLES = ("auth_user", "otp_totp_totpdevice", "otp_static", "communities_membership")


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def official_client(official):
    client = client_for(official)
    # The first request after signing in reads the account and snapshots it.
    assert client.get(reverse("reports:overview")).status_code == 200
    return client


@pytest.fixture
def database_cache(db, settings):
    """The cache in the database, as without Redis: its reads are queries the test can see."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }
    call_command("createcachetable", verbosity=0)


def test_a_signed_in_request_reads_its_account_with_the_session_in_one_query(
    database_cache, official
):
    client = client_for(official)
    assert client.get(reverse("reports:overview")).status_code == 200
    response, sql = _queries(client, reverse("reports:overview"))
    assert response.status_code == 200
    assert not [q for q in sql if any(f'"{t}' in q for t in ACCOUNT_TABLES)], sql
    # The cache is the database here: the session, its snapshot and the accounts version come
    # in one SELECT of the cache table.
    session_reads = [q for q in sql if "portal_cache" in q and "account-snapshot" in q]
    assert len(session_reads) == 1, sql
    assert "accounts-version" in session_reads[0]
    assert not [q for q in sql if "django_session" in q], sql


def test_a_read_only_request_writes_nothing(official_client, resident):
    resident_client = client_for(resident)
    resident_client.get(reverse("courses:list"))  # the snapshot is made here
    for client, path in (
        (official_client, reverse("reports:overview")),
        (resident_client, reverse("courses:list")),
        (resident_client, reverse("communities:home")),
    ):
        response, sql = _queries(client, path)
        assert response.status_code == 200
        writes = [q for q in sql if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
        assert not [q for q in writes if "django_session" in q or "account-snapshot" in q], sql


def test_a_removed_role_counts_on_the_next_request(official_client, official):
    Membership.objects.filter(user=official).delete()
    assert official_client.get(reverse("reports:overview")).status_code == 403


def test_a_deactivated_account_is_signed_out_on_the_next_request(official_client, official):
    official.is_active = False
    official.save()
    response = official_client.get(reverse("reports:overview"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_password_changed_elsewhere_signs_this_session_out(official_client, official):
    user = get_user_model().objects.get(pk=official.pk)  # as another session holds it
    user.set_password("a-new-password-2026")
    user.save()
    response = official_client.get(reverse("reports:overview"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_removed_authenticator_ends_the_second_step(official_client, official):
    TOTPDevice.objects.filter(user=official).delete()
    response = official_client.get(reverse("reports:overview"))
    # Signed in, but no longer past the second step: no powers.
    assert response.status_code == 403


def test_a_sign_in_moment_alone_keeps_every_snapshot(official_client, official, resident):
    from django.core.cache import cache

    from communities.sessions import ACCOUNTS_VERSION_KEY

    before = cache.get(ACCOUNTS_VERSION_KEY)
    client_for(resident)  # signing in records last_login
    assert cache.get(ACCOUNTS_VERSION_KEY) == before
    resident.first_name = "桂兰"
    resident.save()
    assert cache.get(ACCOUNTS_VERSION_KEY) != before
