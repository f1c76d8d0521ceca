"""A resident's account page, "my data" and its download: mine, and no one else's."""

import json

import pytest
from django.urls import reverse

from courses import enrolment
from residents.models import Resident
from tests.conftest import client_for
from tests.courses import conftest as courses
from tests.courses.conftest import NOW, make_class, resident

pytestmark = pytest.mark.django_db
term = courses.term


@pytest.fixture
def me(compound_a):
    user = resident("13812341234", birth_year=1956, name="王秀兰")
    Resident.objects.filter(user=user).update(compound=compound_a)
    return user


@pytest.fixture
def neighbour(db):
    return resident("13998765432", name="李建国")


def test_the_account_page_shows_my_details_with_the_number_masked(me, compound_a):
    html = client_for(me).get(reverse("communities:account")).content.decode()
    assert "王秀兰" in html and "138****1234" in html and "1956" in html
    assert compound_a.name in html
    assert "13812341234" not in html
    for name in ("residents:data", "residents:privacy", "residents:delete"):
        assert reverse(name) in html


def test_my_data_lists_my_profile_and_enrolments_only(me, neighbour, term, compound_a):
    photography = make_class(term, compound_a)
    calligraphy = make_class(term, compound_a, name="书画")
    enrolment.enrol(me, photography, now=NOW)
    enrolment.enrol(neighbour, calligraphy, now=NOW)
    html = client_for(me).get(reverse("residents:data")).content.decode()
    assert "王秀兰" in html and "13812341234" in html and compound_a.name in html
    assert "摄影" in html and "已报名" in html
    assert "书画" not in html and "李建国" not in html and "13998765432" not in html


def test_the_download_is_the_same_data_as_utf8_json(me, neighbour, term, compound_a):
    enrolment.enrol(me, make_class(term, compound_a), now=NOW)
    enrolment.enrol(neighbour, make_class(term, compound_a, name="书画"), now=NOW)
    response = client_for(me).get(reverse("residents:data-json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode("utf-8")
    assert "王秀兰" in body  # written as it is, not \u escapes
    data = json.loads(body)
    assert data["profile"]["mobile_number"] == "13812341234"
    assert data["profile"]["birth_year"] == 1956
    assert data["profile"]["residential_compound"] == compound_a.name
    assert [e["course"] for e in data["enrolments"]] == ["摄影"]
    assert data["enrolments"][0]["status"] == "enrolled"
    assert "李建国" not in body and "13998765432" not in body


@pytest.mark.parametrize("name", ["residents:data", "residents:data-json", "residents:delete"])
def test_anonymous_visitors_are_asked_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["residents:data", "residents:data-json"])
def test_an_account_without_a_resident_profile_has_no_data_page(staff_a, name):
    assert client_for(staff_a).get(reverse(name)).status_code == 404


def test_my_data_runs_a_fixed_number_of_queries(
    me, term, compound_a, django_assert_max_num_queries
):
    term.class_limit = 5
    term.save()
    for name in ("摄影", "书画", "古筝", "吉他"):
        enrolment.enrol(me, make_class(term, compound_a, name=name, capacity=5), now=NOW)
    client = client_for(me)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("residents:data"))
    assert response.status_code == 200


def test_my_data_holds_my_attendance_and_my_place_in_a_draw(
    me, neighbour, term, compound_a, settings
):
    from datetime import timedelta

    from courses import lottery
    from courses.models import Attendance

    photography = make_class(term, compound_a)
    mine = enrolment.enrol(me, photography, now=NOW)
    second = photography.first_date + timedelta(7)
    for day, present in ((photography.first_date, True), (second, False)):
        Attendance.objects.create(enrolment=mine, date=day, present=present, recorded_at=NOW)
    drawn = make_class(term, compound_a, name="书法", allocation="lottery")
    applied = enrolment.enrol(me, drawn, now=NOW)
    enrolment.enrol(neighbour, drawn, now=NOW)
    lottery.draw(drawn, now=term.registration_closes)

    data = json.loads(client_for(me).get(reverse("residents:data-json")).content)
    by_course = {e["course"]: e for e in data["enrolments"]}

    assert by_course["摄影"]["attendance"] == [
        {"date": photography.first_date.isoformat(), "present": True},
        {"date": (photography.first_date + timedelta(7)).isoformat(), "present": False},
    ]
    assert by_course["摄影"]["meetings_present"] == 1
    applied.refresh_from_db()
    assert by_course["书法"]["application_number"] == applied.pk
    assert by_course["书法"]["place_in_draw"] == applied.draw_rank in (1, 2)
    html = client_for(me).get(reverse("residents:data")).content.decode()
    assert "申请号" in html or str(applied.pk) in html
