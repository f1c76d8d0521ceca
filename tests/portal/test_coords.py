"""portal.lib.coords: WGS-84, GCJ-02 and BD-09 both ways, and what went wrong with a point."""

import math
from decimal import Decimal

import pytest
from django.utils import translation

from portal.lib import coords, geo
from portal.lib.coords import Bounds, System

CHANGCHUN = (43.88, 125.32)
LUOYANG = (34.62, 112.45)
CITIES = pytest.mark.parametrize("centre", [CHANGCHUN, LUOYANG], ids=["长春", "洛阳"])
SHIFTED = pytest.mark.parametrize("system", [System.GCJ02, System.BD09], ids=str)

# Published reference points, (latitude, longitude) in each system.
# 长春 and 洛阳: the city centres in the test fixture of gcoord (hujiulong/gcoord,
# test/fixtures/china-cities.json, commit fedbaa1, 2018; [lng, lat] there), seven decimals. In all
# of its 332 cities its WGS-84 and GCJ-02 differ from the public formula by the same 0.45–0.5 m
# north and east (0.67–0.73 m), as if made by a slightly different implementation; its GCJ-02 and
# BD-09 agree with Baidu's formula to a centimetre.
PUBLISHED = {
    "长春": {
        System.WGS84: (43.8146335, 125.3170587),
        System.GCJ02: (43.8170782, 125.3235533),
        System.BD09: (43.8228384, 125.3301537),
    },
    "洛阳": {
        System.WGS84: (34.6206943, 112.447775),
        System.GCJ02: (34.6196861, 112.4540462),
        System.BD09: (34.6259364, 112.4604695),
    },
}
# 北京站 (Beijing railway station), from the examples of geoChina (caijun/geoChina, R/cst.R), to
# five decimals: each point is rounded by up to 0.7 m, so only single steps can be held to 1 m.
BEIJING_STATION = {
    System.WGS84: (39.90105, 116.42079),
    System.GCJ02: (39.90245, 116.42703),
    System.BD09: (39.90851, 116.43351),
}


def district_points(centre: geo.Point) -> list[geo.Point]:
    """A district's worth of points: every 2.5 km over a square 10 km across."""
    steps = (-5000, -2500, 0, 2500, 5000)
    return [geo.offset(centre, north, east) for north in steps for east in steps]


@CITIES
@SHIFTED
def test_a_point_comes_back_from_wgs84_to_within_a_millimetre(centre, system):
    for point in district_points(centre):
        there_and_back = coords.from_wgs84(*coords.to_wgs84(*point, system), system)
        assert geo.distance_m(point, there_and_back) < 0.001
        back_and_there = coords.to_wgs84(*coords.from_wgs84(*point, system), system)
        assert geo.distance_m(point, back_and_there) < 0.001


@CITIES
def test_the_shifts_are_those_of_the_map_apps(centre):
    # What makes the round trip mean something: each system really moves the point, east mostly.
    gcj, bd = coords.from_wgs84(*centre, System.GCJ02), coords.from_wgs84(*centre, System.BD09)
    assert 550 < geo.distance_m(centre, gcj) < 620
    assert 1250 < geo.distance_m(centre, bd) < 1450
    assert gcj[1] > centre[1] and bd[0] > gcj[0] and bd[1] > gcj[1]


@pytest.mark.parametrize("city", PUBLISHED)
def test_it_agrees_with_published_points_to_within_a_metre(city):
    points = PUBLISHED[city]
    wgs, gcj, bd = points[System.WGS84], points[System.GCJ02], points[System.BD09]
    for system in (System.GCJ02, System.BD09):
        assert geo.distance_m(coords.from_wgs84(*wgs, system), points[system]) < 1
        assert geo.distance_m(coords.to_wgs84(*points[system], system), wgs) < 1
    assert geo.distance_m(coords.gcj02_to_bd09(*gcj), bd) < 0.02
    assert geo.distance_m(coords.bd09_to_gcj02(*bd), gcj) < 0.02


def test_it_agrees_with_beijing_stations_published_points_to_within_a_metre():
    wgs, gcj, bd = (BEIJING_STATION[s] for s in (System.WGS84, System.GCJ02, System.BD09))
    assert geo.distance_m(coords.from_wgs84(*wgs, System.GCJ02), gcj) < 1
    assert geo.distance_m(coords.to_wgs84(*gcj, System.GCJ02), wgs) < 1
    assert geo.distance_m(coords.gcj02_to_bd09(*gcj), bd) < 1
    assert geo.distance_m(coords.bd09_to_gcj02(*bd), gcj) < 1


@pytest.mark.parametrize(
    "point",
    [(35.6812, 139.7671), (51.5007, -0.1246), (-33.8568, 151.2153)],
    ids=["Tokyo", "London", "Sydney"],
)
def test_outside_china_gcj02_is_wgs84(point):
    assert not coords.in_china(*point)
    assert coords.from_wgs84(*point, System.GCJ02) == point
    assert coords.to_wgs84(*point, System.GCJ02) == point


def test_it_takes_what_a_form_or_a_sheet_gives():
    assert coords.to_wgs84(Decimal("43.88"), Decimal("125.32"), "gcj02") == coords.to_wgs84(
        43.88, 125.32, System.GCJ02
    )
    assert coords.to_wgs84(Decimal("43.88"), "125.32", "wgs84") == CHANGCHUN
    with pytest.raises(ValueError):
        coords.to_wgs84(43.88, 125.32, "mercator")


def test_the_systems_are_named_for_the_apps_in_both_languages():
    with translation.override("zh-hans"):
        assert [str(label) for label in System.labels] == [
            "WGS-84（GPS）",
            "GCJ-02（高德地图、腾讯地图）",
            "BD-09（百度地图）",
        ]
    with translation.override("en"):
        assert str(System.GCJ02.label) == "GCJ-02 (Amap, Tencent Maps)"


# A district of 长春 as its compounds span it: 4 km by 4 km around the centre.
DISTRICT = Bounds.around(geo.offset(CHANGCHUN, n, e) for n in (-2000, 2000) for e in (-2000, 2000))


INSIDE = [(0, 0), (1500, -1500), (-1500, 1500)]  # metres north and east of the centre


def rounded(point: geo.Point) -> geo.Point:
    """A point as a person copies it, six decimals, so the messages show it as written here."""
    return round(point[0], 6), round(point[1], 6)


def test_the_margin_widens_each_side_of_the_box():
    wide = DISTRICT.enlarged(150)
    assert geo.distance_m((DISTRICT.south, 125), (wide.south, 125)) == pytest.approx(150)
    assert geo.distance_m((DISTRICT.north, 125), (wide.north, 125)) == pytest.approx(150)
    assert wide.west < DISTRICT.west and wide.east > DISTRICT.east
    east_edge = geo.distance_m((DISTRICT.north, DISTRICT.east), (DISTRICT.north, wide.east))
    assert east_edge == pytest.approx(150, rel=1e-3)


def test_a_point_in_the_district_or_within_the_margin_has_nothing_wrong():
    for point in [geo.offset(CHANGCHUN, north, east) for north, east in INSIDE]:
        assert coords.likely_cause(*point, System.WGS84, DISTRICT) is None
        for system in (System.GCJ02, System.BD09):
            assert coords.likely_cause(*coords.from_wgs84(*point, system), system, DISTRICT) is None
    just_south = geo.offset((DISTRICT.south, CHANGCHUN[1]), -100, 0)
    assert coords.likely_cause(*just_south, "wgs84", tuple(DISTRICT)) is None


def test_swapped_latitude_and_longitude_are_named():
    with translation.override("en"):
        assert coords.likely_cause(125.32, 43.88, System.WGS84, DISTRICT) == (
            "125.32, 43.88 is outside the district, but 43.88, 125.32 is inside it: latitude and "
            "longitude look swapped. Enter the latitude first (in China it is the smaller number)."
        )
    with translation.override("zh-hans"):
        assert coords.likely_cause(Decimal("125.32"), Decimal("43.88"), "wgs84", DISTRICT) == (
            "125.32, 43.88 在该区以外，而 43.88, 125.32 在该区以内：纬度和经度好像写反了。"
            "请先填纬度（在中国，纬度是较小的那个数）。"
        )
    gcj_lat, gcj_lng = rounded(coords.from_wgs84(*CHANGCHUN, System.GCJ02))
    swapped = coords.likely_cause(gcj_lng, gcj_lat, System.GCJ02, DISTRICT)
    assert swapped.startswith(
        f"{gcj_lng}, {gcj_lat} 在该区以外，而 {gcj_lat}, {gcj_lng} 在该区以内"
    )


def test_an_amap_point_typed_as_gps_at_the_edge_is_named():
    # 100 m inside the north-east corner: read as WGS-84, its GCJ-02 lands 500 m east of the box.
    # Read as BD-09 it would be inside too, 800 m south-west; GCJ-02 moves it less and is named.
    corner = geo.offset((DISTRICT.north, DISTRICT.east), -100, -100)
    lat, lng = rounded(coords.from_wgs84(*corner, System.GCJ02))
    assert DISTRICT.enlarged(coords.MARGIN_M).contains(coords.to_wgs84(lat, lng, System.BD09))
    with translation.override("en"):
        assert coords.likely_cause(lat, lng, System.WGS84, DISTRICT) == (
            f"{lat}, {lng} is outside the district as WGS-84 (GPS), but inside it as GCJ-02 "
            "(Amap, Tencent Maps): the point looks like it was taken in GCJ-02 (Amap, Tencent "
            "Maps). Choose GCJ-02 (Amap, Tencent Maps) as its coordinate system."
        )
    with translation.override("zh-hans"):
        assert coords.likely_cause(lat, lng, System.WGS84, DISTRICT) == (
            f"{lat}, {lng} 按 WGS-84（GPS）在该区以外，"
            "按 GCJ-02（高德地图、腾讯地图）则在该区以内："
            "这个位置好像取自 GCJ-02（高德地图、腾讯地图）。"
            "请把它的坐标系选为 GCJ-02（高德地图、腾讯地图）。"
        )


def test_a_baidu_point_typed_as_gps_at_the_edge_is_named():
    corner = geo.offset((DISTRICT.north, DISTRICT.east), -100, -100)
    lat, lng = rounded(coords.from_wgs84(*corner, System.BD09))
    with translation.override("zh-hans"):
        cause = coords.likely_cause(lat, lng, System.WGS84, DISTRICT)
    assert cause.startswith(
        f"{lat}, {lng} 按 WGS-84（GPS）在该区以外，按 BD-09（百度地图）则在该区以内"
    )


def test_a_gps_point_said_to_be_from_amap_is_named():
    corner = rounded(geo.offset((DISTRICT.south, DISTRICT.west), 100, 100))
    with translation.override("zh-hans"):
        cause = coords.likely_cause(*corner, System.GCJ02, DISTRICT)
    assert cause.startswith(
        f"{corner[0]}, {corner[1]} 按 GCJ-02（高德地图、腾讯地图）在该区以外，"
        "按 WGS-84（GPS）则在该区以内"
    )


def test_a_point_nothing_explains_is_outside():
    # 300 m south of the district: every other system moves it farther south-west still.
    lat, lng = rounded(geo.offset((DISTRICT.south, CHANGCHUN[1]), -300, 0))
    with translation.override("en"):
        assert coords.likely_cause(lat, lng, System.WGS84, DISTRICT) == (
            f"{lat}, {lng}, read as WGS-84 (GPS), is outside the district, and neither swapping "
            "latitude and longitude nor another coordinate system puts it inside. Check the point "
            "on a map."
        )
    with translation.override("zh-hans"):
        assert coords.likely_cause(*LUOYANG, System.BD09, DISTRICT) == (
            "34.62, 112.45 按 BD-09（百度地图）在该区以外，"
            "把纬度和经度对调或换一种坐标系也都不在该区以内。请在地图上核对这个位置。"
        )


def test_a_wide_margin_hides_a_wrong_system():
    corner = geo.offset((DISTRICT.north, DISTRICT.east), -100, -100)
    gcj = coords.from_wgs84(*corner, System.GCJ02)
    assert coords.likely_cause(*gcj, System.WGS84, DISTRICT) is not None
    assert coords.likely_cause(*gcj, System.WGS84, DISTRICT, margin_m=2000) is None


def test_coordinates_are_shown_as_people_write_them():
    assert coords._number(43.88) == "43.88"
    assert coords._number(125.3235533) == "125.323553"
    assert coords._number(-0.5) == "-0.5"
    assert coords._number(125.0) == "125"
    assert math.isclose(float(coords._number(34.6206943)), 34.620694)
