"""The compound list: staff and the city administrator bring residential compounds and their gates
in from Excel, all or nothing, points as map apps give them."""

import pytest
from django.urls import reverse
from django.utils import translation

from communities import sheets
from communities.models import Community, CompoundGate, ResidentialCompound
from communities.roles import make_staff
from portal import audit
from portal.lib import coords, geo
from tests.conftest import _user, client_for
from tests.sheet_helpers import Pages, counts, problems, row_of, xlsx, xlsx_rows

PAGES = Pages("communities", "residentialcompound")
INSIDE = (43.885, 125.285)  # between the two communities below, in 绿园区


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def linyuan(subdistrict) -> Community:
    return Community.objects.create(
        subdistrict=subdistrict, name="林园社区", latitude=43.89, longitude=125.28
    )


@pytest.fixture
def leifeng(subdistrict) -> Community:
    community = Community.objects.create(
        subdistrict=subdistrict, name="雷锋社区", latitude=43.87, longitude=125.30
    )
    ResidentialCompound.objects.create(
        community=community, name="雷锋小区", latitude=43.871, longitude=125.301
    )
    return community


@pytest.fixture
def staff(linyuan, leifeng):
    user = _user("staff-linyuan")
    make_staff(user, linyuan)
    return user


def line(**cells) -> list:
    values = {
        "name": "林园小区",
        "latitude": INSIDE[0],
        "longitude": INSIDE[1],
        "population": 1200,
        "households": 450,
        **cells,
    }
    return row_of(sheets.LAYOUT, **values)


def sheet(*rows) -> bytes:
    return xlsx(sheets.LAYOUT, list(rows))


class TestImport:
    def test_new_compounds_with_gates_are_saved_and_recorded(self, staff, linyuan):
        client = client_for(staff)
        content = sheet(
            line(gates="北门 43.8855,125.2850；东门 43.8850,125.2856", address="林园路8号"),
            line(name="林园二区", population=800),
        )
        assert PAGES.imported(client, content) == {
            "new": 2,
            "changed": 0,
            "unchanged": 0,
            "bad": 0,
        }
        made = ResidentialCompound.objects.get(name="林园小区")
        assert (made.community, made.population, made.households) == (linyuan, 1200, 450)
        assert made.address == "林园路8号"
        gates = {g.name: g.point for g in made.gates.all()}
        assert gates == {"北门": (43.8855, 125.285), "东门": (43.885, 125.2856)}
        assert not ResidentialCompound.objects.get(name="林园二区").gates.exists()
        # The audit trail records the import's rows with who did it.
        events = audit.history_of(made)
        assert events and staff.username in events[0].who

    def test_gcj02_points_are_stored_as_wgs84_and_exported_as_given(self, staff, linyuan):
        client = client_for(staff)
        shown = coords.from_wgs84(*INSIDE, "gcj02")
        gate = geo.offset(INSIDE, 60, 0)
        gate_shown = coords.from_wgs84(*gate, "gcj02")
        cells = {
            "latitude": shown[0],
            "longitude": shown[1],
            "point_system": "高德",
            "gates": f"南门 {gate_shown[0]:.8f},{gate_shown[1]:.8f}",
        }
        PAGES.imported(client, sheet(line(**cells)))
        made = ResidentialCompound.objects.get(name="林园小区")
        assert made.point_system == "gcj02"
        assert geo.distance_m(made.point, INSIDE) < 0.01
        stored_gate = made.gates.get()
        assert stored_gate.point_system == "gcj02"
        assert geo.distance_m(stored_gate.point, gate) < 0.01
        rows = xlsx_rows(PAGES.exported(client), sheets.SHEET_TITLE)
        exported = dict(zip(sheets.LAYOUT.headers, rows[1], strict=True))
        assert exported["坐标系"] == "GCJ-02"
        assert abs(exported["纬度"] - shown[0]) < 1e-6
        assert exported["出入口"].startswith("南门 ")
        # An export imported again changes nothing.
        assert counts(PAGES.preview(client, PAGES.exported(client))) == {
            "new": 0,
            "changed": 0,
            "unchanged": 1,
            "bad": 0,
        }

    @pytest.mark.parametrize("kind", ["xlsx", "csv"])
    def test_the_city_administrators_export_round_trips(self, city_admin, linyuan, leifeng, kind):
        ResidentialCompound.objects.create(
            community=linyuan, name="林园小区", latitude=43.8851234567, longitude=125.2851234567
        )
        compound = ResidentialCompound.objects.get(name="雷锋小区")
        CompoundGate.objects.create(
            compound=compound, name="北门", latitude=43.8712, longitude=125.3
        )
        client = client_for(city_admin)
        response = PAGES.preview(client, PAGES.exported(client, kind), f"清单.{kind}")
        assert counts(response) == {"new": 0, "changed": 0, "unchanged": 2, "bad": 0}

    def test_a_changed_row_shows_before_and_after_and_gates_are_replaced(self, staff, linyuan):
        client = client_for(staff)
        PAGES.imported(client, sheet(line(gates="北门 43.8855,125.2850；东门 43.8850,125.2856")))
        compound = ResidentialCompound.objects.get(name="林园小区")
        north = compound.gates.get(name="北门")
        rows = xlsx_rows(PAGES.exported(client), sheets.SHEET_TITLE)
        headers = rows[0]
        rows[1][headers.index("人口")] = 1500
        rows[1][headers.index("出入口")] = "北门 43.8855,125.285；西门 43.8851,125.2844"
        response = PAGES.preview(client, xlsx(sheets.LAYOUT, rows[1:]))
        plan = response.context["plan"]
        assert counts(response)["changed"] == 1
        assert ("人口", "1200", "1500") in plan.rows[0].changes
        PAGES.confirm(client, response)
        compound.refresh_from_db()
        assert compound.population == 1500
        assert set(compound.gates.values_list("name", flat=True)) == {"北门", "西门"}
        assert compound.gates.get(name="北门").pk == north.pk  # kept, not rewritten

    def test_a_rename_by_key(self, staff, linyuan):
        client = client_for(staff)
        PAGES.imported(client, sheet(line()))
        key = ResidentialCompound.objects.get(name="林园小区").pk
        PAGES.imported(client, sheet(line(id=key, name="林园新区")))
        assert ResidentialCompound.objects.get(pk=key).name == "林园新区"


class TestBadRows:
    def test_every_bad_cell_is_named_and_nothing_is_saved(self, staff, linyuan):
        client = client_for(staff)
        content = sheet(
            line(name="好小区"),
            line(name="对调小区", latitude=INSIDE[1], longitude=INSIDE[0]),
            line(name="", population=10),
            line(name="人口小区", population="很多"),
            line(name="门小区", gates="北门 43.88"),
            line(name="外社区小区", community="雷锋社区"),
            line(name="无名社区小区", community="不存在社区"),
            line(name="坐标系小区", point_system="谷歌"),
        )
        response = PAGES.preview(client, content)
        found = problems(response)
        by_row = {number: (column, why) for number, column, why in found}
        assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9]
        assert by_row[3][0] == "纬度、经度" and "swapped" in by_row[3][1]
        assert by_row[4][0] == "名称"
        assert by_row[5][0] == "人口"
        assert by_row[6][0] == "出入口" and "latitude,longitude" in by_row[6][1]
        assert by_row[7] == ("社区", "This community is not yours to change: 雷锋社区")
        assert by_row[8][0] == "社区"
        assert by_row[9][0] == "坐标系"
        assert response.context["digest"] == ""
        assert not ResidentialCompound.objects.filter(community=linyuan).exists()

    def test_a_gate_outside_the_district_is_refused(self, staff, linyuan):
        response = PAGES.preview(client_for(staff), sheet(line(gates="北门 39.9,116.4")))
        assert problems(response)[0][1] == "出入口"
        assert "Not in 绿园区" in problems(response)[0][2]

    def test_two_rows_of_one_name(self, staff, linyuan):
        response = PAGES.preview(client_for(staff), sheet(line(), line()))
        assert problems(response) == [
            (3, "名称", "Row 2 already has a compound “林园小区” in 林园社区.")
        ]

    def test_a_key_of_another_communitys_compound_is_not_yours(self, staff, leifeng):
        other = ResidentialCompound.objects.get(name="雷锋小区")
        response = PAGES.preview(client_for(staff), sheet(line(id=other.pk)))
        assert problems(response)[0][:2] == (2, "编号")
        assert "not yours" in problems(response)[0][2]


class TestPages:
    def test_the_changelist_links_to_the_list_pages(self, staff, linyuan):
        response = client_for(staff).get(
            reverse("admin:communities_residentialcompound_changelist")
        )
        for page in ("import", "template"):
            assert reverse(f"admin:communities_residentialcompound_{page}") in response.text

    def test_officials_may_not_use_them(self, linyuan):
        from communities.models import Membership

        official = _user("official")
        Membership.objects.create(
            user=official, role=Membership.Role.OFFICIAL, district=linyuan.subdistrict.district
        )
        response = client_for(official).get(reverse("admin:communities_residentialcompound_import"))
        assert response.status_code in (302, 403)

    def test_the_blank_template_has_the_guide(self, staff):
        response = client_for(staff).get(reverse("admin:communities_residentialcompound_template"))
        rows = xlsx_rows(response.content, sheets.SHEET_TITLE)
        assert rows == [sheets.LAYOUT.headers]
        guide = xlsx_rows(response.content, "说明")
        assert any(r[0] == "出入口" for r in guide)
        assert any(r[0] == "GCJ-02" for r in guide)


def test_a_long_preview_lists_the_first_rows_and_says_so(staff, linyuan, monkeypatch):
    from communities import sheet_admin

    monkeypatch.setattr(sheet_admin, "SHOWN", 3)
    rows = [line(name=f"林园{n}区", latitude=INSIDE[0] + n * 1e-4) for n in range(5)]
    client = client_for(staff)
    response = PAGES.preview(client, sheet(*rows))
    assert counts(response)["new"] == 5
    text = response.text
    assert "林园2区" in text and "林园3区" not in text
    assert "The first 3 of 5 are listed here; confirming imports them all." in text
    PAGES.confirm(client, response)
    assert ResidentialCompound.objects.filter(community=linyuan).count() == 5
