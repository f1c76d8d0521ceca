"""The public list of wishes: escaped text, masked authors, replies, sorting, filters, the htmx
fragment, pages of 20 and a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Community
from residents.models import Resident
from tests.conftest import client_for
from wishes.models import Wish

pytestmark = pytest.mark.django_db

LIST = "/wishes/"


def wish(community, title: str, *, support: int = 1, author=None, **extra) -> Wish:
    return Wish.objects.create(
        community=community,
        kind=extra.pop("kind", Wish.Kind.SERVICE),
        title=title,
        text=extra.pop("text", "说明"),
        author=author,
        support_count=support,
        **extra,
    )


def titles(response) -> list[str]:
    return re.findall(
        r'class="wish-card__title" id="[^"]+"><a href="[^"]+">([^<]+)</a>',
        response.content.decode(),
    )


def test_html_in_a_wish_shows_as_text(client, community_a):
    wish(community_a, "<script>alert(1)</script>", text="<script>alert(2)</script>\n<b>粗</b>")
    html = client.get(LIST).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;<br>&lt;b&gt;粗&lt;/b&gt;" in html


def test_each_wish_shows_its_community_support_status_and_reply(client, community_a):
    wish(
        community_a,
        "理发点",
        support=7,
        status=Wish.Status.PLANNED,
        reply="明年三月在活动中心开设。",
        replied_at=timezone.now(),
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(LIST).content.decode()
    assert community_a.name in html
    assert "7 supporters" in html
    assert 'class="wish-status wish-status--planned">Planned<' in html
    assert "明年三月在活动中心开设。" in html


def test_authors_are_shown_only_by_family_name(client, resident, compound_a):
    Resident.objects.create(
        user=resident, name="张三丰", phone="13812341234", birth_year=1950, compound=compound_a
    )
    wish(compound_a.community, "书法班", author=resident)
    html = client.get(LIST).content.decode()
    assert "张**" in html
    assert "张三丰" not in html and "13812341234" not in html


def test_most_supported_come_first_unless_newest_is_asked_for(client, community_a):
    now = timezone.now()
    wish(community_a, "旧而热", support=9)
    Wish.objects.filter(title="旧而热").update(created_at=now - timedelta(days=3))
    wish(community_a, "新而冷", support=1)
    wish(community_a, "中等", support=4)
    assert titles(client.get(LIST)) == ["旧而热", "中等", "新而冷"]
    assert titles(client.get(LIST, {"sort": "newest"})) == ["中等", "新而冷", "旧而热"]


def test_filters_by_community_kind_and_status(client, community_a, community_b):
    wish(community_a, "A课程", kind=Wish.Kind.COURSE)
    wish(community_a, "A设施", kind=Wish.Kind.FACILITY, status=Wish.Status.DONE)
    wish(community_b, "B课程", kind=Wish.Kind.COURSE)
    assert set(titles(client.get(LIST, {"community": community_a.slug}))) == {"A课程", "A设施"}
    assert set(titles(client.get(LIST, {"kind": "course"}))) == {"A课程", "B课程"}
    assert titles(client.get(LIST, {"status": "done"})) == ["A设施"]
    both = {"community": community_b.slug, "kind": "course", "status": "open"}
    assert titles(client.get(LIST, both)) == ["B课程"]


def test_an_unknown_filter_value_is_an_error_on_the_page(client, community_a):
    wish(community_a, "A课程")
    response = client.get(LIST, {"community": "nowhere", "kind": "spaceship"})
    assert response.status_code == 200
    assert titles(response) == []
    assert 'class="error-summary"' in response.content.decode()


def test_htmx_gets_only_the_results(client, community_a):
    wish(community_a, "A课程")
    response = client.get(LIST, {"kind": "service"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert titles(response) == ["A课程"]
    assert "<html" not in html and '<form class="finder"' not in html
    assert response["Vary"] and "HX-Request" in response["Vary"]
    full = client.get(LIST, {"kind": "service"}).content.decode()
    assert "<html" in full and 'hx-get="/wishes/"' in full and 'action="/wishes/"' in full


def test_wishes_come_twenty_to_a_page(client, community_a):
    Wish.objects.bulk_create(
        Wish(
            community=community_a, kind="service", title=f"愿望{n:02}", text="说明", support_count=n
        )
        for n in range(25)
    )
    first = client.get(LIST)
    assert len(titles(first)) == 20
    assert titles(first)[0] == "愿望24"
    assert 'rel="next" href="?&amp;page=2"' in first.content.decode()
    second = client.get(LIST, {"page": 2})
    assert titles(second) == [f"愿望{n:02}" for n in range(4, -1, -1)]


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_list_takes_the_same_number_of_queries_for_1_or_15_wishes(
    signed_in, community_a, community_b, resident, compound_a, django_assert_max_num_queries
):
    Resident.objects.create(
        user=resident, name="李四", phone="13812341234", birth_year=1950, compound=compound_a
    )
    client = client_for(resident) if signed_in else Client()
    client.get("/")  # the session and the account, read once and kept with the session
    client.get(LIST)  # the community choices show places only: kept until a place changes

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    Wish.post(author=resident, community=community_a, kind="course", title="第一", text="说明")
    one = count()
    for n in range(14):
        Wish.post(
            author=resident,
            community=community_a if n % 2 else community_b,
            kind="facility",
            title=f"愿望{n}",
            text="说明",
        )
    assert count() == one
    with django_assert_max_num_queries(8 if signed_in else 4):
        client.get(LIST)


def test_the_cached_list_shows_a_new_wish_and_a_new_supporter_at_once(
    client, community_a, monkeypatch
):
    """Anonymous visitors get the list from the page cache; any wish or support moves it on."""
    # Pages are kept per minute: the clock stands still, or a minute turning between two
    # requests would make the second a miss.
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    first = wish(community_a, "书法班")
    assert titles(client.get(LIST)) == ["书法班"]
    with CaptureQueriesContext(connection) as cached:
        client.get(LIST)
    assert len(cached) == 0  # served from the cache

    wish(community_a, "理发点")
    assert sorted(titles(client.get(LIST))) == ["书法班", "理发点"]
    before = client.get(LIST, {"sort": "newest"}).content
    supporter = get_user_model().objects.create_user(username="13900000055", password="x")
    assert Wish.add_support(first.pk, supporter)
    after = client.get(LIST, {"sort": "newest"}).content
    assert after != before  # the count moved from 1 to 2 on the page at once


def test_the_community_choices_are_rendered_once_for_everyone_and_follow_new_communities(
    resident, community_a, subdistrict
):
    """Thousands of options in a city: a signed-in resident's list reads them from the cache,
    and a new community shows at once (it moves the content version)."""
    client = client_for(resident)
    client.get(LIST)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(LIST).content.decode()

    assert f'value="{community_a.slug}"' in html
    assert not any('FROM "communities_community"' in q["sql"] for q in queries.captured_queries)
    Community.objects.create(
        subdistrict=subdistrict, name="新建社区", latitude=43.9, longitude=125.3
    )
    assert "新建社区" in client.get(LIST).content.decode()


def test_an_unknown_community_in_the_filter_is_refused_in_words(client, community_a):
    html = client.get(LIST, {"community": "no-such-place"}).content.decode()

    assert 'aria-invalid="true"' in html
    assert 'id="id_community_error"' in html
