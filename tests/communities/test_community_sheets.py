"""The community list: the city administrator brings a new district (长春市南关区, 220102, from
../shared/divisions) in from Excel: its subdistricts, then its communities."""

import csv
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from communities import community_sheets
from communities.models import Community, District, Subdistrict
from communities.roles import make_staff
from portal.lib import coords, geo
from tests.conftest import _user, client_for
from tests.sheet_helpers import Pages, counts, problems, row_of, xlsx

PAGES = Pages("communities", "community")
# 南关区's rows of the divisions' streets.csv (statistical codes 2023, WTFPL).
DIVISIONS = Path(__file__).resolve().parents[1] / "data" / "nanguan_streets.csv"
NANGUAN = {"province_code": "22", "province": "吉林省", "city_code": "2201", "city": "长春市"}
OFFICE = (43.8601, 125.3305)  # 南关区, WGS-84


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def subdistrict_rows() -> list[list]:
    """南关区's real subdistricts, a row each with no community."""
    with DIVISIONS.open(encoding="utf-8") as f:
        streets = [r for r in csv.DictReader(f) if r["district_code"] == "220102"]
    return [
        row_of(
            community_sheets.LAYOUT,
            **NANGUAN,
            district_code="220102",
            district="南关区",
            subdistrict_code=street["code"],
            subdistrict=street["name"],
        )
        for street in streets
    ]


def community(name, sub="220102001", **cells) -> list:
    values = {
        "district_code": "220102",
        "subdistrict_code": sub,
        "name": name,
        "latitude": OFFICE[0],
        "longitude": OFFICE[1],
        "population": 9000,
        **cells,
    }
    return row_of(community_sheets.LAYOUT, **values)


def test_a_new_district_comes_in_from_its_divisions_then_its_communities(city_admin):
    client = client_for(city_admin)
    streets = subdistrict_rows()
    assert len(streets) >= 10
    assert PAGES.imported(client, xlsx(community_sheets.LAYOUT, streets))["new"] == len(streets)
    district = District.objects.get(code="220102")
    assert (district.name, district.city, district.province_code) == ("南关区", "长春市", "22")
    assert Subdistrict.objects.filter(district=district).count() == len(streets)
    shown = coords.from_wgs84(*geo.offset(OFFICE, 800, 0), "gcj02")
    content = xlsx(
        community_sheets.LAYOUT,
        [
            community("南岭社区", households=3200, phone="0431-85550100"),
            community(
                "自强社区",
                sub="220102002",
                latitude=shown[0],
                longitude=shown[1],
                point_system="GCJ-02",
            ),
        ],
    )
    assert PAGES.imported(client, content)["new"] == 2
    made = Community.objects.get(name="自强社区")
    assert made.subdistrict.code == "220102002" and made.point_system == "gcj02"
    assert geo.distance_m(made.point, geo.offset(OFFICE, 800, 0)) < 0.01
    assert Community.objects.get(name="南岭社区").slug  # made from the pinyin
    # The export comes back unchanged, subdistricts without communities included.
    response = PAGES.preview(client, PAGES.exported(client))
    assert counts(response)["changed"] == counts(response)["bad"] == 0


def test_bad_rows_are_named_and_nothing_is_saved(city_admin):
    client = client_for(city_admin)
    rows = [
        *subdistrict_rows()[:2],
        community("好社区"),
        community("对调社区", latitude=OFFICE[1], longitude=OFFICE[0]),
        community("坏代码社区", sub="22010200"),
        community("别区社区", sub="220106001"),
    ]
    response = PAGES.preview(client, xlsx(community_sheets.LAYOUT, rows))
    found = {number: (column, why) for number, column, why in problems(response)}
    assert sorted(found) == [5, 6, 7]
    assert "swapped" in found[5][1]
    assert found[6][0] == "街道代码"
    assert found[7][0] == "街道代码"
    assert not District.objects.filter(code="220102").exists()


def test_a_known_district_must_be_named_as_it_is(city_admin, district):
    row = row_of(
        community_sheets.LAYOUT,
        district_code=district.code,
        district="别的名字",
        subdistrict_code=district.code + "001",
        subdistrict="正阳街道",
    )
    response = PAGES.preview(client_for(city_admin), xlsx(community_sheets.LAYOUT, [row]))
    assert problems(response)[0][1] == "区县"


def test_only_the_city_administrator_may_use_it(community_a):
    staff = _user("staff-a")
    make_staff(staff, community_a)
    client = client_for(staff)
    assert client.get(reverse("admin:communities_community_import")).status_code == 403
    changelist = client.get(reverse("admin:communities_community_changelist"))
    assert reverse("admin:communities_community_import") not in changelist.text
