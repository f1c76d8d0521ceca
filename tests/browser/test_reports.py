"""The officials' coverage report in a real browser: reached from the account page, checked with
axe in Chinese, in English and in elder mode."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_staff_and_officials import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_official_opens_the_coverage_report_in_both_languages_and_elder_mode(page, demo_accounts):
    sign_in(page, "official-luolong")
    page.locator('a[href="/reports/"]').click()
    expect(page).to_have_url(re.compile(r"/reports/$"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("svg[role=img]")).to_be_visible()
    communities = page.get_by_role("region", name="社区", exact=True)
    expect(communities.get_by_role("link", name="石油社区")).to_be_visible()
    expect(page.get_by_role("link", name="林园社区")).to_have_count(0)  # another district
    check_page(page, elder=False)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Coverage report")
    check_page(page, elder=False)

    page.get_by_role("button", name="Elder mode").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    expect(page.locator("svg[role=img]")).to_be_visible()
    check_page(page, elder=True)
