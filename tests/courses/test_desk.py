"""The front desk (代办) and the roster: staff enrol residents in their own classes, registering
new ones; the roster is the one place full mobile numbers show."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from courses import enrolment
from courses.models import Term
from residents.models import Resident
from tests.conftest import client_for
from tests.courses.conftest import resident, residents


@pytest.fixture
def term(community_a) -> Term:
    """Open now: the desk enrols at the real time."""
    now = timezone.now()
    return Term.objects.create(
        community=community_a,
        year=now.year,
        season=Term.Season.AUTUMN,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=(now + timedelta(days=20)).date(),
        ends_on=(now + timedelta(days=140)).date(),
    )


def desk_url(course_class) -> str:
    return reverse("admin:courses_courseclass_desk", args=[course_class.pk])


def roster_url(course_class) -> str:
    return reverse("admin:courses_courseclass_roster", args=[course_class.pk])


def test_staff_enrol_an_existing_resident_by_number(staff_a, photography):
    user = resident("13912345678")

    response = client_for(staff_a).post(desk_url(photography), {"phone": "13912345678"})

    assert response.status_code == 302
    mine = photography.enrolments.get(user=user)
    assert (mine.status, mine.by_staff) == ("enrolled", staff_a)


def test_a_new_resident_is_registered_and_can_sign_in_with_the_password_given(
    staff_a, photography, compound_a
):
    client = client_for(staff_a)
    response = client.post(
        desk_url(photography),
        {"phone": "13712345678", "name": "孙大妈", "birth_year": "1957", "compound": compound_a.pk},
        follow=True,
    )

    made = Resident.objects.get(phone="13712345678")
    assert (made.name, made.birth_year, made.compound) == ("孙大妈", 1957, compound_a)
    assert photography.enrolments.get(user=made.user).status == "enrolled"
    notes = [str(m) for m in get_messages(response.wsgi_request)] or [
        m.message for m in response.context["messages"]
    ]
    password = next(
        re.search(r"[:：]\s*(\S+)$", n).group(1) for n in notes if "密码" in n or "password" in n
    )
    fresh = Client()
    assert fresh.login(username="13712345678", password=password)


def test_a_new_resident_needs_a_name_and_birth_year(staff_a, photography):
    response = client_for(staff_a).post(desk_url(photography), {"phone": "13612345678"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "birth_year"}
    assert not Resident.objects.filter(phone="13612345678").exists()


def test_the_rules_still_hold_at_the_desk(staff_a, term, compound_a, photography):
    from tests.courses.conftest import make_class

    user = resident("13912340000")
    for name in ("古筝", "电钢琴"):
        enrolment.enrol(user, make_class(term, compound_a, name))

    response = client_for(staff_a).post(desk_url(photography), {"phone": "13912340000"})

    assert response.status_code == 200
    assert "已报 2 个班" in response.content.decode()  # the per-term limit, in the staff's words
    assert not photography.enrolments.filter(user=user).exists()


def test_another_communitys_staff_reach_neither_desk_nor_roster(staff_b, photography):
    client = client_for(staff_b)
    assert client.get(desk_url(photography)).status_code == 404
    assert client.post(desk_url(photography), {"phone": "13912345678"}).status_code == 404
    assert client.get(roster_url(photography)).status_code == 404


def test_the_compounds_offered_are_the_staffs_own(staff_a, photography, compound_a, compound_b):
    form = client_for(staff_a).get(desk_url(photography)).context["form"]
    assert list(form.fields["compound"].queryset) == [compound_a]


def test_the_roster_lists_seats_then_the_waiting_list_with_full_numbers(staff_a, photography):
    people = residents(3, start=13500000000)
    for user in people:
        enrolment.enrol(user, photography)

    response = client_for(staff_a).get(roster_url(photography))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[0], r[2], r[5]) for r in rows] == [
        (1, "13500000000", None),
        (2, "13500000001", None),
        (None, "13500000002", 1),
    ]
    assert sheet.freeze_panes == "A3"


def test_a_desk_enrolment_is_in_the_audit_trail_with_the_staff_member(staff_a, photography):
    from portal import audit

    user = resident("13912345699")
    client = client_for(staff_a)
    client.post(desk_url(photography), {"phone": "13912345699"})

    mine = photography.enrolments.get(user=user)
    entries = audit.for_object(mine)
    assert [e.action for e in entries] == ["insert"]
    assert staff_a.get_username() in entries[0].who or entries[0].who == str(staff_a)
    assert entries[0].via == desk_url(photography)
    # The class's history page in the admin reads the trail too.
    history = reverse("admin:courses_courseclass_history", args=[photography.pk])
    assert client.get(history).status_code == 200
    enrolment_history = reverse("admin:courses_enrolment_history", args=[mine.pk])
    assert client.get(enrolment_history).status_code == 200


def test_each_roster_download_is_in_the_audit_trail_with_who_read_it(staff_a, staff_b, photography):
    from courses.models import RosterRead

    client_for(staff_b).get(roster_url(photography))  # another community's: a 404, no read
    assert not RosterRead.objects.exists()
    client_for(staff_a).get(roster_url(photography))
    read = RosterRead.objects.get()
    assert read.pgh_obj_id == photography.pk
    assert read.pgh_context["user"] == staff_a.pk
    assert read.pgh_context["url"] == roster_url(photography)


HYPERLINK = '=HYPERLINK("http://evil.example/x","点我")'


def test_a_name_typed_as_a_formula_is_plain_text_in_the_roster_and_attendance_sheet(
    staff_a, photography
):
    """The steps of the report that found it: a resident registers with a formula for a name and
    enrols; five people were in the class before, so the name is B8 of the roster."""
    photography.capacity = 10
    photography.save()
    for user in residents(5, start=13500000000):
        enrolment.enrol(user, photography)
    visitor = Client()
    registered = visitor.post(
        reverse("residents:register"),
        {
            "name": HYPERLINK,
            "phone": "13812341234",
            "password1": "lanterns-over-the-river",
            "password2": "lanterns-over-the-river",
            "birth_year": "1956",
            "privacy": "on",
        },
    )
    assert registered.status_code == 302
    enrolled = visitor.post(reverse("courses:enrol", args=[photography.pk]))
    assert enrolled.status_code == 302
    assert photography.enrolments.filter(user__resident__name=HYPERLINK).exists()

    response = client_for(staff_a).get(roster_url(photography))

    book = load_workbook(io.BytesIO(response.content))
    roster, attendance = book.worksheets
    assert roster["B8"].value == HYPERLINK and roster["B8"].data_type == "s"
    assert roster["C8"].value == "13812341234"
    names = [c for c in attendance["A"] if str(c.value).startswith(HYPERLINK)]
    assert names and all(c.data_type == "s" for c in names)
    # In Excel's eyes too: the sheets' XML holds no formula element at all.
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        xml = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert xml and not any(re.search(rb"<f[ >]", part) for part in xml)
