"""The back office's map to pick a point on: maps.fitted lays out a whole community, and its
bounds undo the projection as the page's script does; facilities.point_map draws the community
from the database, with its streets where the district has a network."""

import pytest

from facilities import maps, point_map
from facilities.maps import Place
from facilities.models import Facility
from portal.lib import geo
from tests.facilities.conftest import category
from tests.streets.hand_made import store_network

HOME = (43.88, 125.27)
WIDTH, HEIGHT = 640, 400


def at(north: float, east: float, kind: str = maps.COMPOUND, label: str = "") -> Place:
    return Place(kind, label or f"{north:+.0f} {east:+.0f}", *geo.offset(HOME, north, east))


SUBJECT = at(50, 80, maps.FACILITY, "这个点")
PLACES = [at(-700, -900), at(600, 1100), at(300, -200, maps.NEIGHBOUR), at(-100, 400)]


def clicked(view: maps.MapView, x: float, y: float) -> geo.Point:
    """What static/communities/point-map.js computes from a click at (x, y) on the canvas."""
    south, west, north, east = view.bounds
    return north - y / view.height * (north - south), west + x / view.width * (east - west)


def test_every_place_and_the_subject_are_on_the_canvas_with_room_to_spare():
    view = maps.fitted(SUBJECT, PLACES)
    assert view.subject.place == SUBJECT
    assert [m.place for m in view.others] == PLACES
    pad = 100 * (view.width / (2000 + 2 * 100))  # the wider span, east-west, sets the scale
    for m in view.markers:
        assert pad - 1 <= m.x <= view.width - pad + 1
        assert 0 < m.y < view.height
    assert view.rings == () and view.ring_labels == ()


def test_the_bounds_undo_the_projection_anywhere_on_the_canvas():
    view = maps.fitted(SUBJECT, PLACES)
    for m in view.markers:
        # Markers are drawn to 0.1 px: a few decimetres at this scale.
        assert geo.distance_m(clicked(view, m.x, m.y), m.place.point) < 0.5
    projection = maps.Projection(HOME, 0.2, 300, 180)
    south, west, north, east = projection.bounds(WIDTH, HEIGHT)
    for x, y in [(0, 0), (WIDTH, HEIGHT), (123.4, 321.0)]:
        lat = north - y / HEIGHT * (north - south)
        lng = west + x / WIDTH * (east - west)
        assert projection.xy((lat, lng)) == pytest.approx((x, y), abs=1e-6)


def test_the_facility_pages_map_has_bounds_too():
    view = maps.layout(SUBJECT, PLACES, radius_m=600)
    assert geo.distance_m(clicked(view, view.width / 2, view.height / 2), SUBJECT.point) < 0.01


def test_a_lone_point_gets_a_map_of_the_least_span():
    view = maps.fitted(SUBJECT, [])
    south, west, north, _east = view.bounds
    assert geo.distance_m((south, west), (north, west)) == pytest.approx(400, rel=0.01)
    assert (view.subject.x, view.subject.y) == (WIDTH / 2, HEIGHT / 2)


def test_a_subject_far_away_is_left_off_rather_than_shrinking_the_community():
    far = at(30_000, 0, maps.FACILITY, "填错的点")
    view = maps.fitted(far, PLACES)
    assert view.bounds == maps.fitted(SUBJECT, PLACES, reach_m=0).bounds
    assert view.subject.y < 0  # drawn off the canvas, north of it
    assert not view.subject.label_shown
    near = at(0, 1500, maps.FACILITY)  # 400 m beyond the others: it widens the map
    assert near.longitude < maps.fitted(near, PLACES).bounds.east


def test_streets_are_cut_to_the_canvas():
    streets = [(geo.offset(HOME, 0, -5000), geo.offset(HOME, 0, 5000), True)]
    view = maps.fitted(SUBJECT, PLACES, streets=streets)
    assert view.streets_major.startswith("M0 ")
    assert view.streets_minor == ""


def test_it_refuses_a_subject_that_is_no_facility():
    with pytest.raises(ValueError):
        maps.fitted(at(0, 0), PLACES)


@pytest.mark.django_db
def test_the_community_is_drawn_with_its_streets_and_without_the_object_twice(compound_a):
    community = compound_a.community
    canteen = Facility.objects.create(
        community=community,
        category=category("canteen"),
        name="新竹食堂",
        latitude=compound_a.latitude + 0.002,
        longitude=compound_a.longitude,
    )
    view = point_map.draw(community, compound_a)
    assert view.subject.place.label == "新竹一区"
    assert [(m.place.kind, m.place.label) for m in view.others] == [(maps.NEIGHBOUR, "新竹食堂")]
    assert view.streets_major == view.streets_minor == ""
    street = [geo.offset(compound_a.point, 20, east) for east in (-300, 0, 300)]
    store_network(community.subdistrict.district, street, [(0, 1), (1, 2)])
    view = point_map.draw(community, canteen)
    assert [m.place.label for m in view.others] == ["新竹一区"]
    assert view.streets_major or view.streets_minor
