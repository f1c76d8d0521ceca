"""A resident chooses their own password (after a one-time one from the desk, or any time)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from residents.models import one_time_password
from tests.courses.conftest import resident

URL = "/accounts/password/"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def given(db):
    """A resident whose password came from the desk."""
    user = resident("13912345678")
    password = one_time_password()
    user.set_password(password)
    user.save()
    return user, password


def signed_in(username: str, password: str) -> Client:
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": username, "password": password}).status_code
        == 302
    )
    return client


def test_one_time_passwords_are_eight_digits():
    made = {one_time_password() for _ in range(50)}
    assert all(len(p) == 8 and p.isdigit() for p in made)
    assert len(made) > 45


def test_the_page_needs_signing_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_account_page_links_to_it(given):
    user, password = given
    assert URL in signed_in(user.username, password).get("/accounts/").content.decode()


def test_choosing_a_new_password_keeps_me_signed_in_and_ends_other_sessions(given):
    user, password = given
    here, elsewhere = signed_in(user.username, password), signed_in(user.username, password)

    response = here.post(
        URL,
        {
            "old_password": password,
            "new_password1": "梅花香自苦寒来2026",
            "new_password2": "梅花香自苦寒来2026",
        },
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/", 302)]
    assert "Your password is changed." in response.content.decode()
    assert here.get("/me/").status_code == 200
    assert elsewhere.get("/me/").status_code == 302  # the other phone is signed out
    user.refresh_from_db()
    assert user.check_password("梅花香自苦寒来2026") and not user.check_password(password)


@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("wrong-one", "梅花香自苦寒来2026", "梅花香自苦寒来2026", "old_password"),
        (None, "梅花香自苦寒来2026", "梅花香自苦寒来2027", "new_password2"),
        (None, "12345678", "12345678", "new_password2"),  # digits only, and common
        (None, "13912345678", "13912345678", "new_password2"),  # the mobile number itself
    ],
)
def test_a_refused_password_says_why_and_changes_nothing(given, old, new1, new2, field):
    user, password = given
    client = signed_in(user.username, password)

    response = client.post(
        URL, {"old_password": old or password, "new_password1": new1, "new_password2": new2}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert f'href="#id_{field}"' in html
    assert 'aria-invalid="true"' in html
    assert new1 not in html  # passwords are never written back into the page
    assert get_user_model().objects.get(pk=user.pk).check_password(password)
