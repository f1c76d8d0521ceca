"""Courses and residents in a real browser (issue: courses and residents): a 68-year-old
registers, enrols in 摄影 and 古筝 初级, is refused a third class with the reason, cancels 摄影 and
the first person waiting gets the seat and sees it; the course, account and wish pages pass axe
in both languages and both modes. Keyboard only for the registration form."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_staff_and_officials import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/courses/",
    "/courses/sheying/",
    "/courses/guzheng/",
    "/wishes/",
    "/accounts/register/",
    "/accounts/privacy/",
]
SIGNED_IN_PAGES = ["/me/", "/accounts/", "/accounts/data/", "/wishes/new/"]


def sign_in(page, phone: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/$"))


def apply(page, course: str, label: str) -> None:
    page.goto(f"/courses/{course}/")
    page.get_by_role("link", name=re.compile(rf"^(Enrol|Join the waiting list) {label}")).click()
    page.get_by_role("button", name=re.compile(r"^Confirm")).click()
    expect(page).to_have_url(re.compile(r"/me/$"))


def test_a_senior_registers_enrols_is_refused_a_third_and_frees_a_seat(page, demo_accounts):
    page.goto("/")
    page.get_by_role("button", name="English").click()
    page.goto("/accounts/register/")
    check_page(page)
    # Keyboard only: focus the first field, type, and Tab from field to field.
    page.get_by_label("Your name").focus()
    page.keyboard.type("刘桂芳")
    page.get_by_label("Mobile number").fill("13912345601")
    page.get_by_label("Password", exact=True).fill("Guzheng-2026")
    page.get_by_label("Password again").fill("Guzheng-2026")
    page.get_by_label("Year of birth").fill("1958")
    page.get_by_label(re.compile("privacy notice")).check()
    page.get_by_label("Year of birth").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(page.locator("#main")).to_contain_text("139****5601")

    apply(page, "sheying", "摄影 初级")  # the last of six seats
    apply(page, "guzheng", "古筝 初级")
    me = page.locator("#main")
    expect(me).to_contain_text("摄影")
    expect(me).to_contain_text("古筝")
    check_page(page)

    page.goto("/courses/pengren/")
    expect(page.locator(".class-table__refusal")).to_contain_text("2 classes this term")
    expect(page.get_by_role("link", name=re.compile(r"^Enrol"))).to_have_count(0)

    # Someone else joins 摄影's waiting list; she gives up her seat; he gets it at once.
    second = page.context.browser.new_context(base_url=page.url.split("/accounts")[0])
    other = second.new_page()
    other.goto("/")
    other.get_by_role("button", name="English").click()
    sign_in(other, "13800000006")
    apply(other, "sheying", "摄影 初级")
    expect(other.locator("#main")).to_contain_text("number 1 on the waiting list")

    page.goto("/me/")
    page.get_by_role("link", name=re.compile("Give up my place.*摄影")).click()
    page.get_by_role("button", name="Yes, give up my place").click()
    expect(page.locator("[role=status]")).to_contain_text("摄影")  # "You have given up …"
    expect(page.get_by_role("region", name="Classes I am enrolled in")).not_to_contain_text("摄影")

    other.goto("/me/")
    enrolled = other.get_by_role("region", name="Classes I am enrolled in")
    expect(enrolled).to_contain_text("摄影")
    second.close()


def test_the_pages_pass_axe_in_both_languages_and_modes(page, demo_accounts):
    checked = []

    def visit(path: str, *, elder: bool, lang: str) -> None:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        expect(page.locator("h1")).to_have_count(1)
        check_page(page, elder=elder)
        checked.append(path)

    for path in PAGES:
        visit(path, elder=False, lang="zh-hans")
    sign_in(page, "13800000001")
    for path in SIGNED_IN_PAGES:
        visit(path, elder=False, lang="zh-hans")
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Elder mode").click()
    for path in PAGES + SIGNED_IN_PAGES:
        visit(path, elder=True, lang="en")
    assert len(checked) == 2 * len(PAGES + SIGNED_IN_PAGES)
