"""A new district goes live through the back office, start to finish, in real Chromium: the city
administrator brings 长春市南关区 in from the community list (its real subdistricts and four
communities), one community's staff bring in 200 compounds with their gates (ten of them copied
from 高德 in GCJ-02, three rows wrong the first time), the idle rooms and a few facilities; then
the coverage report shows the district, and its figures are the ones the same data gives by hand.
Every page on the way passes axe and reflows to 320 px."""

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from communities import community_sheets
from communities import sheets as compound_sheets
from facilities import room_sheets
from facilities import sheets as facility_sheets
from portal.lib import coords, geo
from portal.lib.sheets import XLSX_TYPE
from tests.browser.conftest import _context, check_page, second_step
from tests.conftest import PASSWORD, _user
from tests.sheet_helpers import row_of, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STREETS = Path(__file__).parent.parent / "data" / "nanguan_streets.csv"
NANGUAN = {
    "province_code": "22",
    "province": "吉林省",
    "city_code": "2201",
    "city": "长春市",
    "district_code": "220102",
    "district": "南关区",
}
# (subdistrict code, community, office latitude, longitude): offices around 43.86 N, 125.33 E.
COMMUNITIES = [
    ("220102001", "南岭社区", 43.850, 125.320),
    ("220102001", "红旗社区", 43.845, 125.335),
    ("220102002", "自强社区", 43.870, 125.325),
    ("220102003", "民康社区", 43.865, 125.345),
]
HOME = "南岭社区"  # whose staff bring the compounds, rooms and facilities

COMPOUNDS = 200
GCJ = range(0, COMPOUNDS, 20)  # ten compounds whose points come from 高德 (GCJ-02)
# The first upload's three wrong rows, by compound: (what is wrong, the column the page names).
SWAPPED, NAMELESS, MANY = 45, 88, 150
BAD_COLUMNS = {SWAPPED: "纬度、经度", NAMELESS: "名称", MANY: "人口"}

# The facilities, placed so that no compound is within a few metres of a walking circle's edge
# (asserted below): the figures cannot then hang on a rounding.
CANTEENS = [(43.8512, 125.318), (43.8582, 125.333), (43.8607, 125.3435)]
PLANNED_CANTEEN = (43.8532, 125.3267)
SUPERMARKETS = [(43.8562, 125.3219), (43.8617, 125.3379)]


def compound(n: int) -> tuple[str, float, float, int]:
    """(name, latitude, longitude, residents) in WGS-84: a 20 × 10 grid, 150–180 m apart."""
    i, j = divmod(n, 20)
    lat = round(43.848 + i * 0.0016 + (j % 3) * 0.0002, 6)
    lng = round(125.312 + j * 0.0018 + (i % 2) * 0.0003, 6)
    return f"南岭{n + 1:03d}号院", lat, lng, 300 + (n * 37) % 900


def gates(n: int) -> list[tuple[str, float, float]]:
    """A north gate 40 m north and an east gate 40 m east of the compound's point."""
    _name, lat, lng, _people = compound(n)
    north = geo.offset((lat, lng), 40, 0)
    east = geo.offset((lat, lng), 0, 40)
    return [("北门", *north), ("东门", *east)]


def community_sheet() -> bytes:
    with STREETS.open(encoding="utf-8") as streets:
        subdistricts = {row["code"]: row["name"] for row in csv.DictReader(streets)}
    rows = [
        row_of(community_sheets.LAYOUT, **NANGUAN, subdistrict_code=code, subdistrict=name)
        for code, name in subdistricts.items()
    ]
    for number, (code, name, lat, lng) in enumerate(COMMUNITIES, start=1):
        rows.append(
            row_of(
                community_sheets.LAYOUT,
                **NANGUAN,
                subdistrict_code=code,
                subdistrict=subdistricts[code],
                name=name,
                population=10_000 + number * 1000,
                households=3_500 + number * 300,
                latitude=lat,
                longitude=lng,
                point_system="WGS-84",
                office_address=f"南关区{name}路{number}号",
                phone=f"0431-8888{number:04d}",
            )
        )
    return xlsx(community_sheets.LAYOUT, rows)


def compound_sheet(*, wrong: bool) -> bytes:
    rows = []
    for n in range(COMPOUNDS):
        name, lat, lng, people = compound(n)
        points = [(lat, lng)] + [(glat, glng) for _gate, glat, glng in gates(n)]
        system = "GCJ-02" if n in GCJ else "WGS-84"
        if n in GCJ:
            points = [coords.from_wgs84(a, o, coords.System.GCJ02) for a, o in points]
        points = [(round(a, 7), round(o, 7)) for a, o in points]
        cells = {
            "community": HOME,
            "name": name,
            "address": f"南岭大街{n + 1}号",
            "population": people,
            "households": people // 3,
            "latitude": points[0][0],
            "longitude": points[0][1],
            "point_system": system,
            "gates": "；".join(
                f"{gate} {a},{o}"
                for (gate, _a, _o), (a, o) in zip(gates(n), points[1:], strict=True)
            ),
        }
        if wrong and n == SWAPPED:
            cells["latitude"], cells["longitude"] = cells["longitude"], cells["latitude"]
        if wrong and n == NAMELESS:
            cells["name"] = ""
        if wrong and n == MANY:
            cells["population"] = "很多"
        rows.append(row_of(compound_sheets.LAYOUT, **cells))
    return xlsx(compound_sheets.LAYOUT, rows)


def room_sheet() -> bytes:
    rooms = [
        ("原物业用房一层", "南岭物业公司", 43.8545, 125.3290, 180, "社区食堂、养老服务站"),
        ("南岭小学旧校舍", "南关区教育局", 43.8590, 125.3180, 420, ""),
        ("自行车棚改造间", "南岭社区居委会", 43.8520, 125.3400, 60, "快递驿站"),
        ("老粮店", "南关区粮食局", 43.8600, 125.3250, 150, "社区超市"),
    ]
    rows = [
        row_of(
            room_sheets.LAYOUT,
            community=HOME,
            name=name,
            owner=owner,
            address=f"南岭大街{200 + i}号",
            latitude=lat,
            longitude=lng,
            point_system="WGS-84",
            floor_area=area,
            available_from="2026-09-01",
            services=services,
            notes="需加装无障碍坡道" if i == 0 else "",
        )
        for i, (name, owner, lat, lng, area, services) in enumerate(rooms)
    ]
    return xlsx(room_sheets.LAYOUT, rows)


def facility_sheet() -> bytes:
    places = (
        [("社区食堂", "正常开放", f"南岭助餐点{i}", p) for i, p in enumerate(CANTEENS, start=1)]
        + [("社区食堂", "规划中", "南岭长者食堂", PLANNED_CANTEEN)]
        + [("社区超市", "正常开放", f"南岭便民超市{i}", p) for i, p in enumerate(SUPERMARKETS, 1)]
    )
    rows = []
    for i, (category, status, name, (lat, lng)) in enumerate(places, start=1):
        planned = status == "规划中"
        rows.append(
            row_of(
                facility_sheets.LAYOUT,
                community=HOME,
                name=name,
                category=category,
                address=f"南岭大街{300 + i}号",
                latitude=lat,
                longitude=lng,
                point_system="WGS-84",
                phone=f"0431-8777{i:04d}",
                status=status,
                planned_opening="2027-06-01" if planned else "",
                hours="" if planned else "周一至周五 08:00-17:00；周六、周日 09:00-12:00",
            )
        )
    return xlsx(facility_sheets.LAYOUT, rows)


def sign_in(page, username: str, next_url: str, *, check: bool = True) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    if check:
        check_page(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    second_step(page, username, check=check)
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def open_import(page, changelist: str) -> None:
    """The list (opened unless the page shows it already), then its Import link."""
    if not page.url.endswith(changelist):
        page.goto(changelist)
    check_page(page)
    page.locator(".object-tools").get_by_role("link", name="导入", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(changelist) + "import/$"))
    check_page(page)


def preview(page, content: bytes, filename: str) -> None:
    page.locator('input[type="file"]').set_input_files(
        {"name": filename, "mimeType": XLSX_TYPE, "buffer": content}
    )
    page.get_by_role("button", name="预览导入").click()
    expect(page.locator(".sheet__summary")).to_be_visible()


def confirm(page, rows: int) -> None:
    """The preview says ``rows`` new; confirmed, the list says they are in."""
    expect(page.locator(".sheet__summary")).to_contain_text(f"{rows} 新增")
    expect(page.locator("#sheet-new")).to_contain_text(str(rows))
    check_page(page)
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".messagelist")).to_contain_text(f"已导入：{rows} 新增，0 修改，0 未变")
    check_page(page)


def covered(homes, facilities, metres: int) -> int:
    """Residents whose compound lies within ``metres`` of one of ``facilities``, by straight
    line from the compound's own point: with no street network loaded, that is how the coverage
    engine measures (reports/coverage.py ``_nearest_in``). Gates start walks along streets only;
    counting from them too would give 6,345 more residents for the canteens here."""
    return sum(
        people
        for lat, lng, people in homes
        if min(geo.distance_m((lat, lng), f) for f in facilities) <= metres
    )


@pytest.fixture
def open_page(browser, live_server):
    """A browser of its own (its own cookies) for each person of the journey."""
    contexts = []

    def open_():
        context, page = _context(browser, live_server)
        contexts.append(context)
        return page

    yield open_
    for context in contexts:
        context.close()


def test_a_new_district_comes_in_from_sheets_and_its_report_adds_up(page, open_page, city_admin):
    from communities.models import Community, CompoundGate, District, ResidentialCompound
    from communities.roles import make_staff
    from facilities import taxonomy
    from facilities.models import Category, Facility, IdleRoom
    from reports import report_data

    taxonomy.add_missing(Category)  # transactional tests run after others flushed them

    # 1. The city administrator brings 南关区 in: its 14 subdistricts and four communities.
    sign_in(page, "cityadmin", "/admin/communities/community/")
    open_import(page, "/admin/communities/community/")
    preview(page, community_sheet(), "南关区社区清单.xlsx")
    confirm(page, 14 + len(COMMUNITIES))  # every subdistrict is new, and every community
    names = page.locator("#result_list tbody th")
    expect(names).to_have_count(len(COMMUNITIES))
    assert sorted(names.all_inner_texts()) == sorted(name for _c, name, _a, _o in COMMUNITIES)
    nanguan = District.objects.get(code="220102")
    assert (nanguan.name, nanguan.city, nanguan.subdistricts.count()) == ("南关区", "长春市", 14)

    # 2. 南岭社区's new staff member signs in, in a browser of her own.
    staff = _user("staff-nanling")
    make_staff(staff, Community.objects.get(name=HOME))
    desk = open_page()
    sign_in(desk, "staff-nanling", "/admin/")
    check_page(desk)

    # 3. The compound list, with three wrong rows: each named, no confirm, nothing saved.
    desk.get_by_role("link", name="小区", exact=True).first.click()
    expect(desk).to_have_url(re.compile(r"/admin/communities/residentialcompound/$"))
    open_import(desk, "/admin/communities/residentialcompound/")
    preview(desk, compound_sheet(wrong=True), "南岭小区清单.xlsx")
    problems = desk.locator("#sheet-problems + .table-wrap tbody tr")
    expect(problems).to_have_count(3)
    for n, column in BAD_COLUMNS.items():
        row = problems.filter(has=desk.locator("th", has_text=re.compile(rf"^{n + 2}$")))
        expect(row.locator("td.sheet__column")).to_have_text(column)
    swapped = problems.filter(has=desk.locator("th", has_text=re.compile(rf"^{SWAPPED + 2}$")))
    expect(swapped).to_contain_text("写反了")  # latitude and longitude look swapped
    expect(desk.get_by_role("button", name="确认导入")).to_have_count(0)
    expect(desk.locator('form[action$="/import/confirm/"]')).to_have_count(0)
    check_page(desk)
    assert not ResidentialCompound.objects.exists()

    # Corrected: 200 new, confirmed, listed.
    preview(desk, compound_sheet(wrong=False), "南岭小区清单.xlsx")
    confirm(desk, COMPOUNDS)
    expect(desk.locator(".paginator")).to_contain_text(str(COMPOUNDS))
    assert ResidentialCompound.objects.filter(community__name=HOME).count() == COMPOUNDS
    assert CompoundGate.objects.count() == 2 * COMPOUNDS
    # The ten GCJ-02 compounds and their gates are stored in WGS-84, within a metre of the truth.
    for n in GCJ:
        name, lat, lng, _people = compound(n)
        stored = ResidentialCompound.objects.get(name=name)
        assert stored.point_system == coords.System.GCJ02
        assert geo.distance_m((stored.latitude, stored.longitude), (lat, lng)) < 1
        kept = {g.name: (g.latitude, g.longitude) for g in stored.gates.all()}
        for gate, glat, glng in gates(n):
            assert geo.distance_m(kept[gate], (glat, glng)) < 1

    # 4. The idle rooms, then the facilities.
    open_import(desk, "/admin/facilities/idleroom/")
    preview(desk, room_sheet(), "南岭闲置用房清单.xlsx")
    confirm(desk, 4)
    expect(desk.locator("#result_list tbody tr")).to_have_count(4)
    assert IdleRoom.objects.filter(community__name=HOME).count() == 4

    open_import(desk, "/admin/facilities/facility/")
    preview(desk, facility_sheet(), "南岭资源清单.xlsx")
    confirm(desk, 6)
    expect(desk.locator("#result_list tbody tr")).to_have_count(6)
    assert Facility.objects.filter(community__name=HOME).count() == 6

    # 5. The coverage report. The city administrator reads the whole city, which is 南关区 alone
    # here, so her report is the district's.
    assert District.objects.count() == 1
    page.goto("/reports/")
    expect(page.locator("h1")).to_have_text("覆盖情况报告")
    expect(page.locator(".report-state--measure")).to_contain_text("直线")
    check_page(page)

    homes = [compound(n)[1:] for n in range(COMPOUNDS)]
    residents = sum(people for _lat, _lng, people in homes)
    canteen_m = Category.objects.get(code="canteen").distance_m
    supermarket_m = Category.objects.get(code="supermarket").distance_m
    # No compound within 2 m of a circle's edge: a GCJ-02 point's centimetres change nothing.
    with_plan = [*CANTEENS, PLANNED_CANTEEN]
    for facilities, metres in (
        (CANTEENS, canteen_m),
        (with_plan, canteen_m),
        (SUPERMARKETS, supermarket_m),
    ):
        for lat, lng, _people in homes:
            nearest = min(geo.distance_m((lat, lng), f) for f in facilities)
            assert abs(nearest - metres) > 2
    # Counted by hand from the numbers written into the sheets, not from the database: a
    # compound is covered when one of the category's serving facilities (open, not planned) lies
    # within Category.distance_m of its point. Both the engine's figures for the district
    # (report_data) and the page's must equal it.
    by_hand = {
        "社区食堂": (
            covered(homes, CANTEENS, canteen_m),
            covered(homes, with_plan, canteen_m) - covered(homes, CANTEENS, canteen_m),
        ),
        "社区超市": (covered(homes, SUPERMARKETS, supermarket_m), 0),
    }
    for today, _gained in by_hand.values():
        assert 0 < today < residents  # partly covered: a figure that could be wrong either way
    # The engine's own figures for the district agree with the hand count...
    area = report_data.gather(Community.objects.filter(subdistrict__district=nanguan))
    now, then = area.totals(False), area.totals(True)
    for code, name in (("canteen", "社区食堂"), ("supermarket", "社区超市")):
        assert (now[code].covered, then[code].covered - now[code].covered) == by_hand[name]
    # ... and so does what the page prints.
    headline = page.locator("#headline-title + .report-figures .report-figures__item")
    residents_item = headline.filter(has=page.locator("dt", has_text=re.compile("^居民$")))
    expect(residents_item.locator("dd")).to_have_text(f"{residents:,}")
    table = page.locator("table:has(#coverage-table-title)")
    for name, (today, gained) in by_hand.items():
        cells = table.locator("tbody tr", has=page.locator("th", has_text=name)).locator("td")
        expect(cells.nth(1)).to_have_text(f"{today:,}")
        expect(cells.nth(3)).to_have_text(f"{residents - today:,}")
        if gained:
            expect(cells.nth(4)).to_have_text(f"新增 {gained:,} 位居民")
        else:
            expect(cells.nth(4)).to_contain_text("无变化")
