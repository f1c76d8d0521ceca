"""Staff import their resource list in a real browser: a sheet with a bad row gets a preview that
names the row, the column and the reason, saves nothing, and passes axe and reflow."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from facilities import sheets
from tests.browser.conftest import check_page
from tests.browser.test_staff_and_officials import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def workbook(*rows: dict[str, object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheets.SHEET_TITLE
    sheet.append(sheets.HEADERS)
    for row in rows:
        sheet.append([row.get(header, "") for header in sheets.HEADERS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_staff_see_the_bad_row_of_their_sheet_and_nothing_is_saved(page, demo_accounts):
    from facilities.models import Facility

    canteen = Facility.objects.get(name="林园小区助餐点")
    good = {
        "社区": "林园社区",
        "名称": "林园社区书屋",
        "类别": "图书室",
        "纬度": canteen.latitude,
        "经度": canteen.longitude,
        "状态": "正常开放",
        "营业时间": "周一至周五 09:00-17:00",
    }
    bad = {**good, "名称": "林园社区理发店", "类别": "理发店", "营业时间": "周一到 8点"}
    before = Facility.objects.count()

    sign_in(page, "staff-linyuan")
    page.goto("/admin/facilities/facility/")
    check_page(page)  # the list with its export and import links
    page.locator('.object-tools a[href$="/import/"]').click()
    check_page(page)

    page.locator('input[type="file"]').set_input_files(
        {"name": "林园资源清单.xlsx", "mimeType": sheets.XLSX_TYPE, "buffer": workbook(good, bad)}
    )
    page.locator('.sheet__upload input[type="submit"]').click()
    problem = page.locator("#sheet-problems + .table-wrap tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("th")).to_have_text("3")  # Excel's row 3: the second facility
    expect(problem.locator("td").nth(0)).to_have_text("营业时间")
    expect(problem.locator("td").nth(1)).to_contain_text("周一到 8点")
    expect(page.locator('input[type="file"]')).to_be_visible()  # upload the corrected sheet
    expect(page.locator('form[action$="/import/confirm/"]')).to_have_count(0)
    check_page(page)
    assert Facility.objects.count() == before
