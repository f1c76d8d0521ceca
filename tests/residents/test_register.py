"""Registering with a mobile number, and signing in with it afterwards."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from communities.models import ResidentialCompound
from residents import views
from residents.models import Resident
from tests.courses.conftest import resident

pytestmark = pytest.mark.django_db

PASSWORD = "lanterns-over-the-river"


def form(**changes) -> dict:
    data = {
        "name": "王秀兰",
        "phone": "13812341234",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "birth_year": "1956",
        "compound": "",
        "privacy": "on",
    }
    return {**data, **changes}


def register(client, **changes):
    return client.post(reverse("residents:register"), form(**changes))


def test_the_page_labels_every_field_and_says_how_it_fills_in(client, compound_a):
    html = client.get(reverse("residents:register")).content.decode()
    for field in ("name", "phone", "password1", "password2", "birth_year", "compound", "privacy"):
        assert f'<label class="form__label" for="id_{field}"' in html or f'for="id_{field}"' in html
    assert 'autocomplete="name"' in html and 'autocomplete="tel"' in html
    assert 'inputmode="numeric"' in html and 'autocomplete="bday-year"' in html
    assert html.count('autocomplete="new-password"') == 2
    assert reverse("residents:privacy") in html
    # The compound select is grouped by community.
    assert f'<optgroup label="{compound_a.community.name}">' in html
    assert f'<option value="{compound_a.pk}">{compound_a.name}</option>' in html


def test_registering_creates_the_account_and_signs_in(client, compound_a):
    response = register(client, compound=str(compound_a.pk), phone="138 1234 1234")
    assert response.status_code == 302 and response["Location"] == reverse("communities:account")
    user = get_user_model().objects.get(username="13812341234")
    assert not user.is_staff and not user.is_superuser and user.check_password(PASSWORD)
    profile = Resident.objects.get(user=user)
    assert (profile.name, profile.phone, profile.birth_year) == ("王秀兰", "13812341234", 1956)
    assert profile.compound == compound_a and profile.privacy_accepted_at is not None
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_number_and_password_sign_in_through_the_sign_in_page(client):
    register(client)
    other = Client()
    response = other.post(reverse("login"), {"username": "13812341234", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("communities:account")
    html = other.get(reverse("communities:account")).content.decode()
    assert "王秀兰" in html


def test_a_number_registered_already_is_a_form_error(client):
    resident("13812341234")
    response = register(client)
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个手机号码已经注册" in html or "registered already" in html
    assert 'href="#id_phone"' in html  # the error summary names the field
    assert get_user_model().objects.filter(username="13812341234").count() == 1
    assert "_auth_user_id" not in client.session


def test_a_bad_number_is_refused_in_chinese_and_what_was_typed_stays(client):
    response = register(client, phone="1381234")
    assert response.status_code == 200
    html = response.content.decode()
    assert "11 位手机号码" in html
    assert (
        'id="id_phone-error"' in html and 'aria-describedby="id_phone-hint id_phone-error"' in html
    )
    assert 'value="王秀兰"' in html and 'value="1381234"' in html
    assert PASSWORD not in html  # passwords are never written back
    assert not Resident.objects.exists()


def test_errors_come_in_english_for_english_readers(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = register(client, phone="12345").content.decode()
    assert "Enter an 11-digit mainland mobile number" in html


def test_the_privacy_notice_must_be_accepted(client):
    data = form()
    del data["privacy"]
    response = client.post(reverse("residents:register"), data)
    assert response.status_code == 200
    assert 'id="id_privacy-error"' in response.content.decode()
    assert not get_user_model().objects.exists()


def test_passwords_must_match_and_pass_the_validators(client):
    html = register(client, password2="something-else-entirely").content.decode()
    assert 'id="id_password2-error"' in html
    html = register(client, password1="12345678", password2="12345678").content.decode()
    assert 'id="id_password1-error"' in html
    html = register(client, password1="13812341234", password2="13812341234").content.decode()
    assert 'id="id_password1-error"' in html  # the number itself
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("year", ["1899", "2999", "19x6", ""])
def test_the_birth_year_must_be_a_real_one(client, year):
    html = register(client, birth_year=year).content.decode()
    assert 'id="id_birth_year-error"' in html
    assert not Resident.objects.exists()


def test_an_unknown_compound_is_refused(client):
    html = register(client, compound="999999").content.decode()
    assert 'id="id_compound-error"' in html
    assert not Resident.objects.exists()


def test_registrations_from_one_address_are_limited(client, monkeypatch):
    monkeypatch.setattr(views, "REGISTRATION_LIMIT", 3)
    for i in range(3):
        Client().post(reverse("residents:register"), form(phone=f"1390000000{i}"))
    assert Resident.objects.count() == 3
    response = register(client, phone="13900000009")
    assert response.status_code == 429
    html = response.content.decode()
    assert "注册次数过多" in html  # "too many registrations"
    assert 'value="王秀兰"' in html  # what was typed is kept
    assert Resident.objects.count() == 3
    # Another address is not held back.
    other = Client(REMOTE_ADDR="10.0.0.2").post(
        reverse("residents:register"), form(phone="13900000008")
    )
    assert other.status_code == 302


def test_a_large_city_asks_for_the_community_before_listing_compounds(
    client, compound_a, compound_b, monkeypatch
):
    monkeypatch.setattr(views, "COMPOUND_OPTION_LIMIT", 1)
    html = client.get(reverse("residents:register")).content.decode()
    assert 'name="community"' in html and f'value="{compound_a.pk}"' not in html
    response = client.post(
        reverse("residents:register"),
        form(community=compound_a.community.slug, show_compounds="1"),
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'class="error-summary"' not in html
    assert f'value="{compound_a.pk}"' in html and f'value="{compound_b.pk}"' not in html
    assert 'value="王秀兰"' in html and not Resident.objects.exists()
    register(client, community=compound_a.community.slug, compound=str(compound_a.pk))
    assert Resident.objects.get().compound == compound_a


def test_the_compound_list_is_built_in_a_fixed_number_of_queries(
    client, community_a, django_assert_max_num_queries
):
    ResidentialCompound.objects.bulk_create(
        ResidentialCompound(
            community=community_a, name=f"小区{i}", latitude=43.88, longitude=125.27
        )
        for i in range(60)
    )
    with django_assert_max_num_queries(4):
        html = client.get(reverse("residents:register")).content.decode()
    assert html.count("<option") == 61


def test_someone_signed_in_goes_to_their_account(client):
    register(client)
    response = client.get(reverse("residents:register"))
    assert response.status_code == 302 and response["Location"] == reverse("communities:account")


def test_the_sign_in_page_offers_registration(client):
    html = client.get(reverse("login")).content.decode()
    assert reverse("residents:register") in html


def test_the_privacy_notice_is_public_and_says_who_sees_the_number(client):
    response = client.get(reverse("residents:privacy"))
    assert response.status_code == 200
    assert "138****1234" in response.content.decode()
