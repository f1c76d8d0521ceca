"""Residents find services in a real browser: near their compound, open now, what it costs; the
poster for the notice board. axe-core runs on every page visited."""

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from communities.models import ResidentialCompound
from facilities.models import Facility
from portal.lib import geo
from tests.browser.conftest import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Wednesday 25 November 2026, 11:30 in Shanghai: an ordinary working day, just after canteens
# open for lunch. The live server runs in this process, so it sees the pinned clock.
LUNCHTIME = datetime(2026, 11, 25, 11, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def lunchtime(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: LUNCHTIME)


@pytest.fixture
def demo(lunchtime, demo_data):
    """The demo data, loaded on the pinned day so this week's menus start on it."""


def use(page, live_server, *, language="zh-hans", elder=False):
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "elder_mode", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)


def price_for_age(page, age: int) -> str:
    """The lunch price in the senior price table for a resident of ``age``."""
    table = page.locator("table.price-table").first
    headers = table.locator("thead th").all_inner_texts()
    for column, header in enumerate(headers):
        match = re.search(r"(\d+)(?:–(\d+))?", header)  # "70–79岁", "80岁及以上"
        if match and int(match.group(1)) <= age <= int(match.group(2) or 200):
            row = table.locator("tbody tr", has_text=re.compile("午餐|Lunch"))
            return row.locator("th, td").nth(column).inner_text()
    raise AssertionError(f"no senior price band covers age {age}: {headers}")


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_nearest_open_canteen_to_dikan_and_its_lunch_price_for_a_75_year_old(
    page, live_server, demo, elder
):
    use(page, live_server, elder=elder)
    page.goto("/")
    check_page(page)
    page.get_by_label("我的小区").select_option(label="地勘三院小区")
    page.get_by_role("button", name="看看步行范围内有什么").click()
    expect(page.locator("h2.results__title")).to_contain_text("地勘三院小区")
    check_page(page)

    # Filters update the results in place (htmx) and the address keeps every filter.
    page.get_by_label("类别").select_option("canteen")
    page.get_by_label("只看营业中").check()
    expect(page).to_have_url(re.compile(r"open_now=on"))
    expect(page).to_have_url(re.compile(r"category=canteen"))
    first = page.locator(".facility-card").first
    expect(first.locator(".status")).to_contain_text("营业中")
    distance = int(
        re.search(r"(\d+) 米", first.locator(".facility-card__distance").inner_text())[1]
    )
    assert distance <= 500
    check_page(page)

    # The first card is the nearest open canteen: check against the database.
    compound = ResidentialCompound.objects.get(name="地勘三院小区")
    canteens = [
        f
        for f in Facility.objects.filter(category__code="canteen", status="open")
        if geo.distance_m(compound.point, f.point) <= 500
    ]
    nearest = min(canteens, key=lambda f: geo.distance_m(compound.point, f.point))
    expect(first.get_by_role("link")).to_have_text(nearest.name)

    first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(nearest.name)
    expect(page.locator(".status--large")).to_contain_text("营业中")
    assert re.fullmatch(r"\d+\.\d\d", price_for_age(page, 75))
    check_page(page)


def test_kanbing_lists_health_stations_by_distance_from_her_compound(page, live_server, demo):
    use(page, live_server)
    compound = ResidentialCompound.objects.get(name="地勘三院小区")
    page.goto(f"/facilities/?near={compound.pk}")
    page.get_by_label("您要找什么？").fill("看病")
    page.get_by_label("您要找什么？").press("Enter")
    expect(page).to_have_url(re.compile(r"q=%E7%9C%8B%E7%97%85"))
    cards = page.locator(".facility-card")
    expect(cards.first).to_be_visible()
    distances = [
        int(re.search(r"(\d+) 米", text)[1])
        for text in page.locator(".facility-card__distance").all_inner_texts()
    ]
    assert len(distances) >= 2 and distances == sorted(distances)
    categories = page.locator(".facility-card__meta").all_inner_texts()
    assert all(re.match(r"(健康驿站|社区卫生服务中心)", c) for c in categories), categories
    check_page(page)


def test_the_same_search_works_without_javascript(page_without_js, live_server, demo):
    page = page_without_js
    use(page, live_server)
    page.goto("/facilities/")
    page.get_by_label("您要找什么？").fill("吃饭")
    page.get_by_label("类别").select_option("canteen")
    page.get_by_role("button", name="查看结果").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["吃饭"] and query["category"] == ["canteen"]
    assert page.locator(".facility-card").count() > 0
    page.locator(".facility-card a").first.click()
    expect(page.locator(".status--large")).to_be_visible()
    assert page.watch.outside == [] and page.watch.errors == []


def test_poster_of_xiaonuan_prints_on_one_a4_sheet_and_its_qr_opens_the_page(
    page, live_server, demo
):
    use(page, live_server)
    xiaonuan = Facility.objects.get(name="小暖超市")
    page.goto(xiaonuan.get_absolute_url())
    check_page(page)
    page.get_by_role("link", name="打印社区公告栏海报").click()
    expect(page.locator("h1")).to_have_text("小暖超市")
    check_page(page)
    # The QR code's address is the facility page on this server.
    url = page.locator(".poster__url").inner_text()
    assert url == live_server.url + xiaonuan.get_absolute_url()
    page.goto(url)
    expect(page.locator("h1")).to_contain_text("小暖超市")
    # Printed, it is one A4 page.
    pdf = page.context.new_page()
    pdf.goto(live_server.url + xiaonuan.get_absolute_url() + "poster/")
    document = pdf.pdf(format="A4", print_background=True)
    pages = re.findall(rb"/Type\s*/Page(?!s)", document)
    assert len(pages) == 1, f"the poster prints on {len(pages)} A4 pages"


@pytest.mark.parametrize(
    ("language", "elder"),
    [("zh-hans", False), ("zh-hans", True), ("en", False), ("en", True)],
    ids=["zh", "zh-elder", "en", "en-elder"],
)
def test_facility_pages_pass_axe_in_both_languages_and_modes(
    page, live_server, demo, language, elder
):
    use(page, live_server, language=language, elder=elder)
    canteen = Facility.objects.filter(category__code="canteen", status="open").first()
    planned = Facility.objects.filter(status="planned").first()
    compound = ResidentialCompound.objects.get(name="地勘三院小区")
    for path in [
        "/facilities/",
        "/facilities/?q=看病",
        f"/facilities/?near={compound.pk}&category=canteen&open_now=on",
        "/facilities/?q=" + "x" * 60,
        canteen.get_absolute_url(),
        planned.get_absolute_url(),
        canteen.get_absolute_url() + "poster/",
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", language)
        check_page(page, elder=elder)


def test_keyboard_user_filters_and_opens_a_facility(page, live_server, demo):
    use(page, live_server)
    page.goto("/facilities/")
    page.get_by_label("您要找什么？").focus()
    page.keyboard.type("超市")
    page.keyboard.press("Enter")
    # The results are swapped in, then the address follows: wait for it, or the focus could
    # land on a card of the first page that the swap then removes.
    expect(page).to_have_url(re.compile(r"[?&]q=%E8%B6%85%E5%B8%82"))
    expect(page.locator(".facility-card").first).to_be_visible()
    # Tab on to the first result's link and open it.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.facility-card') !== null"):
            break
    else:
        raise AssertionError("no result link reachable by keyboard")
    page.keyboard.press("Enter")
    expect(page.locator(".status--large")).to_be_visible()
    check_page(page)


def test_use_my_location_finds_what_is_near_the_browsers_position(browser, live_server, demo):
    from tests.browser.conftest import _context

    compound = ResidentialCompound.objects.get(name="地勘三院小区")
    context, page = _context(
        browser,
        live_server,
        geolocation={"latitude": compound.latitude, "longitude": compound.longitude},
        permissions=["geolocation"],
    )
    try:
        page.goto("/facilities/?q=看病")
        page.get_by_role("button", name="使用我的位置").click()
        expect(page.locator("h2.results__title")).to_contain_text("您的位置")
        expect(page).to_have_url(re.compile(r"lat=34\.\d+"))
        distances = [
            int(re.search(r"(\d+) 米", text)[1])
            for text in page.locator(".facility-card__distance").all_inner_texts()
        ]
        assert distances and distances == sorted(distances)
        check_page(page)
    finally:
        context.close()
