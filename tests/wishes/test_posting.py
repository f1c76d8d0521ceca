"""Posting a wish: signed-in only, the resident's community chosen for them, errors shown with
what was typed, and a limit per account and per connection."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from residents.models import Resident
from tests.conftest import client_for
from wishes import forms
from wishes.models import POSTS_PER_ACCOUNT, Support, Wish

pytestmark = pytest.mark.django_db

NEW = "/wishes/new/"


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def wish_data(community, **extra) -> dict:
    return {
        "community": community.pk,
        "kind": "course",
        "title": "书法班",
        "text": "想学毛笔字，每周一次就好。",
        **extra,
    }


@pytest.fixture
def resident_profile(resident, compound_a) -> Resident:
    return Resident.objects.create(
        user=resident, name="张三丰", phone="13812341234", birth_year=1950, compound=compound_a
    )


def test_posting_creates_a_wish_supported_by_its_author(resident, community_a):
    response = client_for(resident).post(NEW, wish_data(community_a), follow=True)
    wish = Wish.objects.get()
    assert (wish.community, wish.kind, wish.title, wish.author) == (
        community_a,
        Wish.Kind.COURSE,
        "书法班",
        resident,
    )
    assert wish.status == Wish.Status.OPEN
    assert wish.support_count == 1
    assert list(Support.objects.values_list("wish", "user")) == [(wish.pk, resident.pk)]
    assert response.redirect_chain == [(wish.get_absolute_url(), 302)]
    assert "flash__item" in response.content.decode()  # the success message


def test_a_resident_may_name_the_service_the_wish_asks_for(resident, community_a):
    from facilities.models import Category

    barber = Category.objects.get(code="barber")
    client = client_for(resident)
    html = client.get(NEW).content.decode()
    assert f'<option value="{barber.pk}">' in html and 'id="id_category"' in html
    client.post(NEW, wish_data(community_a, kind="service", title="理发", category=barber.pk))
    assert Wish.objects.get().category == barber
    # Not knowing is fine; a made-up value is refused with the rest kept.
    client.post(NEW, wish_data(community_a, title="别的"))
    assert Wish.objects.get(title="别的").category is None
    response = client.post(NEW, wish_data(community_a, title="第三个", category="999999"))
    assert response.status_code == 200
    assert 'id="id_category_error"' in response.content.decode()
    assert 'value="第三个"' in response.content.decode()


def test_the_form_starts_on_the_residents_own_community(resident_profile, community_a, community_b):
    html = client_for(resident_profile.user).get(NEW).content.decode()
    assert f'<option value="{community_a.pk}" selected>' in html
    assert f'<option value="{community_b.pk}">' in html


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={NEW}"
    assert client.post(NEW, {}).status_code == 302
    assert not Wish.objects.exists()


def test_errors_are_shown_with_what_was_typed(resident, community_a):
    data = wish_data(community_a, title="", text="我的想法 & <更多>")
    response = in_english(client_for(resident)).post(NEW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Write your wish in a few words." in html
    assert "我的想法 &amp; &lt;更多&gt;</textarea>" in html  # kept, and escaped
    assert f'<option value="{community_a.pk}" selected>' in html
    assert 'value="course" id="id_kind_0" checked' in html
    assert 'value=""' not in html.split('id="id_kind"')[1].split("</fieldset>")[0]
    assert not Wish.objects.exists()


def test_text_is_at_most_500_characters(resident, community_a):
    response = client_for(resident).post(NEW, wish_data(community_a, text="字" * 501))
    assert response.status_code == 200
    assert response.context["form"].has_error("text", "max_length")
    client_for(resident).post(NEW, wish_data(community_a, text="字" * 500))
    assert Wish.objects.get().text == "字" * 500


def test_an_account_may_post_five_wishes_a_day(resident, community_a):
    client = in_english(client_for(resident))
    for n in range(POSTS_PER_ACCOUNT):
        assert client.post(NEW, wish_data(community_a, title=f"愿望{n}")).status_code == 302
    response = client.post(NEW, wish_data(community_a, title="再来一个"))
    assert response.status_code == 200
    assert response.context["form"].has_error("__all__", "throttled")
    assert "You have posted 5 wishes in the last day." in response.content.decode()
    assert 'value="再来一个"' in response.content.decode()  # what was typed is kept
    assert Wish.objects.count() == POSTS_PER_ACCOUNT

    # A day later the earliest no longer count.
    Wish.objects.update(created_at=Wish.objects.first().created_at - timedelta(days=1, minutes=1))
    assert client.post(NEW, wish_data(community_a, title="再来一个")).status_code == 302


def test_one_connection_may_post_a_limited_number_of_wishes(community_a, monkeypatch):
    monkeypatch.setattr(forms, "POSTS_PER_ADDRESS", 3)
    users = [get_user_model().objects.create_user(username=f"neighbour{n}") for n in range(4)]
    statuses = [
        client_for(user).post(NEW, wish_data(community_a), REMOTE_ADDR="10.0.0.7").status_code
        for user in users
    ]
    assert statuses == [302, 302, 302, 200]
    assert Wish.objects.count() == 3
    # Another connection is not held back.
    assert (
        client_for(users[3]).post(NEW, wish_data(community_a), REMOTE_ADDR="10.0.0.8").status_code
        == 302
    )
