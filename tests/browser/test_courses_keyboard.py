"""Issue 9's "done when", keyboard only: a 68-year-old registers, enrols in 摄影 and 古筝 初级, is
refused a third class with the reason, gives up her 摄影 seat and the first person waiting gets it
and sees it; her calendar app subscribes to her feed; 安东社区's staff enrol a senior at the desk
and export the roster; a wish gets the support of three residents and a reply from the staff.

Every control is reached with Tab (``tab_to``) and used with the keyboard: typed into, pressed
with Enter or Space, chosen with the arrow keys. Nothing is clicked or filled. Every page on the
way passes axe (WCAG 2.x A/AA, through ``check_page``) in the language and mode it was seen in:
Chinese, Chinese in elder mode, English, and English in elder mode; the back office's pages pass
axe too.
"""

import re
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from icalendar import Calendar
from openpyxl import load_workbook
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from courses.models import CourseClass, Enrolment
from tests.browser.conftest import WCAG_AA, _context, axe, check_page, second_step
from tests.browser.test_staff_and_officials import DEMO_PASSWORD
from wishes.models import Wish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Admin pages put the whole app list (the sidebar) before their content.
ADMIN_LIMIT = 200


def zh(msgid: str, context: str | None = None) -> str:
    """What the Chinese page says for an English source string."""
    with translation.override("zh-hans"):
        if context:
            return translation.pgettext(context, msgid)
        return translation.gettext(msgid)


def en(msgid: str) -> str:
    with translation.override("en"):
        return translation.gettext(msgid)


# ---- the keyboard ----


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def _describe(page, locator) -> str:
    try:
        return locator.evaluate("el => el.outerHTML.slice(0, 160)", timeout=2_000)
    except PlaywrightError:  # gone from the page: say so in the failure message
        return f"{locator} (not on the page)"


def tab_to(page, locator, limit: int = 80, *, backwards: bool = False):
    """Press Tab (Shift+Tab with ``backwards``) until ``locator`` has the focus; fail naming it
    and where the focus went instead if it never does."""
    key = "Shift+Tab" if backwards else "Tab"
    expect(locator).to_have_count(1)
    for _ in range(limit):
        page.keyboard.press(key)
        if is_focused(locator):
            return locator
    where = page.evaluate(
        "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : 'nothing'"
    )
    pytest.fail(
        f"{_describe(page, locator)} on {page.url} never got the focus in {limit} presses of "
        f"{key}; the focus ended on {where}",
        pytrace=False,
    )


def press(page, locator, key: str = "Enter", limit: int = 80):
    """Tab to ``locator`` and press ``key`` on it."""
    tab_to(page, locator, limit)
    page.keyboard.press(key)


def type_into(page, locator, text: str, limit: int = 80) -> None:
    tab_to(page, locator, limit)
    page.keyboard.type(text)


FOCUS_RING = """el => {
  const s = getComputedStyle(el);
  return {
    visible: el.matches(':focus-visible'),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
    shadow: Boolean(s.boxShadow) && s.boxShadow !== 'none',
    style: `outline: ${s.outlineStyle} ${s.outlineWidth}; box-shadow: ${s.boxShadow}`,
  };
}"""


def assert_focus_visible(page, locator) -> None:
    """The focused control shows it: an outline or a box shadow drawn for :focus-visible."""
    assert is_focused(locator), f"{_describe(page, locator)} does not have the focus"
    ring = locator.evaluate(FOCUS_RING)
    assert ring["visible"], f"{_describe(page, locator)} is focused but not :focus-visible"
    assert ring["outline"] or ring["shadow"], (
        f"no visible focus on {_describe(page, locator)} at {page.url}: {ring['style']}"
    )


# ---- pages, people and the journey's steps ----


def check_axe(page) -> None:
    results = axe.run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    assert page.watch.outside == [], f"requests to other hosts from {page.url}"
    assert page.watch.errors == [], f"console errors on {page.url}: {page.watch.errors}"


class Pages:
    """Runs check_page (axe and the rest) once for each page, language and mode seen. The back
    office is Django's admin, not ours to lay out: there, axe and a clean console only."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, bool]] = set()

    def look(self, page, *, again: bool = False) -> None:
        page.wait_for_load_state("load")
        path = re.sub(r"/\d+/", "/<id>/", page.url.split("://", 1)[1].split("/", 1)[1])
        lang = page.locator("html").get_attribute("lang") or ""
        elder = "elder" in (page.locator("html").get_attribute("class") or "")
        key = ("/" + path.split("#")[0].split("?")[0], lang, elder)
        if again or key not in self.seen:
            if key[0].startswith("/admin/"):
                check_axe(page)
            else:
                check_page(page, elder=elder)
            self.seen.add(key)


@pytest.fixture
def pages() -> Pages:
    return Pages()


@pytest.fixture
def open_page(browser, live_server):
    """A new browser (its own cookies) for each person of the journey."""
    contexts = []

    def open_():
        context, page = _context(browser, live_server)
        contexts.append(context)
        return page

    yield open_
    for context in contexts:
        context.close()


def use_header_switch(page, pages: Pages, *, elder: bool | None = None, lang: str | None = None):
    """Switch elder mode or the language with the header's own buttons."""
    if elder is not None:
        button = page.locator("button[name=elder]")
        tab_to(page, button)
        assert_focus_visible(page, button)
        page.keyboard.press("Enter")
        expect(page.locator("html.elder")).to_have_count(1 if elder else 0)
        expect(page.locator("button[name=elder]")).to_have_attribute(
            "aria-pressed", "true" if elder else "false"
        )
    if lang is not None:
        press(page, page.locator(f"button[name=language][value={lang}]"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
    pages.look(page)


def sign_in(page, pages: Pages, username: str, password: str = DEMO_PASSWORD) -> None:
    """From the header's sign-in link, with the keyboard."""
    page.goto("/")
    sign_in_link = page.locator(".site-nav a[href^='/accounts/login/']")
    press(page, sign_in_link)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    pages.look(page)
    type_into(page, page.locator("#id_username"), username)
    type_into(page, page.locator("#id_password"), password)
    page.keyboard.press("Enter")
    second_step(page, username, check=False)
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    pages.look(page)


def apply(page, pages: Pages, slug: str | None, link_name: str, confirm: str) -> None:
    """On a course's page (``slug``'s, or the one shown), Tab to a class's Enrol (or waiting
    list) link, then confirm."""
    if slug:
        page.goto(f"/courses/{slug}/")
    pages.look(page)
    link = page.get_by_role("link", name=link_name)
    tab_to(page, link)
    assert_focus_visible(page, link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/courses/classes/\d+/enrol/$"))
    pages.look(page)
    button = page.get_by_role("button", name=confirm)
    tab_to(page, button)
    assert_focus_visible(page, button)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/me/$"))
    pages.look(page)


def choose(page, select, option: str, limit: int = 40) -> None:
    """With the focus on ``select``, press the down arrow until ``option`` is chosen."""
    for _ in range(limit):
        if select.evaluate("el => el.selectedOptions[0].textContent.trim()") == option:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"{option} is not among the options of {_describe(page, select)}")


def fetch(url: str) -> tuple[int, str, bytes]:
    """GET ``url`` as a calendar app does: no cookies, no browser."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), b""


def feed_summaries(url: str) -> list[str]:
    status, content_type, body = fetch(url)
    assert status == 200, f"{url} answered {status}"
    assert content_type.startswith("text/calendar"), content_type
    return sorted(str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT"))


# ---- part 1: a 68-year-old, in Chinese and elder mode ----


def test_a_senior_registers_enrols_subscribes_and_gives_up_a_seat_by_keyboard(
    open_page, pages, demo_accounts
):
    born = timezone.localdate().year - 68
    page = open_page()
    page.goto("/")
    use_header_switch(page, pages, elder=True)
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Registering: from the header's sign-in link to the register link, then the form.
    press(page, page.locator(".site-nav a[href^='/accounts/login/']"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    pages.look(page)
    press(page, page.get_by_role("link", name=zh("Register with your mobile number")))
    expect(page).to_have_url(re.compile(r"/accounts/register/$"))
    pages.look(page)
    name = page.get_by_label(zh("Your name"))
    type_into(page, name, "刘桂芳")
    assert_focus_visible(page, name)
    type_into(page, page.get_by_label(zh("Mobile number")), "13912345601")
    type_into(page, page.get_by_label(zh("Password"), exact=True), "Guzheng-2026")
    type_into(page, page.get_by_label(zh("Password again")), "Guzheng-2026")
    type_into(page, page.get_by_label(zh("Year of birth")), str(born))
    privacy = page.locator("#id_privacy")
    press(page, privacy, "Space")
    assert_focus_visible(page, privacy)
    expect(privacy).to_be_checked()
    press(page, page.get_by_role("button", name=zh("Register"), exact=True))
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(page.locator("#main")).to_contain_text("139****5601")
    expect(page.locator("#main")).to_contain_text(str(born))
    pages.look(page)

    # 摄影 初级's last seat (林园社区), then 古筝 初级 (安东社区).
    apply(page, pages, "sheying", f"{zh('Enrol')} 摄影 初级", zh("Confirm: enrol me"))
    expect(page.get_by_role("status")).to_contain_text("摄影 初级")
    # 古筝 she finds in the course list: its community filter updates the list in place (htmx)
    # as she arrows through it, and the focus stays on the filter.
    press(page, page.locator(".site-nav a[href='/courses/']"))
    expect(page).to_have_url(re.compile(r"/courses/$"))
    pages.look(page)
    community = page.locator("#id_community")
    tab_to(page, community)
    assert_focus_visible(page, community)
    choose(page, community, "安东社区")
    expect(page).to_have_url(re.compile(r"community="))
    results = page.locator("#results")
    expect(results.get_by_role("link", name="古筝", exact=True)).to_have_count(1)
    expect(results).not_to_contain_text("摄影")
    expect(community).to_be_focused()
    pages.look(page, again=True)
    press(page, results.get_by_role("link", name="古筝", exact=True))
    expect(page).to_have_url(re.compile(r"/courses/guzheng/$"))
    apply(page, pages, None, f"{zh('Enrol')} 古筝 初级", zh("Confirm: enrol me"))
    enrolled = page.get_by_role("region", name=zh("Classes I am enrolled in"))
    expect(enrolled).to_contain_text("摄影 · 初级")
    expect(enrolled).to_contain_text("古筝 · 初级")
    page.screenshot(path="/tmp/kb-me-elder-zh.png", full_page=True)

    # A third class: the page says why not, and offers no way to apply.
    limit = zh(
        "You already have %(n)s classes this term, the most one person may take. "
        "Cancel one to choose another."
    ) % {"n": 2}
    page.goto("/courses/pengren/")
    pages.look(page)
    expect(page.locator(".class-table__refusal")).to_have_text(limit)
    expect(page.locator(".class-table a[href$='/enrol/']")).to_have_count(0)
    # Even the application page, reached by its address, refuses with the reason.
    cooking = CourseClass.objects.get(course__name="烹饪")
    page.goto(f"/courses/classes/{cooking.pk}/enrol/")
    expect(page.get_by_role("alert")).to_have_text(limit)
    expect(page.get_by_role("button", name=zh("Confirm: enrol me"))).to_have_count(0)
    pages.look(page, again=True)
    back = page.get_by_role("link", name=zh("Back to the course"))
    press(page, back)
    expect(page).to_have_url(re.compile(r"/courses/pengren/$"))

    # Her calendar: the address on /me/, fetched as a phone's calendar app fetches it.
    page.goto("/me/")
    webcal = page.get_by_role("link", name=zh("Open in my calendar app"))
    tab_to(page, webcal)
    assert_focus_visible(page, webcal)
    # Back to the address above it, to copy it into the calendar app.
    address = page.get_by_label(zh("Your calendar address"))
    tab_to(page, address, limit=1, backwards=True)
    assert_focus_visible(page, address)
    feed_url = address.input_value()
    assert re.fullmatch(r"http://[^/]+/me/calendar/[\w-]+\.ics", feed_url), feed_url
    expect(webcal).to_have_attribute("href", "webcal://" + feed_url.split("://", 1)[1])
    assert feed_summaries(feed_url) == ["古筝 初级", "摄影 初级"]

    # 黄志强 would rather learn 摄影 than wait for 视频剪辑: in English and elder mode, he leaves
    # that waiting list (two classes a season, waiting included) and joins 摄影's.
    waiter = open_page()
    waiter.goto("/")
    use_header_switch(waiter, pages, lang="en")
    use_header_switch(waiter, pages, elder=True)
    sign_in(waiter, pages, "13800000008")
    waiter.goto("/me/")
    pages.look(waiter)
    press(waiter, waiter.get_by_role("link", name=f"{en('Leave the waiting list')} · 视频剪辑"))
    expect(waiter).to_have_url(re.compile(r"/me/enrolments/\d+/cancel/$"))
    pages.look(waiter)
    press(waiter, waiter.get_by_role("button", name="Yes, leave the waiting list"))
    expect(waiter.get_by_role("status")).to_contain_text("视频剪辑")
    apply(
        waiter,
        pages,
        "sheying",
        f"{en('Join the waiting list')} 摄影 初级",
        en("Confirm: put me on the waiting list"),
    )
    expect(waiter.get_by_role("region", name="Waiting lists I am on")).to_contain_text(
        "You are number 1 on the waiting list."
    )

    # She gives up her 摄影 seat; the page tells her it goes to the first person waiting.
    page.goto("/me/")
    press(page, page.get_by_role("link", name=f"{zh('Give up my place')} · 摄影 初级"))
    expect(page).to_have_url(re.compile(r"/me/enrolments/\d+/cancel/$"))
    expect(page.locator(".course-outcome")).to_have_text(
        zh(
            "Your seat will go at once to the first person on the waiting list; you cannot "
            "have it back."
        )
    )
    pages.look(page)
    give_up = page.get_by_role("button", name=zh("Yes, give up my place"))
    tab_to(page, give_up)
    assert_focus_visible(page, give_up)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("status")).to_contain_text("摄影 初级")
    expect(enrolled).not_to_contain_text("摄影")
    expect(enrolled).to_contain_text("古筝 · 初级")

    # 黄志强 has the seat and sees it.
    waiter.reload()
    expect(waiter.get_by_role("region", name="Classes I am enrolled in")).to_contain_text(
        "摄影 · 初级"
    )
    expect(waiter.get_by_role("region", name="Waiting lists I am on")).not_to_contain_text("摄影")
    pages.look(waiter, again=True)
    photography = CourseClass.objects.get(course__name="摄影", level="初级")
    assert photography.enrolments.get(user__username="13800000008").status == "enrolled"

    # Her feed follows her classes; a new address stops the old one at once.
    assert feed_summaries(feed_url) == ["古筝 初级"]
    renew = page.get_by_role("button", name=zh("Make a new address"))
    tab_to(page, renew)
    assert_focus_visible(page, renew)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/me/#calendar$"))
    expect(page.get_by_role("status")).to_contain_text(
        zh("Your calendar has a new address. The old one no longer works: use the new one.")
    )
    new_url = page.get_by_label(zh("Your calendar address")).input_value()
    assert new_url != feed_url
    assert fetch(feed_url)[0] == 404
    assert feed_summaries(new_url) == ["古筝 初级"]
    pages.look(page, again=True)
    assert len(pages.seen) >= 19, sorted(pages.seen)  # every page, language and mode seen


# ---- part 2: 安东社区's desk, in English ----


def test_andong_staff_enrol_a_senior_at_the_desk_and_export_the_roster_by_keyboard(
    open_page, pages, demo_accounts, tmp_path
):
    page = open_page()
    page.goto("/")
    use_header_switch(page, pages, lang="en")
    sign_in(page, pages, "staff-andong")
    press(page, page.get_by_role("link", name="Open the back office"))
    expect(page).to_have_url(re.compile(r"/admin/$"))
    pages.look(page)

    classes = page.locator("#content-main th a[href='/admin/courses/courseclass/']")
    press(page, classes, limit=ADMIN_LIMIT)
    expect(page).to_have_url(re.compile(r"/admin/courses/courseclass/$"))
    pages.look(page)
    type_into(page, page.locator("#searchbar"), "古筝", limit=ADMIN_LIMIT)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q="))
    guzheng = CourseClass.objects.get(course__name="古筝", level="初级")
    row_link = page.locator(
        f"#result_list a[href^='/admin/courses/courseclass/{guzheng.pk}/change/']"
    )
    press(page, row_link, limit=ADMIN_LIMIT)
    expect(page).to_have_url(re.compile(rf"/courseclass/{guzheng.pk}/change/(\?|$)"))
    pages.look(page)

    desk = page.get_by_role("link", name="Enrol at the desk")
    tab_to(page, desk, limit=ADMIN_LIMIT)
    assert_focus_visible(page, desk)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/courseclass/{guzheng.pk}/desk/$"))
    pages.look(page)
    phone = page.get_by_label("Mobile number")
    type_into(page, phone, "13912345688", limit=ADMIN_LIMIT)
    assert_focus_visible(page, phone)
    type_into(page, page.get_by_label("Name"), "孙秀兰")
    type_into(page, page.get_by_label("Birth year"), "1955")
    page.screenshot(path="/tmp/kb-desk.png", full_page=True)
    enrol = page.get_by_role("button", name="Enrol")
    tab_to(page, enrol)
    assert_focus_visible(page, enrol)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/courseclass/{guzheng.pk}/change/$"))
    expect(page.locator(".messagelist")).to_contain_text("孙秀兰 is enrolled in 古筝 初级")
    expect(page.locator(".messagelist")).to_contain_text("A new account was made")
    pages.look(page, again=True)
    senior = get_user_model().objects.get(username="13912345688")
    assert senior.resident.birth_year == 1955
    seat = Enrolment.objects.get(user=senior, course_class=guzheng)
    assert (seat.status, seat.by_staff.username) == ("enrolled", "staff-andong")

    roster = page.get_by_role("link", name="Roster (XLSX, with mobile numbers)")
    tab_to(page, roster, limit=ADMIN_LIMIT)
    assert_focus_visible(page, roster)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    header = [cell.value for cell in sheet[2]]
    name, mobile = header.index("Name"), header.index("Mobile number")
    phones = {row[name]: row[mobile] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert phones.get("孙秀兰") == "13912345688", phones
    assert phones.get("吴晓东") == "13800000010", phones  # the demo's first student stays


# ---- part 3: a wish, in Chinese ----


def test_a_wish_gets_three_supporters_and_a_reply_by_keyboard(open_page, pages, demo_accounts):
    title, text = "太极拳班", "早上想在邻里中心门前一起打太极拳，希望有老师教。"
    author = open_page()
    author.goto("/")
    use_header_switch(author, pages, elder=True)
    sign_in(author, pages, "13800000010")  # 吴晓东, 安东社区
    press(author, author.locator(".site-nav a[href='/wishes/']"))
    expect(author).to_have_url(re.compile(r"/wishes/$"))
    pages.look(author)
    press(author, author.get_by_role("link", name=zh("Post a wish")))
    expect(author).to_have_url(re.compile(r"/wishes/new/$"))
    pages.look(author)
    community = author.locator("#id_community")
    tab_to(author, community)
    assert_focus_visible(author, community)
    # His compound's community comes chosen; the arrow keys would move to it if it did not.
    choose(author, community, "安东社区")
    expect(community.locator("option:checked")).to_have_text("安东社区")
    course = author.locator("#id_kind_0")
    press(author, course, "Space")
    expect(course).to_be_checked()
    assert_focus_visible(author, course)
    type_into(author, author.locator("#id_title"), title)
    type_into(author, author.locator("#id_text"), text)
    post = author.get_by_role("button", name=zh("Post my wish"))
    press(author, post)
    expect(author).to_have_url(re.compile(r"/wishes/\d+/$"))
    wish = Wish.objects.get(title=title)
    assert (wish.community.name, wish.kind, wish.support_count) == ("安东社区", "course", 1)
    support_box = author.locator(f"#support-{wish.pk}")
    expect(support_box).to_contain_text(zh("You support this wish."))
    pages.look(author)

    # Three other residents add their support: two on the wish's page, one from the list.
    for n, username in enumerate(("13800000001", "13800000002", "13800000009"), start=2):
        supporter = open_page()
        sign_in(supporter, pages, username)
        if username == "13800000009":
            supporter.goto("/wishes/")
        else:
            supporter.goto(wish.get_absolute_url())
        pages.look(supporter)
        box = supporter.locator(f"#support-{wish.pk}")
        button = box.get_by_role("button", name=zh("I want this too"))
        tab_to(supporter, button, limit=120)
        assert_focus_visible(supporter, button)
        supporter.keyboard.press("Enter")
        # htmx swaps the box in place and moves the focus to its note: the focus is not lost.
        note = box.locator(".support__mine")
        expect(note).to_have_text(zh("Thank you: your support is counted."))
        expect(note).to_be_focused()
        expect(box.locator(".support__count")).to_contain_text(str(n))
        # htmx settles the swap (and places the focus again) a moment later: wait for it, as
        # any person would before reading on.
        supporter.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        expect(note).to_be_focused()
        if username != "13800000009":  # and Tab goes on from there, not from the top
            tab_to(supporter, supporter.locator(".wish-back"), limit=1)
        pages.look(supporter, again=True)
    wish.refresh_from_db()
    assert wish.support_count == 4

    # 安东社区's staff reply in the back office, in Chinese, and mark it planned.
    reply = "已联系区文化馆的太极拳老师，下学期在邻里中心开班。"
    staff = open_page()
    staff.goto("/")
    use_header_switch(staff, pages, lang="en")
    use_header_switch(staff, pages, lang="zh-hans")
    sign_in(staff, pages, "staff-andong")
    staff.goto("/admin/wishes/wish/")
    pages.look(staff)
    row_link = staff.locator(f"#result_list a[href^='/admin/wishes/wish/{wish.pk}/change/']")
    press(staff, row_link, limit=ADMIN_LIMIT)
    expect(staff).to_have_url(re.compile(rf"/wishes/wish/{wish.pk}/change/(\?|$)"))
    pages.look(staff)
    status = staff.locator("#id_status")
    tab_to(staff, status, limit=ADMIN_LIMIT)
    assert_focus_visible(staff, status)
    choose(staff, status, zh("planned", "wish status"))
    expect(status).to_have_value("planned")
    type_into(staff, staff.locator("#id_reply"), reply)
    save = staff.locator("input[name=_save]")
    tab_to(staff, save)
    assert_focus_visible(staff, save)
    staff.keyboard.press("Enter")
    expect(staff).to_have_url(re.compile(r"/admin/wishes/wish/(\?|$)"))
    expect(staff.locator(".messagelist .success")).to_have_count(1)
    pages.look(staff, again=True)

    # The wish's page shows the reply and the new status, in Chinese and elder mode.
    author.reload()
    page_text = author.locator(".wish-page")
    expect(page_text.locator(".wish-status")).to_have_text(zh("planned", "wish status"))
    expect(page_text.locator(".wish-reply__text")).to_have_text(reply)
    expect(page_text.locator(".support__count")).to_contain_text("4")
    author.screenshot(path="/tmp/kb-wish-elder-zh.png", full_page=True)
    pages.look(author, again=True)
