"""The lottery (摇号) of a class whose seats are drawn: one draw, when registration has closed.

Until the window closes, applying to a lottery class records an application
(``Enrolment.Status.APPLIED``) whatever the seats, so that an early click is worth no more than a
late one. ``draw`` then ranks every application and stores the draw: the first ones take the
free seats, the others wait in the draw's order, and a seat freed later goes to the first of
them (``courses.enrolment.cancel`` follows ``Enrolment.QUEUE``).

The ranking can be checked by anyone with the seed and the application numbers the class page
shows: each number is ranked by the SHA-256 of "<seed>:<number>" in hexadecimal, smallest first.
``manage.py draw_lots`` draws every class whose window has closed (run it from a timer); staff can
also draw a closed class from the admin.
"""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses import enrolment
from courses.models import CourseClass, Draw, Enrolment

Status = Enrolment.Status


class NotYet(Exception):
    """Registration is still open: nobody may draw before everyone could apply."""


def rank(seed: str, numbers) -> list[int]:
    """The application numbers in the draw's order for ``seed``."""
    return sorted(numbers, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())


def verify(draw: Draw) -> bool:
    """Whether the stored order is what the seed gives (it always is, unless edited by hand)."""
    return rank(draw.seed, draw.applications) == list(draw.applications)


def due(now: datetime | None = None):
    """Lottery classes whose registration has closed and that have no draw yet."""
    return CourseClass.objects.filter(
        allocation=CourseClass.Allocation.LOTTERY,
        course__term__registration_closes__lte=now or timezone.now(),
        draw__isnull=True,
    )


def draw(course_class: CourseClass, *, now: datetime | None = None, seed: str | None = None):
    """Draw ``course_class``'s seats once; a second call returns the first draw unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            CourseClass.objects.select_for_update(of=("self",))
            .select_related("course__term")
            .get(pk=course_class.pk)
        )
        if not locked.by_lottery:
            raise ValueError(f"{locked} gives its seats to the first who apply")
        existing = Draw.objects.filter(course_class=locked).first()
        if existing:
            return existing
        if now < locked.course.term.registration_closes:
            raise NotYet(_("Registration for this class is still open: the draw comes after."))
        numbers = list(
            Enrolment.objects.select_for_update()
            .filter(course_class=locked, status=Status.APPLIED)
            .order_by("id")
            .values_list("id", flat=True)
        )
        seed = seed or secrets.token_hex(8)
        order = rank(seed, numbers)
        free = max(locked.capacity - locked.enrolled_count, 0)
        winners = order[:free]
        rows = Enrolment.objects.in_bulk(order)
        for place, number in enumerate(order, start=1):
            row = rows[number]
            row.draw_rank = place
            if place <= free:
                row.status, row.enrolled_at = Status.ENROLLED, now
            else:
                row.status = Status.WAITLISTED
        Enrolment.objects.bulk_update(rows.values(), ["draw_rank", "status", "enrolled_at"])
        enrolment.seats_moved(locked.course.slug)
        if winners:
            CourseClass.objects.filter(pk=locked.pk).update(
                enrolled_count=F("enrolled_count") + len(winners)
            )
        return Draw.objects.create(
            course_class=locked,
            seed=seed,
            drawn_at=now,
            seats=len(winners),
            applications=order,
        )


def draw_due(now: datetime | None = None) -> list[Draw]:
    """Draw every class that is due; each in its own transaction."""
    now = now or timezone.now()
    return [draw(course_class, now=now) for course_class in due(now).order_by("pk")]
