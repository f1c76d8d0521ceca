"""The reports walk along a district's streets: from a compound's gates, kept current after an
edit exactly as a fresh gathering would compute it, and side by side with the straight line."""

import re

import numpy as np
import pytest
from django.utils import translation

from communities.models import Community, CompoundGate
from facilities.models import Facility
from portal.lib import geo
from reports import report_data
from streets import network
from tests.facilities.conftest import category, place
from tests.streets.hand_made import store_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def block(compound_a):
    """Two east-west streets 300 m apart, 新竹一区 between them 20 m north of the southern one,
    joined only 300 m west of it: the canteen 270 m north of the compound, 10 m short of the
    northern street, is 950 m away on foot from the compound's own point."""
    origin = geo.offset(compound_a.point, -20, -300)
    corners = [
        origin,
        geo.offset(origin, 0, 2000),
        geo.offset(origin, 300, 0),
        geo.offset(origin, 300, 2000),
    ]
    store_network(compound_a.community.subdistrict.district, corners, [(0, 1), (2, 3), (0, 2)])
    return place(
        compound_a,
        north=270,
        community=compound_a.community,
        category=category("canteen"),
        name="北街食堂",
    )


def gather(community) -> report_data.Area:
    return report_data.gather(Community.objects.filter(pk=community.pk))


def canteen_walk(area, plan=False) -> float:
    return float(area.matrix(plan).distance["canteen"][0])


def test_the_report_walks_from_the_compound_and_keeps_the_straight_line(compound_a, block):
    area = gather(compound_a.community)
    assert area.walks and [n.source for n in area.networks] == ["test.osm.pbf"]
    # 20 m to the street, 300 m west, 300 m north, 300 m east, 10 m to the canteen.
    assert canteen_walk(area) == pytest.approx(930, abs=1)
    assert not area.matrix(False).covered("canteen")[0]
    straight = area.measured(straight=True)
    assert not straight.walks
    assert canteen_walk(straight) == pytest.approx(270, abs=0.5)
    assert straight.matrix(False).covered("canteen")[0]
    assert not any(row.off_streets for row in area.compound_rows(False))


def test_a_gate_on_the_north_street_brings_the_canteen_within_the_walk(compound_a, block):
    before = gather(compound_a.community)
    CompoundGate.objects.create(compound=compound_a, name="北门", **_at(compound_a, 290, 0))
    # The gate is an edit the trail records: refresh() declines, and gathering walks from it.
    assert report_data.refresh(before) is None
    after = gather(compound_a.community)
    # 10 m from the gate to the street, 10 m from it to the canteen.
    assert canteen_walk(after) == pytest.approx(20, abs=1)
    assert after.matrix(False).covered("canteen")[0]


def _at(compound, north, east) -> dict:
    lat, lng = geo.offset(compound.point, north, east)
    return {"latitude": lat, "longitude": lng}


def test_an_edit_kept_current_equals_gathering_anew(compound_a, block):
    area = gather(compound_a.community)
    # A second canteen opens on the southern street, 600 m east; then the first one moves.
    Facility.objects.create(
        community=compound_a.community,
        category=category("canteen"),
        name="南街食堂",
        **_at(compound_a, -25, 600),
    )
    area = report_data.refresh(area)
    fresh = gather(compound_a.community)
    assert canteen_walk(area) == pytest.approx(canteen_walk(fresh))
    assert canteen_walk(area) == pytest.approx(20 + 600 + 5, abs=1)
    block.latitude, block.longitude = geo.offset(compound_a.point, -30, 100)
    block.save()
    area = report_data.refresh(area)
    assert area is not None
    fresh = gather(compound_a.community)
    for a, b in ((area.now, fresh.now), (area.line_now, fresh.line_now)):
        for code in a.distance:
            np.testing.assert_allclose(a.distance[code], b.distance[code])
            assert a.nearest[code].tolist() == b.nearest[code].tolist()
    assert canteen_walk(area) == pytest.approx(20 + 100 + 10, abs=1)
    block.status = Facility.Status.CLOSED
    block.save()
    area = report_data.refresh(area)
    assert canteen_walk(area) == pytest.approx(20 + 600 + 5, abs=1)


def test_a_compound_far_from_every_street_is_listed_and_measured_straight(
    compound_a, far_compound, block
):
    area = gather(compound_a.community)
    assert [r.id for r in area.compound_rows(False) if r.off_streets] == [far_compound.pk]
    row = area.homes.ids.tolist().index(far_compound.pk)
    assert not area.now.walked[row]
    for code, metres in area.now.distance.items():
        assert metres[row] == area.line_now.distance[code][row]
    # And the canteen 1.7 km away is beyond reach either way.
    assert geo.distance_m(far_compound.point, block.point) > 1000
    assert area.now.nearest["canteen"][row] == -1


def test_walking_survives_the_shared_cache(compound_a, block):
    """The area is pickled into the cache without its networks; the next update takes them
    from the process again."""
    import pickle

    area = pickle.loads(pickle.dumps(gather(compound_a.community)))
    assert area.walker is not None and area.walker.streets == {}
    block.latitude, block.longitude = geo.offset(compound_a.point, -30, 100)
    block.save()
    area = report_data.refresh(area)
    assert canteen_walk(area) == pytest.approx(20 + 100 + 10, abs=1)
    network._networks.clear()
    block.latitude, block.longitude = geo.offset(compound_a.point, -30, 200)
    block.save()
    assert canteen_walk(report_data.refresh(area)) == pytest.approx(20 + 200 + 10, abs=1)


def test_the_community_report_draws_the_walk_and_switches_to_straight_lines(
    official, compound_a, block
):
    from tests.conftest import client_for

    client = client_for(official)
    url = f"/reports/communities/{compound_a.community.slug}/?service=canteen"
    page = client.get(url).content.decode()
    # The streets under the map, and the walk round the block drawn on it.
    assert 'class="area-map__streets area-map__streets--minor"' in page
    walks = re.findall(r'<g class="area-map__walks".*?</g>', page, re.S)
    assert len(walks) == 1 and "新竹一区" in walks[0] and "930" in walks[0]
    assert 'name="straight"' in page
    assert "test.osm.pbf" in page
    # The table says the canteen is within reach only as the crow flies.
    assert "270" in page and "walk__detour" in page
    straight = client.get(url + "&straight=on").content.decode()
    assert "area-map__walks" not in straight and "walk__detour" not in straight
    # By straight line the compound is covered: the table marks it ✓.
    assert re.search(r'walk walk--in">\s*<span class="walk__mark">✓</span> 270 m', straight)
    assert re.search(r'walk walk--out">\s*<span class="walk__mark">✗</span> 930 m', page)
    assert len(page.encode()) < 100_000


def test_the_gap_list_counts_who_a_straight_line_would_call_covered(official, compound_a, block):
    from tests.conftest import client_for

    page = client_for(official).get("/reports/gaps/?service=canteen").content.decode()
    row = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]*>新竹社区</a></th>.*?</tr>", page, re.S)
    assert row is not None
    # All of 新竹一区's 1,200 residents are beyond the walk, and all within the straight line.
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row.group(0))
    assert cells[0] == "1,200" and cells[-1] == "1,200"


def test_a_gate_added_in_the_admin_moves_the_figures_on_the_next_request(
    official, staff_a, compound_a, block
):
    from tests.conftest import client_for

    reader = client_for(official)
    url = f"/reports/communities/{compound_a.community.slug}/?service=canteen"
    before = reader.get(url).content.decode()
    assert re.search(r'walk walk--out">\s*<span class="walk__mark">✗</span> 930 m', before)
    lat, lng = geo.offset(compound_a.point, 290, 0)
    response = client_for(staff_a).post(
        f"/admin/communities/residentialcompound/{compound_a.pk}/change/",
        {
            "name": compound_a.name,
            "community": compound_a.community_id,
            "population": compound_a.population,
            "households": compound_a.households,
            "latitude": compound_a.latitude,
            "longitude": compound_a.longitude,
            "gates-TOTAL_FORMS": "1",
            "gates-INITIAL_FORMS": "0",
            "gates-MIN_NUM_FORMS": "0",
            "gates-MAX_NUM_FORMS": "1000",
            "gates-0-name": "北门",
            "gates-0-latitude": lat,
            "gates-0-longitude": lng,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert compound_a.gates.get().name == "北门"
    after = reader.get(url).content.decode()
    # From the north gate: 10 m to the street and 10 m to the canteen.
    assert re.search(r'walk walk--in">\s*<span class="walk__mark">✓</span> 20 m', after)


def test_the_report_says_which_barrier_the_straight_line_crosses(official, compound_a, block):
    from streets.models import StreetNetwork
    from tests.conftest import client_for

    community = compound_a.community
    walk = gather(community).compound_rows(False)[0].walks[0]
    assert walk.detour and walk.across is None  # no barrier recorded: no reason given
    # A river recorded by the import, between the two streets: the line to the canteen crosses it.
    south = geo.offset(compound_a.point, 150, -500)
    river = [south, geo.offset(south, 5, 800), geo.offset(south, 0, 2500)]
    network = StreetNetwork.objects.get(district=community.subdistrict.district)
    network.report = {
        "barriers": [{"kind": "river", "name": "新竹河", "points": [list(p) for p in river]}]
    }
    network.save()
    walk = gather(community).compound_rows(False)[0].walks[0]
    assert walk.across == ("river", "新竹河")
    with translation.override("zh-hans"):
        assert walk.across_text == "隔着新竹河"
    with translation.override("en"):
        assert walk.across_text == "across the river (新竹河)"
    page = client_for(official).get(f"/reports/communities/{community.slug}/?service=canteen")
    assert "直线 270 米，隔着新竹河：只有按直线才算够得着" in page.content.decode()


def test_a_straight_line_crosses_a_polyline_only_where_it_does():
    line = [(0.0, 0.0), (0.0, 1.0), (1.0, 2.0)]
    assert geo.crosses((-1.0, 0.5), (1.0, 0.5), line)
    assert geo.crosses((0.0, 2.0), (1.0, 1.0), line)  # the second piece
    assert not geo.crosses((0.5, 0.5), (0.5, 0.9), line)  # both on one side
    assert not geo.crosses((-1.0, 3.0), (1.0, 3.0), line)  # beyond its end


def test_a_facility_far_from_every_street_is_listed_on_its_community_report(
    official, compound_a, block
):
    from tests.conftest import client_for

    community = compound_a.community
    far = place(
        compound_a, north=-600, community=community, category=category("barber"), name="远郊理发"
    )
    area = gather(community)
    (mine,) = [p for p in area.places if p.id == community.pk]
    assert [s.id for s in area.off_streets(mine)] == [far.pk]
    assert area.measured(straight=True).off_streets(mine) == []
    url = f"/reports/communities/{community.slug}/?service=canteen"
    page = client_for(official).get(url).content.decode()
    listed = re.search(r'<ul aria-labelledby="off-streets-title">(.*?)</ul>', page, re.S)
    assert listed is not None and "远郊理发" in listed.group(1)
    assert "北街食堂" not in listed.group(1)
