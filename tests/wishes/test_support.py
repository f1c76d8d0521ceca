"""Supporting a wish: once per account (the database backs it), the count kept in step, htmx
swaps the box in place, a plain post goes back where it came from, visitors sign in first."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from tests.conftest import client_for
from wishes.models import Support, Wish

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(db):
    return get_user_model().objects.create_user(username="author")


@pytest.fixture
def a_wish(author, community_a) -> Wish:
    return Wish.post(
        author=author, community=community_a, kind=Wish.Kind.FACILITY, title="助浴点", text="说明"
    )


def url(wish: Wish) -> str:
    return f"/wishes/{wish.pk}/support/"


def test_support_counts_once_per_account(resident, a_wish):
    client = client_for(resident)
    first = client.post(url(a_wish), follow=True)
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    a_wish.refresh_from_db()
    assert a_wish.support_count == 2

    again = client.post(url(a_wish), follow=True)
    a_wish.refresh_from_db()
    assert a_wish.support_count == 2
    assert Support.objects.filter(wish=a_wish).count() == 2
    assert [m.level_tag for m in again.context["messages"]] == ["info"]


def test_the_author_has_supported_their_own_wish_already(author, a_wish):
    client_for(author).post(url(a_wish))
    a_wish.refresh_from_db()
    assert a_wish.support_count == 1
    assert Support.objects.filter(wish=a_wish, user=author).count() == 1


def test_the_database_refuses_a_second_support_from_one_account(resident, a_wish):
    Support.objects.create(wish=a_wish, user=resident)
    with pytest.raises(IntegrityError):
        Support.objects.create(wish=a_wish, user=resident)


def test_add_support_reports_whether_it_counted(resident, a_wish):
    assert Wish.add_support(a_wish.pk, resident) is True
    assert Wish.add_support(a_wish.pk, resident) is False
    a_wish.refresh_from_db()
    assert a_wish.support_count == 2


def test_htmx_gets_the_support_box_back_in_place(resident, a_wish):
    response = client_for(resident).post(url(a_wish), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="support" id="support-{a_wish.pk}">')
    assert "<html" not in html
    assert "<form" not in html  # supported now: no button
    assert "2" in re.sub(r"\D", " ", html).split()


def test_without_javascript_it_goes_back_to_the_page_it_came_from(resident, a_wish):
    back = "/wishes/?kind=facility&sort=newest"
    response = client_for(resident).post(url(a_wish), {"next": back})
    assert response.status_code == 302 and response.url == back


def test_it_never_redirects_to_another_site(resident, a_wish):
    response = client_for(resident).post(url(a_wish), {"next": "https://evil.example/"})
    assert response.url == a_wish.get_absolute_url()


def test_visitors_are_sent_to_sign_in_and_back_to_the_wish(client, a_wish):
    response = client.post(url(a_wish))
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next=/wishes/{a_wish.pk}/"
    htmx = client.post(url(a_wish), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == f"/accounts/login/?next=/wishes/{a_wish.pk}/"
    a_wish.refresh_from_db()
    assert a_wish.support_count == 1


def test_support_is_a_post_only(resident, a_wish):
    assert client_for(resident).get(url(a_wish)).status_code == 405


def test_an_unknown_wish_is_404(resident):
    assert client_for(resident).post("/wishes/999999/support/").status_code == 404


def test_the_list_shows_who_supports_what(resident, a_wish, community_a):
    other = Wish.post(
        author=resident, community=community_a, kind=Wish.Kind.COURSE, title="太极", text="说明"
    )
    html = client_for(resident).get("/wishes/").content.decode()
    assert f'action="/wishes/{a_wish.pk}/support/"' in html
    assert f'action="/wishes/{other.pk}/support/"' not in html  # their own: supported already
    anonymous = client_for(resident)
    anonymous.logout()
    html = anonymous.get("/wishes/").content.decode()
    assert "support__signin" in html and '<form class="support__form"' not in html


def test_deleting_an_account_keeps_its_wishes_and_support_but_not_the_link(resident, a_wish):
    Wish.add_support(a_wish.pk, resident)
    own = Wish.post(
        author=resident,
        community=a_wish.community,
        kind=Wish.Kind.COURSE,
        title="太极",
        text="说明",
    )
    resident.delete()
    own.refresh_from_db()
    a_wish.refresh_from_db()
    assert own.author is None and own.support_count == 1
    assert a_wish.support_count == 2
    assert Support.objects.filter(wish=a_wish, user__isnull=True).count() == 1


def test_a_wish_has_its_own_page(client, a_wish):
    response = client.get(a_wish.get_absolute_url())
    assert response.status_code == 200
    assert "助浴点" in response.content.decode()
    assert client.get("/wishes/999999/").status_code == 404


def test_support_past_the_hours_allowance_is_refused_and_counts_nothing(
    resident, a_wish, monkeypatch
):
    from wishes import views

    monkeypatch.setattr(views, "SUPPORT_PER_ADDRESS", 0)
    response = client_for(resident).post(url(a_wish), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    a_wish.refresh_from_db()
    assert a_wish.support_count == 1
    assert not Support.objects.filter(wish=a_wish, user=resident).exists()
