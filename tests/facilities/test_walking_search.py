"""The finder near a compound walks along its district's streets, from the compound's gates."""

import re

import pytest

from communities.models import CompoundGate
from facilities.models import Facility
from portal.lib import geo
from tests.facilities.conftest import category, place
from tests.facilities.test_pages import SEARCH, names
from tests.streets.hand_made import store_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def across_the_tracks(compound_a):
    """An east-west street 20 m south of 新竹一区 and another 300 m north of it, joined 400 m
    west only (a railway between them, say). 北街食堂 is 280 m north of the compound, on the
    northern street; 南街食堂 is 450 m east, on the southern one."""
    origin = geo.offset(compound_a.point, -20, -400)
    corners = [
        origin,
        geo.offset(origin, 0, 2000),
        geo.offset(origin, 300, 0),
        geo.offset(origin, 300, 2000),
    ]
    store_network(compound_a.community.subdistrict.district, corners, [(0, 1), (2, 3), (0, 2)])
    canteen = category("canteen")
    north = place(compound_a, north=280, community=compound_a.community, category=canteen,
                  name="北街食堂")  # fmt: skip
    south = place(compound_a, north=-25, east=450, community=compound_a.community,
                  category=canteen, name="南街食堂")  # fmt: skip
    return north, south


def test_near_a_compound_ranks_by_the_walk_and_says_so(client, compound_a, across_the_tracks):
    response = client.get(SEARCH, {"near": compound_a.pk, "distance": 1000})
    page = response.content.decode()
    # By straight line 北街食堂 (280 m) comes first; on foot it is 20 + 400 + 300 + 400 + 0 m.
    assert names(response) == ["南街食堂"]
    assert "沿街步行" in page and "test.osm.pbf" in page
    # 20 m to the street, 450 m along it, 5 m to the door.
    assert "475 米" in page or "475 m" in page
    response = client.get(SEARCH, {"near": compound_a.pk, "distance": 2000})
    assert names(response) == ["南街食堂", "北街食堂"]


def test_a_gate_on_the_north_street_changes_the_order(client, compound_a, across_the_tracks):
    CompoundGate.objects.create(
        compound=compound_a, name="北门", latitude=geo.offset(compound_a.point, 290, 0)[0],
        longitude=compound_a.longitude,
    )  # fmt: skip
    # From the north gate: 10 m to the street, 10 m to 北街食堂. 南街食堂 is now round the
    # block (10 + 400 + 300 + 400 + 450 + 5 m): beyond 1 km.
    response = client.get(SEARCH, {"near": compound_a.pk, "distance": 1000})
    assert names(response) == ["北街食堂"]
    response = client.get(SEARCH, {"near": compound_a.pk, "distance": 2000})
    assert names(response) == ["北街食堂", "南街食堂"]


def test_each_within_its_own_walk_without_a_distance(client, compound_a, across_the_tracks):
    # A canteen's walk is 500 m: only 南街食堂 (475 m on foot).
    response = client.get(SEARCH, {"near": compound_a.pk, "category": "canteen"})
    assert names(response) == ["南街食堂"]
    closing = Facility.objects.get(name="南街食堂")
    closing.status = Facility.Status.CLOSED
    closing.save()
    response = client.get(SEARCH, {"near": compound_a.pk, "category": "canteen"})
    assert names(response) == []


def test_a_walked_search_runs_a_constant_number_of_queries(
    client, compound_a, across_the_tracks, django_assert_max_num_queries
):
    client.get(SEARCH, {"near": compound_a.pk, "distance": 2000})  # the network is read once
    with django_assert_max_num_queries(12):
        response = client.get(SEARCH, {"near": compound_a.pk, "distance": 2000, "page": 1})
    assert len(names(response)) == 2


def test_the_community_page_walks_to_the_nearest_canteen(client, compound_a, across_the_tracks):
    _north, south = across_the_tracks
    south.status = Facility.Status.CLOSED
    south.save()
    page = client.get(compound_a.community.get_absolute_url()).content.decode()
    text = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", page))
    assert "沿街步行" in text and "test.osm.pbf" in text
    # 北街食堂 is 280 m away by straight line, 20 + 400 + 300 + 400 m on foot: beyond twice a
    # canteen's 500 m walk, so not even named.
    assert "社区食堂 500 米 ✗" in text
    assert "新竹一区：1000 米内没有" in text


def test_a_walked_community_page_runs_a_constant_number_of_queries(
    client, compound_a, across_the_tracks, django_assert_max_num_queries
):
    url = compound_a.community.get_absolute_url()
    client.get(url)  # the network is read once per process
    Facility.objects.get(name="南街食堂").save()  # a new content version: rendered again
    with django_assert_max_num_queries(9):  # 8, and the compounds' gates
        assert client.get(url).status_code == 200


def test_the_desk_lists_points_far_from_every_street(
    compound_a, far_compound, across_the_tracks, staff_a
):
    from tests.conftest import client_for

    lost = place(far_compound, north=10, community=compound_a.community,
                 category=category("library"), name="山上书屋")  # fmt: skip
    page = client_for(staff_a).get("/admin/").content.decode()
    # The two lists under "check this point" (their headings name the 200 m).
    lists = re.findall(r"<h3>[^<]*200[^<]*</h3>\s*(?:<p>[^<]*</p>)?\s*<ul[^>]*>(.*?)</ul>", page)
    assert len(lists) == 2
    desk = "".join(lists)
    assert f"/admin/communities/residentialcompound/{far_compound.pk}/change/" in desk
    assert f"/admin/facilities/facility/{lost.pk}/change/" in desk
    # The compound and canteens on the streets are not listed.
    assert f"/residentialcompound/{compound_a.pk}/change/" not in desk
    assert "北街食堂" not in desk and "南街食堂" not in desk
    # A gate by the street takes the compound off the list.
    CompoundGate.objects.create(
        compound=far_compound, name="南门",
        latitude=geo.offset(compound_a.point, 330, 0)[0], longitude=compound_a.longitude,
    )  # fmt: skip
    page = client_for(staff_a).get("/admin/").content.decode()
    assert f"/residentialcompound/{far_compound.pk}/change/" not in page


def test_the_facility_page_draws_the_streets_under_its_map(client, across_the_tracks):
    north, _south = across_the_tracks
    page = client.get(north.get_absolute_url()).content.decode()
    minor = re.search(r'class="map__streets map__streets--minor" d="([^"]+)"', page)
    # The three streets of the block, each one segment.
    assert minor is not None and minor.group(1).count("M") == 3


def test_the_facility_page_lists_the_walk_to_each_compound(client, compound_a, across_the_tracks):
    north, _south = across_the_tracks
    page = client.get(north.get_absolute_url()).content.decode()
    text = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", page))
    # 400 m west along the northern street, 300 m south, 400 m east, 20 m up to 新竹一区.
    assert "新竹一区 · 小区 · 1120 米 · 步行 19 分钟" in text
    # 南街食堂 (450 m east of the compound by straight line) is round the block too.
    assert "南街食堂 · 设施 · 1555 米" in text
