"""Short lists of classes on other apps' pages: classes with seats left on the home and community
pages, and the classes meeting in a facility on its page (issue 9).

Each list is one query, whatever the number of classes. Seat counts move with every enrolment,
and enrolments do not move the content version (portal.caching; they would empty every cached
fragment each time someone enrols): so these lists go only into the per-minute page cache, never
into a fragment cached under the content version alone.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from communities.models import Community
from courses.models import CourseClass
from facilities.models import Facility

HOME_LIMIT = 6
COMMUNITY_LIMIT = 8
# A venue holds as many classes as its rooms and week allow; a bound keeps the page lean anyway.
FACILITY_LIMIT = 30


@dataclass(frozen=True)
class Row:
    """A class in a short list, with where its registration stands at ``now``."""

    course_class: CourseClass
    closed: bool  # registration has closed: no seat and no waiting list any more
    opens: datetime | None  # when registration opens, if it has not yet


def _rows(classes, now: datetime) -> list[Row]:
    rows = []
    for course_class in classes:
        term = course_class.course.term
        rows.append(
            Row(
                course_class,
                closed=now >= term.registration_closes,
                opens=term.registration_opens if now < term.registration_opens else None,
            )
        )
    return rows


def _listed() -> QuerySet[CourseClass]:
    return CourseClass.objects.select_related("course__term__community")


def with_seats(now: datetime) -> QuerySet[CourseClass]:
    """Classes one can still apply to and get a seat: the term has not ended, its registration
    has not closed (it may not have opened yet), the class is not cancelled and a seat is free.
    Soonest first meeting first."""
    return (
        _listed()
        .filter(
            course__term__ends_on__gte=timezone.localdate(now),
            course__term__registration_closes__gt=now,
            enrolled_count__lt=F("capacity"),
            cancelled_at__isnull=True,
        )
        .order_by("first_date", "weekday", "starts_at", "course__name", "level", "pk")
    )


def for_home(now: datetime) -> list[Row]:
    return _rows(with_seats(now)[:HOME_LIMIT], now)


def for_community(community: Community, now: datetime) -> list[Row]:
    return _rows(with_seats(now).filter(course__term__community=community)[:COMMUNITY_LIMIT], now)


def for_facility(facility: Facility, now: datetime) -> tuple[list[Row], bool]:
    """The classes of terms that have not ended meeting in ``facility``, full or not, by day and
    time; and whether there were more than the page shows."""
    classes = list(
        _listed()
        .filter(facility=facility, course__term__ends_on__gte=timezone.localdate(now))
        .order_by("weekday", "starts_at", "course__name", "level", "pk")[: FACILITY_LIMIT + 1]
    )
    return _rows(classes[:FACILITY_LIMIT], now), len(classes) > FACILITY_LIMIT
