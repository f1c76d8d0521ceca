"""The resource list: staff export their facilities to Excel or CSV, and import a sheet back
through a preview that shows every row as new, changed or unchanged, or bad with its row, column
and reason; confirming writes every row or none, and only ever in the user's own communities."""

import csv
import dataclasses
import io
import zipfile
from datetime import date, time

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from communities.models import Community, ResidentialCompound, Subdistrict
from communities.roles import STAFF_GROUP, make_staff
from facilities import sheets
from facilities.models import Category, Facility, HoursException, OpeningHours
from facilities.sheets import HoursError, format_hours, parse_hours
from portal import audit, caching
from portal.lib import coords, geo
from portal.lib.sheets import system_word
from tests.conftest import _user, client_for


def limited_rows(monkeypatch, rows: int) -> None:
    """The resource list pages as if the list allowed only ``rows`` rows."""
    layout = dataclasses.replace(sheets.LAYOUT, max_rows=rows)
    kind = dataclasses.replace(sheets.KIND, layout=layout)
    monkeypatch.setattr(admin.site._registry[Facility], "sheet", kind)


pytestmark = pytest.mark.django_db

IMPORT = "admin:facilities_facility_import"
CONFIRM = "admin:facilities_facility_import_confirm"
# A point inside 绿园区: between its communities (43.87–43.89 N, 125.27–125.30 E).
INSIDE = (43.885, 125.285)


# --- fixtures: two neighbouring communities of one district ---------------------------------


@pytest.fixture(autouse=True)
def english(settings):
    """These tests read the messages in English, the language they are written in; the browser
    journey (tests/browser/test_back_office_journey.py) reads them in Chinese, and
    tests/portal/test_translations.py holds every one translated."""
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
def staff_linyuan(linyuan, leifeng):
    user = _user("staff-linyuan")
    make_staff(user, linyuan)
    return user


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def facility(community, name, *, hours=(), **fields) -> Facility:
    fields = {"latitude": INSIDE[0], "longitude": INSIDE[1], **fields}
    made = Facility.objects.create(
        community=community,
        category=fields.pop("category", category("canteen")),
        name=name,
        **fields,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(facility=made, weekday=d, opens=o, closes=c) for d, o, c in hours
    )
    return made


WEEKDAYS_8_17 = [(d, time(8), time(17)) for d in range(5)] + [(5, time(9), time(12))]


@pytest.fixture
def linyuan_canteen(linyuan) -> Facility:
    made = facility(
        linyuan,
        "林园小区助餐点",
        hours=WEEKDAYS_8_17,
        phone="0431-85550001",
        address="林园路1号",
        seats=40,
        step_free_entrance=True,
    )
    made.other_categories.set([category("elderly_care")])
    HoursException.objects.create(facility=made, start_date=date(2026, 10, 1), note="国庆")
    return made


@pytest.fixture
def leifeng_canteen(leifeng) -> Facility:
    return facility(leifeng, "雷锋社区长者食堂", hours=WEEKDAYS_8_17, phone="0431-85550002")


# --- building sheets ---------------------------------------------------------------------------


def line(**cells) -> list:
    """A sheet row in column order from column keys; a good new canteen unless told otherwise."""
    values = {
        "category": "社区食堂",
        "latitude": INSIDE[0],
        "longitude": INSIDE[1],
        "status": "正常开放",
        "hours": "周一至周五 08:00-17:00",
        **cells,
    }
    return [values.get(column.key, "") for column in sheets.COLUMNS]


def xlsx(rows, headers=None, *, above=()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheets.SHEET_TITLE
    for extra in above:
        sheet.append(extra)
    sheet.append(headers or sheets.HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheets.HEADERS)
    writer.writerows([sheets.cell_text(v) for v in row] for row in rows)
    return out.getvalue().encode(encoding)


def preview(client, content: bytes, name: str = "清单.xlsx"):
    response = client.post(reverse(IMPORT), {"sheet": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return response


def confirm(client, response):
    return client.post(reverse(CONFIRM), {"sha256": response.context["digest"]})


def counts(response) -> dict[str, int]:
    return response.context["plan"].counts


def problems(response) -> list[tuple[int, str, str]]:
    return [
        (number, column, why) for number, column, why, _name in response.context["plan"].problems
    ]


def exported(client, kind="xlsx") -> bytes:
    response = client.get(reverse("admin:facilities_facility_export", args=[kind]))
    assert response.status_code == 200
    return response.content


def xlsx_rows(content: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(r) for r in book[sheets.SHEET_TITLE].iter_rows(values_only=True)]


# --- the hours column ------------------------------------------------------------------------


class TestHoursColumn:
    @pytest.mark.parametrize(
        "text, ranges",
        [
            ("周一 08:00-17:00", [(0, time(8), time(17))]),
            (
                "周一至周五 07:00-19:00；周六、周日 08:00-12:00",
                [(d, time(7), time(19)) for d in range(5)]
                + [(5, time(8), time(12)), (6, time(8), time(12))],
            ),
            (
                "每天 11:00-13:30,17:00-19:00",
                sorted(
                    [(d, time(11), time(13, 30)) for d in range(7)]
                    + [(d, time(17), time(19)) for d in range(7)]
                ),
            ),
            ("周五、周六 22:00-02:00", [(4, time(22), time(2)), (5, time(22), time(2))]),
            ("每天 00:00-24:00", [(d, time(0), time(0)) for d in range(7)]),
            ("周日 08:00-24:00", [(6, time(8), time(0))]),
            ("周一至五 8:00 - 12:00", [(d, time(8), time(12)) for d in range(5)]),
            (
                "星期三 09:00～11:00，14:00～16:00",
                [(2, time(9), time(11)), (2, time(14), time(16))],
            ),
            ("周五至周一 10:00-20:00", [(d, time(10), time(20)) for d in (0, 4, 5, 6)]),
            ("周一至周五 08:00-17:00；周日 休息", [(d, time(8), time(17)) for d in range(5)]),
            ("", []),
        ],
    )
    def test_it_reads_what_staff_write(self, text, ranges):
        assert parse_hours(text) == ranges

    @pytest.mark.parametrize(
        "ranges, text",
        [
            (
                [(d, time(7), time(19)) for d in range(5)]
                + [(5, time(8), time(12)), (6, time(8), time(12))],
                "周一至周五 07:00-19:00；周六、周日 08:00-12:00",
            ),
            ([(d, time(0), time(0)) for d in range(7)], "每天 00:00-24:00"),
            ([(0, time(8), time(12)), (2, time(8), time(12))], "周一、周三 08:00-12:00"),
            ([(d, time(8), time(12)) for d in (0, 1, 2, 4)], "周一至周三、周五 08:00-12:00"),
            ([(4, time(22), time(2))], "周五 22:00-02:00"),
            ([(0, time(11), time(13)), (0, time(17), time(19))], "周一 11:00-13:00,17:00-19:00"),
            ([], ""),
        ],
    )
    def test_it_writes_the_same_format(self, ranges, text):
        assert format_hours(ranges) == text
        assert parse_hours(text) == sorted(ranges)

    def test_every_week_of_the_demo_profiles_survives_a_round_trip(self):
        from facilities.demo import hhmm
        from facilities.demo_data import HOURS

        for profile in HOURS.values():
            ranges = sorted((d, hhmm(o), hhmm(c)) for days, o, c in profile for d in days)
            assert parse_hours(format_hours(ranges)) == ranges

    @pytest.mark.parametrize(
        "text, says",
        [
            ("周一到 8点", "“周一到 8点”"),
            ("周一 8点-17点", "周一至周五 08:00-17:00"),
            ("周八 08:00-09:00", "“周八 08:00-09:00”"),
            ("08:00-17:00", "gives no days"),
            ("周一至周五", "gives no times"),
            ("周一 25:00-26:00", "“25:00” is not a time of day"),
            ("周一 08:75-09:00", "“08:75”"),
            ("周一 24:00-08:00", "“24:00”"),
            ("每天 08:00-12:00；周六 14:00-18:00", "周六 is given twice"),
            ("周一 08:00", "“周一 08:00”"),
        ],
    )
    def test_it_says_what_it_cannot_read_and_how_to_write_it(self, text, says):
        with pytest.raises(HoursError) as error:
            parse_hours(text)
        assert says in str(error.value)


# --- export and the template ----------------------------------------------------------------


class TestExport:
    def test_xlsx_holds_exactly_my_communitys_facilities_with_readable_hours(
        self, staff_linyuan, linyuan_canteen, leifeng_canteen
    ):
        rows = xlsx_rows(exported(client_for(staff_linyuan)))
        assert rows[0] == sheets.HEADERS
        assert len(rows) == 2
        cells = dict(zip(sheets.HEADERS, rows[1], strict=True))
        assert cells["名称"] == "林园小区助餐点"
        assert cells["编号"] == linyuan_canteen.slug
        assert cells["营业时间"] == "周一至周五 08:00-17:00；周六 09:00-12:00"
        assert cells["其他类别"] == "养老服务站"
        assert cells["纬度"] == INSIDE[0]
        assert (cells["座位数"], cells["无障碍入口"], cells["电梯"]) == (40, "是", "否")

    def test_csv_is_utf8_with_a_byte_order_mark_for_excel(
        self, staff_linyuan, linyuan_canteen, leifeng_canteen
    ):
        content = exported(client_for(staff_linyuan), "csv")
        assert content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[0] == sheets.HEADERS
        assert [r[2] for r in rows[1:]] == ["林园小区助餐点"]
        assert (
            rows[1][sheets.HEADERS.index("营业时间")] == "周一至周五 08:00-17:00；周六 09:00-12:00"
        )

    def test_the_city_administrator_exports_every_community(
        self, city_admin, linyuan_canteen, leifeng_canteen
    ):
        names = {r[2] for r in xlsx_rows(exported(client_for(city_admin)))[1:]}
        assert names == {"林园小区助餐点", "雷锋社区长者食堂"}

    def test_a_name_that_looks_like_a_formula_stays_text(self, staff_linyuan, linyuan):
        facility(linyuan, "=HYPERLINK(1)")
        rows = xlsx_rows(exported(client_for(staff_linyuan)))
        assert rows[1][2] == "=HYPERLINK(1)"
        book = openpyxl.load_workbook(io.BytesIO(exported(client_for(staff_linyuan))))
        assert book[sheets.SHEET_TITLE]["C2"].data_type == "s"
        content = exported(client_for(staff_linyuan), "csv").decode("utf-8-sig")
        assert "'=HYPERLINK(1)" in content

    def test_a_list_too_long_to_import_is_written_all_the_same(
        self, staff_linyuan, linyuan_canteen, monkeypatch
    ):
        normal = xlsx_rows(exported(client_for(staff_linyuan)))
        monkeypatch.setattr(
            sheets, "LAYOUT", dataclasses.replace(sheets.LAYOUT, max_rows=0)
        )  # write-only, as for a city-wide list
        assert xlsx_rows(exported(client_for(staff_linyuan))) == normal

    def test_the_blank_template_has_the_headers_and_a_guide_with_the_example(self, staff_linyuan):
        response = client_for(staff_linyuan).get(reverse("admin:facilities_facility_template"))
        assert response["Content-Type"] == sheets.XLSX_TYPE
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == [sheets.SHEET_TITLE, sheets.GUIDE_TITLE]
        assert xlsx_rows(response.content) == [sheets.HEADERS]
        guide = [c for row in book[sheets.GUIDE_TITLE].iter_rows(values_only=True) for c in row]
        assert "示例：幸福社区助餐点" in guide
        assert "社区食堂" in guide  # the categories it may name
        assert all(header in guide for header in sheets.HEADERS)

    def test_the_template_imports_as_nothing_and_its_example_row_is_refused(self, staff_linyuan):
        client = client_for(staff_linyuan)
        template = client.get(reverse("admin:facilities_facility_template")).content
        assert "no rows" in preview(client, template).context["plan"].file_problems[0]
        example = [c.example for c in sheets.COLUMNS]
        response = preview(client, xlsx([example]))
        assert any("example row" in why for _n, _c, why in problems(response))


# --- import ----------------------------------------------------------------------------------


class TestRoundTrip:
    @pytest.fixture
    def varied(self, linyuan, linyuan_canteen):
        """Facilities with everything the sheet carries, awkward cases included."""
        facility(
            linyuan,
            "林园便利店",
            category=category("convenience"),
            hours=[(d, time(22), time(2)) for d in (4, 5)] + [(0, time(0), time(0))],
            status="paused",
            opened_on=date(2020, 5, 1),
            holiday_rule="sunday",
            description="第一行\n第二行",
            price_notes="=不是公式",
            lift=True,
            hearing_loop=True,
            floor_area=85,
            latitude=43.8801234567891,
            longitude=125.2709876543219,
        )
        facility(
            linyuan,
            "林园新食堂",
            status="planned",
            planned_opening=date(2027, 1, 1),
            hours=[(d, time(11), time(13, 30)) for d in range(7)]
            + [(d, time(17), time(19)) for d in range(7)],
            holiday_rule="closed",
        )

    @pytest.mark.parametrize("kind, name", [("xlsx", "清单.xlsx"), ("csv", "清单.csv")])
    def test_export_then_import_changes_nothing(self, staff_linyuan, varied, kind, name):
        client = client_for(staff_linyuan)
        response = preview(client, exported(client, kind), name)
        assert problems(response) == []
        assert counts(response) == {"new": 0, "changed": 0, "unchanged": 3, "bad": 0}

    def test_the_city_administrators_export_round_trips_too(
        self, city_admin, varied, leifeng_canteen
    ):
        client = client_for(city_admin)
        response = preview(client, exported(client))
        assert counts(response)["unchanged"] == 4


class TestCoordinateSystems:
    """Points copied from 高德 (GCJ-02) or 百度 (BD-09): converted on the way in, given back in
    the same system on the way out, so the file staff keep reads the same both times."""

    @pytest.mark.parametrize("word, system", [("GCJ-02", "gcj02"), ("百度", "bd09")])
    def test_a_map_apps_point_is_stored_in_wgs84_and_exported_as_given(
        self, staff_linyuan, linyuan, word, system
    ):
        given = coords.from_wgs84(*INSIDE, system)
        client = client_for(staff_linyuan)
        content = xlsx(
            [line(name="林园地图店", latitude=given[0], longitude=given[1], point_system=word)]
        )
        response = preview(client, content)
        assert counts(response)["new"] == 1
        confirm(client, response)
        made = Facility.objects.get(name="林园地图店")
        assert made.point_system == system
        assert geo.distance_m(made.point, INSIDE) < 0.01
        rows = xlsx_rows(exported(client))
        cells = dict(zip(sheets.HEADERS, rows[1], strict=True))
        assert cells["坐标系"] == system_word(system)
        assert abs(cells["纬度"] - given[0]) < 1e-6 and abs(cells["经度"] - given[1]) < 1e-6
        again = preview(client, exported(client))
        assert counts(again) == {"new": 0, "changed": 0, "unchanged": 1, "bad": 0}

    def test_the_same_numbers_in_another_system_move_the_point(self, staff_linyuan, linyuan):
        client = client_for(staff_linyuan)
        confirm(client, preview(client, xlsx([line(name="林园地图店")])))
        response = preview(client, xlsx([line(name="林园地图店", point_system="GCJ-02")]))
        # The sheet's numbers stay; what they mean changes, and the stored point moves.
        assert response.context["plan"].rows[0].changes == [("坐标系", "WGS-84", "GCJ-02")]
        confirm(client, response)
        moved = geo.distance_m(Facility.objects.get(name="林园地图店").point, INSIDE)
        assert 300 < moved < 700

    def test_an_unknown_system_is_named(self, staff_linyuan, linyuan):
        response = preview(
            client_for(staff_linyuan), xlsx([line(name="林园店", point_system="谷歌")])
        )
        assert problems(response) == [
            (2, "坐标系", "Unknown coordinate system “谷歌”: write WGS-84, GCJ-02 or BD-09.")
        ]

    def test_a_sheet_without_the_column_reads_wgs84(self, staff_linyuan, linyuan):
        headers = [h for h in sheets.HEADERS if h != "坐标系"]
        row = [
            v for h, v in zip(sheets.HEADERS, line(name="林园旧表店"), strict=True) if h != "坐标系"
        ]
        response = preview(client_for(staff_linyuan), xlsx([row], headers))
        assert counts(response)["new"] == 1


class TestTwoCommunitiesOfOneName:
    @pytest.fixture
    def namesake(self, district, linyuan) -> Community:
        other = Subdistrict.objects.create(district=district, code="220106099", name="另一街道")
        return Community.objects.create(
            subdistrict=other, name="林园社区", latitude=43.88, longitude=125.29
        )

    def test_the_export_names_them_by_url_name_and_round_trips(
        self, city_admin, linyuan_canteen, namesake
    ):
        facility(namesake, "另一个林园食堂")
        client = client_for(city_admin)
        rows = xlsx_rows(exported(client))
        assert {r[1] for r in rows[1:]} == {linyuan_canteen.community.slug, namesake.slug}
        assert counts(preview(client, exported(client)))["unchanged"] == 2

    def test_a_name_two_share_is_asked_to_be_told_apart(self, city_admin, linyuan, namesake):
        response = preview(client_for(city_admin), xlsx([line(name="书屋", community="林园社区")]))
        assert problems(response)[0][1] == "社区" and "URL name" in problems(response)[0][2]


class TestFiles:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
    def test_csv_in_each_encoding_excel_writes_imports(self, staff_linyuan, linyuan, encoding):
        client = client_for(staff_linyuan)
        content = csv_file([line(name="林园理发店", address="林园路2号")], encoding)
        response = preview(client, content, "清单.csv")
        assert counts(response)["new"] == 1
        assert confirm(client, response).status_code == 302
        assert Facility.objects.get(name="林园理发店").address == "林园路2号"

    def test_english_headers_are_understood(self, staff_linyuan, linyuan):
        headers = [c.aliases[0] for c in sheets.COLUMNS]
        response = preview(client_for(staff_linyuan), xlsx([line(name="林园书屋")], headers))
        assert counts(response)["new"] == 1

    def test_a_file_that_is_no_sheet_is_refused_with_a_reason(self, staff_linyuan):
        response = preview(client_for(staff_linyuan), b"not a zip", "清单.xlsx")
        assert "cannot be read" in response.context["plan"].file_problems[0]

    def test_columns_of_its_own_are_ignored_and_named(self, staff_linyuan, linyuan):
        content = xlsx([[*line(name="林园书屋"), "自己的备注"]], [*sheets.HEADERS, "备注"])
        response = preview(client_for(staff_linyuan), content)
        assert counts(response)["new"] == 1
        assert "were not read: 备注" in response.content.decode()

    def test_missing_columns_are_named(self, staff_linyuan):
        headers = [h for h in sheets.HEADERS if h not in ("营业时间", "节假日")]
        response = preview(client_for(staff_linyuan), xlsx([], headers))
        assert "营业时间、节假日" in response.context["plan"].file_problems[0]

    def test_other_file_types_are_refused_by_the_form(self, staff_linyuan):
        client = client_for(staff_linyuan)
        response = client.post(reverse(IMPORT), {"sheet": SimpleUploadedFile("a.xls", b"x")})
        assert response.context["form"].errors["sheet"]
        assert response.context["plan"] is None

    def test_too_large_a_file_is_refused(self, staff_linyuan, monkeypatch):
        response = client_for(staff_linyuan).post(
            reverse(IMPORT), {"sheet": SimpleUploadedFile("a.csv", b"x" * (5 * 1024 * 1024 + 1))}
        )
        assert "larger than 5 MB" in str(response.context["form"].errors["sheet"])

    def test_openpyxl_reads_workbooks_through_defusedxml(self):
        import openpyxl.xml.functions

        assert openpyxl.DEFUSEDXML is True
        assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")

    @pytest.mark.parametrize(
        "doctype",
        [
            # "billion laughs": a few hundred bytes that expand to gigabytes
            '<!DOCTYPE x [<!ENTITY a "hahahahahahahahahaha">'
            + "".join(
                f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
                for p, n in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "]>",
            # an external entity: the server's own files read into the sheet
            '<!DOCTYPE x [<!ENTITY i SYSTEM "file:///etc/passwd">]>',
        ],
        ids=["entity expansion", "external entity"],
    )
    def test_a_workbook_with_xml_entities_is_refused_and_saves_nothing(
        self, staff_linyuan, linyuan, doctype
    ):
        """The workbook's XML declares entities and a cell's text uses them."""
        plain = xlsx([line(name="林园书屋")])
        parts = {}
        with zipfile.ZipFile(io.BytesIO(plain)) as archive:
            for name in archive.namelist():
                parts[name] = archive.read(name)
        # The part that holds the name: the shared strings, where openpyxl writes text.
        sheet = next(n for n, data in parts.items() if "林园书屋".encode() in data)
        xml = parts[sheet].decode()
        head, body = xml.split("?>", 1) if xml.startswith("<?xml") else ("", xml)
        body = body.replace("林园书屋", "&i;", 1)
        parts[sheet] = ((head + "?>" if head else "") + doctype + body).encode()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
        assert "&i;" in parts[sheet].decode()  # the cell really uses the entity

        response = preview(client_for(staff_linyuan), out.getvalue())

        assert response.status_code == 200
        (problem,) = response.context["plan"].file_problems
        assert "cannot be read" in problem or "damaged" in problem
        assert not Facility.objects.filter(community=linyuan).exists()

    def test_too_many_rows_are_refused(self, staff_linyuan, monkeypatch):
        limited_rows(monkeypatch, 3)
        content = xlsx([line(name=f"店{i}") for i in range(4)])
        response = preview(client_for(staff_linyuan), content)
        assert "more than 3 rows" in response.context["plan"].file_problems[0]


BAD_CELLS = [
    ({"category": "不存在的类别"}, "类别", "不存在的类别"),
    ({"other_categories": "社区食堂、火星基地"}, "其他类别", "火星基地"),
    ({"latitude": 39.9, "longitude": 116.4}, "纬度、经度", "Not in 绿园区"),
    ({"latitude": INSIDE[1], "longitude": INSIDE[0]}, "纬度、经度", "swapped"),
    ({"hours": "周一到 8点"}, "营业时间", "“周一到 8点”"),
    ({"community": "雷锋社区"}, "社区", "雷锋社区"),
    ({"community": "不存在社区"}, "社区", "不存在社区"),
    ({"name": ""}, "名称", "Fill in"),
    ({"latitude": ""}, "纬度", "Fill in"),
    ({"seats": "很多"}, "座位数", ""),
    ({"floor_area": -5}, "面积(m²)", ""),
    ({"opened_on": "2026-13-01"}, "开放日期", ""),
    ({"status": "规划中", "opened_on": "2024-01-01"}, "开放日期", ""),  # the model's message
    ({"phone": "电话号码"}, "电话", ""),
    ({"step_free_entrance": "也许"}, "无障碍入口", "是 or 否"),
    ({"status": "营业中"}, "状态", "营业中"),
    ({"holiday_rule": "看情况"}, "节假日", "看情况"),
    ({"slug": "no-such-facility"}, "编号", "no-such-facility"),
]


class TestBadRows:
    @pytest.mark.parametrize("cells, column, says", BAD_CELLS)
    def test_each_reason_comes_with_its_row_and_column(self, staff_linyuan, cells, column, says):
        good = line(name="林园好店")
        # A title line and an empty row above the headers: row numbers are Excel's own.
        content = xlsx(
            [good, [], line(**{"name": "林园坏店", **cells})], above=[["林园社区资源清单"]]
        )
        response = preview(client_for(staff_linyuan), content)
        found = problems(response)
        assert len(found) == 1, found
        number, got_column, why = found[0]
        assert (number, got_column) == (5, column)
        assert says in why
        assert response.context["digest"] == ""
        html = response.content.decode()
        assert "Rows that cannot be imported" in html
        assert 'type="file"' in html  # the upload form again

    def test_an_unknown_category_comes_with_the_likely_one(self, staff_linyuan, linyuan):
        response = preview(
            client_for(staff_linyuan), xlsx([line(name="书屋", category="社区书屋")])
        )
        assert "did you mean 图书室?" in problems(response)[0][2]

    def test_a_community_outside_my_scope_is_named(self, staff_linyuan, leifeng):
        response = preview(client_for(staff_linyuan), xlsx([line(name="x", community="雷锋社区")]))
        assert problems(response)[0][2] == "This community is not yours to change: 雷锋社区"

    def test_the_same_key_or_the_same_name_twice_is_a_duplicate(
        self, staff_linyuan, linyuan_canteen
    ):
        content = xlsx(
            [
                line(slug=linyuan_canteen.slug, name="林园小区助餐点"),
                line(slug=linyuan_canteen.slug, name="林园小区助餐点"),
                line(name="林园书屋"),
                line(name="林园书屋"),
            ]
        )
        found = problems(preview(client_for(staff_linyuan), content))
        assert [(n, c) for n, c, _why in found] == [(3, "编号"), (5, "名称")]
        assert "Row 2" in found[0][2] and "Row 4" in found[1][2]

    def test_renaming_into_another_facilitys_name_is_refused(
        self, staff_linyuan, linyuan, linyuan_canteen
    ):
        other = facility(linyuan, "林园书屋")
        content = xlsx([line(slug=other.slug, name="林园小区助餐点")])
        found = problems(preview(client_for(staff_linyuan), content))
        assert found[0][1] == "名称" and linyuan_canteen.slug in found[0][2]

    def test_staff_who_may_not_add_are_told_so_for_new_rows(self, staff_linyuan, linyuan):
        group = Group.objects.get(name=STAFF_GROUP)
        group.permissions.remove(group.permissions.get(codename="add_facility"))
        staff_linyuan = type(staff_linyuan).objects.get(pk=staff_linyuan.pk)  # fresh permissions
        found = problems(preview(client_for(staff_linyuan), xlsx([line(name="林园书屋")])))
        assert "not add" in found[0][2]


class TestAllOrNothing:
    def rows(self, count: int, bad: set[int] = frozenset()) -> list[list]:
        return [
            line(
                name=f"林园服务点{i:03d}",
                hours="周一至周五 08:00-17:00；周六 09:00-12:00",
                category="不存在" if i in bad else "社区食堂",
                other_categories="养老服务站" if i % 2 else "",
            )
            for i in range(count)
        ]

    def test_three_bad_rows_among_a_hundred_write_nothing_then_the_fixed_sheet_writes_all(
        self, staff_linyuan, linyuan
    ):
        client = client_for(staff_linyuan)
        before = (Facility.objects.count(), OpeningHours.objects.count())
        response = preview(client, xlsx(self.rows(100, bad={7, 50, 99})))
        assert [n for n, _c, _w in problems(response)] == [9, 52, 101]
        assert "Confirm the import" not in response.content.decode()
        assert confirm(client, response).status_code == 302  # no digest: sent back
        assert (Facility.objects.count(), OpeningHours.objects.count()) == before

        response = preview(client, xlsx(self.rows(100)))
        assert counts(response) == {"new": 100, "changed": 0, "unchanged": 0, "bad": 0}
        done = confirm(client, response)
        assert done.status_code == 302
        assert done["Location"] == reverse("admin:facilities_facility_changelist")
        message = [str(m) for m in client.get(done["Location"]).context["messages"]]
        assert message == ["Imported: 100 new, 0 changed, 0 unchanged."]
        created = Facility.objects.filter(community=linyuan)
        assert created.count() == 100
        assert OpeningHours.objects.count() == before[1] + 600
        assert Facility.other_categories.through.objects.count() == 50
        assert len({f.slug for f in created}) == 100
        assert confirm(client, response)["Location"] == reverse(IMPORT)  # a second click
        assert created.count() == 100

        again = preview(client, xlsx(self.rows(100)))
        assert counts(again) == {"new": 0, "changed": 0, "unchanged": 100, "bad": 0}

    def test_pages_show_the_import_at_once(
        self, staff_linyuan, linyuan, django_capture_on_commit_callbacks
    ):
        client = client_for(staff_linyuan)
        response = preview(client, xlsx(self.rows(3)))
        version = caching.content_version()
        with django_capture_on_commit_callbacks(execute=True):
            confirm(client, response)
        assert caching.content_version() > version

    def test_a_failure_while_writing_leaves_nothing_behind(
        self, staff_linyuan, linyuan, monkeypatch
    ):
        client = client_for(staff_linyuan)
        response = preview(client, xlsx(self.rows(10)))

        def fail(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(sheets, "_insert_hours", fail)  # after the facilities are written
        with pytest.raises(RuntimeError):
            confirm(client, response)
        assert not Facility.objects.filter(community=linyuan).exists()

    def test_a_row_that_no_longer_fits_at_confirm_time_stops_the_whole_import(
        self, staff_linyuan, linyuan
    ):
        client = client_for(staff_linyuan)
        library = facility(linyuan, "林园书屋")
        rows = [line(slug=library.slug, name="林园书屋", phone="0431-85550003"), *self.rows(5)]
        response = preview(client, xlsx(rows))
        assert counts(response) == {"new": 5, "changed": 1, "unchanged": 0, "bad": 0}
        library.delete()  # by someone else, in between
        again = confirm(client, response)
        assert again.status_code == 200
        assert [(n, c) for n, c, _w in problems(again)] == [(2, "编号")]
        assert not Facility.objects.filter(community=linyuan).exists()

    def test_a_stale_preview_cannot_be_confirmed(self, staff_linyuan, linyuan):
        client = client_for(staff_linyuan)
        first = preview(client, xlsx(self.rows(2)))
        preview(client, xlsx(self.rows(3)))
        assert confirm(client, first).status_code == 302
        assert not Facility.objects.filter(community=linyuan).exists()


class TestChanges:
    def test_a_changed_cell_shows_before_and_after_and_replaces_only_the_weekly_hours(
        self, staff_linyuan, linyuan_canteen
    ):
        client = client_for(staff_linyuan)
        rows = xlsx_rows(exported(client))
        hours, phone = sheets.HEADERS.index("营业时间"), sheets.HEADERS.index("电话")
        rows[1][hours] = "每天 07:00-19:00"
        rows[1][phone] = "0431-85559999"
        response = preview(client, xlsx(rows[1:]))
        assert counts(response)["changed"] == 1
        (row,) = response.context["plan"].changed_rows
        assert row.changes == [
            ("电话", "0431-85550001", "0431-85559999"),
            ("营业时间", "周一至周五 08:00-17:00；周六 09:00-12:00", "每天 07:00-19:00"),
        ]
        html = response.content.decode()
        assert "周一至周五 08:00-17:00；周六 09:00-12:00" in html and "每天 07:00-19:00" in html
        assert confirm(client, response).status_code == 302
        linyuan_canteen.refresh_from_db()
        assert linyuan_canteen.phone == "0431-85559999"
        assert set(linyuan_canteen.hours.values_list("weekday", "opens", "closes")) == {
            (d, time(7), time(19)) for d in range(7)
        }
        assert linyuan_canteen.exceptions.count() == 1  # the closure on National Day stays
        assert list(linyuan_canteen.other_categories.values_list("code", flat=True)) == [
            "elderly_care"
        ]

    def test_the_audit_trail_says_who_imported_what(self, staff_linyuan, linyuan_canteen):
        client = client_for(staff_linyuan)
        rows = xlsx_rows(exported(client))
        rows[1][sheets.HEADERS.index("营业时间")] = "周一至周五 08:00-17:00"  # Saturday goes
        rows[1][sheets.HEADERS.index("电话")] = "0431-85559999"
        confirm(client, preview(client, xlsx(rows[1:])))
        entries = [e for e in audit.for_facility(linyuan_canteen) if e.action != "insert"]
        assert {(e.model, e.action) for e in entries} == {
            (Facility, "update"),
            (OpeningHours, "delete"),  # only the Saturday range: the others stayed
        }
        assert all(e.who == "staff-linyuan" and e.via.endswith("/confirm/") for e in entries)

    def test_windows_line_breaks_are_stored_as_every_save_stores_them(
        self, staff_linyuan, linyuan_canteen
    ):
        linyuan_canteen.description = "第一行\n第二行"
        linyuan_canteen.save()
        client = client_for(staff_linyuan)
        rows = xlsx_rows(exported(client))
        rows[1][sheets.HEADERS.index("简介")] = "第一行\r\n第二行"
        assert counts(preview(client, csv_file(rows[1:]), "清单.csv"))["unchanged"] == 1
        rows[1][sheets.HEADERS.index("简介")] = "第一行\r\n第三行"
        confirm(client, preview(client, csv_file(rows[1:]), "清单.csv"))
        linyuan_canteen.refresh_from_db()
        assert linyuan_canteen.description == "第一行\n第三行"

    def test_a_row_without_a_key_changes_the_facility_of_the_same_name(
        self, staff_linyuan, linyuan_canteen
    ):
        client = client_for(staff_linyuan)
        response = preview(client, xlsx([line(name="林园小区助餐点", category="社区食堂")]))
        assert counts(response)["changed"] == 1
        confirm(client, response)
        assert Facility.objects.filter(name="林园小区助餐点").count() == 1
        assert not Facility.objects.get(name="林园小区助餐点").other_categories.exists()


class TestScope:
    def test_staff_of_linyuan_change_nothing_of_leifeng(
        self, staff_linyuan, linyuan_canteen, leifeng_canteen
    ):
        client = client_for(staff_linyuan)
        content = xlsx(
            [
                line(name="林园书屋"),
                line(name="雷锋书屋", community="雷锋社区"),
                line(slug=leifeng_canteen.slug, name="雷锋社区长者食堂", phone="0431-12345678"),
                line(slug=leifeng_canteen.slug, name="改名", community="林园社区"),
            ]
        )
        response = preview(client, content)
        found = problems(response)
        assert [(n, c) for n, c, _w in found] == [(3, "社区"), (4, "编号"), (5, "编号")]
        assert all("雷锋社区" in why for _n, _c, why in found)
        assert confirm(client, response).status_code == 302
        leifeng_canteen.refresh_from_db()
        assert (leifeng_canteen.name, leifeng_canteen.phone) == (
            "雷锋社区长者食堂",
            "0431-85550002",
        )
        assert not Facility.objects.filter(name__in=["林园书屋", "雷锋书屋", "改名"]).exists()

    def test_the_city_administrator_names_the_community_on_each_row(
        self, city_admin, linyuan, leifeng
    ):
        client = client_for(city_admin)
        content = xlsx([line(name="书屋", community="雷锋社区"), line(name="书屋2")])
        response = preview(client, content)
        assert [(n, c) for n, c, _w in problems(response)] == [(3, "社区")]

    @pytest.mark.parametrize(
        "name", [IMPORT, "admin:facilities_facility_template", "admin:facilities_facility_export"]
    )
    def test_an_official_with_back_office_access_gets_403(self, official, name):
        official.is_staff = True
        official.save()
        official.groups.add(Group.objects.get(name=STAFF_GROUP))  # permissions, but no community
        args = ["xlsx"] if name.endswith("export") else []
        assert client_for(official).get(reverse(name, args=args)).status_code == 403
        assert client_for(official).post(reverse(CONFIRM)).status_code == 403

    def test_officials_and_visitors_are_sent_to_sign_in(self, client, official):
        for who in (client, client_for(official)):
            response = who.get(reverse(IMPORT))
            assert response.status_code == 302
            assert reverse("admin:login") in response["Location"]

    def test_the_facility_list_links_to_the_sheet_pages(self, staff_linyuan):
        html = client_for(staff_linyuan).get(reverse("admin:facilities_facility_changelist"))
        for name in ("import", "template"):
            assert reverse(f"admin:facilities_facility_{name}") in html.content.decode()
        assert reverse("admin:facilities_facility_export", args=["csv"]) in html.content.decode()


class TestQueries:
    @pytest.mark.parametrize("rows", [10, 200])
    def test_the_preview_costs_the_same_queries_for_ten_rows_or_two_hundred(
        self, staff_linyuan, linyuan, django_assert_max_num_queries, rows
    ):
        client = client_for(staff_linyuan)
        for i in range(rows):  # half of the sheet changes existing facilities
            if i % 2:
                facility(linyuan, f"林园服务点{i:03d}", hours=WEEKDAYS_8_17)
        content = xlsx(
            [line(name=f"林园服务点{i:03d}", hours="每天 08:00-17:00") for i in range(rows)]
        )
        # 15, and the session's authenticator (two-step sign-in).
        with django_assert_max_num_queries(16):
            response = preview(client, content)
        assert counts(response) == {
            "new": rows // 2,
            "changed": rows // 2,
            "unchanged": 0,
            "bad": 0,
        }
