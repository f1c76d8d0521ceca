"""Points in the back office (communities/points.py), through every admin form that has one: typed
in the coordinate system chosen beside them and stored in WGS-84, shown back as given with no
drift, refused outside the district with what most likely went wrong; the map to pick them on."""

import re
from dataclasses import dataclass

import pytest
from django import forms
from django.db import models
from django.urls import reverse
from django.utils import translation

from communities import points
from communities.models import CompoundGate, ResidentialCompound
from facilities.models import Category, Facility, IdleRoom
from portal.lib import coords, geo
from portal.lib.coords import System
from tests.conftest import client_for
from tests.facilities.test_admin_scope import form_data
from tests.portal.test_coords import PUBLISHED

pytestmark = pytest.mark.django_db

# 长春's published centre in each system (tests/portal/test_coords.py), and a district 4 km across
# around it: community_a's office at the centre and a compound 2 km from it at each corner.
CHANGCHUN = PUBLISHED["长春"]
CENTRE = CHANGCHUN[System.WGS84]
CORNERS = [(north, east) for north in (-2000, 2000) for east in (-2000, 2000)]
SHIFTED = pytest.mark.parametrize("system", [System.GCJ02, System.BD09], ids=str)


@pytest.fixture
def district_box(community_a):
    community_a.latitude, community_a.longitude = CENTRE
    community_a.save()
    for n, (north, east) in enumerate(CORNERS, start=1):
        lat, lng = geo.offset(CENTRE, north, east)
        ResidentialCompound.objects.create(
            community=community_a, name=f"角{n}小区", latitude=lat, longitude=lng
        )
    return points.district_bounds(community_a.subdistrict.district_id)


@dataclass
class Target:
    """A point in an admin form: the page, the prefix of its fields, and the object."""

    url: str
    prefix: str
    obj: models.Model

    def refreshed(self) -> models.Model:
        self.obj.refresh_from_db()
        return self.obj


def _change(model, pk) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def _at(north: float, east: float) -> dict:
    lat, lng = geo.offset(CENTRE, north, east)
    return {"latitude": lat, "longitude": lng}


@pytest.fixture(params=["community", "compound", "gate", "facility", "idle room"])
def target(request, district_box, community_a) -> Target:
    compound = ResidentialCompound.objects.create(
        community=community_a, name="中心小区", **_at(200, 200)
    )
    match request.param:
        case "community":
            return Target(_change(type(community_a), community_a.pk), "", community_a)
        case "compound":
            return Target(_change(ResidentialCompound, compound.pk), "", compound)
        case "gate":
            gate = CompoundGate.objects.create(compound=compound, name="北门", **_at(260, 200))
            return Target(_change(ResidentialCompound, compound.pk), "gates-0-", gate)
        case "facility":
            facility = Facility.objects.create(
                community=community_a,
                category=Category.objects.get(code="canteen"),
                name="中心长者食堂",
                **_at(-200, 100),
            )
            return Target(_change(Facility, facility.pk), "", facility)
        case "idle room":
            room = IdleRoom.objects.create(
                community=community_a, name="原居委会旧址", floor_area=200, **_at(100, -300)
            )
            return Target(_change(IdleRoom, room.pk), "", room)


def post_point(client, target: Target, lat, lng, system, **more):
    data = form_data(client.get(target.url))
    p = target.prefix
    data |= {f"{p}latitude": lat, f"{p}longitude": lng, f"{p}point_system": system}
    data |= {f"{p}{name}": value for name, value in more.items()}
    return client.post(target.url, data)


def latitude_errors(response, target: Target) -> list[str]:
    if target.prefix:
        form = response.context["inline_admin_formsets"][0].formset.forms[0]
    else:
        form = response.context["adminform"].form
    return form.errors.get("latitude", [])


# ---- typed in the system chosen, stored in WGS-84 ----


@pytest.mark.parametrize("system", list(System), ids=str)
def test_a_point_from_each_map_app_is_stored_in_wgs84_with_its_system(staff_a, target, system):
    response = post_point(client_for(staff_a), target, *CHANGCHUN[system], system)
    assert response.status_code == 302, latitude_errors(response, target)
    obj = target.refreshed()
    assert geo.distance_m(obj.point, CENTRE) < 1
    assert obj.point_system == system


def test_leaving_the_system_out_reads_the_numbers_as_shown(staff_a, target):
    # A client that sends no point_system (a script, an older form): the numbers are read in
    # the system the object's point was given in.
    target.obj.point_system = System.GCJ02
    target.obj.save()
    data = form_data(client_for(staff_a).get(target.url))
    data.pop(f"{target.prefix}point_system")
    data |= {
        f"{target.prefix}latitude": CHANGCHUN[System.GCJ02][0],
        f"{target.prefix}longitude": CHANGCHUN[System.GCJ02][1],
    }
    assert client_for(staff_a).post(target.url, data).status_code == 302
    assert geo.distance_m(target.refreshed().point, CENTRE) < 1


# ---- shown as given, and no drift ----


@SHIFTED
def test_the_form_shows_a_point_in_the_system_it_was_given_in(staff_a, target, system):
    target.obj.point_system = system
    target.obj.save()
    page = client_for(staff_a).get(target.url)
    shown = coords.from_wgs84(*target.obj.point, system)
    p = target.prefix
    data = form_data(page)
    assert float(data[f"{p}latitude"]) == pytest.approx(shown[0], abs=1e-8)
    assert float(data[f"{p}longitude"]) == pytest.approx(shown[1], abs=1e-8)
    assert data[f"{p}point_system"] == system
    assert f'value="{data[f"{p}latitude"]}"' in page.content.decode()


@pytest.mark.parametrize("system", list(System), ids=str)
def test_saving_the_form_untouched_keeps_the_point_to_the_last_bit(staff_a, target, system):
    # A point with every bit of a float in use, as geo.offset gives it.
    target.obj.latitude, target.obj.longitude = geo.offset(CENTRE, 123.456789, -98.7654321)
    target.obj.point_system = system
    target.obj.save()
    before = target.obj.point
    client = client_for(staff_a)
    data = form_data(client.get(target.url))
    data[f"{target.prefix}name"] = "改过名字的地方"  # so a gate's row is saved too
    assert client.post(target.url, data).status_code == 302
    obj = target.refreshed()
    assert obj.name == "改过名字的地方"
    assert obj.point == before  # exactly: the stored floats are kept
    assert obj.point_system == system


def test_a_point_moved_by_a_centimetre_is_still_the_same_point(staff_a, target):
    target.obj.point_system = System.GCJ02
    target.obj.save()
    before = target.obj.point
    shown = coords.from_wgs84(*before, System.GCJ02)
    response = post_point(
        client_for(staff_a), target, shown[0] + 5e-8, shown[1], System.GCJ02, name="又改名"
    )
    assert response.status_code == 302
    assert target.refreshed().point == before


def test_a_point_given_in_another_system_is_kept_when_it_is_the_same_place(staff_a, target):
    # Found again in 百度 and typed with BD-09 chosen: the same place, now recorded as BD-09.
    before = target.obj.point
    lat, lng = coords.from_wgs84(*before, System.BD09)
    response = post_point(client_for(staff_a), target, lat, lng, System.BD09, name="又改名")
    assert response.status_code == 302
    obj = target.refreshed()
    assert obj.point == before
    assert obj.point_system == System.BD09


# ---- refused outside the district, with the likely cause ----


def test_swapped_latitude_and_longitude_are_refused_with_the_cause(staff_a, target):
    before = target.obj.point
    lat, lng = round(CENTRE[1], 6), round(CENTRE[0], 6)
    response = post_point(client_for(staff_a), target, lat, lng, System.WGS84)
    assert response.status_code == 200
    assert latitude_errors(response, target) == [
        f"{lat}, {lng} 在该区以外，而 {lng}, {lat} 在该区以内：纬度和经度好像写反了。"
        "请先填纬度（在中国，纬度是较小的那个数）。"
    ]
    assert target.refreshed().point == before


def test_the_cause_is_given_in_the_users_language(staff_a, target, settings):
    client = client_for(staff_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = post_point(client, target, 39.90105, 116.42079, System.WGS84)
    assert latitude_errors(response, target) == [
        "39.90105, 116.42079, read as WGS-84 (GPS), is outside the district, and neither "
        "swapping latitude and longitude nor another coordinate system puts it inside. Check the "
        "point on a map."
    ]


def test_a_baidu_point_typed_as_gps_near_the_edge_is_named(staff_a, district_box, target):
    corner = geo.offset((district_box.north, district_box.east), -100, -100)
    lat, lng = (round(v, 6) for v in coords.from_wgs84(*corner, System.BD09))
    response = post_point(client_for(staff_a), target, lat, lng, System.WGS84)
    with translation.override("zh-hans"):
        label = str(System.BD09.label)
    assert latitude_errors(response, target)[0].startswith(
        f"{lat}, {lng} 按 WGS-84（GPS）在该区以外，按 {label}则在该区以内"
    )


def test_a_gps_point_said_to_be_from_baidu_near_the_edge_is_named(staff_a, district_box, target):
    corner = [round(v, 6) for v in geo.offset((district_box.south, district_box.west), 100, 100)]
    response = post_point(client_for(staff_a), target, *corner, System.BD09)
    assert latitude_errors(response, target)[0].startswith(
        f"{corner[0]}, {corner[1]} 按 BD-09（百度地图）在该区以外，按 WGS-84（GPS）则在该区以内"
    )
    # Said to be from 高德, it moves 590 m south-west: within the margin, so it is taken there.
    assert post_point(client_for(staff_a), target, *corner, System.GCJ02).status_code == 302


def test_an_amap_point_typed_as_gps_inside_the_district_cannot_be_told(staff_a, district_box):
    # GCJ-02 moves a point about 590 m here, less than the 800 m a point may lie beyond the
    # district's box: read as GPS, the point is taken where it lands. Choosing the system is what
    # prevents this.
    compound = ResidentialCompound.objects.get(name="角4小区")  # the north-east corner
    corner = geo.offset((district_box.north, district_box.east), -100, -100)
    amap = coords.from_wgs84(*corner, System.GCJ02)
    target = Target(_change(ResidentialCompound, compound.pk), "", compound)
    assert post_point(client_for(staff_a), target, *amap, System.WGS84).status_code == 302
    assert 550 < geo.distance_m(target.refreshed().point, corner) < 620


def test_an_amap_point_typed_as_gps_beyond_the_edge_is_refused_though_named_baidu(
    staff_a, district_box, target
):
    # A place 300 m beyond the district's east edge, copied from 高德 and typed as GPS, lands
    # 890 m beyond it and is refused. What likely_cause names is BD-09, not GCJ-02: read as
    # BD-09 the numbers fall back inside the district (800 m west), and it only looks within its
    # own 150 m of the box, where the GCJ-02 reading (the place itself, 300 m out) is not. The
    # message still stops the wrong point; the staff member knows which app it came from.
    place = geo.offset((CENTRE[0], district_box.east), 0, 300)
    lat, lng = (round(v, 6) for v in coords.from_wgs84(*place, System.GCJ02))
    response = post_point(client_for(staff_a), target, lat, lng, System.WGS84)
    with translation.override("zh-hans"):
        label = str(System.BD09.label)
    assert latitude_errors(response, target)[0].startswith(
        f"{lat}, {lng} 按 WGS-84（GPS）在该区以外，按 {label}则在该区以内"
    )
    # Given as what it is, the place is let in: it lies within the district's margin.
    response = post_point(client_for(staff_a), target, lat, lng, System.GCJ02)
    assert response.status_code == 302
    assert geo.distance_m(target.refreshed().point, place) < 1


def test_a_place_across_the_districts_edge_is_let_in(staff_a, district_box, target):
    # Facilities serve a district from across its boundary road: 600 m out in the demo districts.
    place = geo.offset((CENTRE[0], district_box.west), 0, -points.DISTRICT_MARGIN_M + 50)
    assert post_point(client_for(staff_a), target, *place, System.WGS84).status_code == 302
    beyond = geo.offset((CENTRE[0], district_box.west), 0, -points.DISTRICT_MARGIN_M - 50)
    assert post_point(client_for(staff_a), target, *beyond, System.WGS84).status_code == 200


def test_an_untouched_point_outside_the_district_is_kept_on_saving(staff_a, target):
    # A point that came in wrong before (an old import) does not block other changes.
    target.obj.latitude, target.obj.longitude = 39.90105, 116.42079
    target.obj.save()
    client = client_for(staff_a)
    data = form_data(client.get(target.url)) | {f"{target.prefix}name": "改过名字的地方"}
    assert client.post(target.url, data).status_code == 302
    assert target.refreshed().name == "改过名字的地方"


def test_a_district_with_no_other_places_takes_any_point(city_admin, community_b):
    # 洛龙区 has only 石油社区 and no compounds: with the community itself left out, there is
    # nothing to judge its office by.
    target = Target(_change(type(community_b), community_b.pk), "", community_b)
    response = post_point(client_for(city_admin), target, *CENTRE, System.WGS84)
    assert response.status_code == 302
    assert target.refreshed().point == CENTRE


def test_the_district_box_leaves_out_the_place_being_edited(district_box, community_a):
    far = ResidentialCompound.objects.create(
        community=community_a, name="填错的小区", latitude=39.9, longitude=116.4
    )
    district = community_a.subdistrict.district_id
    assert points.district_bounds(district, leave_out=far) == district_box
    assert points.district_bounds(district).south == 39.9


def test_a_new_gate_row_is_judged_by_its_compounds_district(staff_a, district_box, community_a):
    compound = ResidentialCompound.objects.get(name="角1小区")
    url = _change(ResidentialCompound, compound.pk)
    client = client_for(staff_a)
    data = form_data(client.get(url))
    data |= {
        "gates-TOTAL_FORMS": "1",
        "gates-0-name": "南门",
        "gates-0-point_system": System.WGS84,
        "gates-0-latitude": round(CENTRE[1], 6),
        "gates-0-longitude": round(CENTRE[0], 6),
    }
    response = client.post(url, data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "纬度和经度好像写反了" in errors["latitude"][0]
    lat, lng = geo.offset(compound.point, -40, 0)
    data |= {"gates-0-latitude": lat, "gates-0-longitude": lng}
    assert client.post(url, data).status_code == 302
    assert compound.gates.get().point == (lat, lng)


# ---- scoping stays as it was ----


def test_staff_still_get_404_for_another_communitys_point(staff_a, compound_b):
    url = _change(ResidentialCompound, compound_b.pk)
    data = {"name": "改名", "community": compound_b.community_id, "point_system": "gcj02"}
    response = client_for(staff_a).post(url, data | {"latitude": 34.6, "longitude": 112.45})
    assert response.status_code == 404
    compound_b.refresh_from_db()
    assert (compound_b.name, compound_b.point_system) == ("地勘三院小区", System.WGS84)


def test_the_forms_still_offer_staff_their_own_community_alone(staff_a, community_a, community_b):
    client = client_for(staff_a)
    for model in (ResidentialCompound, Facility, IdleRoom):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        form = client.get(url).context["adminform"].form
        assert list(form.fields["community"].queryset) == [community_a]
        assert "point_system" in form.fields


# ---- the map to pick a point on ----


def test_the_change_page_draws_the_community_to_pick_a_point_on(staff_a, target):
    html = client_for(staff_a).get(target.url).content.decode()
    assert 'src="/static/communities/point-map.js" defer' in html
    svg = re.search(r"<svg class=\"point-map__svg\"[^>]*>", html).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="point-map-title"' in svg
    edges = {k: float(v) for k, v in re.findall(r'data-(south|west|north|east)="([^"]+)"', svg)}
    box = coords.Bounds(**edges)
    # The whole community is on it: its office, every compound, the point being edited.
    for compound in ResidentialCompound.objects.filter(community=points.community_of(target.obj)):
        assert box.contains(compound.point)
    assert box.contains(CENTRE) and box.contains(target.obj.point)
    assert "新竹社区" in re.search(r'<title id="point-map-title">([^<]*)', html).group(1)
    # The instructions and the choice of point are for the script to show.
    assert re.search(r'class="point-map__controls" hidden', html)


def test_the_add_page_says_when_the_map_will_be_there(staff_a, community_a):
    html = client_for(staff_a).get(reverse("admin:facilities_facility_add")).content.decode()
    assert "point-map__hint" in html
    assert "point-map__svg" not in html


def test_the_map_marks_the_point_where_it_is(staff_a, district_box, community_a):
    compound = ResidentialCompound.objects.get(name="角2小区")  # south-east
    html = client_for(staff_a).get(_change(ResidentialCompound, compound.pk)).content.decode()
    edges = dict(re.findall(r'data-(south|west|north|east)="([^"]+)"', html))
    south, west, north, east = (float(edges[k]) for k in ("south", "west", "north", "east"))
    star = re.search(r'<polygon transform="translate\(([\d.]+) ([\d.]+)\)"', html)
    x, y = float(star.group(1)), float(star.group(2))
    # The inverse the script computes from the bounds alone lands on the compound.
    lat = north - y / 400 * (north - south)
    lng = west + x / 640 * (east - west)
    assert geo.distance_m((lat, lng), compound.point) < 5


# ---- idle rooms ----


def test_an_idle_rooms_form_takes_its_address_and_the_services_it_could_take(
    staff_a, district_box, community_a
):
    client = client_for(staff_a)
    url = reverse("admin:facilities_idleroom_add")
    form = client.get(url).context["adminform"].form
    assert isinstance(form.fields["services"].widget.widget, forms.CheckboxSelectMultiple)
    assert "address" in form.fields
    canteen = Category.objects.get(code="canteen")
    data = form_data(client.get(url)) | {
        "name": "锅炉房",
        "community": community_a.pk,
        "floor_area": 160,
        "address": "青年路88号院内",
        "services": [str(canteen.pk)],
        "point_system": System.GCJ02,
        "latitude": CHANGCHUN[System.GCJ02][0],
        "longitude": CHANGCHUN[System.GCJ02][1],
    }
    assert client.post(url, data).status_code == 302
    room = IdleRoom.objects.get(name="锅炉房")
    assert room.address == "青年路88号院内"
    assert list(room.services.all()) == [canteen]
    assert geo.distance_m(room.point, CENTRE) < 1
