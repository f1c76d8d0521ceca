"""Walking along streets, issue 19's done-when journey in a real browser: 绿园区's official opens
the gaps for 社区食堂 and sees compounds a straight line counts as covered that are not on foot
(the railway between them and their canteen), opens one community's report and sees the walk
drawn on the map, then switches to straight lines and the figures change back; every page passes
axe and the 320 px reflow in both languages, elder mode on and off. And staff add a gate to a
compound in the admin, and the figures move on the next request."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_staff_and_officials import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def gap_total(page) -> int:
    text = page.locator(".report-total").inner_text()
    return int(re.search(r"([\d,]+)", text).group(1).replace(",", ""))


def test_lvyuan_official_sees_what_the_railway_does_to_the_canteens(page, demo_accounts):
    sign_in(page, "official-lvyuan")
    page.goto("/reports/gaps/?service=canteen")
    expect(page.locator(".report-state--measure")).to_contain_text("沿街步行")
    expect(page.locator(".report-state--measure")).to_contain_text("演示数据")
    walking = gap_total(page)
    table = page.locator("#gaps-caption").locator("xpath=..")
    header = table.locator("thead th")
    column = [h.inner_text() for h in header.all()].index("其中直线算作覆盖")
    rows = table.locator("tbody tr")
    counted = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td").all()
        counted[cells[0].inner_text()] = int(cells[column].inner_text().replace(",", ""))
    # Some community's residents are beyond the walk though a straight line reaches a canteen.
    detoured = [name for name, n in counted.items() if n > 0]
    assert detoured, counted
    check_page(page)

    # That community's report: the walk drawn on the map, the table says why.
    page.get_by_role("link", name=detoured[0], exact=True).first.click()
    expect(page.locator("h1")).to_contain_text(detoured[0])
    page.get_by_label("服务", exact=True).select_option(label="社区食堂")
    expect(page).to_have_url(re.compile(r"service=canteen"))
    walks = page.locator("figure.area-map .area-map__walks path")
    assert walks.count() >= 1
    expect(page.locator(".walk__detour").first).to_contain_text("直线")
    expect(page.locator(".area-map__streets").first).to_be_attached()
    check_page(page)

    # Straight lines: the walks go, the compounds count as covered again.
    page.get_by_label("改按直线距离计算（用于对比）").check()
    expect(page).to_have_url(re.compile(r"straight=on"))
    expect(page.locator(".report-state--measure")).to_contain_text("直线")
    expect(page.locator("figure.area-map .area-map__walks path")).to_have_count(0)
    check_page(page)
    page.goto("/reports/gaps/?service=canteen&straight=on")
    assert gap_total(page) < walking
    check_page(page)


PAGES = [
    "/reports/",
    "/reports/gaps/?service=canteen",
    "/reports/communities/kangning/?service=canteen",
    "/reports/communities/kangning/?service=canteen&straight=on",
    "/reports/sites/?service=canteen",
]


def test_the_walking_pages_pass_axe_and_reflow_in_both_languages_and_modes(page, demo_accounts):
    sign_in(page, "official-lvyuan")
    for path in PAGES:
        assert page.goto(path).status == 200, path
        check_page(page, elder=False)
    # 铁西一区's canteen is 300 m away across the tracks: the table says so.
    page.goto("/reports/communities/kangning/?service=canteen")
    expect(page.locator(".walk__detour", has_text="隔着铁路").first).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.locator(".walk__detour", has_text="across the railway").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for path in PAGES:
        page.goto(path)
        expect(page.locator(".report-state--measure").first).to_contain_text(
            re.compile("Walking along streets|walking along streets|straight line")
        )
        check_page(page, elder=False)
    page.get_by_role("button", name="Elder mode").click()
    for path in PAGES:
        page.goto(path)
        check_page(page, elder=True)
    page.get_by_role("button", name="中文").click()
    for path in PAGES:
        page.goto(path)
        check_page(page, elder=True)
