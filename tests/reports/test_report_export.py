"""The coverage report to take away: an Excel workbook of six sheets, or one table as CSV, with
the figures of report_data.Area as numbers, headers in the page language."""

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from django.utils import timezone, translation

from communities.models import Community, ResidentialCompound
from facilities.models import Facility, IdleRoom
from portal.lib import geo
from reports import report_data, report_export
from tests.facilities.conftest import category, place

pytestmark = pytest.mark.django_db

TITLE = "长春市绿园区 coverage report"
SHEETS_EN = ["Summary", "Matrix", "Gaps", "Compounds", "Suggestions", "Wishes"]
SHEETS_ZH = ["概要", "覆盖矩阵", "短板清单", "小区明细", "选址建议", "居民需求"]


# --- An area: 新竹社区 with a canteen near one compound and a planned one near the other, an empty
# neighbour community, and two idle rooms ----------------------------------------------------


@pytest.fixture
def far_compound(community_a) -> ResidentialCompound:
    """2 km north of 新竹一区: beyond its canteen's reach (twice the 500 m walk)."""
    return ResidentialCompound.objects.create(
        community=community_a,
        name="新竹远郊小区",
        population=700,
        households=250,
        latitude=43.899,
        longitude=125.271,
    )


@pytest.fixture
def empty_community(subdistrict) -> Community:
    return Community.objects.create(
        subdistrict=subdistrict, name="空置社区", latitude=43.87, longitude=125.26
    )


@pytest.fixture
def area(compound_a, far_compound, empty_community) -> report_data.Area:
    place(
        compound_a,
        north=200,
        community=compound_a.community,
        category=category("canteen"),
        name="新竹长者食堂",
    )
    place(
        far_compound,
        east=100,
        community=far_compound.community,
        category=category("canteen"),
        name="新竹规划食堂",
        status=Facility.Status.PLANNED,
    )
    for name, metres, floor in [("远郊原物业用房", 50, 200), ("远郊小仓库", 80, 20)]:
        lat, lng = geo.offset(far_compound.point, 0, -metres)
        IdleRoom.objects.create(
            community=far_compound.community,
            name=name,
            floor_area=floor,
            owner="物业公司",
            notes=f"{name}：一楼，朝南。",
            available_from=date(2027, 3, 1),
            latitude=lat,
            longitude=lng,
        )
    district = compound_a.community.subdistrict.district
    return report_data.gather(Community.objects.filter(subdistrict__district=district))


def book(area, *, plan=False, code="canteen", k=5) -> openpyxl.Workbook:
    content = report_export.workbook(area, plan=plan, code=code, k=k, title=TITLE)
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_of(workbook, table: str):
    """A sheet by its table name, whatever the language named it."""
    return workbook.worksheets[report_export.TABLES.index(table)]


def header_row(sheet) -> int:
    """The row the frozen pane starts below."""
    return int("".join(ch for ch in sheet.freeze_panes if ch.isdigit())) - 1


def table(sheet) -> tuple[list, list[list]]:
    """(headers, rows of cells) of a sheet's table."""
    top = header_row(sheet)
    rows = list(sheet.iter_rows(min_row=top))
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]


def values(cells) -> list:
    return [c.value for c in cells]


def csv_rows(area, name, *, plan=False, code="canteen", k=5) -> list[list[str]]:
    text = report_export.csv_text(area, name, plan=plan, code=code, k=k)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- The workbook ----------------------------------------------------------------------------


def test_six_sheets_each_with_a_bold_frozen_header_and_a_filter_over_the_table(area):
    with translation.override("en"):
        workbook = book(area)
    assert workbook.sheetnames == SHEETS_EN
    expected_freeze = {
        "Summary": "A11",
        "Matrix": "B2",
        "Gaps": "B2",
        "Compounds": "B2",
        "Suggestions": "A6",
        "Wishes": "B2",
    }
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == expected_freeze[sheet.title]
        top = header_row(sheet)
        headers = next(sheet.iter_rows(min_row=top, max_row=top))
        assert all(c.font.bold for c in headers)
        last = sheet.max_row
        end = headers[-1].column_letter
        assert sheet.auto_filter.ref == f"A{top}:{end}{last}"
        for cell in headers:
            assert sheet.column_dimensions[cell.column_letter].width >= 6


def test_sheet_names_and_headers_follow_the_language_chinese_by_default(area):
    workbook = book(area)
    assert workbook.sheetnames == SHEETS_ZH
    headers, _rows = table(workbook.worksheets[1])
    required = area.required
    coverage_columns = 4 + len(required)
    assert headers[:coverage_columns] == [
        "社区",
        "所属街道",
        "居民",
        *(s.name_zh for s in required),
        "完整社区",
    ]
    compounds, _rows = table(workbook.worksheets[3])
    assert compounds[:4] == ["小区", "社区", "居民", "服务"]
    assert compounds[5] == "状态"
    suggestions, _rows = table(workbook.worksheets[4])
    assert suggestions[2:6] == ["社区", "建筑面积（平方米）", "产权单位", "可用日期"]

    with translation.override("en"):
        workbook = book(area)
        headers, rows = table(sheet_of(workbook, "matrix"))
        assert headers[:coverage_columns] == [
            "Community",
            "Subdistrict",
            "Residents",
            *(s.name_en for s in required),
            "Complete community",
        ]
        assert rows[0][coverage_columns - 1].value == "no"
        assert table(sheet_of(workbook, "suggestions"))[0][3:6] == [
            "Floor area (m²)",
            "Owner",
            "Available from",
        ]
        summary = [values(r) for r in sheet_of(workbook, "summary").iter_rows(max_col=2)]
        assert summary[0][0] == TITLE
        assert summary[1][0] == "Generated on"


def test_sheet_names_are_valid_for_excel_whatever_the_translation():
    assert report_export._sheet_title("缺口/差距: [一览]*?") == "缺口差距 一览"
    assert len(report_export._sheet_title("长" * 40)) == 31


@pytest.mark.parametrize("plan", [False, True])
def test_the_summary_gives_the_facts_and_each_required_services_figures(area, plan):
    sheet = book(area, plan=plan).worksheets[0]
    facts = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2, max_row=8)}
    generated = sheet["B2"]
    assert generated.is_date and generated.value.date() == timezone.localdate()
    assert isinstance(generated.value, datetime)
    with translation.override("en"):
        basis = sheet_of(book(area, plan=plan), "summary")["B3"].value
    assert ("planned and under-construction" in basis) == plan
    assert facts["居民"].value == 1900 and facts["居民"].number_format == "#,##0"
    assert facts["小区数"].value == 2
    assert facts["社区"].value == 2
    assert facts["完整社区"].value == sum(area.complete(plan).values())
    # No street network here: the sheet says the distances are straight lines, and why.
    assert facts["距离"].value == "直线（本区域尚未导入街道网络）"

    headers, rows = table(sheet)
    assert headers[0] == "服务"
    totals, now, planned = area.totals(plan), area.totals(False), area.totals(True)
    assert [r[0].value for r in rows] == [s.name_zh for s in area.required]
    for service, row in zip(area.required, rows, strict=True):
        cell = totals[service.code]
        _name, distance, covered, share, uncovered, gained = row
        assert (distance.value, covered.value, uncovered.value) == (
            service.distance_m,
            cell.covered,
            cell.uncovered,
        )
        assert share.value == pytest.approx(cell.covered / cell.population)
        assert share.number_format == "0%"
        assert gained.value == planned[service.code].covered - now[service.code].covered
        for number in (distance, covered, uncovered, gained):
            assert type(number.value) is int and number.number_format == "#,##0"
    canteen = rows[[s.code for s in area.required].index("canteen")]
    assert canteen[2].value == (1900 if plan else 1200)
    assert canteen[5].value == 700


@pytest.mark.parametrize("plan", [False, True])
def test_the_matrix_holds_each_communitys_shares_as_numbers(area, plan):
    _headers, rows = table(sheet_of(book(area, plan=plan), "matrix"))
    expected = area.matrix_rows(plan)
    assert [r[0].value for r in rows] == [m.place.name for m in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row[1].value == want.place.subdistrict
        assert row[2].value == want.population and type(row[2].value) is int
        complete = 3 + len(want.cells)
        for cell, figures in zip(row[3:complete], want.cells, strict=True):
            if figures.population:
                assert cell.value == pytest.approx(figures.covered / figures.population)
                assert isinstance(cell.value, (int, float)) and cell.number_format == "0%"
            else:
                assert cell.value is None
        assert row[complete].value == ("是" if want.complete else "否")
    by_name = {r[0].value: r for r in rows}
    canteen = 3 + [s.code for s in area.required].index("canteen")
    assert by_name["新竹社区"][canteen].value == pytest.approx(1 if plan else 1200 / 1900)
    assert all(c.value is None for c in by_name["空置社区"][3 : 3 + len(area.required)])


def test_the_gaps_sheet_lists_gap_rows(area):
    _headers, rows = table(sheet_of(book(area), "gaps"))
    gaps = area.gap_rows(False)
    assert len(rows) == len(gaps) > 0
    for row, gap in zip(rows, gaps, strict=True):
        assert values(row[:7]) == [
            gap.place.name,
            gap.place.subdistrict,
            gap.service.name_zh,
            gap.service.distance_m,
            gap.residents,
            gap.compounds,
            pytest.approx(gap.residents / gap.population),
        ]
        farthest = row[7].value
        assert farthest == (None if gap.farthest_m is None else round(gap.farthest_m))
        assert row[6].number_format == "0%" and row[4].number_format == "#,##0"
    canteen = next(r for r in rows if r[2].value == "社区食堂")
    assert (canteen[4].value, canteen[5].value, canteen[7].value) == (700, 1, None)


@pytest.mark.parametrize("plan", [False, True])
def test_the_compounds_sheet_has_a_row_per_compound_and_required_service(area, plan):
    _headers, rows = table(sheet_of(book(area, plan=plan), "compounds"))
    assert len(rows) == 2 * len(area.required)
    walks = [(r, w) for r in area.compound_rows(plan) for w in r.walks]
    for row, (compound, walk) in zip(rows, walks, strict=True):
        assert values(row[:4]) == [
            compound.name,
            "新竹社区",
            compound.population,
            walk.service.name,
        ]
        distance = None if walk.distance_m is None else round(walk.distance_m)
        assert row[6].value == distance
        assert row[7].value == ("是" if walk.covered else "否")
    canteens = {r[0].value: values(r[4:]) for r in rows if r[3].value == "社区食堂"}
    assert canteens["新竹一区"] == ["新竹长者食堂", "正常开放", 200, "是"]
    if plan:
        assert canteens["新竹远郊小区"] == ["新竹规划食堂", "规划中", 100, "是"]
    else:
        assert canteens["新竹远郊小区"] == ["1,000 米内没有", None, None, "否"]


def test_the_suggestions_sheet_ranks_the_rooms_and_says_why_others_are_left_out(area):
    with translation.override("en"):
        sheet = sheet_of(book(area, plan=False), "suggestions")
    note = " ".join(str(c.value) for row in sheet.iter_rows(max_row=4) for c in row if c.value)
    assert "Community canteen" in note and "500 m" in note and "150 m²" in note
    assert "1 of the area's 2 idle rooms are too small" in note
    _headers, rows = table(sheet)
    found = area.suggestions("canteen", False, 5)
    assert len(rows) == len(found.picks) == 1
    (pick,) = found.picks
    row = rows[0]
    assert values(row[:5]) == [1, "远郊原物业用房", "新竹社区", 200, "物业公司"]  # names stay
    assert row[5].is_date and row[5].value.date() == date(2027, 3, 1)
    assert (row[6].value, row[7].value) == (pick.gained, pick.covered_after) == (700, 1900)
    assert row[8].value == pytest.approx(1) and row[8].number_format == "0%"
    assert type(row[0].value) is int and row[6].number_format == "#,##0"
    assert row[9].value == "远郊原物业用房：一楼，朝南。"  # the room's notes, for the meeting


def test_with_the_plan_no_room_brings_anyone_and_the_sheet_says_so(area):
    with translation.override("en"):
        sheet = sheet_of(book(area, plan=True), "suggestions")
    note = " ".join(str(c.value) for row in sheet.iter_rows(max_row=5) for c in row if c.value)
    assert "No idle room would bring more residents within the walk." in note
    assert table(sheet)[1] == []


def test_an_unknown_service_for_the_suggestions_is_refused(area):
    with pytest.raises(ValueError):
        report_export.workbook(area, plan=False, code="nope", k=5, title=TITLE)


def test_chinese_text_counts_twice_in_column_widths(area):
    sheet = sheet_of(book(area), "compounds")
    assert sheet.column_dimensions["A"].width >= 2 * len("新竹远郊小区")
    assert report_export._text_width("新竹一区 A") == 10


def test_a_name_that_looks_like_a_formula_stays_text(area, far_compound, compound_a):
    far_compound.name = "=HYPERLINK(1)"
    far_compound.save()
    area = report_data.gather(Community.objects.filter(pk=compound_a.community_id))
    sheet = sheet_of(book(area), "compounds")
    cells = [r[0] for r in table(sheet)[1] if r[0].value == "=HYPERLINK(1)"]
    assert cells and all(c.data_type == "s" for c in cells)
    assert "'=HYPERLINK(1)" in [r[0] for r in csv_rows(area, "compounds")]


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", report_export.TABLES)
def test_each_csv_has_the_sheets_columns_and_rows(area, name):
    workbook = book(area, plan=True)
    rows = csv_rows(area, name, plan=True)
    headers, cells = table(workbook.worksheets[report_export.TABLES.index(name)])
    assert rows[0] == headers
    assert len(rows) == len(cells) + 1
    for text_row, cell_row in zip(rows[1:], cells, strict=True):
        for text, cell in zip(text_row, cell_row, strict=True):
            if cell.value is None:
                assert text == ""
            elif cell.number_format == "0%":
                assert float(text) == pytest.approx(cell.value, abs=5e-5)
            elif isinstance(cell.value, int):
                assert int(text) == cell.value
            elif isinstance(cell.value, datetime):
                assert date.fromisoformat(text) == cell.value.date()
            else:
                assert text == cell.value


def test_the_summary_csv_parses_back_into_the_totals(area):
    rows = csv_rows(area, "summary", plan=False)
    totals = area.totals(False)
    by_name = {r[0]: r for r in rows[1:]}
    for service in area.required:
        row = by_name[service.name_zh]
        cell = totals[service.code]
        assert (int(row[1]), int(row[2]), int(row[4])) == (
            service.distance_m,
            cell.covered,
            cell.uncovered,
        )
        assert float(row[3]) == pytest.approx(cell.covered / cell.population, abs=5e-5)
    assert by_name["社区食堂"][2:] == ["1200", "0.6316", "700", "700"]


def test_the_csv_headers_follow_the_language(area):
    with translation.override("en"):
        rows = csv_rows(area, "gaps")
    assert rows[0][:3] == ["Community", "Subdistrict", "Service"]


def test_an_unknown_table_is_refused(area):
    with pytest.raises(ValueError):
        report_export.csv_text(area, "everything", plan=False, code="canteen", k=5)


# --- The wishes ------------------------------------------------------------------------------


@pytest.fixture
def wishing(compound_a):
    """Two open wishes of 新竹社区 (one supported twice), one done and one of the empty
    community's neighbour, which the area leaves out."""
    from django.contrib.auth import get_user_model

    from wishes.models import Wish

    author = get_user_model().objects.create_user(username="13800000077")
    community = compound_a.community
    bath = Wish.post(
        author=author,
        community=community,
        kind=Wish.Kind.SERVICE,
        title="助浴服务",
        text="冬天洗澡难。",
    )
    Wish.objects.filter(pk=bath.pk).update(support_count=2)
    Wish.post(
        author=author, community=community, kind=Wish.Kind.FACILITY, title="想要食堂", text=""
    )
    done = Wish.post(author=author, community=community, kind=Wish.Kind.COURSE, title="书法课")
    Wish.objects.filter(pk=done.pk).update(status=Wish.Status.DONE)


def test_the_wishes_sheet_lists_each_communitys_open_wishes_with_what_residents_wrote(
    area, wishing, compound_a
):
    area = report_data.gather(Community.objects.filter(pk=compound_a.community_id))
    with translation.override("en"):
        sheet = sheet_of(book(area), "wishes")
    headers, rows = table(sheet)
    assert headers == [
        "Community",
        "Subdistrict",
        "Wish",
        "Wished for",
        "Status",
        "Supporters",
        "Services it names",
        "What the resident wrote",
    ]
    got = [values(r) for r in rows]
    assert [r[2] for r in got] == ["助浴服务", "想要食堂"]  # most supported first; done left out
    assert got[0][0] == "新竹社区" and got[0][5] == 2 and got[0][7] == "冬天洗澡难。"
    assert got[1][6] == "Community canteen" and got[1][7] is None
    assert rows[0][5].number_format == "#,##0"
