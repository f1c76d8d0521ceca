"""The back office as 林园社区's staff member uses it, start to finish: a phone photo, the
resource list in and out of Excel, and the history that remembers her name. Every page she
sees passes axe and reflows to 320 px."""

import io
import re
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_staff_and_officials import sign_in
from tests.facilities.test_photos import phone_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 100
BAD = {17: ("类别", "宇航训练"), 42: ("营业时间", "周一到 8点"), 88: ("纬度", 39.9)}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def resource_list(community: str, rows: int, bad: dict | None = None) -> bytes:
    """A sheet as staff fill it in: the headers, then a row per facility near the community."""
    from communities.models import Community
    from facilities import sheets

    place = Community.objects.get(name=community)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(sheets.HEADERS)
    for n in range(1, rows + 1):
        row = {
            "社区": community,
            "名称": f"{community}便民点{n:03d}",
            "类别": "便利店" if n % 2 else "理发店",
            "地址": f"测试路{n}号",
            "纬度": round(place.latitude + n * 0.00005, 6),
            "经度": round(place.longitude + n * 0.00005, 6),
            "电话": f"0431-8{n:07d}",
            "状态": "正常开放",
            "营业时间": "周一至周五 08:00-17:00；周六、周日 09:00-12:00",
        }
        if bad and n in bad:
            column, value = bad[n]
            row[column] = value
        sheet.append([row.get(header, "") for header in sheets.HEADERS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_sheet(page, content: bytes, name: str) -> None:
    page.goto("/admin/facilities/facility/import/")
    page.locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": content}
    )
    page.get_by_role("button", name="预览导入").click()


def test_linyuan_staff_photo_sheet_export_and_history(page, demo_accounts):
    from facilities.models import Facility, FacilityPhoto

    leifeng_before = sorted(
        Facility.objects.filter(community__name="雷锋社区").values_list("name", "phone", "address")
    )
    sign_in(page, "staff-linyuan")

    # A phone photo of the canteen: it is shown afterwards without its GPS position.
    canteen = Facility.objects.get(name="林园小区助餐点")
    page.goto(f"/admin/facilities/facility/{canteen.pk}/change/")
    photos = page.locator("#photos-group")
    photos.get_by_label("照片文件").first.set_input_files(
        {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    photos.get_by_label("照片说明（中文）").first.fill("助餐点用餐区，十张桌子")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("林园小区助餐点")
    check_page(page)
    photo = FacilityPhoto.objects.get(facility=canteen)
    # (The live test server hands media out itself; tests/facilities/test_photos.py checks the
    # headers the site's own photo view sends.)
    served = page.request.get(photo.url())
    image = Image.open(io.BytesIO(served.body()))
    assert not image.getexif() and "exif" not in image.info

    # A 100-row sheet with three bad rows: three named errors, and nothing saved.
    upload_sheet(page, resource_list("林园社区", ROWS, BAD), "林园资源清单.xlsx")
    problems = page.locator("#sheet-problems + .table-wrap tbody tr")
    expect(problems).to_have_count(3)
    for number, (column, _value) in BAD.items():
        row = problems.filter(has=page.locator("th", has_text=re.compile(f"^{number + 1}$")))
        expect(row).to_contain_text(column)
    check_page(page)
    assert not Facility.objects.filter(name__startswith="林园社区便民点").exists()

    # Corrected, it previews as 100 new; confirmed, all 100 are there.
    upload_sheet(page, resource_list("林园社区", ROWS), "林园资源清单.xlsx")
    expect(page.locator(".sheet__summary")).to_contain_text("100")
    expect(page.locator("#sheet-new")).to_contain_text("100")
    check_page(page)
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".messagelist")).to_contain_text("100")
    check_page(page)
    assert Facility.objects.filter(name__startswith="林园社区便民点").count() == ROWS

    # The same sheet again: 100 unchanged, and nothing to write.
    upload_sheet(page, resource_list("林园社区", ROWS), "林园资源清单.xlsx")
    expect(page.locator("#sheet-unchanged")).to_contain_text("100")
    expect(page.locator("#sheet-new")).to_have_count(0)
    expect(page.locator("#sheet-changed")).to_have_count(0)

    # The export holds the same data, and uploading it changes nothing.
    page.goto("/admin/facilities/facility/")
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 XLSX").first.click()
    exported = Path(download.value.path()).read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(exported), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    by_name = {r[header.index("名称")]: r for r in rows[1:]}
    row = by_name["林园社区便民点007"]
    assert row[header.index("营业时间")] == "周一至周五 08:00-17:00；周六、周日 09:00-12:00"
    assert row[header.index("电话")] == "0431-80000007"
    assert row[header.index("社区")] == "林园社区"
    mine = Facility.objects.filter(community__name="林园社区").count()
    assert len(by_name) == mine
    upload_sheet(page, exported, "export.xlsx")
    expect(page.locator("#sheet-unchanged")).to_contain_text(str(mine))
    expect(page.locator("#sheet-changed")).to_have_count(0)

    # A 雷锋社区 sheet: every row refused as outside her community, and 雷锋 untouched.
    upload_sheet(page, resource_list("雷锋社区", 5), "雷锋资源清单.xlsx")
    expect(page.locator("#sheet-problems + .table-wrap tbody tr")).to_have_count(5)
    expect(page.locator("#sheet-problems + .table-wrap")).to_contain_text("雷锋社区")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert (
        sorted(
            Facility.objects.filter(community__name="雷锋社区").values_list(
                "name", "phone", "address"
            )
        )
        == leifeng_before
    )

    # The canteen's history names her for the photo; an imported facility's for its creation.
    page.goto(f"/admin/facilities/facility/{canteen.pk}/history/")
    history = page.locator(".audit")
    expect(history.locator(".audit__entry").first).to_contain_text("林园社区工作人员")
    expect(history).to_contain_text("助餐点用餐区，十张桌子")
    check_page(page)
    imported = Facility.objects.get(name="林园社区便民点007")
    page.goto(f"/admin/facilities/facility/{imported.pk}/history/")
    expect(page.locator(".audit")).to_contain_text("林园社区工作人员")
    expect(page.locator(".audit")).to_contain_text("0431-80000007")
    page.goto("/admin/changes/")
    expect(page.locator(".audit")).to_contain_text("林园社区便民点")
    check_page(page)
