"""The "open at this moment" rule of ``facilities.hours.state_at`` as a database filter.

``Facility.objects.filter(open_at_q(now))`` holds exactly the facilities with status "open" for
which ``state_at(schedule, now).is_open``; tests/facilities/test_open_now.py compares the two on
many moments. The calendar facts (is today a holiday? a swapped working day?) are computed in
Python by ``hours.calendar_day`` and enter the query as constants, so the database needs no
calendar of its own.

Only two dates can hold a range running at a moment: today (ranges that have opened and not yet
closed, or run past midnight) and yesterday (ranges running past midnight that have not yet
closed), because a range lasts at most 24 hours.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from facilities import hours
from facilities.models import Facility, HoursException, OpeningHours


def _running_today(t: time) -> Q:
    """Ranges starting today that are open at ``t``: opened, and closing later today or after
    midnight (closes <= opens, 24 hours included)."""
    return Q(opens__lte=t) & (Q(closes__gt=t) | Q(closes__lte=F("opens")))


def _running_from_yesterday(t: time) -> Q:
    """Ranges starting yesterday that are still open at ``t`` today: those past midnight."""
    return Q(closes__lte=F("opens")) & Q(closes__gt=t)


def _covering(d: date) -> Q:
    """Exceptions whose dates include ``d`` (no end date: the start date only)."""
    return Q(start_date__lte=d) & (Q(end_date__gte=d) | Q(end_date__isnull=True, start_date=d))


def _exceptions_on(d: date):
    """The exceptions that decide ``d`` for the outer facility: covering it, and with no other
    covering exception more specific (a later start, or the same start and an earlier last day),
    as hours._exceptions_on picks them."""
    last = Coalesce("end_date", "start_date")
    more_specific = (
        HoursException.objects.annotate(last=last)
        .filter(_covering(d), facility=OuterRef("facility"))
        .filter(
            Q(start_date__gt=OuterRef("start_date"))
            | Q(start_date=OuterRef("start_date"), last__lt=OuterRef("last"))
        )
    )
    return (
        HoursException.objects.annotate(last=last)
        .filter(_covering(d), facility=OuterRef("pk"))
        .filter(~Exists(more_specific))
    )


def _weekly(weekday: int, running: Q) -> Q:
    return Q(Exists(OpeningHours.objects.filter(running, facility=OuterRef("pk"), weekday=weekday)))


def _day_q(d: date, running: Q) -> Q:
    """Facilities with a range starting on ``d`` that satisfies ``running``, after exceptions
    and holiday rules (the precedence of hours.hours_on)."""
    deciding = _exceptions_on(d)
    by_exception = Q(Exists(deciding.filter(running, closed=False))) & ~Q(
        Exists(deciding.filter(Q(closed=True) | Q(opens__isnull=True) | Q(closes__isnull=True)))
    )

    kind, _name = hours.calendar_day(d)
    weekday = d.weekday()
    if kind == hours.HOLIDAY:
        by_week = (Q(holiday_rule=hours.USUAL) & _weekly(weekday, running)) | (
            Q(holiday_rule=hours.SUNDAY) & _weekly(hours.SUNDAY_WEEKDAY, running)
        )
    elif kind == hours.WORKDAY:
        by_week = (Q(holiday_rule=hours.USUAL) & _weekly(weekday, running)) | (
            Q(holiday_rule__in=[hours.CLOSED, hours.SUNDAY]) & _weekly(hours.MONDAY, running)
        )
    else:
        by_week = _weekly(weekday, running)

    has_exception = Q(Exists(HoursException.objects.filter(_covering(d), facility=OuterRef("pk"))))
    return (has_exception & by_exception) | (~has_exception & by_week)


def open_at_q(now: datetime) -> Q:
    """Facilities open at ``now`` (timezone-aware): status "open" and a range running."""
    if now.tzinfo is None:
        raise ValueError("open_at_q needs a timezone-aware datetime")
    local = now.astimezone(hours.TZ)
    today, t = local.date(), local.time()
    return Q(status=Facility.Status.OPEN) & (
        _day_q(today, _running_today(t))
        | _day_q(today - timedelta(days=1), _running_from_yesterday(t))
    )
