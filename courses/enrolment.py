"""The one place enrolments are written, and the rules they keep.

``check(user, course_class, now)`` says why a person may not apply (or None); ``enrol`` applies
(a seat when one is free, else a place on the waiting list; for a lottery class, an application
that the draw in ``courses.lottery`` settles); ``cancel`` gives a seat up, and the first person
waiting takes it at once. Every write locks the class row first, so concurrent
requests for one class queue there (30 seats and 200 requests: 30 enrolled, 170 waiting in the
order they arrived), and the person's own row, so the per-term limit holds across classes.

The database holds the rest on its own: one live enrolment per person and class (a partial
unique index) and ``enrolled_count ≤ capacity`` (a check constraint).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses import telling
from courses.models import CourseClass, Enrolment
from portal import caching
from residents.models import Resident

Status = Enrolment.Status


@dataclass(frozen=True)
class Refusal:
    """Why someone may not apply: a code for tests and the page, a sentence for the person."""

    code: str
    message: str

    def __str__(self) -> str:
        return str(self.message)


class Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal.message))
        self.refusal = refusal


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one person, read in two queries."""

    resident: Resident | None
    live: tuple[tuple[int, int, str], ...]  # (class id, term year, term season) held or awaited
    past: tuple[tuple[int, int, date], ...]  # (community id, term id, term start) with a seat
    held: dict[int, Enrolment]  # their live enrolments by class id

    @classmethod
    def of(cls, user) -> "Facts":
        rows = list(
            Enrolment.objects.filter(user=user, status__in=Enrolment.LIVE).select_related(
                "course_class__course__term"
            )
        )
        terms = [(row, row.course_class.course.term) for row in rows]
        return cls(
            Resident.objects.filter(user=user).first(),
            live=tuple((row.course_class_id, t.year, t.season) for row, t in terms),
            past=tuple(
                (t.community_id, t.pk, t.starts_on)
                for row, t in terms
                if row.status == Status.ENROLLED
            ),
            held={row.course_class_id: row for row in rows},
        )

    def returning(self, term) -> bool:
        """Whether they took a class of the same community in an earlier term."""
        return any(
            community == term.community_id and term_id != term.pk and starts < term.starts_on
            for community, term_id, starts in self.past
        )


def check(user, course_class: CourseClass, now: datetime | None = None) -> Refusal | None:
    """The first rule ``user`` fails for ``course_class``, or None when they may apply."""
    return judge(Facts.of(user), course_class, now or timezone.now())


def check_many(
    user, classes, now: datetime | None = None, facts: Facts | None = None
) -> dict[int, Refusal | None]:
    """check() for several classes (a course page's) in two queries, whatever their number
    (none when the page has read the person's ``facts`` already)."""
    facts, now = facts or Facts.of(user), now or timezone.now()
    return {c.pk: judge(facts, c, now) for c in classes}


def judge(facts: Facts, course_class: CourseClass, now: datetime) -> Refusal | None:
    """The rules, in the order a person should hear them."""
    term = course_class.course.term
    resident = facts.resident
    if resident is None:
        return Refusal("no-profile", _("Only residents with an account can enrol."))
    if any(class_id == course_class.pk for class_id, _year, _season in facts.live):
        return Refusal("already", _("You are already in this class."))
    if course_class.cancelled_at is not None:
        return Refusal("cancelled", _("This class has been cancelled."))
    if now >= term.registration_closes:
        return Refusal("closed", _("Registration for this term has closed."))
    if now < term.registration_opens:
        early = term.priority_opens is not None and now >= term.priority_opens
        if not (early and facts.returning(term)):
            opens = timezone.localtime(term.registration_opens)
            return Refusal(
                "not-open",
                _("Registration opens on %(date)s.") % {"date": f"{opens:%Y-%m-%d %H:%M}"},
            )
    age = resident.age_in(course_class.first_date.year)
    if course_class.min_age is not None and age < course_class.min_age:
        return Refusal(
            "too-young",
            _("This class is for people aged %(age)s and over.") % {"age": course_class.min_age},
        )
    if course_class.max_age is not None and age > course_class.max_age:
        return Refusal(
            "too-old",
            _("This class is for people aged up to %(age)s.") % {"age": course_class.max_age},
        )
    # The limit is one person's across the city's communities: every term of the same season.
    taken = sum(year == term.year and season == term.season for _class, year, season in facts.live)
    if taken >= term.class_limit:
        return Refusal(
            "limit",
            _(
                "You already have %(n)s classes this term, the most one person may take. "
                "Cancel one to choose another."
            )
            % {"n": taken},
        )
    return None


def seats_stamp(course_slug: str) -> str:
    """The name of the counter a course page's cached seats are keyed by (portal.caching)."""
    return f"course-seats:{course_slug[:100]}"


def seats_moved(course_slug: str) -> None:
    """After the transaction commits, a course page shows the new seats at once."""
    transaction.on_commit(lambda: caching.restamp(seats_stamp(course_slug)))


# A person's own course parts are kept under their stamp (portal.caching): it moves on whenever
# one of their enrolments or their resident profile changes (signals in courses.apps, and the
# lottery's bulk update).
person_stamp = caching.person_stamp
person_moved = caching.person_moved


def enrol(user, course_class: CourseClass, *, by=None, now: datetime | None = None) -> Enrolment:
    """Apply: a seat if one is free, else the next place on the waiting list. ``by`` is the
    staff member enrolling at the desk. Raises Refused with the reason when a rule says no."""
    now = now or timezone.now()
    with transaction.atomic():
        # The person first, then the class: every writer takes them in this order.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        locked = (
            CourseClass.objects.select_for_update(of=("self",))
            .select_related("course__term")
            .get(pk=course_class.pk)
        )
        refusal = check(user, locked, now)
        if refusal:
            raise Refused(refusal)
        seats_moved(locked.course.slug)
        if locked.by_lottery:
            # Before the draw (the window is open, or check() said no) nobody takes a seat.
            return Enrolment.objects.create(
                course_class=locked, user=user, status=Status.APPLIED, by_staff=by
            )
        seat = locked.enrolled_count < locked.capacity
        if seat:
            CourseClass.objects.filter(pk=locked.pk).update(enrolled_count=F("enrolled_count") + 1)
        return Enrolment.objects.create(
            course_class=locked,
            user=user,
            status=Status.ENROLLED if seat else Status.WAITLISTED,
            enrolled_at=now if seat else None,
            by_staff=by,
        )


def cancel(enrolment: Enrolment, *, now: datetime | None = None) -> Enrolment | None:
    """Give up a seat or a place on the waiting list. A freed seat goes at once to the first
    person waiting, whose enrolment is returned."""
    now = now or timezone.now()
    with transaction.atomic():
        locked_class = (
            CourseClass.objects.select_for_update(of=("self",))
            .select_related("course__term")
            .get(pk=enrolment.course_class_id)
        )
        mine = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if mine.status == Status.CANCELLED:
            return None
        seats_moved(locked_class.course.slug)
        had_seat = mine.status == Status.ENROLLED
        mine.status, mine.cancelled_at = Status.CANCELLED, now
        mine.save(update_fields=["status", "cancelled_at"])
        if not had_seat:
            return None
        first = (
            Enrolment.objects.select_for_update()
            .filter(course_class=locked_class, status=Status.WAITLISTED)
            .order_by(*Enrolment.QUEUE)  # the draw's order, else arrival
            .first()
        )
        if first is None:
            CourseClass.objects.filter(pk=locked_class.pk).update(
                enrolled_count=F("enrolled_count") - 1
            )
            return None
        first.status, first.enrolled_at = Status.ENROLLED, now
        first.save(update_fields=["status", "enrolled_at"])
        # They learn it by message, written with the seat (notices.outbox).
        telling.seat_given(first, locked_class)
        return first


def cancel_class(course_class: CourseClass, *, now: datetime | None = None) -> int:
    """Staff cancel a whole class: every place in it is withdrawn, nobody may apply any more,
    and everyone who held one is told once. How many places were withdrawn (0 when it was
    cancelled already)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            CourseClass.objects.select_for_update(of=("self",))
            .select_related("course__term", "facility")
            .get(pk=course_class.pk)
        )
        if locked.cancelled_at is not None:
            return 0
        rows = list(
            Enrolment.objects.select_for_update()
            .filter(course_class=locked, status__in=Enrolment.LIVE)
            .order_by("id")
        )
        Enrolment.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Status.CANCELLED, cancelled_at=now
        )
        CourseClass.objects.filter(pk=locked.pk).update(cancelled_at=now, enrolled_count=0)
        locked.cancelled_at = now
        seats_moved(locked.course.slug)
        person_moved(*(row.user_id for row in rows))
        transaction.on_commit(caching.bump_content)
        telling.class_cancelled(rows, locked)
        return len(rows)


def waitlist_position(enrolment: Enrolment) -> int | None:
    """1 for the first person waiting; None when not waiting."""
    if enrolment.status != Status.WAITLISTED:
        return None
    if enrolment.draw_rank is None:
        ahead = Q(draw_rank__isnull=False) | Q(id__lt=enrolment.id)
    else:
        ahead = Q(draw_rank__lt=enrolment.draw_rank)
    return (
        Enrolment.objects.filter(
            ahead, course_class_id=enrolment.course_class_id, status=Status.WAITLISTED
        ).count()
        + 1
    )
