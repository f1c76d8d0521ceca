"""Everything kept about one resident, in one place: the "my data" page and its JSON download
show the same dictionary, and deleting an account goes through here too."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from courses import enrolment as enrolment_engine
from courses.models import Attendance, Enrolment
from notices.models import Choice, Notice, Topic
from residents.models import Resident
from wishes.models import Support, Wish


def _when(value):
    return timezone.localtime(value).isoformat(timespec="minutes") if value else None


def my_data(resident: Resident) -> dict:
    """The profile, every enrolment (cancelled ones too) with its place in a draw and the
    meetings marked, the wishes I posted and the ones I supported, the messages sent to me and
    how I chose to get them, in seven queries."""
    compound = resident.compound
    enrolments = (
        Enrolment.objects.filter(user_id=resident.user_id)
        .select_related("course_class__course__term__community", "course_class__facility")
        .prefetch_related(Prefetch("attendance", Attendance.objects.order_by("date")))
        .order_by("-created_at")
    )
    return {
        "profile": {
            "name": resident.name,
            "mobile_number": resident.phone,
            "birth_year": resident.birth_year,
            "residential_compound": compound.name if compound else None,
            "community": compound.community.name if compound else None,
            "registered": _when(resident.created_at),
            "privacy_notice_accepted": _when(resident.privacy_accepted_at),
        },
        "enrolments": [
            {
                "course": e.course_class.course.name,
                "class": str(e.course_class),
                "term": str(e.course_class.course.term),
                "community": e.course_class.course.term.community.name,
                "venue": e.course_class.facility.name,
                "first_meeting": e.course_class.first_date.isoformat(),
                "last_meeting": e.course_class.last_date.isoformat(),
                "status": e.status,
                "status_label": str(e.get_status_display()),
                "applied": _when(e.created_at),
                "enrolled": _when(e.enrolled_at),
                "cancelled": _when(e.cancelled_at),
                "enrolled_at_the_desk": e.by_staff_id is not None,
                "application_number": e.pk,
                "place_in_draw": e.draw_rank,
                "attendance": [
                    {"date": a.date.isoformat(), "present": a.present} for a in e.attendance.all()
                ],
                "meetings_present": sum(a.present for a in e.attendance.all()),
            }
            for e in enrolments
        ],
        "wishes": [
            {
                "title": w.title,
                "details": w.text,
                "community": w.community.name,
                "posted": _when(w.created_at),
                "status": w.status,
                "status_label": str(w.get_status_display()),
            }
            for w in Wish.objects.filter(author_id=resident.user_id)
            .select_related("community")
            .order_by("-created_at")
        ],
        "supported_wishes": [
            {
                "title": s.wish.title,
                "community": s.wish.community.name,
                "given": _when(s.created_at),
            }
            for s in Support.objects.filter(user_id=resident.user_id)
            .select_related("wish__community")
            .order_by("-created_at")
        ],
        "messages": [
            {
                "kind": n.kind,
                "kind_label": str(n.get_kind_display()),
                "channel": n.channel,
                "channel_label": str(n.get_channel_display()),
                "status": n.status,
                "status_label": str(n.get_status_display()),
                "written": _when(n.created_at),
                "sent": _when(n.sent_at),
                "text": n.text,
            }
            for n in Notice.objects.filter(user_id=resident.user_id).order_by("-created_at")
        ],
        "message_choices": _choices(resident.user_id),
    }


def _choices(user_id: int) -> dict:
    choice = Choice.of(user_id)
    return {
        **{topic.value: choice.channel_for(topic) for topic in Topic},
        "language": choice.language,
        "chosen": choice.pk is not None,
    }


def may_delete_self(user) -> bool:
    """Staff and officials hold records others rely on: their accounts are closed by a city
    administrator, not from the resident's page."""
    return not (user.is_staff or user.is_superuser or user.memberships.exists())


def delete_account(user) -> None:
    """Give up every seat and waiting-list place (so the next person waiting is enrolled), then
    delete the user: the profile and the enrolments go with it."""
    with transaction.atomic():
        # The person's row first, as courses.enrolment.enrol takes it: an enrolment arriving at
        # the same moment waits for the deletion rather than slipping in after the cancels.
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        for enrolment in Enrolment.objects.filter(user=locked, status__in=Enrolment.LIVE):
            enrolment_engine.cancel(enrolment)
        locked.delete()
