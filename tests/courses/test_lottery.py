"""The lottery (摇号): applications while the window is open, one reproducible draw after it closes,
the waiting list in the draw's order, and the pages and back office that show it."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from courses import enrolment, lottery
from courses.models import CourseClass, Draw, Enrolment
from tests.conftest import client_for
from tests.courses.conftest import NOW, make_class, resident, residents

AFTER = NOW + timedelta(days=15)  # the term fixture's window closes at NOW + 14 days


@pytest.fixture
def drawn_class(term, compound_a) -> CourseClass:
    return make_class(term, compound_a, "书法", capacity=2, allocation="lottery")


def apply_all(course_class, people):
    return [enrolment.enrol(user, course_class, now=NOW) for user in people]


def reference_order(seed: str, numbers) -> list[int]:
    """The rule the draw page tells residents, written out independently."""
    keyed = [(hashlib.sha256(f"{seed}:{n}".encode()).hexdigest(), n) for n in numbers]
    return [n for _key, n in sorted(keyed)]


def seed_reversing(numbers) -> str:
    """A seed whose order puts the applications in the reverse of their arrival."""
    for i in range(10_000):
        if lottery.rank(str(i), numbers) == sorted(numbers, reverse=True):
            return str(i)
    raise AssertionError("no such seed")


# ---- applying ----


def test_applications_take_no_seat_however_many_arrive(drawn_class):
    made = apply_all(drawn_class, residents(4))

    assert [e.status for e in made] == ["applied"] * 4
    drawn_class.refresh_from_db()
    assert drawn_class.enrolled_count == 0
    assert [enrolment.waitlist_position(e) for e in made] == [None] * 4


def test_an_application_counts_towards_the_term_limit(term, compound_a, drawn_class):
    me = resident("13900000001")
    enrolment.enrol(me, drawn_class, now=NOW)
    enrolment.enrol(me, make_class(term, compound_a, "古筝"), now=NOW)

    refusal = enrolment.check(me, make_class(term, compound_a, "电钢琴"), NOW)

    assert refusal.code == "limit"


def test_one_application_per_person(drawn_class):
    me = resident("13900000001")
    enrolment.enrol(me, drawn_class, now=NOW)

    with pytest.raises(enrolment.Refused) as refused:
        enrolment.enrol(me, drawn_class, now=NOW)
    assert refused.value.refusal.code == "already"


def test_withdrawing_an_application_frees_nothing_and_leaves_the_draw(drawn_class):
    mine, other = apply_all(drawn_class, residents(2))

    assert enrolment.cancel(mine, now=NOW) is None
    draw = lottery.draw(drawn_class, now=AFTER)

    assert draw.applications == [other.pk]
    mine.refresh_from_db()
    assert mine.status == "cancelled" and mine.draw_rank is None


# ---- the draw ----


def test_no_draw_while_registration_is_open(drawn_class):
    apply_all(drawn_class, residents(3))

    with pytest.raises(lottery.NotYet):
        lottery.draw(drawn_class, now=NOW)
    assert not Draw.objects.exists()
    assert set(drawn_class.enrolments.values_list("status", flat=True)) == {"applied"}


def test_the_draw_gives_the_seats_in_its_order_and_the_rest_wait(drawn_class):
    made = apply_all(drawn_class, residents(5))
    numbers = [e.pk for e in made]

    draw = lottery.draw(drawn_class, now=AFTER, seed="5eed")

    assert draw.applications == reference_order("5eed", numbers)
    assert (draw.seats, draw.drawn_at) == (2, AFTER)
    assert lottery.verify(draw)
    rows = {e.pk: e for e in drawn_class.enrolments.all()}
    for place, number in enumerate(draw.applications, start=1):
        row = rows[number]
        assert row.draw_rank == place
        assert row.status == ("enrolled" if place <= 2 else "waitlisted")
        assert (row.enrolled_at == AFTER) is (place <= 2)
    waiting = [rows[n] for n in draw.applications[2:]]
    assert [enrolment.waitlist_position(e) for e in waiting] == [1, 2, 3]
    drawn_class.refresh_from_db()
    assert drawn_class.enrolled_count == 2


def test_the_same_seed_always_gives_the_same_order():
    numbers = [41, 7, 19, 3, 88]
    assert lottery.rank("abc", numbers) == lottery.rank("abc", list(reversed(numbers)))
    assert lottery.rank("abc", numbers) == reference_order("abc", numbers)
    assert lottery.rank("abc", numbers) != lottery.rank("abd", numbers)


def test_a_class_is_drawn_once(drawn_class):
    apply_all(drawn_class, residents(3))
    first = lottery.draw(drawn_class, now=AFTER)

    again = lottery.draw(drawn_class, now=AFTER + timedelta(days=1), seed="other")

    assert again.pk == first.pk and again.seed == first.seed
    assert Draw.objects.count() == 1
    drawn_class.refresh_from_db()
    assert drawn_class.enrolled_count == 2


def test_a_stored_order_that_the_seed_does_not_give_fails_the_check(drawn_class):
    apply_all(drawn_class, residents(3))
    draw = lottery.draw(drawn_class, now=AFTER)
    draw.applications = list(reversed(draw.applications))

    assert not lottery.verify(draw)


def test_fewer_applications_than_seats_all_get_one(drawn_class):
    (only,) = apply_all(drawn_class, residents(1))

    draw = lottery.draw(drawn_class, now=AFTER)

    only.refresh_from_db()
    assert only.status == "enrolled" and draw.seats == 1


def test_a_freed_seat_goes_to_the_first_in_the_draws_order_not_the_first_to_apply(drawn_class):
    made = apply_all(drawn_class, residents(4))
    numbers = [e.pk for e in made]
    draw = lottery.draw(drawn_class, now=AFTER, seed=seed_reversing(numbers))
    # Reversed: the last two to apply took the seats; the second waits before the first.
    assert draw.applications == numbers[::-1]
    first_applicant, second_applicant, _seat, seat = made

    promoted = enrolment.cancel(Enrolment.objects.get(pk=seat.pk), now=AFTER)

    assert promoted.pk == second_applicant.pk
    first_applicant.refresh_from_db()
    assert enrolment.waitlist_position(first_applicant) == 1


def test_first_come_classes_are_never_drawn(photography):
    apply_all(photography, residents(1))

    with pytest.raises(ValueError):
        lottery.draw(photography, now=AFTER)
    assert not lottery.due(AFTER).exists()


def test_the_command_draws_every_closed_lottery_class_once(drawn_class, term, compound_a):
    apply_all(drawn_class, residents(3))
    make_class(term, compound_a, "篆刻", allocation="lottery")  # nobody applied: drawn empty
    make_class(term, compound_a, "古筝")  # first come: never drawn
    out = StringIO()

    call_command("draw_lots", stdout=out)  # the real now: years after the fixture's window

    assert Draw.objects.count() == 2
    assert "2 classes drawn." in out.getvalue()
    call_command("draw_lots", stdout=StringIO())
    assert Draw.objects.count() == 2


def test_the_way_seats_are_given_cannot_change_once_people_applied(drawn_class):
    apply_all(drawn_class, residents(1))
    drawn_class.allocation = "first_come"

    with pytest.raises(ValidationError) as error:
        drawn_class.full_clean()
    assert "allocation" in error.value.message_dict


# ---- pages ----


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def clock(monkeypatch):
    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    at(NOW)
    return at


def test_the_course_page_offers_the_draw_and_says_so(english, clock, drawn_class):
    apply_all(drawn_class, residents(3))
    me = resident("13900000001")

    html = client_for(me).get(f"/courses/{drawn_class.course.slug}/").content.decode()

    assert "Drawn by lot: 3 applied for 2 seats" in html
    assert "Apply for the draw" in html
    assert reverse("courses:draw", args=[drawn_class.pk]) in html


def test_applying_says_when_the_draw_is_and_my_page_shows_my_number(english, clock, drawn_class):
    client = client_for(resident("13900000001"))
    url = f"/courses/classes/{drawn_class.pk}/enrol/"

    page = client.get(url).content.decode()
    assert "Applying early gives no advantage." in page
    response = client.post(url, follow=True)

    mine = Enrolment.objects.get()
    html = response.content.decode()
    assert mine.status == "applied"
    assert f"application number {mine.pk}" in html
    assert f"Your application number is {mine.pk}." in html
    assert "Applications waiting for the draw" in html


def test_withdrawing_asks_first(english, clock, drawn_class):
    me = resident("13900000001")
    mine = enrolment.enrol(me, drawn_class, now=NOW)
    client = client_for(me)

    assert (
        "Withdraw your application?"
        in client.get(f"/me/enrolments/{mine.pk}/cancel/").content.decode()
    )
    response = client.post(f"/me/enrolments/{mine.pk}/cancel/", follow=True)

    assert "You have withdrawn your application for 书法." in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "cancelled"


def test_the_draw_page_before_and_after(english, clock, client, drawn_class):
    made = apply_all(drawn_class, residents(3))
    url = reverse("courses:draw", args=[drawn_class.pk])

    before = client.get(url).content.decode()
    assert "When the draw takes place" in before
    assert "so far 3 people have applied for 2 seats" in before

    clock(AFTER)
    draw = lottery.draw(drawn_class)
    after = client_for(made[0].user).get(url).content.decode()

    assert f"<code>{draw.seed}</code>" in after
    assert "3 applications for 2 seats given out" in after
    cells = after.split('<th scope="row">')[1:]
    assert [int(c.split("<")[0].split()[0]) for c in cells] == draw.applications
    assert "waiting list, number 1" in after
    mine_row = cells[draw.applications.index(made[0].pk)]
    assert "(you)" in mine_row
    assert after.count("(you)") == 1


def test_the_draw_page_runs_a_constant_number_of_queries(
    english, clock, drawn_class, compound_a, django_assert_max_num_queries
):
    apply_all(drawn_class, residents(3))
    clock(AFTER)
    lottery.draw(drawn_class)
    url = reverse("courses:draw", args=[drawn_class.pk])
    client = client_for(resident("13900000001"))
    client.get(url)

    with django_assert_max_num_queries(6):
        client.get(url)
    other = make_class(drawn_class.course.term, compound_a, "篆刻", allocation="lottery")
    apply_all(other, residents(20, start=13700000000))
    clock(AFTER)
    lottery.draw(other)
    with django_assert_max_num_queries(6):
        client.get(reverse("courses:draw", args=[other.pk]))


def test_a_first_come_class_has_no_draw_page(client, photography):
    assert client.get(reverse("courses:draw", args=[photography.pk])).status_code == 404


# ---- back office ----


def test_staff_draw_a_closed_class_from_the_admin(english, clock, staff_a, drawn_class):
    apply_all(drawn_class, residents(3))
    changelist = reverse("admin:courses_courseclass_changelist")
    client = client_for(staff_a)

    early = client.post(
        changelist, {"action": "draw_lots", "_selected_action": [drawn_class.pk]}, follow=True
    )
    assert "registration is still open" in early.content.decode()
    assert not Draw.objects.exists()

    clock(AFTER)
    client = client_for(staff_a)  # a new sign-in: the first one's session ended in 15 days
    done = client.post(
        changelist, {"action": "draw_lots", "_selected_action": [drawn_class.pk]}, follow=True
    )
    assert "1 class drawn." in done.content.decode()
    assert Draw.objects.get().course_class == drawn_class


def test_other_staff_cannot_draw_across_communities(clock, staff_b, drawn_class):
    apply_all(drawn_class, residents(3))
    clock(AFTER)

    client_for(staff_b).post(
        reverse("admin:courses_courseclass_changelist"),
        {"action": "draw_lots", "_selected_action": [drawn_class.pk]},
    )

    assert not Draw.objects.exists()


def test_a_draw_cannot_be_edited_in_the_admin(clock, city_admin, drawn_class):
    apply_all(drawn_class, residents(2))
    clock(AFTER)
    draw = lottery.draw(drawn_class)
    client = client_for(city_admin)

    client.post(
        reverse("admin:courses_draw_change", args=[draw.pk]),
        {"seed": "mine", "seats": 0, "applications": "[]"},
    )

    draw.refresh_from_db()
    assert draw.seed != "mine" and len(draw.applications) == 2


def test_a_draw_moves_the_course_pages_seats_on(english, clock, drawn_class):
    from django.test import TestCase

    apply_all(drawn_class, residents(3))
    client = client_for(resident("13900000001"))
    url = f"/courses/{drawn_class.course.slug}/"
    assert "Drawn by lot: 3 applied for 2 seats" in client.get(url).content.decode()

    with TestCase.captureOnCommitCallbacks(execute=True):
        lottery.draw(drawn_class, now=AFTER)  # the page's clock stays in the same minute

    html = client.get(url).content.decode()
    assert "Drawn by lot" not in html
    assert "Full: 1 waiting" in html
