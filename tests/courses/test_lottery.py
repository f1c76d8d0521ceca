"""The lottery (摇号): a commitment fixed when the class is made, applications while the window is
open, one draw after it closes that reveals the secret and mixes it with the closed list, the
waiting list in the draw's order, and the pages and back office that show it (and, before the
draw, never the secret)."""

import hashlib
import html
import importlib
import itertools
import re
from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from courses import enrolment, lottery
from courses.models import CourseClass, Draw, DrawCommitment, Enrolment
from opendata import hsds
from portal import audit
from tests.conftest import client_for
from tests.courses.conftest import NOW, make_class, resident, residents

AFTER = NOW + timedelta(days=15)  # the term fixture's window closes at NOW + 14 days


@pytest.fixture
def drawn_class(term, compound_a) -> CourseClass:
    return make_class(term, compound_a, "书法", capacity=2, allocation="lottery")


def apply_all(course_class, people):
    return [enrolment.enrol(user, course_class, now=NOW) for user in people]


# The rules the draw page tells residents, written out independently of courses.lottery.


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reference_seed(secret: str, numbers) -> str:
    return sha(secret + ":" + ",".join(str(n) for n in sorted(numbers)))


def reference_order(seed: str, numbers) -> list[int]:
    keyed = [(sha(f"{seed}:{n}"), n) for n in numbers]
    return [n for _key, n in sorted(keyed)]


def keep_four_drawn_in_reverse(course_class, made) -> list[Enrolment]:
    """Withdraw all of ``made`` (applications in order of arrival) but four that the class's
    committed secret draws in the reverse of their arrival. Nobody can pick the secret, so the
    test searches over who takes part instead: with twelve applications, 495 sets of four, each
    reversed with a chance of 1 in 24."""
    secret = course_class.commitment.secret
    for four in itertools.combinations(made, 4):
        numbers = [e.pk for e in four]
        if reference_order(reference_seed(secret, numbers), numbers) == numbers[::-1]:
            for other in made:
                if other not in four:
                    enrolment.cancel(other, now=NOW)
            return list(four)
    raise AssertionError("no four applications come out reversed")


# ---- the commitment ----


def test_a_lottery_class_is_committed_when_it_is_made(drawn_class):
    commitment = DrawCommitment.objects.get(course_class=drawn_class)

    assert re.fullmatch("[0-9a-f]{64}", commitment.secret)
    assert commitment.digest == sha(commitment.secret)
    assert commitment.committed_at is not None


def test_first_come_classes_have_no_commitment(photography):
    assert not DrawCommitment.objects.filter(course_class=photography).exists()


def test_a_first_come_class_made_a_lottery_before_anyone_applied_is_committed(photography):
    photography.allocation = CourseClass.Allocation.LOTTERY
    photography.full_clean()
    photography.save()

    assert sha(photography.commitment.secret) == photography.commitment.digest


def test_saving_a_lottery_class_again_keeps_its_commitment(drawn_class):
    before = DrawCommitment.objects.get(course_class=drawn_class)

    drawn_class.teacher = "钱老师"
    drawn_class.save()

    assert list(DrawCommitment.objects.values_list("pk", "digest")) == [(before.pk, before.digest)]


def test_classes_made_in_bulk_have_none_and_are_committed_at_the_draw(term, drawn_class):
    (bulk,) = CourseClass.objects.bulk_create(
        [
            CourseClass(
                course=drawn_class.course,
                level="二班",
                weekday=4,
                starts_at=time(9),
                ends_at=time(11),
                first_date=date(2026, 9, 18),
                last_date=date(2027, 1, 15),
                facility=drawn_class.facility,
                capacity=2,
                allocation=CourseClass.Allocation.LOTTERY,
            )
        ]
    )
    assert not DrawCommitment.objects.filter(course_class=bulk).exists()
    apply_all(bulk, residents(3))

    draw = lottery.draw(bulk, now=AFTER)

    commitment = DrawCommitment.objects.get(course_class=bulk)
    assert commitment.committed_at == AFTER
    assert (draw.secret, draw.commitment) == (commitment.secret, commitment.digest)
    assert lottery.verify(draw, commitment)


def test_the_migration_commits_every_lottery_class_not_yet_drawn(term, compound_a, photography):
    from django.apps import apps

    migration = importlib.import_module("courses.migrations.0007_commit_undrawn_lotteries")
    undrawn, drawn = (make_class(term, compound_a, name) for name in ("篆刻", "国画"))
    # Lotteries from before commitments: made so without save(), one of them already drawn.
    CourseClass.objects.filter(pk__in=[undrawn.pk, drawn.pk]).update(allocation="lottery")
    Draw.objects.create(course_class=drawn, seed="5eed", drawn_at=NOW, seats=0, applications=[])

    migration.commit_undrawn(apps, None)

    (made,) = DrawCommitment.objects.all()
    assert made.course_class == undrawn and made.digest == sha(made.secret)


@pytest.mark.parametrize("field", ["digest", "secret"])
def test_the_database_refuses_to_change_a_commitment(drawn_class, field):
    commitment = drawn_class.commitment
    other = "0" * 64
    # Both columns at once where needed, so that only the trigger can be what refuses.
    change = {"secret": other, "digest": sha(other)} if field == "secret" else {"digest": other}

    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        DrawCommitment.objects.filter(pk=commitment.pk).update(**change)
    with (
        pytest.raises(DatabaseError, match="Cannot update"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        columns = ", ".join(f"{name} = %s" for name in change)
        cursor.execute(
            f"UPDATE courses_drawcommitment SET {columns} WHERE id = %s",
            [*change.values(), commitment.pk],
        )

    assert DrawCommitment.objects.get().digest == commitment.digest


def test_a_commitment_cannot_be_deleted_while_its_class_exists(drawn_class):
    commitment = drawn_class.commitment

    with pytest.raises(DatabaseError, match="kept as long as its class"), transaction.atomic():
        DrawCommitment.objects.filter(pk=commitment.pk).delete()
    with (
        pytest.raises(DatabaseError, match="kept as long as its class"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM courses_drawcommitment WHERE id = %s", [commitment.pk])

    assert DrawCommitment.objects.get().digest == commitment.digest


def test_the_database_refuses_a_digest_that_is_not_the_secrets(photography):
    other, secret = photography, "a" * 64  # first come: no commitment of its own yet

    with pytest.raises(IntegrityError, match="digest_of_secret"), transaction.atomic():
        DrawCommitment.objects.create(
            course_class=other, secret=secret, digest=sha("b" * 64), committed_at=NOW
        )
    with pytest.raises(IntegrityError, match="secret_hex"), transaction.atomic():
        DrawCommitment.objects.create(
            course_class=other, secret="A" * 64, digest=sha("A" * 64), committed_at=NOW
        )


def test_deleting_a_class_takes_its_commitment_with_it(drawn_class):
    digest = drawn_class.commitment.digest

    drawn_class.delete()

    assert not DrawCommitment.objects.exists()
    event = audit.event_model("courses.DrawCommitment").objects.get(pgh_label="delete")
    assert event.digest == digest


def test_a_city_administrator_deletes_a_lottery_class_and_its_commitment(drawn_class, city_admin):
    client = client_for(city_admin)
    url = reverse("admin:courses_courseclass_delete", args=[drawn_class.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not CourseClass.objects.filter(pk=drawn_class.pk).exists()
    assert not DrawCommitment.objects.exists()


def test_the_trail_keeps_the_digest_and_when_never_the_secret(drawn_class):
    commitment = drawn_class.commitment
    Event = audit.event_model("courses.DrawCommitment")

    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, Event._meta.db_table)
        }

    assert {"digest", "committed_at", "course_class_id"} <= columns
    assert not any("secret" in column for column in columns)
    event = Event.objects.get(pgh_label="insert")
    assert (event.digest, event.course_class_id) == (commitment.digest, drawn_class.pk)
    assert event.committed_at == commitment.committed_at


def test_the_commitment_is_linked_to_its_class_by_a_cascading_foreign_key(drawn_class):
    """The database, not Django, removes it with its class (Django's collector leaves it be)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confdeltype, confrelid::regclass::text FROM pg_constraint"
            " WHERE conname = 'courses_drawcommitment_class_fk'"
        )
        assert cursor.fetchone() == ("c", "courses_courseclass")
    assert drawn_class.commitment.pk


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
    secret = drawn_class.commitment.secret

    draw = lottery.draw(drawn_class, now=AFTER)

    assert draw.applications == reference_order(reference_seed(secret, numbers), numbers)
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

    again = lottery.draw(drawn_class, now=AFTER + timedelta(days=1))

    assert again.pk == first.pk and again.seed == first.seed
    assert Draw.objects.count() == 1
    drawn_class.refresh_from_db()
    assert drawn_class.enrolled_count == 2


def test_a_stored_order_that_the_seed_does_not_give_fails_the_check(drawn_class):
    apply_all(drawn_class, residents(3))
    draw = lottery.draw(drawn_class, now=AFTER)
    draw.applications = list(reversed(draw.applications))

    assert not lottery.verify(draw)


def test_the_draw_reveals_the_committed_secret_and_mixes_it_with_the_closed_list(drawn_class):
    published = drawn_class.commitment.digest  # what the pages showed before registration
    made = apply_all(drawn_class, residents(6))
    enrolment.cancel(made[2], now=NOW)  # withdrawn: not in the closed list
    numbers = [e.pk for n, e in enumerate(made) if n != 2]

    draw = lottery.draw(drawn_class, now=AFTER)

    assert sha(draw.secret) == published == draw.commitment
    assert draw.seed == reference_seed(draw.secret, numbers)
    assert draw.applications == reference_order(draw.seed, numbers)
    assert lottery.verify(draw, DrawCommitment.objects.get(course_class=drawn_class))


def test_the_seed_depends_on_every_application_but_not_on_their_order():
    secret = sha("test")

    assert lottery.seed_text(secret, [12, 3, 7]) == f"{secret}:3,7,12"
    assert lottery.seed_of(secret, [12, 3, 7]) == reference_seed(secret, [3, 7, 12])
    assert lottery.seed_of(secret, [3, 7]) != lottery.seed_of(secret, [3, 7, 12])


def reseed(draw):
    """A seed of someone's choosing, with the order it gives: only the seed's link breaks."""
    draw.seed = sha("chosen")
    draw.applications = reference_order(draw.seed, draw.applications)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda d: setattr(d, "secret", sha("another")), id="secret"),
        pytest.param(
            lambda d: (setattr(d, "secret", sha("x")), setattr(d, "commitment", sha(sha("x")))),
            id="secret-and-its-commitment",
        ),
        pytest.param(lambda d: setattr(d, "commitment", sha("y")), id="commitment"),
        pytest.param(reseed, id="seed-and-the-order-it-gives"),
        pytest.param(lambda d: d.applications.reverse(), id="order"),
    ],
)
def test_the_check_finds_any_link_tampered_with(drawn_class, tamper):
    apply_all(drawn_class, residents(3))
    draw = lottery.draw(drawn_class, now=AFTER)
    published = DrawCommitment.objects.get(course_class=drawn_class)
    assert lottery.verify(draw, published)

    tamper(draw)

    assert not lottery.verify(draw, published)


def test_a_draw_made_before_commitments_is_checked_by_its_order_alone(drawn_class):
    numbers = [e.pk for e in apply_all(drawn_class, residents(3))]
    old = Draw(seed="5eed", seats=2, applications=reference_order("5eed", numbers))

    assert lottery.verify(old)
    old.applications.reverse()
    assert not lottery.verify(old)


def test_fewer_applications_than_seats_all_get_one(drawn_class):
    (only,) = apply_all(drawn_class, residents(1))

    draw = lottery.draw(drawn_class, now=AFTER)

    only.refresh_from_db()
    assert only.status == "enrolled" and draw.seats == 1


def test_a_freed_seat_goes_to_the_first_in_the_draws_order_not_the_first_to_apply(drawn_class):
    made = keep_four_drawn_in_reverse(drawn_class, apply_all(drawn_class, residents(12)))
    numbers = [e.pk for e in made]
    draw = lottery.draw(drawn_class, now=AFTER)
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

    assert f'<code class="hash" id="draw-seed">{draw.seed}</code>' in after
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


def secret_of(course_class) -> str:
    secret = DrawCommitment.objects.get(course_class=course_class).secret
    assert re.fullmatch("[0-9a-f]{64}", secret)
    return secret


def test_the_class_and_draw_pages_publish_the_commitment_and_never_the_secret(
    english, clock, client, drawn_class
):
    made = apply_all(drawn_class, residents(2))
    commitment = drawn_class.commitment
    pages = [
        reverse("courses:detail", args=[drawn_class.course.slug]),
        reverse("courses:draw", args=[drawn_class.pk]),
    ]

    for viewer in (client, client_for(made[0].user)):
        for url in pages:
            page = viewer.get(url).content.decode()
            assert f'Commitment (SHA-256): <code class="hash">{commitment.digest}</code>' in page
            assert "revealed at the draw and cannot be changed" in page
            assert secret_of(drawn_class) not in page


@pytest.mark.parametrize("persona", ["city_admin", "staff_a"])
def test_the_back_office_and_its_trails_never_show_the_secret(
    english, request, persona, drawn_class, community_a
):
    apply_all(drawn_class, residents(2))
    client = client_for(request.getfixturevalue(persona))
    digest, secret = drawn_class.commitment.digest, secret_of(drawn_class)
    showing_the_digest = [
        reverse("admin:courses_courseclass_change", args=[drawn_class.pk]),
        reverse("admin:courses_courseclass_history", args=[drawn_class.pk]),  # the class's trail
    ]
    others = [
        reverse("admin:courses_courseclass_changelist"),
        reverse("admin:courses_courseclass_delete", args=[drawn_class.pk]),
        reverse("admin:courses_course_change", args=[drawn_class.course.pk]),
        reverse("admin:courses_draw_changelist"),
        reverse("admin:courses_enrolment_changelist"),
        reverse("admin:communities_community_history", args=[community_a.pk]),
        "/admin/changes/",
        "/admin/",
    ]

    for url in showing_the_digest:
        page = client.get(url)
        assert page.status_code == 200, url
        assert digest in page.content.decode(), url
        assert secret not in page.content.decode(), url
    for url in others:
        page = client.get(url)
        assert page.status_code in (200, 403), url
        assert secret not in page.content.decode(), url
    assert DrawCommitment not in admin.site._registry


def test_the_open_data_api_and_my_data_never_show_the_secret(client, drawn_class):
    (mine,) = apply_all(drawn_class, residents(1))
    secret = secret_of(drawn_class)
    service = hsds.course_service_id(drawn_class.course.pk)

    listed = client.get("/api/hsds/services")
    assert service in listed.content.decode()
    for url in [
        "/api/hsds/",
        f"/api/hsds/services/{service}",
        "/api/hsds/service_at_locations",
        "/api/hsds/openapi.json",
    ]:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert secret not in answer.content.decode(), url
    resident_client = client_for(mine.user)
    for url in ["/accounts/data/", "/accounts/data.json", "/me/"]:
        answer = resident_client.get(url)
        assert answer.status_code == 200, url
        assert secret not in answer.content.decode(), url


def test_the_draw_page_reveals_the_secret_and_each_step_to_check_it(
    english, clock, client, drawn_class
):
    published = drawn_class.commitment.digest
    numbers = [e.pk for e in apply_all(drawn_class, residents(3))]
    clock(AFTER)
    lottery.draw(drawn_class)

    page = html.unescape(
        client.get(reverse("courses:draw", args=[drawn_class.pk])).content.decode()
    )

    secret = re.search(r'id="draw-secret">([0-9a-f]{64})<', page).group(1)
    seed_text = re.search(r'id="draw-seed-text">([^<]+)<', page).group(1)
    seed = re.search(r'id="draw-seed">([0-9a-f]{64})<', page).group(1)
    shown = re.search(r'id="draw-commitment">([0-9a-f]{64})<', page).group(1)
    order = [int(c.split("<")[0]) for c in page.split('<th scope="row">')[1:]]
    assert sha(secret) == published == shown
    assert seed_text == secret + ":" + ",".join(str(n) for n in sorted(numbers))
    assert seed == sha(seed_text)
    assert order == reference_order(seed, numbers)
    assert f"printf '%s' '{secret}' | sha256sum" in page
    assert f"printf '%s' '{seed_text}' | sha256sum" in page
    assert f"printf '%s' '{seed}:{order[0]}' | sha256sum" in page


def test_a_commitment_made_after_registration_opened_is_shown_as_late(
    english, clock, client, term, compound_a
):
    clock(NOW)  # three days after returning students could first apply
    course_class = make_class(term, compound_a, "书法", allocation="lottery")
    url = reverse("courses:draw", args=[course_class.pk])

    before = client.get(url).content.decode()
    clock(AFTER)
    lottery.draw(course_class)
    after = client.get(url).content.decode()

    for page in (before, after):
        assert (
            "This commitment was made on 2026-09-01 09:00, after registration opened on "
            "2026-08-29 09:00" in page
        )
        assert "cannot show that the secret was fixed before anyone applied" in page


def test_a_commitment_made_before_registration_opened_is_not_flagged(
    english, clock, client, term, compound_a
):
    clock(NOW - timedelta(days=10))  # the class is set up a week before returning students apply
    course_class = make_class(term, compound_a, "书法", allocation="lottery")
    clock(AFTER)
    lottery.draw(course_class)

    page = client.get(reverse("courses:draw", args=[course_class.pk])).content.decode()

    assert "It was committed on 2026-08-22 09:00; registration opened on 2026-08-29 09:00." in page
    assert "cannot show that the secret was fixed" not in page


def test_a_draw_made_before_commitments_explains_the_old_method(english, client, term, compound_a):
    course_class = make_class(term, compound_a, "篆刻")
    # A lottery from before commitments: made so without save(), drawn with a bare seed.
    CourseClass.objects.filter(pk=course_class.pk).update(allocation="lottery")
    numbers = [e.pk for e in apply_all(course_class, residents(2))]
    Draw.objects.create(
        course_class=course_class,
        seed="5eed",
        drawn_at=AFTER,
        seats=2,
        applications=reference_order("5eed", numbers),
    )

    page = client.get(reverse("courses:draw", args=[course_class.pk])).content.decode()

    assert "seed is <code>5eed</code>, chosen at random when the draw was made" in page
    assert "nothing shows how the seed was chosen" in page
    assert 'id="draw-secret"' not in page


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
