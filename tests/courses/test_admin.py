"""Courses in the back office: staff keep only their own community's terms, courses and classes,
by list, URL and the class's facility choices; the roster's cancel action moves the waiting list."""

from django.urls import reverse

from courses import enrolment
from courses.models import Course, CourseClass
from tests.conftest import client_for
from tests.courses.conftest import NOW, residents
from tests.facilities.conftest import category, place


def url(model, view: str, *args) -> str:
    return reverse(f"admin:courses_{model._meta.model_name}_{view}", args=args)


def test_staff_see_their_own_communitys_courses_only(staff_a, staff_b, photography):
    course = photography.course
    mine = client_for(staff_a)
    link = url(Course, "change", course.pk)
    assert link in mine.get(url(Course, "changelist")).content.decode()
    assert mine.get(url(Course, "change", course.pk)).status_code == 200
    assert mine.get(url(CourseClass, "change", photography.pk)).status_code == 200

    theirs = client_for(staff_b)
    assert link not in theirs.get(url(Course, "changelist")).content.decode()
    assert theirs.get(url(Course, "change", course.pk)).status_code == 404
    assert theirs.get(url(CourseClass, "change", photography.pk)).status_code == 404


def test_a_class_meets_only_in_the_staffs_own_facilities(staff_a, photography, compound_b):
    elsewhere = place(
        compound_b, community=compound_b.community, category=category("library"), name="别处"
    )
    response = client_for(staff_a).get(url(Course, "change", photography.course.pk))
    formset = response.context["inline_admin_formsets"][0].formset
    choices = formset.forms[0].fields["facility"].queryset
    assert photography.facility in choices
    assert elsewhere not in choices


def test_the_cancel_action_moves_the_first_waiting_up(staff_a, photography):
    people = residents(3)
    first, _second, third = (enrolment.enrol(u, photography, now=NOW) for u in people)

    response = client_for(staff_a).post(
        reverse("admin:courses_enrolment_changelist"),
        {"action": "cancel_enrolments", "_selected_action": [first.pk]},
        follow=True,
    )

    assert response.status_code == 200
    third.refresh_from_db()
    assert third.status == "enrolled"
    first.refresh_from_db()
    assert first.status == "cancelled"


def test_other_staff_cannot_cancel_across_communities(staff_b, photography):
    mine = enrolment.enrol(residents(1)[0], photography, now=NOW)
    client_for(staff_b).post(
        reverse("admin:courses_enrolment_changelist"),
        {"action": "cancel_enrolments", "_selected_action": [mine.pk]},
    )
    mine.refresh_from_db()
    assert mine.status == "enrolled"


def test_the_roster_in_the_admin_shows_numbers_masked(staff_a, photography):
    """Full numbers appear only in the exported roster; the class page and the enrolment list
    name people by name and masked number."""
    person = residents(1, start=13912345678)[0]
    enrolment.enrol(person, photography, now=NOW)
    client = client_for(staff_a)

    for page in (
        client.get(url(CourseClass, "change", photography.pk)),
        client.get(reverse("admin:courses_enrolment_changelist")),
    ):
        html = page.content.decode()
        assert "139****5678" in html
        assert "13912345678" not in html
