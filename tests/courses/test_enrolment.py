"""courses.enrolment: the rules every enrolment keeps, and what the database refuses by itself."""

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from courses import enrolment
from courses.models import CourseClass, Enrolment, Term
from tests.courses.conftest import NOW, make_class, resident, residents


def statuses(course_class) -> list[str]:
    return list(course_class.enrolments.values_list("status", flat=True))


def test_seats_then_the_waiting_list_in_order(photography):
    people = residents(4)
    made = [enrolment.enrol(u, photography, now=NOW) for u in people]

    assert [e.status for e in made] == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    photography.refresh_from_db()
    assert (photography.enrolled_count, photography.seats_left) == (2, 0)
    assert [enrolment.waitlist_position(e) for e in made] == [None, None, 1, 2]


def test_a_freed_seat_goes_at_once_to_the_first_waiting(photography):
    first, second, third, fourth = (enrolment.enrol(u, photography, now=NOW) for u in residents(4))

    promoted = enrolment.cancel(first, now=NOW)

    assert promoted.pk == third.pk and promoted.status == "enrolled"
    assert promoted.enrolled_at == NOW
    fourth.refresh_from_db()
    assert enrolment.waitlist_position(fourth) == 1
    photography.refresh_from_db()
    assert photography.enrolled_count == 2
    # Leaving the waiting list frees no seat; a seat nobody waits for does.
    assert enrolment.cancel(fourth, now=NOW) is None
    assert enrolment.cancel(second, now=NOW) is None
    photography.refresh_from_db()
    assert photography.enrolled_count == 1


def test_the_per_term_limit_counts_seats_and_waiting_places(term, compound_a, photography):
    guzheng = make_class(term, compound_a, "古筝")
    piano = make_class(term, compound_a, "电钢琴")
    user = resident("13900000001")
    enrolment.enrol(user, photography, now=NOW)
    enrolment.enrol(user, guzheng, now=NOW)

    with pytest.raises(enrolment.Refused) as refused:
        enrolment.enrol(user, piano, now=NOW)

    assert refused.value.refusal.code == "limit"
    assert "2" in str(refused.value)
    assert not piano.enrolments.exists()


def test_the_limit_counts_every_communitys_term_of_the_season(
    term, compound_a, compound_b, photography
):
    """摄影 in 林园社区 and 古筝 in 安东社区: the third class of the autumn is refused anywhere."""
    elsewhere = Term.objects.create(
        community=compound_b.community,
        year=term.year,
        season=term.season,
        registration_opens=term.registration_opens,
        registration_closes=term.registration_closes,
        starts_on=term.starts_on,
        ends_on=term.ends_on,
    )
    guzheng = make_class(elsewhere, compound_b, "古筝")
    piano = make_class(elsewhere, compound_b, "电钢琴")
    user = resident("13900000009")
    enrolment.enrol(user, photography, now=NOW)
    enrolment.enrol(user, guzheng, now=NOW)

    assert enrolment.check(user, piano, NOW).code == "limit"


def test_one_live_enrolment_per_person_and_class(photography):
    user = resident("13900000002")
    mine = enrolment.enrol(user, photography, now=NOW)
    assert enrolment.check(user, photography, NOW).code == "already"
    enrolment.cancel(mine, now=NOW)
    again = enrolment.enrol(user, photography, now=NOW)  # after cancelling, one may return
    assert again.status == "enrolled"


@pytest.mark.parametrize(
    ("birth_year", "code"), [(2020, "too-young"), (1930, "too-old"), (1960, None)]
)
def test_age_limits_from_the_birth_year(term, compound_a, birth_year, code):
    seniors = make_class(term, compound_a, "太极", min_age=55, max_age=85)
    refusal = enrolment.check(resident("13900000003", birth_year), seniors, NOW)
    assert (refusal.code if refusal else None) == code


def test_the_window_and_the_returning_students_priority(term, photography, compound_a):
    early = term.priority_opens + timedelta(hours=1)
    newcomer, returning = resident("13900000004"), resident("13900000005")
    spring = Term.objects.create(
        community=term.community,
        year=2026,
        season=Term.Season.SPRING,
        registration_opens=NOW - timedelta(days=200),
        registration_closes=NOW - timedelta(days=180),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 7, 1),
    )
    before = make_class(spring, compound_a, "书画")
    Enrolment.objects.create(
        course_class=before, user=returning, status="enrolled", enrolled_at=NOW
    )

    assert enrolment.check(newcomer, photography, early).code == "not-open"
    assert enrolment.check(returning, photography, early) is None
    assert enrolment.check(
        newcomer, photography, term.priority_opens - timedelta(hours=1)
    ).code == ("not-open")
    assert enrolment.check(newcomer, photography, term.registration_closes).code == "closed"


def test_the_database_refuses_a_second_live_enrolment_and_too_many_seats(photography):
    user = resident("13900000006")
    enrolment.enrol(user, photography, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(course_class=photography, user=user, status="waitlisted")
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseClass.objects.filter(pk=photography.pk).update(enrolled_count=F("capacity") + 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_fill_the_seats_exactly(term, compound_a):
    """Twenty people at once for five seats, each on their own connection."""
    seats = make_class(term, compound_a, "烹饪", capacity=5)
    people = residents(20, start=13700000000)
    start = threading.Barrier(len(people))
    errors = []

    def apply(user):
        try:
            start.wait()
            enrolment.enrol(user, seats, now=NOW)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    rows = list(seats.enrolments.order_by("id").values_list("status", "enrolled_at"))
    assert [s for s, _ in rows].count("enrolled") == 5
    assert [s for s, _ in rows].count("waitlisted") == 15
    assert [s for s, _ in rows][:5] == ["enrolled"] * 5  # seats went to the first five in
    seats.refresh_from_db()
    assert seats.enrolled_count == 5
