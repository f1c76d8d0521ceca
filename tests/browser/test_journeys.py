"""Residents' journeys through the portal in a real browser, checked with axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED_COMMUNITIES = [
    "林园社区",
    "雷锋社区",
    "新竹社区",
    "天元社区",
    "大学城社区",
    "安东社区",
    "石油社区",
]


def test_home_language_switch_elder_mode_and_a_community_page(page, demo_data):
    page.goto("/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("家门口的社区服务")
    expect(page.get_by_role("heading", name="长春市绿园区")).to_be_visible()
    expect(page.get_by_role("heading", name="洛阳市洛龙区")).to_be_visible()
    for name in SEED_COMMUNITIES:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    check_page(page, elder=False)

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Services within a walk of home")
    check_page(page, elder=False)

    elder = page.get_by_role("button", name="Elder mode")
    expect(elder).to_have_attribute("aria-pressed", "false")
    elder.click()
    expect(html).to_have_class(re.compile(r"\belder\b"))
    expect(page.get_by_role("button", name="Elder mode")).to_have_attribute("aria-pressed", "true")
    check_page(page, elder=True)

    page.get_by_role("link", name="林园社区", exact=True).click()
    expect(page.locator("h1")).to_contain_text("林园社区")
    expect(page.locator(".feature")).to_contain_text("四多三高")
    check_page(page, elder=True)

    page.get_by_role("button", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(html).to_have_class(re.compile(r"\belder\b"))  # remembered across the switch
    expect(page.get_by_role("heading", name="小区", exact=True)).to_be_visible()
    check_page(page, elder=True)

    page.get_by_role("button", name="长者模式").click()
    expect(html).not_to_have_class(re.compile(r"\belder\b"))
    check_page(page, elder=False)


PAGES = [
    "/",
    "/communities/",
    "/communities/linyuan/",
    "/communities/shiyou/",
    "/search/?q=社区",
    "/search/?q=",
]


@pytest.mark.parametrize(
    ("language", "elder"),
    [("zh-hans", False), ("zh-hans", True), ("en", False), ("en", True)],
    ids=["zh", "zh-elder", "en", "en-elder"],
)
def test_every_page_passes_axe_in_both_languages_and_both_modes(
    page, live_server, demo_data, language, elder
):
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "elder_mode", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", language)
        check_page(page, elder=elder)


def test_keyboard_user_skips_to_the_main_content(page, demo_data):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("跳到主要内容")
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_q"  # the search box comes first


def test_elder_mode_and_english_work_without_javascript(page_without_js, demo_data):
    page = page_without_js
    page.goto("/communities/")
    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    assert page.url.endswith("/communities/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    expect(page.locator("h1")).to_have_text("Communities")
    # axe itself needs JavaScript, so accessibility is checked by the tests above.
    assert page.watch.outside == [] and page.watch.errors == []


def test_search_from_home_finds_a_compound_and_leads_to_its_community(page, demo_data):
    page.goto("/")
    page.get_by_label("搜索社区和小区").fill("地勘")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    check_page(page)
    page.get_by_role("link", name="地勘三院小区").click()
    expect(page.locator("h1")).to_contain_text("石油社区")
    expect(page.locator("tr:target")).to_contain_text("地勘三院小区")


def test_search_results_update_in_place_as_you_type(page, demo_data):
    page.goto("/search/")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("搜索社区和小区").press_sequentially("林园", delay=50)
    expect(page.locator("#results")).to_contain_text("林园社区")
    assert page.evaluate("window.stillTheSamePage") is True  # updated by htmx, not reloaded
    expect(page).to_have_url(re.compile(r"q=%E6%9E%97%E5%9B%AD"))
    check_page(page)
