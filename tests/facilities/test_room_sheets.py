"""The idle room list: the "4+N" inventory of empty rooms in and out of Excel, and the reports
suggesting a room only for the services it could take."""

import pytest
from django.utils import translation

from communities.models import Community, ResidentialCompound
from communities.roles import make_staff
from facilities import room_sheets
from facilities.models import Category, IdleRoom
from portal.lib import coords, geo
from tests.conftest import _user, client_for
from tests.sheet_helpers import Pages, counts, problems, row_of, xlsx, xlsx_rows

PAGES = Pages("facilities", "idleroom")
INSIDE = (43.885, 125.285)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def leifeng(subdistrict) -> Community:
    community = Community.objects.create(
        subdistrict=subdistrict, name="雷锋社区", latitude=43.87, longitude=125.30
    )
    ResidentialCompound.objects.create(
        community=community, name="雷锋小区", latitude=43.89, longitude=125.28
    )
    return community


@pytest.fixture
def staff(leifeng):
    user = _user("staff-leifeng")
    make_staff(user, leifeng)
    return user


def line(**cells) -> list:
    values = {
        "name": "原物业用房",
        "latitude": INSIDE[0],
        "longitude": INSIDE[1],
        "floor_area": 180,
        **cells,
    }
    return row_of(room_sheets.LAYOUT, **values)


def sheet(*rows) -> bytes:
    return xlsx(room_sheets.LAYOUT, list(rows))


def test_rooms_are_imported_with_their_services_and_export_round_trips(staff, leifeng):
    client = client_for(staff)
    shown = coords.from_wgs84(*INSIDE, "bd09")
    content = sheet(
        line(
            owner="物业公司",
            address="雷锋路3号",
            available_from="2027-03-01",
            services="社区食堂、养老服务站",
            notes="需加装坡道",
            latitude=shown[0],
            longitude=shown[1],
            point_system="百度",
        ),
        line(name="闲置车库", floor_area=60),
    )
    assert PAGES.imported(client, content)["new"] == 2
    room = IdleRoom.objects.get(name="原物业用房")
    assert (room.owner, room.address, room.floor_area) == ("物业公司", "雷锋路3号", 180)
    assert str(room.available_from) == "2027-03-01"
    assert room.point_system == "bd09" and geo.distance_m(room.point, INSIDE) < 0.01
    assert set(room.services.values_list("code", flat=True)) == {"canteen", "elderly_care"}
    rows = xlsx_rows(PAGES.exported(client), room_sheets.SHEET_TITLE)
    cells = dict(zip(room_sheets.LAYOUT.headers, rows[1], strict=True))
    assert cells["可承接服务"] in ("社区食堂、养老服务站", "养老服务站、社区食堂")
    assert cells["坐标系"] == "BD-09"
    again = PAGES.preview(client, PAGES.exported(client))
    assert counts(again) == {"new": 0, "changed": 0, "unchanged": 2, "bad": 0}


def test_bad_cells_are_named_and_nothing_is_saved(staff, leifeng):
    response = PAGES.preview(
        client_for(staff),
        sheet(
            line(name="好房"),
            line(name="无面积", floor_area=""),
            line(name="零面积", floor_area=0),
            line(name="坏服务", services="游泳馆"),
            line(name="坏日期", available_from="明年"),
            line(name="对调", latitude=INSIDE[1], longitude=INSIDE[0]),
        ),
    )
    found = {number: (column, why) for number, column, why in problems(response)}
    assert sorted(found) == [3, 4, 5, 6, 7]
    assert found[3][0] == found[4][0] == "面积(m²)"
    assert found[5][0] == "可承接服务" and "游泳馆" in found[5][1]
    assert found[6][0] == "可用日期"
    assert "swapped" in found[7][1]
    assert not IdleRoom.objects.exists()


def test_the_reports_suggest_a_room_only_for_the_services_it_could_take(staff, leifeng):
    from reports import report_data

    room = report_data.Room(1, "房", leifeng.pk, *INSIDE, 400, "", None, "", ("canteen",))
    assert room.could_take("canteen") and not room.could_take("barber")
    anything = report_data.Room(2, "房", leifeng.pk, *INSIDE, 400, "", None, "")
    assert anything.could_take("barber")


def test_a_rooms_services_reach_the_area_data(staff, leifeng):
    from reports import report_data

    PAGES.imported(client_for(staff), sheet(line(services="社区食堂")))
    area = report_data.Area.__new__(report_data.Area)
    area.places = (type("P", (), {"id": leifeng.pk})(),)
    rooms = report_data._rooms(area)
    assert [r.services for r in rooms] == [("canteen",)]
    assert Category.objects.filter(idle_rooms__isnull=False).count() == 1


def test_changing_only_a_rooms_services_tells_the_reports(
    staff, leifeng, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from reports import report_data

    client = client_for(staff)
    PAGES.imported(client, sheet(line()))
    before = cache.get(report_data.STRUCTURE_KEY, 0)
    with django_capture_on_commit_callbacks(execute=True):
        counts = PAGES.imported(client, sheet(line(services="社区超市")))
    assert counts["changed"] == 1
    assert cache.get(report_data.STRUCTURE_KEY, 0) > before
