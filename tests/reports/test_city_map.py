"""The sites page's map of a city: above area_map.GROUP_ABOVE compounds it draws each community
as one circle, with the figures the report counts, and stays small; below it, every compound."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from communities.models import Community
from reports import area_map, report_data
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SITES = reverse("reports:sites")


def svg(response) -> str:
    return re.search(r'<svg class="area-map__svg".*?</svg>', response.content.decode(), re.S)[0]


def test_a_city_map_draws_its_communities_and_stays_small(city_admin, generated_city, monkeypatch):
    client = client_for(city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    by_compound = client.get(SITES, {"service": "canteen", "k": 4})
    compounds_map = by_compound.context["area_map"]
    assert not compounds_map.grouped and len(compounds_map.homes) == 400

    monkeypatch.setattr(area_map, "GROUP_ABOVE", 100)  # this city of 400 counts as large
    response = client.get(SITES, {"service": "canteen"})
    view = response.context["area_map"]
    area = report_data.gather(Community.objects.filter(subdistrict__district=generated_city))
    figures = area.figures(False)
    populated = [p for p in area.places if figures[p.id]["canteen"].population]
    assert view.grouped and view.homes == ()
    assert view.group_count == len(populated)
    bands = [figures[p.id]["canteen"].band for p in populated]
    assert [view.band(b) for b in area_map.BANDS] == [bands.count(b) for b in area_map.BANDS]
    drawn = svg(response)
    assert drawn.count("<circle") == len(populated)
    assert "area-map__streets" not in drawn and "area-map__homes" not in drawn
    # Four hundred compounds and their streets, against some fifty communities.
    assert len(drawn) < 40 * len(area.homes.ids) and len(drawn) < len(svg(by_compound)) / 3
    page = response.content.decode()
    assert f"Communities: {len(populated)}." in page
    assert "Each circle is a community" in page
