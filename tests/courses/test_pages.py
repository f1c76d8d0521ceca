"""The residents' course pages: the list, a course's page, applying, cancelling and /me/."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import enrolment
from courses.models import Course, Enrolment, Term
from tests.conftest import client_for
from tests.courses.conftest import NOW, make_class, resident, residents

LIST = "/courses/"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The views ask django.utils.timezone for "now": pin it inside the term's window."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def english(settings):
    """Pages in English, the source language, so assertions read the strings as written."""
    settings.LANGUAGE_CODE = "en"


def enrol_at_now(user, course_class) -> Enrolment:
    # As after a real request's commit: the course page's cached seats move on then.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return enrolment.enrol(user, course_class, now=NOW)


def class_rows(response) -> int:
    return response.content.decode().count('<th scope="row">')


@pytest.fixture
def senior_wednesday(photography):
    """摄影 for seniors on Wednesdays, 2 seats."""
    photography.level = "初级"
    photography.teacher = "王老师"
    photography.save()
    return photography


@pytest.fixture
def youth_saturday(term, compound_a):
    course_class = make_class(term, compound_a, "少儿书法", capacity=1)
    course_class.weekday = 5
    course_class.save()
    Course.objects.filter(pk=course_class.course_id).update(
        audience=Course.Audience.YOUTH, subject=Course.Subject.CALLIGRAPHY, fee=120
    )
    return course_class


# ---- the list ----


def test_the_list_shows_every_current_class_with_where_when_and_seats(
    client, senior_wednesday, youth_saturday, term, compound_a
):
    past = Term.objects.create(
        community=term.community,
        year=2025,
        season=Term.Season.AUTUMN,
        registration_opens=NOW - timedelta(days=400),
        registration_closes=NOW - timedelta(days=380),
        starts_on=date(2025, 9, 15),
        ends_on=date(2026, 1, 15),
    )
    make_class(past, compound_a, "旧课程")

    response = client.get(LIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert class_rows(response) == 2
    assert "旧课程" not in html
    assert "摄影 · 初级" in html and "王老师" in html
    assert f'href="/facilities/{senior_wednesday.facility.slug}/"' in html
    assert "新竹社区" in html
    assert "2 seats left" in html and "1 seat left" in html
    assert "Wednesday 09:00–11:00" in html
    assert "¥120 per term" in html and "Free" in html


def test_a_full_class_says_how_many_wait(client, youth_saturday):
    people = residents(4)
    for user in people:
        enrol_at_now(user, youth_saturday)

    html = client.get(LIST).content.decode()

    assert "Full: 3 waiting" in html
    for user in people:
        assert user.username not in html  # nobody's number on a public page


def test_filters_narrow_the_list(client, senior_wednesday, youth_saturday, community_b):
    enrol_at_now(resident("13900000001"), youth_saturday)

    assert class_rows(client.get(LIST, {"audience": "youth"})) == 1
    assert "少儿书法" in client.get(LIST, {"audience": "youth"}).content.decode()
    assert class_rows(client.get(LIST, {"weekday": 2})) == 1
    assert "摄影" in client.get(LIST, {"weekday": 2}).content.decode()
    assert class_rows(client.get(LIST, {"weekday": 4})) == 0
    assert class_rows(client.get(LIST, {"subject": "calligraphy"})) == 1
    seats = client.get(LIST, {"seats": "on"}).content.decode()
    assert "摄影" in seats and "少儿书法" not in seats
    assert class_rows(client.get(LIST, {"community": youth_saturday.course.term.community.slug}))
    assert "No class matches" in client.get(LIST, {"weekday": 4}).content.decode()


def test_a_bad_filter_says_what_to_do(client, senior_wednesday):
    response = client.get(LIST, {"community": "nowhere", "weekday": "9"})

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "Choose one from the list." in response.content.decode()


def test_htmx_gets_only_the_results_fragment(client, senior_wednesday):
    response = client.get(LIST, {"audience": "senior"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "摄影" in html
    assert "<html" not in html and "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_the_list_runs_a_constant_number_of_queries(
    client, term, compound_a, django_assert_num_queries
):
    first = make_class(term, compound_a, "课程0")
    enrol_at_now(resident("13900000001"), first)
    with CaptureQueriesContext(connection) as one:
        assert class_rows(client.get(LIST)) == 1
    for i in range(1, 10):
        course_class = make_class(term, compound_a, f"课程{i}", capacity=1)
        for user in residents(2, start=13900000100 + 10 * i):
            enrol_at_now(user, course_class)

    with django_assert_num_queries(len(one)):
        response = client.get(LIST)
    assert class_rows(response) == 10
    assert "Full: 1 waiting" in response.content.decode()
    assert len(one) <= 6


# ---- a course's page ----


def test_a_course_page_shows_dates_window_and_seats_and_asks_anonymous_visitors_to_sign_in(
    client, senior_wednesday
):
    course = senior_wednesday.course
    html = client.get(f"/courses/{course.slug}/").content.decode()

    assert "<h1>摄影</h1>" in html
    assert "2026-09-15 to 2027-01-15" in html
    assert "2 seats left" in html
    assert f'href="/accounts/login/?next=/courses/{course.slug}/"' in html
    assert "Sign in to enrol" in html
    assert "Enrol" not in html.replace("Sign in to enrol", "")


def test_unknown_course_is_404(client, db):
    assert client.get("/courses/no-such-course/").status_code == 404


def test_a_resident_at_the_limit_is_told_why_they_cannot_apply(term, compound_a, photography):
    user = resident("13900000001")
    enrol_at_now(user, make_class(term, compound_a, "古筝"))
    enrol_at_now(user, make_class(term, compound_a, "电钢琴"))

    html = client_for(user).get(f"/courses/{photography.course.slug}/").content.decode()

    assert "You already have 2 classes this term" in html
    assert f"/courses/classes/{photography.pk}/enrol/" not in html


def test_a_resident_sees_their_place_on_the_waiting_list(photography):
    first, second, me = residents(3)
    for user in (first, second, me):
        enrol_at_now(user, photography)

    html = client_for(me).get(f"/courses/{photography.course.slug}/").content.decode()

    assert "You are number 1 on the waiting list." in html
    assert "Full: 1 waiting" in html


def test_a_resident_who_may_apply_gets_the_right_button(photography):
    me = resident("13900000001")
    url = f"/courses/{photography.course.slug}/"

    assert "Enrol" in client_for(me).get(url).content.decode()
    for user in residents(2):
        enrol_at_now(user, photography)
    # The seats are cached for everyone, but an enrolment moves them on at once.
    assert "Join the waiting list" in client_for(me).get(url).content.decode()


def test_my_own_place_and_the_seats_show_at_once_after_i_enrol(photography):
    me = resident("13900000001")
    client = client_for(me)
    url = f"/courses/{photography.course.slug}/"
    assert "2 seats left" in client.get(url).content.decode()

    enrol_at_now(me, photography)

    html = client.get(url).content.decode()
    assert "You are enrolled." in html
    assert "1 seat left" in html
    assert f"/courses/classes/{photography.pk}/enrol/" not in html


def test_staff_without_a_resident_profile_are_told_only_residents_enrol(staff_a, photography):
    html = client_for(staff_a).get(f"/courses/{photography.course.slug}/").content.decode()

    assert "Only residents with an account can enrol." in html


# ---- applying ----


def test_the_confirmation_page_does_not_enrol_and_confirming_does(photography):
    me = resident("13900000001")
    client = client_for(me)
    url = f"/courses/classes/{photography.pk}/enrol/"

    page = client.get(url)
    assert page.status_code == 200
    assert "There are 2 seats left" in page.content.decode()
    assert not Enrolment.objects.exists()

    response = client.post(url, follow=True)

    assert response.redirect_chain == [("/me/", 302)]
    assert "You are enrolled in 摄影." in response.content.decode()
    assert Enrolment.objects.get().status == "enrolled"


def test_applying_to_a_full_class_puts_me_on_the_waiting_list(photography):
    for user in residents(2):
        enrol_at_now(user, photography)
    client = client_for(resident("13900000001"))
    url = f"/courses/classes/{photography.pk}/enrol/"

    assert "You will be number 1 on the waiting list" in client.get(url).content.decode()
    response = client.post(url, follow=True)

    assert "You are number 1 on the waiting list for 摄影." in response.content.decode()
    assert Enrolment.objects.filter(status="waitlisted").count() == 1


def test_a_refused_application_goes_back_to_the_course_with_the_reason(photography):
    young = resident("13900000001", birth_year=2020)
    photography.min_age = 50
    photography.save()

    response = client_for(young).post(f"/courses/classes/{photography.pk}/enrol/", follow=True)

    assert response.redirect_chain == [(f"/courses/{photography.course.slug}/", 302)]
    assert "This class is for people aged 50 and over." in response.content.decode()
    assert not Enrolment.objects.exists()


def test_applying_needs_signing_in(client, photography):
    response = client.post(f"/courses/classes/{photography.pk}/enrol/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Enrolment.objects.exists()


# ---- cancelling ----


def test_cancelling_my_seat_gives_it_to_the_first_waiting(photography):
    me, other, first_waiting, second_waiting = residents(4)
    mine = enrol_at_now(me, photography)
    for user in (other, first_waiting, second_waiting):
        enrol_at_now(user, photography)
    client = client_for(me)
    url = f"/me/enrolments/{mine.pk}/cancel/"

    page = client.get(url).content.decode()
    assert "first person on the waiting list" in page
    mine.refresh_from_db()
    assert mine.status == "enrolled"

    response = client.post(url, follow=True)

    assert response.redirect_chain == [("/me/", 302)]
    assert "You have given up your place in 摄影." in response.content.decode()
    statuses = dict(Enrolment.objects.values_list("user__username", "status"))
    assert statuses == {
        me.username: "cancelled",
        other.username: "enrolled",
        first_waiting.username: "enrolled",
        second_waiting.username: "waitlisted",
    }


def test_someone_elses_cancel_address_is_404(photography):
    owner, outsider = residents(2)
    theirs = enrol_at_now(owner, photography)
    client = client_for(outsider)
    url = f"/me/enrolments/{theirs.pk}/cancel/"

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "enrolled"


def test_a_cancelled_enrolment_cannot_be_cancelled_again(photography):
    me = resident("13900000001")
    mine = enrol_at_now(me, photography)
    enrolment.cancel(mine, now=NOW)

    assert client_for(me).get(f"/me/enrolments/{mine.pk}/cancel/").status_code == 404


# ---- /me/ ----


def test_my_page_lists_my_classes_and_waiting_places_only(term, compound_a, photography):
    me, other, third = residents(3)
    guzheng = make_class(term, compound_a, "古筝")
    piano = make_class(term, compound_a, "电钢琴", capacity=1)
    enrol_at_now(me, photography)
    enrol_at_now(other, piano)
    enrol_at_now(third, piano)
    enrol_at_now(me, piano)
    enrol_at_now(other, guzheng)
    enrolment.cancel(enrol_at_now(third, guzheng), now=NOW)

    html = client_for(me).get("/me/").content.decode()

    assert "摄影" in html
    assert "电钢琴" in html and "You are number 2 on the waiting list." in html
    assert "古筝" not in html
    for user in (other, third):
        assert user.username not in html and user.username[-4:] not in html


def test_cancelled_classes_are_not_on_my_page(photography):
    me = resident("13900000001")
    enrolment.cancel(enrol_at_now(me, photography), now=NOW)

    html = client_for(me).get("/me/").content.decode()

    assert "摄影" not in html
    assert "You are not enrolled in any class." in html


def test_my_page_needs_signing_in(client, db):
    response = client.get("/me/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_without_a_resident_profile_have_no_classes(staff_a):
    html = client_for(staff_a).get("/me/").content.decode()

    assert "You have no classes" in html
    assert ".ics" not in html


def test_my_page_shows_the_private_calendar_address(photography):
    me = resident("13900000001")
    token = me.resident.calendar_token

    html = client_for(me).get("/me/").content.decode()

    assert f"http://testserver/me/calendar/{token}.ics" in html
    assert f"webcal://testserver/me/calendar/{token}.ics" in html


def test_a_new_calendar_address_revokes_the_old(client, photography):
    me = resident("13900000001")
    enrol_at_now(me, photography)
    old = me.resident.calendar_token
    assert client.get(f"/me/calendar/{old}.ics").status_code == 200

    response = client_for(me).post("/me/calendar/new/")

    assert response.status_code == 302
    me.resident.refresh_from_db()
    new = me.resident.calendar_token
    assert new != old
    assert client.get(f"/me/calendar/{old}.ics").status_code == 404
    assert client.get(f"/me/calendar/{new}.ics").status_code == 200


def test_a_new_calendar_address_needs_a_post(photography):
    me = resident("13900000001")

    assert client_for(me).get("/me/calendar/new/").status_code == 405


def test_an_unknown_calendar_address_is_404(client, db):
    assert client.get("/me/calendar/not-a-token.ics").status_code == 404


def test_a_class_meeting_time_is_shown_in_local_time(client, term, compound_a):
    course_class = make_class(term, compound_a, "太极")
    course_class.starts_at, course_class.ends_at = time(7, 30), time(8, 30)
    course_class.save()

    assert "07:30–08:30" in client.get(LIST).content.decode()


def test_a_course_page_for_a_resident_runs_a_constant_number_of_queries(
    term, compound_a, django_assert_num_queries, monkeypatch
):
    """The rules are judged for every class from one set of facts (enrolment.check_many)."""
    me = resident("13900000077")
    client = client_for(me)
    first = make_class(term, compound_a, "书画")
    course = first.course
    client.get("/me/")  # the session and the account, read once and kept with the session
    with CaptureQueriesContext(connection) as one:
        client.get(f"/courses/{course.slug}/")
    for level in ("初级", "中级", "高级", "研修", "创作"):
        first.pk, first.level = None, level  # another class of the same course
        first.save()
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(minutes=1))

    with django_assert_num_queries(len(one)):
        response = client.get(f"/courses/{course.slug}/")
    assert response.content.decode().count("Enrol<span") == 6
    assert len(one) <= 4  # course, classes, the person's enrolments, profile
    # The same minute: the page and my own parts are kept (until the seats or my enrolments
    # move, or the minute turns).
    with django_assert_num_queries(0):
        client.get(f"/courses/{course.slug}/")


def test_a_signed_in_resident_gets_the_results_rendered_for_visitors(
    client, term, compound_a, monkeypatch
):
    """The results are nobody's own: a resident's list reuses the visitors' rendering (the
    class query does not run again), and still shows a seat taken a minute later."""
    course_class = make_class(term, compound_a, "课程0")
    visitor = client.get(LIST).content.decode()
    me = client_for(resident("13900000001"))
    me.get("/me/")  # the session and user rows, read once

    with CaptureQueriesContext(connection) as queries:
        mine = me.get(LIST).content.decode()

    assert not any("courses_courseclass" in q["sql"] for q in queries.captured_queries)
    results = visitor.split('<div id="results"')[1].split("</main>")[0]
    assert results in mine
    enrol_at_now(resident("13900000002"), course_class)
    assert "2 seats left" in results
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(minutes=1))
    assert "1 seat left" in me.get(LIST).content.decode()


def test_enrolling_past_the_hours_allowance_is_refused_and_changes_nothing(
    senior_wednesday, monkeypatch
):
    from courses import views

    monkeypatch.setattr(views, "CHANGES_PER_ACCOUNT", 0)
    client = client_for(resident("13900000077"))
    response = client.post(f"/courses/classes/{senior_wednesday.pk}/enrol/", follow=True)
    assert "Too many enrolments and cancellations in the last hour" in response.content.decode()
    assert not Enrolment.objects.filter(course_class=senior_wednesday).exists()
