"""Elder mode on a phone keeps its promise: every target at least 44 px tall (tokens.css gives
48), the links that stand alone in a paragraph too ("All canteens", "My classes", an official's
report and changes). ``check_elder_mode`` passes over every link inside a paragraph; here only a
link inside running text is, as WCAG 2.5.8 exempts it: one whose paragraph, list item or cell
has words of its own besides the link."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_courses_journey import sign_in as resident_signs_in
from tests.browser.test_staff_and_officials import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TARGET = 44
# Every visible link, button and control shorter than ``target``, but a link in running text.
SHORT_TARGETS = """(target) => {
  const inRunningText = el => {
    const block = el.tagName === "A" && el.closest("p, li, td, th, dd");
    return !!block && block.textContent.trim() !== el.textContent.trim();
  };
  return [...document.querySelectorAll("a, button, input, select, textarea, summary")]
    .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
    .filter(el => !el.classList.contains("skip-link") && !inRunningText(el))
    .map(el => [el.textContent.trim() || el.name || el.type, el.getBoundingClientRect()])
    .filter(([, box]) => box.height < target)
    .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`);
}"""


def in_elder_mode_on_a_phone(page, live_server) -> None:
    page.context.add_cookies(
        [
            {"name": "django_language", "value": "en", "url": live_server.url},
            {"name": "elder_mode", "value": "1", "url": live_server.url},
        ]
    )
    page.set_viewport_size(PHONE)


def check_targets(page, *names: str) -> None:
    """The links named are at least TARGET px tall, and so is every other target on the page."""
    for name in names:
        link = page.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        height = link.bounding_box()["height"]
        assert height >= TARGET, f"{name!r} is {height:.0f}px tall in elder mode on {page.url}"
    short = page.evaluate(SHORT_TARGETS, TARGET)
    assert short == [], f"targets under {TARGET}px tall in elder mode on {page.url}: {short}"
    check_page(page, elder=True)


def test_every_target_on_the_home_page_is_44_px_tall(page, live_server, demo_data):
    in_elder_mode_on_a_phone(page, live_server)
    page.goto("/")
    expect(page.locator("html.elder")).to_have_count(1)
    check_targets(page, "All canteens")


def test_every_target_on_a_course_page_is_44_px_tall_for_a_resident(
    page, live_server, demo_accounts
):
    resident_signs_in(page, "13800000001")
    in_elder_mode_on_a_phone(page, live_server)
    page.goto("/courses/sheying/")
    expect(page.locator("html.elder")).to_have_count(1)
    check_targets(page, "My classes")


def test_every_target_on_an_officials_account_page_is_44_px_tall(page, live_server, demo_accounts):
    sign_in(page, "official-luolong")
    in_elder_mode_on_a_phone(page, live_server)
    page.goto("/accounts/")
    expect(page.locator("html.elder")).to_have_count(1)
    check_targets(page, "Coverage report for my area", "Changes in my area")
