"""The coverage reports' done-when journey in a real browser: 洛龙区's official finds the
communities lacking a canteen within 500 m, switches the plan on, asks where a canteen should go
among the idle rooms and downloads the workbook; 绿园区's official cannot reach 洛龙区 by any URL
or export; every report page passes axe in both languages and both modes."""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import check_page, second_step
from tests.browser.test_staff_and_officials import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT_PAGES = [
    "/reports/",
    "/reports/matrix/",
    "/reports/gaps/",
    "/reports/sites/?service=canteen",
    "/reports/communities/shiyou/",
]


def gap_total(page) -> int:
    text = page.locator(".report-total").inner_text()
    return int(re.search(r"有 ([\d,]+) 位居民", text).group(1).replace(",", ""))


def test_luolong_official_finds_canteen_gaps_the_plan_and_sites(page, demo_accounts):
    sign_in(page, "official-luolong")
    page.get_by_role("link", name="我负责区域的覆盖情况报告").click()
    expect(page.locator("h1")).to_have_text("覆盖情况报告")
    check_page(page)

    # Which communities lack a canteen within 500 m, and how many residents that is.
    page.get_by_role("navigation", name="覆盖报告").get_by_role("link", name="短板清单").click()
    page.get_by_label("服务").select_option(label="社区食堂")  # htmx swaps the body in place
    expect(page).to_have_url(re.compile(r"service=canteen"))
    expect(page.locator(".report-total")).to_contain_text("500 米步行距离")
    today = gap_total(page)
    rows = page.locator("#gaps-caption").locator("xpath=..").locator("tbody tr")
    expect(rows.first).to_contain_text("社区食堂")
    assert rows.count() >= 5
    first = int(rows.first.locator("td.num").first.inner_text().replace(",", ""))
    second = int(rows.nth(1).locator("td.num").first.inner_text().replace(",", ""))
    assert first >= second > 0  # largest first
    check_page(page)

    # The plan: planned and building canteens counted as open leave fewer out.
    page.get_by_label("把规划中和在建的设施算作已开放").check()
    expect(page).to_have_url(re.compile(r"plan=on"))
    expect(page.locator(".report-state:not(.report-state--measure)")).to_contain_text("计入规划")
    assert gap_total(page) < today
    check_page(page)

    # Where a new canteen should go among the idle rooms: ranked, and on the map.
    page.get_by_role("navigation", name="覆盖报告").get_by_role("link", name="地图与选址").click()
    page.get_by_label("服务").select_option(label="社区食堂")
    expect(page).to_have_url(re.compile(r"service=canteen"))
    picks = page.get_by_role("region", name="闲置用房（按效果排序）").locator("tbody tr")
    expect(picks).to_have_count(5)
    expect(picks.first.locator(".rank")).to_have_text("1")
    gains = [
        int(picks.nth(i).locator("td.num").nth(2).inner_text().strip("+").replace(",", ""))
        for i in range(5)
    ]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    figure = page.locator("figure.area-map")
    expect(figure.locator("svg[role=img]")).to_be_visible()
    expect(figure.locator(".area-map__pick")).to_have_count(5)
    check_page(page)

    # The workbook opens cleanly, with the figures as numbers.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载报告（Excel，XLSX）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as workbook:
        book = load_workbook(workbook)
    assert book.sheetnames == ["概要", "覆盖矩阵", "短板清单", "小区明细", "选址建议", "居民需求"]
    assert [c.value for c in book["居民需求"][1]][:3] == ["社区", "所属街道", "需求"]
    suggestions = book["选址建议"]
    numbers = [c.value for row in suggestions.iter_rows() for c in row]
    assert any(isinstance(v, int) and v == gains[0] for v in numbers)
    assert all(ws.freeze_panes for ws in book)


def test_lvyuan_official_cannot_reach_luolong(page, demo_accounts):
    sign_in(page, "official-lvyuan")
    response = page.goto("/reports/communities/shiyou/")
    assert response.status == 404
    page.goto("/reports/matrix/")
    expect(page.get_by_role("link", name="林园社区")).to_be_visible()
    expect(page.get_by_role("link", name="石油社区")).to_have_count(0)
    for table in ("matrix", "gaps", "compounds", "suggestions"):
        text = page.request.get(f"/reports/export/{table}.csv?service=canteen").text()
        assert "林园" in text or table == "suggestions"
        assert "石油" not in text and "洛龙" not in text and "天元" not in text, table
    workbook = page.request.get("/reports/export.xlsx").body()
    book = load_workbook(io.BytesIO(workbook))
    cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
    assert "林园" in cells and "石油" not in cells and "洛龙" not in cells


def test_every_report_page_passes_axe_in_both_languages_and_modes(page, demo_accounts):
    sign_in(page, "official-luolong")
    for path in REPORT_PAGES:
        page.goto(path)
        check_page(page, elder=False)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for path in REPORT_PAGES:
        page.goto(path + ("&" if "?" in path else "?") + "plan=on")
        check_page(page, elder=False)
    page.get_by_role("button", name="Elder mode").click()
    for path in REPORT_PAGES:
        page.goto(path)
        check_page(page, elder=True)
    page.get_by_role("button", name="中文").click()
    for path in REPORT_PAGES:
        page.goto(path)
        check_page(page, elder=True)


def test_the_controls_work_without_javascript(page_without_js, demo_accounts):
    page = page_without_js
    page.goto("/accounts/login/")  # sign_in's axe check needs scripts: signed in by hand
    page.get_by_label("用户名").fill("official-luolong")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    second_step(page, "official-luolong", check=False)
    expect(page.locator("h1")).to_have_text("我的账户")
    page.goto("/reports/sites/")
    page.get_by_label("服务").select_option(label="健康驿站")
    page.get_by_label("建议选址数量").select_option("3")
    page.get_by_role("button", name="显示").click()
    expect(page).to_have_url(re.compile(r"service=health_station"))
    expect(page.locator("h2#picks-title")).to_contain_text("健康驿站")
    page.goto("/reports/matrix/")
    page.get_by_role("link", name=re.compile("社区食堂")).click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("社区食堂")
