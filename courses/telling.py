"""What the course side tells people (notices.outbox), always inside the transaction of the change:
a seat from the waiting list (courses.enrolment.cancel), a draw's result (courses.lottery), a class
cancelled (``enrolment.cancel_class``), a class whose time or place changed and a venue closed
for a while (the signals in courses.apps)."""

import hashlib

from django.utils import timezone

from courses.models import CourseClass, Enrolment
from notices.models import Kind
from notices.outbox import Message, tell

MY_CLASSES = "/me/"
# What a change of these fields means to the people in the class: another time or place.
WHEN_AND_WHERE = ("weekday", "starts_at", "ends_at", "first_date", "facility_id", "room")


def course_name(course_class: CourseClass) -> str:
    level = f" {course_class.level}" if course_class.level else ""
    return f"{course_class.course.name}{level}"


def when(course_class: CourseClass) -> dict:
    """When a class meets, as the message's values: its weekday and first time, worded in the
    person's language when the message is sent (notices.kinds.values)."""
    return {"weekday": course_class.weekday, "starts": f"{course_class.starts_at:%H:%M}"}


def place(course_class: CourseClass) -> str:
    room = f" {course_class.room}" if course_class.room else ""
    return f"{course_class.facility.name}{room}"


def _message(row: Enrolment, course_class: CourseClass, kind, key: str, **extra) -> Message:
    return Message(
        user_id=row.user_id,
        kind=kind,
        key=key,
        path=MY_CLASSES,
        params={"course": course_name(course_class), **when(course_class), **extra},
        community_id=course_class.course.term.community_id,
    )


def seat_given(row: Enrolment, course_class: CourseClass) -> None:
    """The first person waiting took the freed seat."""
    stamp = int(row.enrolled_at.timestamp())
    tell([_message(row, course_class, Kind.SEAT, f"seat:{row.pk}:{stamp}")])


def drawn(rows, course_class: CourseClass, seats: int) -> None:
    """Everyone in a draw hears their result once: a seat, or their place on the waiting list."""
    messages = []
    for row in rows:
        if row.draw_rank <= seats:
            messages.append(_message(row, course_class, Kind.DRAW_WON, f"draw:{row.pk}"))
        else:
            place_ = row.draw_rank - seats
            messages.append(
                _message(row, course_class, Kind.DRAW_WAIT, f"draw:{row.pk}", place=place_)
            )
    tell(messages)


def class_cancelled(rows, course_class: CourseClass) -> None:
    tell(
        _message(
            row,
            course_class,
            Kind.CLASS_CANCELLED,
            f"class-cancelled:{course_class.pk}:{row.user_id}",
        )
        for row in rows
    )


def live_rows(course_class_ids) -> list[Enrolment]:
    return list(
        Enrolment.objects.filter(course_class_id__in=course_class_ids, status__in=Enrolment.LIVE)
        .only("pk", "user_id", "course_class_id")
        .order_by("pk")
    )


def class_changed(course_class: CourseClass, before: dict) -> None:
    """The class now meets at another time or place than ``before`` (its old field values)."""
    now = {name: getattr(course_class, name) for name in WHEN_AND_WHERE}
    if now == before or course_class.cancelled_at or course_class.last_date < timezone.localdate():
        return
    course_class = CourseClass.objects.select_related("course__term", "facility").get(
        pk=course_class.pk
    )
    version = hashlib.sha1("|".join(str(now[n]) for n in WHEN_AND_WHERE).encode()).hexdigest()
    tell(
        _message(
            row,
            course_class,
            Kind.CLASS_CHANGED,
            f"class-changed:{course_class.pk}:{row.user_id}:{version[:16]}",
            place=place(course_class),
        )
        for row in live_rows([course_class.pk])
    )


def venue_closed(facility) -> None:
    """A facility closed for a while: everyone in a class meeting there that has not ended."""
    today = timezone.localdate()
    classes = {
        c.pk: c
        for c in CourseClass.objects.filter(
            facility=facility, last_date__gte=today, cancelled_at__isnull=True
        ).select_related("course__term", "facility")
    }
    tell(
        _message(
            row,
            classes[row.course_class_id],
            Kind.VENUE_CLOSED,
            f"venue-closed:{facility.pk}:{row.course_class_id}:{row.user_id}:{today:%Y%m%d}",
            place=facility.name,
        )
        for row in live_rows(list(classes))
    )
