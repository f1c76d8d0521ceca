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
    client, compound_a, compound_b, django_assert_max_num_queries
):
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
