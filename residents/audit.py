"""What staff do to residents' accounts, in the audit trail, by user id only.

A resident's profile (name, number, birth year) is not tracked: it must be gone once the account
is deleted, and the event tables refuse deletes. Instead each thing staff do to an account is a
manual event of ``residents.AccountEvent``: the account's id, a label, and as context the staff
member's id and the page (pghistory's middleware attaches them to the request).

``history`` reads it back for the resident's page in the back office, together with their
enrolments in the classes the reader keeps (from the enrolments' own trail).
"""

from dataclasses import dataclass
from datetime import datetime

import pghistory
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities import access
from courses.models import CourseClass
from portal import audit
from residents.models import AccountEvent, mask

REGISTERED_AT_DESK = "registered_at_desk"
PASSWORD_RESET = "password_reset_by_staff"
DETAILS_CORRECTED = "details_corrected_by_staff"

LABELS = {
    REGISTERED_AT_DESK: gettext_lazy("Registered at the desk"),
    PASSWORD_RESET: gettext_lazy("Password reset by staff"),
    DETAILS_CORRECTED: gettext_lazy("Details corrected by staff"),
}


def record(user, label: str):
    """Note that staff did ``label`` to ``user``'s account; the staff member and the page come
    from the request's context."""
    return pghistory.create_event(user, label=label)


@dataclass
class Line:
    """One line of a resident's history, ready for the page."""

    at: datetime
    what: str
    who: str


def _enrolment_text(label: str, status: str, course_class: str) -> str:
    if status == "cancelled":
        return _("Place given up: %(class)s") % {"class": course_class}
    if status == "waitlisted":
        return _("Joined the waiting list: %(class)s") % {"class": course_class}
    if label == "insert":
        return _("Enrolled: %(class)s") % {"class": course_class}
    return _("Moved up from the waiting list: %(class)s") % {"class": course_class}


def history(resident, viewer, limit: int = 50) -> list[Line]:
    """What happened to ``resident``'s account and to their places in ``viewer``'s classes,
    newest first, in four queries whatever the length."""
    EnrolmentEvent = audit.event_model("courses.Enrolment")
    account_rows = list(
        AccountEvent.objects.filter(pgh_obj_id=resident.user_id)
        .only("pgh_created_at", "pgh_label", "pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    # Another community's classes stay that community's business.
    classes = access.editable(CourseClass.objects.all(), viewer).values("pk")
    enrolment_rows = list(
        EnrolmentEvent.objects.filter(user_id=resident.user_id, course_class_id__in=classes)
        .exclude(pgh_label=audit.BASELINE)
        .only("pgh_created_at", "pgh_label", "pgh_context", "status", "course_class_id")
        .order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    names = {
        c.pk: str(c)
        for c in CourseClass.objects.filter(
            pk__in={row.course_class_id for row in enrolment_rows}
        ).select_related("course")
    }
    who = _Who(resident, account_rows + enrolment_rows)
    lines = [
        Line(row.pgh_created_at, str(LABELS.get(row.pgh_label, row.pgh_label)), who(row))
        for row in account_rows
    ] + [
        Line(
            row.pgh_created_at,
            _enrolment_text(
                row.pgh_label,
                row.status,
                names.get(row.course_class_id, f"#{row.course_class_id}"),
            ),
            who(row),
        )
        for row in enrolment_rows
    ]
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:limit]


class _Who:
    """Who did it: staff by name, the resident as "the resident". A resident's sign-in name is
    their mobile number, so any other resident shows it masked."""

    def __init__(self, resident, rows):
        self.resident_user_id = resident.user_id
        ids = {(row.pgh_context or {}).get("user") for row in rows} - {None, resident.user_id}
        self.names = {
            u.pk: (u.get_full_name() or u.get_username())
            if u.is_staff or u.is_superuser
            else mask(u.get_username())
            for u in get_user_model().objects.filter(pk__in=ids)
        }

    def __call__(self, row) -> str:
        user_id = (row.pgh_context or {}).get("user")
        if user_id is None:
            # A command, a migration, or SQL typed into psql.
            return _("system")
        if user_id == self.resident_user_id:
            return _("the resident")
        # A closed account keeps its id in the trail.
        return self.names.get(user_id) or f"#{user_id}"
