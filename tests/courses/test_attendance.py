"""Attendance per meeting: staff of the class's community mark who came, a meeting at a time; a
read-only member sees the register; outsiders get 404; every change is in the audit trail."""

import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from communities.models import Membership
from courses import attendance, enrolment
from courses.attendance import meeting_dates, weeks
from courses.models import Attendance, CourseClass
from portal import audit
from tests.conftest import PASSWORD, client_for
from tests.courses.conftest import NOW, make_class, resident

TODAY = date(2026, 11, 18)  # a Wednesday, a meeting day of the class below
PAST = date(2026, 11, 11)
FUTURE = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)


@pytest.fixture
def klass(term, compound_a) -> CourseClass:
    """Wednesdays 2026-09-16 to 2027-01-13, room for everyone."""
    return make_class(term, compound_a, capacity=40)


def enrol_people(course_class, n: int, start: int = 13900000000):
    return [
        enrolment.enrol(resident(str(start + i), name=f"学员{i}"), course_class, now=NOW)
        for i in range(n)
    ]


def overview_url(course_class) -> str:
    return reverse("admin:courses_courseclass_attendance", args=[course_class.pk])


def meeting_url(course_class, day) -> str:
    value = day.isoformat() if isinstance(day, date) else day
    return reverse("admin:courses_courseclass_attendance_meeting", args=[course_class.pk, value])


def mark(client, course_class, day, people, present, **extra):
    return client.post(
        meeting_url(course_class, day),
        {"shown": [p.pk for p in people], "present": [p.pk for p in present], **extra},
    )


def marks(day) -> dict[int, bool]:
    return dict(Attendance.objects.filter(date=day).values_list("enrolment_id", "present"))


@pytest.fixture
def reader(community_a):
    """A member of community A who may read classes and registers but change nothing."""
    user = get_user_model().objects.create_user(username="reader", password=PASSWORD, is_staff=True)
    Membership.objects.create(user=user, role=Membership.Role.STAFF, community=community_a)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="courses",
            codename__in=["view_courseclass", "view_enrolment", "view_attendance"],
        )
    )
    return user


# ---- the meetings ----


def test_a_class_meets_every_week_on_its_weekday_but_not_on_public_holidays():
    # 2026-10-07 is a Wednesday of the National Day holiday.
    assert meeting_dates(2, date(2026, 9, 14), date(2026, 10, 21)) == [
        date(2026, 9, 16),
        date(2026, 9, 23),
        date(2026, 9, 30),
        date(2026, 10, 14),
        date(2026, 10, 21),
    ]
    skipped = [w for w in weeks(2, date(2026, 9, 14), date(2026, 10, 21)) if w.holiday]
    assert [w.date for w in skipped] == [date(2026, 10, 7)]
    assert skipped[0].holiday


def test_years_the_holiday_calendar_does_not_know_count_every_week():
    # 2099-10-01 is a Thursday; the library has no calendar for 2099 and would raise.
    assert meeting_dates(3, date(2099, 9, 24), date(2099, 10, 8)) == [
        date(2099, 9, 24),
        date(2099, 10, 1),
        date(2099, 10, 8),
    ]


def test_the_first_and_last_day_need_not_fall_on_the_weekday():
    assert meeting_dates(0, date(2026, 3, 4), date(2026, 3, 22)) == [
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert meeting_dates(0, date(2026, 3, 10), date(2026, 3, 15)) == []


# ---- marking ----


def test_staff_mark_a_meeting_and_see_their_ticks_again(staff_a, klass):
    first, second, third = enrol_people(klass, 3)
    client = client_for(staff_a)

    response = mark(client, klass, PAST, [first, second, third], [first, third])

    assert response.status_code == 302
    assert marks(PAST) == {first.pk: True, second.pk: False, third.pk: True}
    row = Attendance.objects.get(enrolment=first, date=PAST)
    assert row.recorded_by == staff_a
    html = client.get(meeting_url(klass, PAST)).content.decode()
    assert f'value="{first.pk}" id="present-{first.pk}" checked' in html
    assert f'value="{second.pk}" id="present-{second.pk}">' in html
    assert f'<label class="vCheckboxLabel" for="present-{second.pk}">学员1</label>' in html
    assert "139****0001" in html and "13900000001" not in html
    (meeting,) = [
        m for m in client.get(overview_url(klass)).context["register"].meetings if m.date == PAST
    ]
    assert (meeting.present, meeting.recorded) == (2, 3)


def test_marking_again_changes_the_rows_and_adds_none(staff_a, klass):
    first, second = enrol_people(klass, 2)
    client = client_for(staff_a)
    mark(client, klass, PAST, [first, second], [first])

    mark(client, klass, PAST, [first, second], [first, second])

    assert Attendance.objects.filter(date=PAST).count() == 2
    assert marks(PAST) == {first.pk: True, second.pk: True}
    # Only the corrected mark was written again: one update event, for the second person.
    updates = Attendance.pgh_event_model.objects.filter(pgh_label="update")
    assert list(updates.values_list("enrolment_id", "present")) == [(second.pk, True)]


def test_everyone_came_marks_the_whole_list_present(staff_a, klass):
    people = enrol_people(klass, 3)
    mark(client_for(staff_a), klass, TODAY, people, [], everyone="1")
    assert marks(TODAY) == {p.pk: True for p in people}


def test_someone_enrolled_after_the_list_was_shown_is_not_marked_absent(staff_a, klass):
    shown = enrol_people(klass, 2)
    late = enrol_people(klass, 1, start=13700000000)[0]
    mark(client_for(staff_a), klass, PAST, shown, shown[:1])
    assert marks(PAST) == {shown[0].pk: True, shown[1].pk: False}
    assert late.pk not in marks(PAST)


def test_a_tick_for_someone_not_in_the_class_is_ignored(staff_a, klass, term, compound_a):
    other = make_class(term, compound_a, name="国画", capacity=5)
    stranger = enrol_people(other, 1, start=13600000000)[0]
    mine = enrol_people(klass, 1)
    mark(client_for(staff_a), klass, PAST, [*mine, stranger], [*mine, stranger])
    assert marks(PAST) == {mine[0].pk: True}


@pytest.mark.parametrize(
    "day",
    [
        "2026-11-19",  # a Thursday
        "2026-10-07",  # National Day: no class
        "2026-09-09",  # before the first meeting
        "2027-01-20",  # after the last
        "2026-13-01",
        "yesterday",
    ],
)
def test_a_day_the_class_does_not_meet_is_404(staff_a, klass, day):
    people = enrol_people(klass, 1)
    client = client_for(staff_a)
    assert client.get(meeting_url(klass, day)).status_code == 404
    assert mark(client, klass, day, people, people).status_code == 404
    assert not Attendance.objects.exists()


def test_a_meeting_still_to_come_cannot_be_marked(staff_a, klass):
    people = enrol_people(klass, 2)
    client = client_for(staff_a)

    page = client.get(meeting_url(klass, FUTURE))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="present"' not in html and "学员0" in html

    response = mark(client, klass, FUTURE, people, people)
    assert response.status_code == 400
    assert response.context["error"] in response.content.decode()
    assert not Attendance.objects.exists()


def test_the_overview_lists_the_meetings_with_the_latest_first_to_hand(staff_a, klass):
    first, second = enrol_people(klass, 2)
    client = client_for(staff_a)
    mark(client, klass, PAST, [first, second], [first])
    mark(client, klass, date(2026, 11, 4), [first, second], [first, second])

    response = client.get(overview_url(klass))

    register = response.context["register"]
    assert register.latest.date == TODAY and not register.latest.marked
    assert meeting_url(klass, TODAY) in response.content.decode()
    by_date = {m.date: m for m in register.meetings}
    assert (by_date[PAST].present, by_date[PAST].recorded) == (1, 2)
    assert by_date[FUTURE].future and not by_date[FUTURE].marked
    assert by_date[date(2026, 10, 7)].holiday  # listed, as no class
    rates = {p.enrolment_id: (p.present, p.marked, p.rate) for p in register.people}
    assert rates == {first.pk: (2, 2, 100), second.pk: (1, 2, 50)}
    html = response.content.decode()
    assert "50%" in html and "100%" in html


def test_the_class_page_links_to_the_attendance(staff_a, klass):
    html = (
        client_for(staff_a)
        .get(reverse("admin:courses_courseclass_change", args=[klass.pk]))
        .content.decode()
    )
    assert overview_url(klass) in html


def test_the_roster_workbook_has_an_attendance_sheet(staff_a, klass):
    first, second = enrol_people(klass, 2)
    client = client_for(staff_a)
    mark(client, klass, PAST, [first, second], [first])
    mark(client, klass, TODAY, [first, second], [first, second])

    response = client.get(reverse("admin:courses_courseclass_roster", args=[klass.pk]))

    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 2
    sheet = book.worksheets[1]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][1:3] == ("2026-11-11", "2026-11-18")
    assert rows[1] == ("学员0", "✓", "✓", 2, 2, "100%")
    assert rows[2] == ("学员1", "✗", "✓", 1, 2, "50%")


# ---- who may ----


def test_another_communitys_staff_get_404_and_change_nothing(staff_a, staff_b, klass):
    people = enrol_people(klass, 1)
    mark(client_for(staff_a), klass, PAST, people, [])
    theirs = client_for(staff_b)

    assert theirs.get(overview_url(klass)).status_code == 404
    assert theirs.get(meeting_url(klass, PAST)).status_code == 404
    assert mark(theirs, klass, PAST, people, people).status_code == 404
    assert marks(PAST) == {people[0].pk: False}


def test_visitors_and_officials_are_sent_to_sign_in(client, official, klass):
    # Officials read reports; the back office is the staff's (tests/communities/test_admin_scope).
    people = enrol_people(klass, 1)
    for visitor in (client, client_for(official)):
        for response in (
            visitor.get(overview_url(klass)),
            visitor.get(meeting_url(klass, PAST)),
            mark(visitor, klass, PAST, people, people),
        ):
            assert response.status_code == 302
            assert reverse("admin:login") in response["Location"]
    assert not Attendance.objects.exists()


def test_a_read_only_member_sees_the_register_but_cannot_save(staff_a, reader, klass):
    people = enrol_people(klass, 2)
    mark(client_for(staff_a), klass, PAST, people, people[:1])
    client = client_for(reader)

    overview = client.get(overview_url(klass))
    assert overview.status_code == 200
    assert not overview.context["may_mark"]
    page = client.get(meeting_url(klass, PAST))
    assert page.status_code == 200
    html = page.content.decode()
    assert "学员0" in html and 'name="present"' not in html and 'name="shown"' not in html

    assert mark(client, klass, PAST, people, people).status_code == 403
    assert marks(PAST) == {people[0].pk: True, people[1].pk: False}


def test_staff_hold_the_attendance_permissions(staff_a):
    assert staff_a.has_perms(
        ["courses.view_attendance", "courses.add_attendance", "courses.change_attendance"]
    )
    assert not staff_a.has_perm("courses.delete_attendance")


# ---- the trail ----


def test_the_audit_trail_names_who_marked_and_what_changed(staff_a, klass):
    (person,) = enrol_people(klass, 1)
    client = client_for(staff_a)
    mark(client, klass, PAST, [person], [])
    mark(client, klass, PAST, [person], [person])

    row = Attendance.objects.get(enrolment=person, date=PAST)
    entries = audit.history_of(row)
    assert [e.action for e in entries] == ["update", "insert"]
    assert entries[0].who == "staff-a"
    assert entries[0].via == meeting_url(klass, PAST)
    changed = {c.field: (c.before, c.after) for c in entries[0].changes}
    label = str(Attendance._meta.get_field("present").verbose_name)
    assert changed[label] == (str(_("no")), str(_("yes")))


# ---- constant queries ----


def _queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code in (200, 302)
    return len(queries)


def test_both_pages_take_the_same_queries_for_two_people_or_thirty(
    staff_a, klass, term, compound_a, django_assert_max_num_queries
):
    small = make_class(term, compound_a, name="书法", capacity=40)
    few = enrol_people(small, 2, start=13500000000)
    many = enrol_people(klass, 30)
    meetings = [d for d in attendance.meetings_of(klass) if d <= TODAY]
    Attendance.objects.bulk_create(
        Attendance(enrolment=e, date=d, present=i % 3 > 0, recorded_at=NOW, recorded_by=staff_a)
        for d in meetings
        for i, e in enumerate(many)
    )
    client = client_for(staff_a)
    client.get(overview_url(klass))  # the session and permissions settle

    counts = {}
    for course_class, people in ((small, few), (klass, many)):
        counts[course_class.pk] = (
            _queries(client, "get", overview_url(course_class)),
            _queries(client, "get", meeting_url(course_class, PAST)),
            _queries(
                client,
                "post",
                meeting_url(course_class, PAST),
                {"shown": [p.pk for p in people], "present": [p.pk for p in people[::2]]},
            ),
        )
    assert counts[small.pk] == counts[klass.pk]
    # Each counts the session's authenticator (two-step sign-in).
    with django_assert_max_num_queries(9):
        client.get(overview_url(klass))
    with django_assert_max_num_queries(9):
        client.get(meeting_url(klass, PAST))
    with django_assert_max_num_queries(12):
        client.post(
            meeting_url(klass, PAST),
            {"shown": [p.pk for p in many], "present": [p.pk for p in many[1::2]]},
        )
