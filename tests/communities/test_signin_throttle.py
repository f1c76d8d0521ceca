"""Password guessing is slowed down: five failures lock a user name for fifteen minutes."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from communities.models import SignInFailure
from communities.signin import ACCOUNT_LIMIT, ADDRESS_LIMIT, KNOWN_DEVICE_COOKIE
from communities.signin import PAIR_LIMIT as MAX_FAILURES
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def fail(client, url: str, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong-guess"})
        assert response.status_code == 200


def test_after_five_failures_even_the_right_password_is_refused(client, official):
    fail(client, reverse("login"), "official", MAX_FAILURES)
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_limit_counts_the_user_name_whatever_its_case(client, official):
    fail(client, reverse("login"), "OFFICIAL", MAX_FAILURES)
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert "登录失败次数过多" in response.content.decode()


def test_four_failures_still_let_the_right_password_in_and_clear_the_count(client, official):
    fail(client, reverse("login"), "official", MAX_FAILURES - 1)
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert response.status_code == 302
    assert not SignInFailure.objects.filter(username="official").exists()


def test_the_lock_lifts_when_the_window_has_passed(client, official):
    fail(client, reverse("login"), "official", MAX_FAILURES)
    SignInFailure.objects.update(at=F("at") - timedelta(minutes=16))
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert response.status_code == 302


def test_the_admin_sign_in_has_the_same_limit(client, staff_a):
    url = reverse("admin:login")
    fail(client, url, "staff-a", MAX_FAILURES)
    response = client.post(url, {"username": "staff-a", "password": PASSWORD})
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()


def test_other_users_are_not_locked_out(client, official, resident):
    fail(client, reverse("login"), "official", MAX_FAILURES)
    response = client.post(reverse("login"), {"username": "resident", "password": PASSWORD})
    assert response.status_code == 302


def test_one_address_trying_many_accounts_waits(client, official):
    for n in range(ADDRESS_LIMIT):
        client.post(reverse("login"), {"username": f"guess{n}", "password": "x"})
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert "此网络连接登录失败次数过多" in response.content.decode()
    # Another address is not held back.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert (
        other.post(reverse("login"), {"username": "official", "password": PASSWORD}).status_code
        == 302
    )


def test_guessing_from_many_addresses_cannot_keep_the_owner_out(official):
    owner = Client(REMOTE_ADDR="10.0.0.1")
    assert (
        owner.post(reverse("login"), {"username": "official", "password": PASSWORD}).status_code
        == 302
    )
    owner.post(reverse("logout"))
    for n in range(ACCOUNT_LIMIT):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(
            reverse("login"), {"username": "official", "password": "wrong"}
        )
    stranger = Client(REMOTE_ADDR="198.51.100.7")
    response = stranger.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert "多处登录失败次数过多" in response.content.decode()
    # The owner's browser has signed in to this account before: it is let through.
    assert owner.cookies.get(KNOWN_DEVICE_COOKIE)
    response = owner.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert response.status_code == 302
