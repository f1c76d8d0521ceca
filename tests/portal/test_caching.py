"""Cached fragments: served from the cache until an edit, and never stale after one."""

import re

import pytest
from django.urls import reverse

from facilities.models import Category, Facility
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def lead(html: str) -> str:
    return re.search(r'<p class="lead">(.*?)</p>', html, re.S).group(1)


def test_home_comes_from_the_cache_until_something_changes(
    client, compound_a, compound_b, django_assert_max_num_queries, monkeypatch
):
    from django.utils import timezone

    now = timezone.now()  # pages are kept per minute: the minute must not turn in between
    monkeypatch.setattr(timezone, "now", lambda: now)
    first = client.get("/").content.decode()
    with django_assert_max_num_queries(0):
        again = client.get("/").content.decode()
    assert lead(again) == lead(first)
    assert "新竹社区" in again


def test_a_staff_edit_in_the_back_office_shows_at_once(client, staff_a, compound_a, compound_b):
    assert "2 个小区" in lead(client.get("/").content.decode())
    url = reverse("admin:communities_residentialcompound_delete", args=[compound_a.pk])
    assert client_for(staff_a).post(url, {"post": "yes"}).status_code == 302
    assert "1 个小区" in lead(client.get("/").content.decode())


def test_renaming_a_community_and_adding_a_facility_show_at_once(client, community_a):
    client.get("/")
    community_a.name = "新竹新社区"
    community_a.save()
    Facility.objects.create(
        community=community_a,
        category=Category.objects.get(code="barber"),
        name="新竹理发店",
        latitude=community_a.latitude,
        longitude=community_a.longitude,
    )
    html = client.get("/").content.decode()
    assert "新竹新社区" in html
    barber = re.search(r'href="/facilities/\?category=barber".*?</a>', html, re.S).group(0)
    assert "1 处" in barber


def test_the_tree_and_the_panels_follow_the_language(client, community_a):
    client.get("/")
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "Browse by district" in html and "Community canteen" in html


def test_public_pages_are_cached_whole_for_anonymous_visitors_only(
    client, staff_a, community_a, compound_a, django_assert_max_num_queries
):
    url = community_a.get_absolute_url()
    first = client.get(url).content
    with django_assert_max_num_queries(0):
        assert client.get(url).content == first
    client.cookies["elder_mode"] = "1"
    assert b'class="elder"' in client.get(url).content  # elder mode is its own entry
    signed_in = client_for(staff_a)
    with django_assert_max_num_queries(20) as queries:
        signed_in.get(url)
    assert len(queries) > 2  # rendered for them, not taken from the cache


def test_anonymous_pages_carry_no_csrf_token_and_the_switches_work_without_one(db):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    html = browser.get("/").content.decode()
    assert "csrfmiddlewaretoken" not in html and "csrftoken" not in browser.cookies
    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    response = browser.post("/display/", {"elder": "1", "next": "/"})
    assert response.status_code == 302 and response.cookies["elder_mode"].value == "1"


def test_a_facility_edit_leaves_what_shows_places_only(client, community_a, compound_a):
    """The home page's tree and totals show places only: kept under the places version, which
    an edit to a facility leaves alone and an edit to a place moves on (portal.caching)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal import caching

    client.get("/")
    places, content = caching.places_version(), caching.content_version()
    facility = Facility.objects.create(
        community=community_a,
        category=Category.objects.get(code="canteen"),
        name="新食堂",
        latitude=43.88,
        longitude=125.27,
    )
    assert caching.content_version() != content and caching.places_version() == places
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    # Neither the tree (districts, subdistricts, communities) nor the totals are read again.
    assert not any('FROM "communities_district"' in q["sql"] for q in queries.captured_queries)
    assert not any('FROM "communities_community"' in q["sql"] for q in queries.captured_queries)
    assert "新竹社区" in html

    facility.delete()
    community_a.name = "新竹新社区"
    community_a.save()
    assert caching.places_version() != places
    assert "新竹新社区" in client.get("/").content.decode()
