"""Residents' facility pages: search by everyday words, near a compound, open now; a facility's
page; its poster."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import segno
from django.urls import reverse

from facilities.models import Facility
from tests.facilities.conftest import category, place, weekly

pytestmark = pytest.mark.django_db

SEARCH = "/facilities/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def names(response) -> list[str]:
    """Facility names in the order the results list shows them."""
    html = response.content.decode()
    return re.findall(r'class="facility-card__name"><a href="[^"]+">([^<]+)</a>', html)


def test_an_everyday_word_finds_the_category(client, canteen, health_stations):
    assert names(client.get(SEARCH, {"q": "吃饭"})) == ["石油社区长者食堂"]
    assert set(names(client.get(SEARCH, {"q": "看病"}))) == {s.name for s in health_stations}


def test_pinyin_finds_the_everyday_word_and_the_name(client, canteen, compound_b):
    xiaonuan = place(
        compound_b,
        community=compound_b.community,
        category=category("supermarket"),
        name="小暖超市",
    )
    assert names(client.get(SEARCH, {"q": "chifan"})) == [canteen.name]
    assert names(client.get(SEARCH, {"q": "xiaonuan"})) == [xiaonuan.name]


def test_near_a_compound_lists_the_nearest_first_with_metres_and_minutes(
    client, compound_b, health_stations
):
    response = client.get(SEARCH, {"q": "看病", "near": compound_b.pk})
    assert names(response) == ["石油健康驿站一", "石油健康驿站二", "石油健康驿站三"]
    html = response.content.decode()
    assert "150 米 · 步行约 3 分钟" in html  # 150 m at a senior's 60 m a minute
    assert "直线距离" in html  # says distances are straight-line


def test_near_keeps_to_the_categorys_walking_distance_unless_the_resident_picks_one(
    client, compound_b, canteen, far_canteen
):
    canteens = {"category": "canteen", "near": compound_b.pk}
    assert names(client.get(SEARCH, canteens)) == [canteen.name]  # 500 m for canteens
    assert names(client.get(SEARCH, {**canteens, "distance": 1000})) == [
        canteen.name,
        far_canteen.name,
    ]


def test_open_now_follows_the_clock_and_the_exceptions(client, clock, canteen, health_stations):
    open_now = {"q": "", "open_now": "on"}
    # Wednesday noon: the canteen serves lunch; one health station is closed for maintenance.
    assert set(names(client.get(SEARCH, open_now))) == {
        canteen.name,
        "石油健康驿站一",
        "石油健康驿站三",
    }
    clock(datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI))  # between lunch and dinner
    assert canteen.name not in names(client.get(SEARCH, open_now))
    clock(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))  # Saturday: health stations closed
    assert names(client.get(SEARCH, open_now)) == []


def test_accessible_and_community_filters(client, canteen, health_stations, community_a):
    assert names(client.get(SEARCH, {"accessible": "on"})) == [canteen.name]
    assert names(client.get(SEARCH, {"community": community_a.slug})) == []
    assert len(names(client.get(SEARCH, {"community": canteen.community.slug}))) == 4


def test_results_show_the_status_line(client, canteen, health_stations):
    html = client.get(SEARCH, {"category": "canteen"}).content.decode()
    assert "营业中" in html and "13:00" in html


def test_htmx_gets_only_the_results_fragment(client, canteen):
    response = client.get(SEARCH, {"q": "食堂"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'id="results"' not in html
    assert canteen.name in html
    assert "HX-Request" in response["Vary"]


def test_every_filter_lives_in_the_url_of_the_next_page(client, compound_b):
    for n in range(25):
        place(
            compound_b,
            north=n * 10,
            community=compound_b.community,
            category=category("convenience"),
            name=f"便利店{n:02d}",
        )
    response = client.get(SEARCH, {"category": "convenience", "near": compound_b.pk})
    assert len(names(response)) == 20
    html = response.content.decode()
    next_link = re.search(r'rel="next" href="\?([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "category=convenience" in next_link and f"near={compound_b.pk}" in next_link
    second = client.get(SEARCH + "?" + next_link)
    # 300 m circle: 便利店00…便利店30 m apart, so 25 within; the second page has the rest.
    assert names(second) == [f"便利店{n:02d}" for n in range(20, 25)]


def test_bad_input_rerenders_with_a_clear_message(client, canteen):
    response = client.get(SEARCH, {"q": "食" * 60, "near": "999999", "distance": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "最多" in html  # at most 50 characters
    assert 'href="#id_near"' in html
    assert names(response) == []


def test_facility_page_shows_status_hours_prices_menu_and_phone(client, canteen):
    response = client.get(canteen.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "营业中" in html and "13:00" in html
    assert 'href="tel:0379-65550001"' in html
    assert "11:00–13:00" in html and "17:00–18:30" in html
    # The lunch price for a 75-year-old sits in the 70–79 column.
    table = re.search(r'<table class="table price-table">.*?</table>', html, re.S).group(0)
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', table)
    cells = re.findall(r'<td class="num">([^<]+)</td>', table)
    assert cells[headers.index("70–79岁") - 1] == "10.00"
    assert "红烧肉、西红柿炒鸡蛋、米饭" in html
    assert "石油社区长者食堂" in html and "<svg" in html  # the map


def test_facility_page_shows_a_coming_closure_with_its_reason(client, health_stations):
    html = client.get(health_stations[2].get_absolute_url()).content.decode()
    assert "设备检修" in html
    assert "今天" in html


def test_planned_facility_says_so_instead_of_hours(client, compound_b):
    planned = place(
        compound_b,
        community=compound_b.community,
        category=category("elderly_care"),
        name="石油社区养老服务站",
        status=Facility.Status.PLANNED,
        planned_opening=datetime(2027, 3, 1).date(),
    )
    html = client.get(planned.get_absolute_url()).content.decode()
    assert "规划中" in html and "2027" in html


def test_unknown_facility_is_404(client, db):
    assert client.get("/facilities/no-such-place/").status_code == 404


def test_poster_has_hours_phone_senior_prices_and_a_qr_code_for_the_page(client, canteen):
    response = client.get(reverse("facilities:poster", args=[canteen.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert canteen.name in html and "0379-65550001" in html
    assert "11:00–13:00" in html and "10.00" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "style=" not in svg  # the Content Security Policy forbids inline styles
    ET.fromstring(svg)  # well-formed
    url = "http://testserver" + canteen.get_absolute_url()
    assert url in html
    # The very modules of a QR code of the page's address, drawn by the QR library itself.
    expected = segno.make_qr(url, error="q")
    width, height = expected.symbol_size()
    assert f'viewBox="0 0 {width} {height}"' in svg
    paths = [p.get("d") for p in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}path")]
    assert re.search(r' d="([^"]+)"', _segno_svg(expected)).group(1) in paths


def _segno_svg(qr) -> str:
    import io

    out = io.BytesIO()
    qr.save(out, kind="svg", border=4, nl=False)
    return out.getvalue().decode()


def test_home_shows_the_category_grid_and_todays_menus(client, canteen):
    html = client.get("/").content.decode()
    assert 'href="/facilities/?category=canteen"' in html
    assert "今日食堂菜单" in html and "红烧肉" in html


def test_community_page_lists_facilities_and_walking_coverage(client, canteen, far_canteen):
    html = client.get(canteen.community.get_absolute_url()).content.decode()
    assert canteen.name in html and far_canteen.name in html
    # 地勘三院小区 has the canteen 200 m away, but no health station at all.
    table = re.search(r'<table class="table coverage-table">.*?</table>', html, re.S).group(0)
    rows = {
        re.search(r'<th scope="row">([^<]+)</th>', row).group(1): row
        for row in re.findall(r"<tr>.*?</tr>", table, re.S)[1:]
    }
    assert "coverage__yes" in rows["社区食堂"] and "100%" in rows["社区食堂"]
    assert "地勘三院小区，200 米" in rows["社区食堂"]  # the longest walk to the nearest one
    assert "coverage__no" in rows["健康驿站"] and "0%" in rows["健康驿站"]
    assert "1000 米内没有" in rows["健康驿站"]


# ---- constant queries with 300+ facilities ----


@pytest.fixture
def many_facilities(compound_b, canteen, clock):
    codes = ["canteen", "health_station", "supermarket", "convenience", "fitness", "parcel"]
    facilities = [
        Facility(
            community=compound_b.community,
            category=category(codes[n % len(codes)]),
            name=f"设施{n:03d}",
            slug=f"sheshi-{n:03d}",
            latitude=compound_b.latitude + (n % 20) * 0.0003,
            longitude=compound_b.longitude + (n // 20) * 0.0003,
        )
        for n in range(320)
    ]
    Facility.objects.bulk_create(facilities)
    for facility in Facility.objects.all():
        weekly(facility, (time(8), time(12, 30)), (time(14), time(18)), days=[0, 1, 2])
    return facilities


def test_search_runs_a_constant_number_of_queries(
    client, compound_b, many_facilities, django_assert_max_num_queries
):
    # categories, communities, whether there are too many compounds to list and the compound
    # choices, the communities and further categories the words name, the compound's gates and
    # its district's street network (none here), the count, the page, and the page's hours,
    # photos and coming exceptions
    with django_assert_max_num_queries(13):
        response = client.get(SEARCH, {"q": "设施", "near": compound_b.pk, "distance": 2000})
    assert len(names(response)) == 20
    # (and whether there are more compounds than the "near" list can offer, before listing them)
    with django_assert_max_num_queries(11):
        response = client.get(SEARCH, {"open_now": "on"})
    assert len(names(response)) == 20


def test_facility_page_runs_a_constant_number_of_queries(
    client, canteen, many_facilities, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):  # 9, the classes there, the streets, the gates
        response = client.get(canteen.get_absolute_url())
    assert response.status_code == 200


def test_home_and_community_page_run_a_constant_number_of_queries(
    client, canteen, many_facilities, django_assert_max_num_queries
):
    with django_assert_max_num_queries(11):  # 10, and the courses with seats left
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(8):  # 7, and whether the district has streets
        response = client.get(canteen.community.get_absolute_url())
    assert response.content.decode().count("设施") >= 320


def test_near_a_point_from_the_browsers_location(client, compound_b, health_stations):
    point = {"lat": compound_b.latitude, "lng": compound_b.longitude}
    response = client.get(SEARCH, {"q": "看病", **point})
    assert names(response) == ["石油健康驿站一", "石油健康驿站二", "石油健康驿站三"]
    assert "您的位置" in response.content.decode()
    response = client.get(SEARCH, {"q": "看病", "lat": compound_b.latitude})
    assert 'class="error-summary"' in response.content.decode() and names(response) == []


def test_home_has_a_search_box_for_services_in_everyday_words(client, canteen):
    html = client.get("/").content.decode()
    form = re.search(r'<form class="search-box home-finder" action="([^"]+)".*?</form>', html, re.S)
    assert form.group(1) == SEARCH and 'name="q"' in form.group(0)
    assert names(client.get(form.group(1), {"q": "吃饭"})) == [canteen.name]


def test_no_results_says_so(client, clock, canteen):
    clock(datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI))  # every canteen has closed
    response = client.get(SEARCH, {"category": "canteen", "open_now": "on"})
    html = response.content.decode()
    assert names(response) == []
    assert "0 处" in html and "现在都没有营业" in html
