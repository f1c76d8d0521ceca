"""Every page reflows to a 320 CSS px phone (WCAG 1.4.10) in both languages and both modes."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REFLOW_HEIGHT, REFLOW_WIDTH, check_page, check_reflow
from tests.browser.test_staff_and_officials import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOT_FOUND = "/no-such-page/"
# A search for one long unbroken word echoes it in the results heading, where it must wrap.
LONG_WORD = "Zhongguancunkejiyuanqu" * 2
PAGES = [
    "/",
    "/communities/",
    "/communities/linyuan/",
    "/communities/shiyou/",
    "/search/?q=社区",
    "/search/?q=",
    f"/search/?q={LONG_WORD}",
    "/accounts/login/",
    NOT_FOUND,
]


def visit_as(page, live_server, *, language: str, elder: bool) -> None:
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "elder_mode", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)


@pytest.mark.parametrize(
    ("language", "elder"),
    [("zh-hans", False), ("zh-hans", True), ("en", False), ("en", True)],
    ids=["zh", "zh-elder", "en", "en-elder"],
)
def test_every_page_fits_a_320_px_screen_in_both_languages_and_both_modes(
    page, live_server, demo_data, language, elder
):
    visit_as(page, live_server, language=language, elder=elder)
    # Seen at phone width from the start, so axe and the elder-mode target check run there too.
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": REFLOW_HEIGHT})
    for path in PAGES:
        response = page.goto(path)
        assert response.status == (404 if path == NOT_FOUND else 200), path
        expect(page.locator("html")).to_have_attribute("lang", language)
        if path == NOT_FOUND:
            # Chromium logs the 404 status itself as a console error; nothing else may be.
            page.watch.errors[:] = [e for e in page.watch.errors if "404" not in e]
        check_page(page, elder=elder)


def test_community_page_in_english_elder_mode_fits_a_390_px_phone(page, live_server, demo_data):
    visit_as(page, live_server, language="en", elder=True)
    page.goto("/communities/linyuan/")
    expect(page.locator("h1")).to_contain_text("林园社区")
    check_reflow(page, width=390)


def test_compound_table_becomes_cards_on_a_phone_and_stays_a_grid_on_a_desktop(
    page, live_server, demo_data
):
    visit_as(page, live_server, language="zh-hans", elder=True)
    page.goto("/communities/shiyou/")
    row = page.locator("#compounds-title ~ .table-wrap tbody tr").first
    name, residents = row.locator("th"), row.locator("td").first

    page.set_viewport_size({"width": REFLOW_WIDTH, "height": REFLOW_HEIGHT})
    # Stacked: the count sits under the compound's name, named by its label, not beside it.
    assert residents.bounding_box()["y"] >= name.bounding_box()["y"] + name.bounding_box()["height"]
    label = residents.evaluate("td => getComputedStyle(td, '::before').content")
    assert "居民" in label
    expect(page.locator("#compounds-title ~ .table-wrap thead")).to_have_css("position", "absolute")

    page.set_viewport_size({"width": 1280, "height": REFLOW_HEIGHT})
    assert residents.bounding_box()["x"] >= name.bounding_box()["x"] + name.bounding_box()["width"]
    expect(page.locator("#compounds-title ~ .table-wrap thead")).to_be_visible()
    check_page(page, elder=True)


@pytest.mark.parametrize("username", ["staff-shiyou", "cityadmin"])
def test_back_office_index_fits_a_320_px_screen_in_english(
    page, live_server, demo_accounts, username
):
    sign_in(page, username)  # past the second step
    visit_as(page, live_server, language="en", elder=False)
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": REFLOW_HEIGHT})
    page.goto("/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#content-main .module").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= REFLOW_WIDTH
    check_page(page)
