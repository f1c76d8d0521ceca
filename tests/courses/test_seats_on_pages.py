"""Courses with seats left on the home and community pages, and the classes meeting in a facility
on its page (issue 9: courses.listing and courses/class_row.html)."""

import re
from datetime import date, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Course, CourseClass, Term
from portal import caching
from tests.conftest import client_for
from tests.courses.conftest import NOW, make_class, resident

HOME = "/"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Pins "now" for the views and the page cache's minute; returns a setter."""

    def set_now(moment) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_now(NOW)
    return set_now


@pytest.fixture(autouse=True)
def english(settings):
    """Pages in English, the source language, so assertions read the strings as written."""
    settings.LANGUAGE_CODE = "en"


def section(html: str, title_id: str) -> str | None:
    """The HTML of the section a heading with ``title_id`` names, or None when there is none."""
    found = re.search(
        rf'<section aria-labelledby="{title_id}">(.*?)</section>', html, flags=re.DOTALL
    )
    return found.group(1) if found else None


def seats_section(client, url: str) -> str | None:
    html = client.get(url).content.decode()
    return section(html, "classes-title" if url.startswith("/facilities/") else "seats-title")


def course_url(course_class: CourseClass) -> str:
    return reverse("courses:detail", args=[course_class.course.slug])


def fill(course_class: CourseClass) -> None:
    CourseClass.objects.filter(pk=course_class.pk).update(enrolled_count=course_class.capacity)


def copy_class(course_class: CourseClass, n: int, **fields) -> CourseClass:
    """Another class of the same course in the same room, an hour later each time."""
    return CourseClass.objects.create(
        course=course_class.course,
        level=f"{n}班",
        weekday=n % 7,
        starts_at=time(8 + n % 10),
        ends_at=time(9 + n % 10),
        first_date=course_class.first_date + timedelta(days=n),
        last_date=course_class.last_date,
        facility=course_class.facility,
        capacity=10,
        **fields,
    )


@pytest.fixture
def community_b_term(community_b) -> Term:
    return Term.objects.create(
        community=community_b,
        year=2026,
        season=Term.Season.AUTUMN,
        registration_opens=NOW - timedelta(days=1),
        registration_closes=NOW + timedelta(days=14),
        starts_on=date(2026, 9, 15),
        ends_on=date(2027, 1, 15),
    )


# ---- what shows where ----


def test_a_class_with_seats_shows_on_home_its_community_page_and_its_venue_page(
    client, photography, community_a
):
    photography.level = "初级"
    photography.room = "二楼活动室"
    photography.save()

    for url in (HOME, community_a.get_absolute_url(), photography.facility.get_absolute_url()):
        listed = seats_section(client, url)
        assert listed is not None, url
        assert f'href="{course_url(photography)}"' in listed
        assert "摄影 · 初级" in listed
        assert "Wednesday 09:00–11:00" in listed
        assert "2 seats left" in listed

    home = seats_section(client, HOME)
    assert '<h2 id="seats-title">Courses with seats left</h2>' in home
    assert "新竹社区" in home
    assert 'href="/courses/?seats=1">All courses with seats left</a>' in home
    venue = seats_section(client, photography.facility.get_absolute_url())
    assert "二楼活动室" in venue and "新竹社区" not in venue  # the room, not the community


def test_the_community_page_lists_only_its_own_classes_and_links_to_all_of_them(
    client, photography, community_a, community_b_term, compound_b
):
    elsewhere = make_class(community_b_term, compound_b, "古筝")

    mine = seats_section(client, community_a.get_absolute_url())
    assert course_url(photography) in mine and course_url(elsewhere) not in mine
    link = f"/courses/?community={community_a.slug}&amp;seats=1"
    assert f'href="{link}"' in mine
    home = seats_section(client, HOME)
    assert course_url(photography) in home and course_url(elsewhere) in home

    # The link leads to a list of that community's classes with seats left.
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert course_url(photography) in listed and course_url(elsewhere) not in listed


def test_a_full_class_is_left_off_home_and_community_but_shows_full_on_its_venue_page(
    client, photography, community_a
):
    fill(photography)

    home = seats_section(client, HOME)
    assert course_url(photography) not in home
    assert "No class has a seat free just now." in home
    assert 'href="/courses/">All courses and their waiting lists</a>' in home
    # A community with nothing to offer leaves the section out.
    assert seats_section(client, community_a.get_absolute_url()) is None
    venue = seats_section(client, photography.facility.get_absolute_url())
    assert course_url(photography) in venue
    assert "Full — waiting list" in venue and "seats left" not in venue


def test_an_ended_terms_classes_show_nowhere(client, community_a, compound_a):
    # Registration still "open" on paper, so only the term's end keeps the class off.
    ended = Term.objects.create(
        community=community_a,
        year=2026,
        season=Term.Season.SPRING,
        registration_opens=NOW - timedelta(days=200),
        registration_closes=NOW + timedelta(days=1),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 8, 31),
    )
    old = make_class(ended, compound_a, "旧课程")

    assert course_url(old) not in seats_section(client, HOME)
    assert seats_section(client, community_a.get_absolute_url()) is None
    assert seats_section(client, old.facility.get_absolute_url()) is None


def test_a_class_whose_registration_has_closed_is_left_off_home_but_kept_on_its_venue_page(
    client, term, photography, community_a
):
    Term.objects.filter(pk=term.pk).update(
        priority_opens=None,
        registration_opens=NOW - timedelta(days=20),
        registration_closes=NOW - timedelta(days=1),
    )

    assert course_url(photography) not in seats_section(client, HOME)
    assert seats_section(client, community_a.get_absolute_url()) is None
    venue = seats_section(client, photography.facility.get_absolute_url())
    assert course_url(photography) in venue
    assert "Registration closed" in venue and "seats left" not in venue


def test_a_class_whose_registration_opens_later_says_when(client, term, photography):
    Term.objects.filter(pk=term.pk).update(
        priority_opens=None,
        registration_opens=NOW + timedelta(days=2),
        registration_closes=NOW + timedelta(days=14),
    )

    home = seats_section(client, HOME)
    assert course_url(photography) in home
    assert "registration opens 2026-09-03" in home


def test_home_shows_the_six_classes_that_meet_first(client, photography):
    later = [copy_class(photography, n) for n in range(1, 9)]  # first meetings a day apart

    home = seats_section(client, HOME)
    assert home.count('<li class="class-row">') == 6
    shown = re.findall(r"摄影 · (\d)班", home)
    assert shown == ["1", "2", "3", "4", "5"]  # after 摄影 itself, which meets first
    assert home.index(f'href="{course_url(photography)}"') < home.index("摄影 · 1班")
    assert "摄影 · 6班" not in home and later[-1].level not in home


def test_seats_are_text_in_a_list_under_its_own_heading(client, photography):
    html = client.get(HOME).content.decode()
    headings = re.findall(r"<h([1-6])[ >]", html)
    assert headings[0] == "1" and set(headings[1:]) <= {"2", "3"}
    assert html.index('<h2 id="seats-title">') < html.index('<h2 id="tree-title">')
    home = section(html, "seats-title")
    assert re.search(r'<ul class="class-rows">\s*<li class="class-row">', home)
    assert '<span class="seats seats--free">2 seats left</span>' in home


def test_a_signed_in_resident_sees_the_same_classes(photography):
    browser = client_for(resident("13900000001"))
    home = seats_section(browser, HOME)
    assert course_url(photography) in home and "2 seats left" in home


def test_the_pages_speak_chinese_by_default(client, settings, photography):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get(HOME).content.decode()
    assert '<html lang="zh-hans"' in html
    assert "还剩 2 个名额" in section(html, "seats-title")


# ---- freshness and cost ----


def test_seat_counts_are_fresh_a_minute_later_though_the_content_version_stays(
    client, clock, photography, django_assert_max_num_queries
):
    version = caching.content_version()
    assert "2 seats left" in seats_section(client, HOME)
    CourseClass.objects.filter(pk=photography.pk).update(enrolled_count=1)
    with django_assert_max_num_queries(0):  # the same minute: the anonymous page cache
        assert "2 seats left" in seats_section(client, HOME)

    clock(NOW + timedelta(minutes=1))
    assert "1 seat left" in seats_section(client, HOME)
    fill(photography)
    clock(NOW + timedelta(minutes=2))
    assert course_url(photography) not in seats_section(client, HOME)
    assert caching.content_version() == version  # the {% cache %} fragments stayed valid


def _queries(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "page, most",
    [
        # the tree (3), totals (2), the facilities panels (5), the classes (1)
        ("home", 11),
        # community, compounds, the facilities panels (4), whether the district has streets,
        # the classes (1)
        ("community", 8),
        # facility with hours, photos, exceptions and categories (5), meals, prices, the map's
        # neighbours and compounds (4), its district's streets, the classes (1)
        ("venue", 11),
    ],
)
def test_the_pages_run_as_many_queries_with_one_class_as_with_many(
    client, photography, community_a, community_b_term, compound_b, page, most
):
    url = {
        "home": HOME,
        "community": community_a.get_absolute_url(),
        "venue": photography.facility.get_absolute_url(),
    }[page]
    one = _queries(client, url)
    assert seats_section(client, url).count('<li class="class-row">') == 1

    for n in range(1, 25):
        copy_class(photography, n)
    fill(copy_class(photography, 25))
    make_class(community_b_term, compound_b, "古筝")
    Course.objects.create(
        term=photography.course.term, name="空课程", subject="other", audience="all"
    )

    assert _queries(client, url) == one <= most
    shown = seats_section(client, url).count('<li class="class-row">')
    assert shown == {"home": 6, "community": 8, "venue": 26}[page]
