"""The retention rule (README "Personal data"): what is no longer needed is deleted. Run it daily
from a timer, like draw_lots.

- failed sign-ins once they no longer count towards a limit (communities.signin.WINDOW);
- cancelled enrolments once their term has ended: nobody waits on them any more, and "my data"
  and the roster need them no longer;
- authenticators set up but never confirmed, after a day (each holds a secret key);
- expired sessions;
- the text of messages delivered or given up more than ``NOTICES_KEEP_DAYS`` ago (the outbox
  keeps what kind of message went to whom and when, not what it said), and the workers'
  finished jobs after a day (they hold message numbers only); so are the jobs of a worker that
  died mid-job, still "running" a day later (a job runs for seconds; the sweep has long given
  its message to another job).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from communities.models import SignInFailure
from communities.signin import WINDOW
from courses.models import Enrolment
from notices.models import Notice

UNCONFIRMED_DEVICE_AGE = timedelta(days=1)


def purge(now=None) -> dict[str, int]:
    """Delete what the retention rule says has expired; the counts deleted, by kind."""
    now = now or timezone.now()
    with transaction.atomic():
        counts = {
            "failed sign-ins": SignInFailure.objects.filter(at__lt=now - WINDOW).delete()[0],
            "cancelled enrolments": Enrolment.objects.filter(
                status=Enrolment.Status.CANCELLED,
                course_class__course__term__ends_on__lt=timezone.localdate(now),
            )
            .delete()[1]
            .get("courses.Enrolment", 0),
            "unconfirmed authenticators": TOTPDevice.objects.filter(
                confirmed=False, created_at__lt=now - UNCONFIRMED_DEVICE_AGE
            ).delete()[0],
            "expired sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
            "message texts": Notice.objects.filter(
                status__in=[Notice.Status.SENT, Notice.Status.FAILED, Notice.Status.SKIPPED],
                created_at__lt=now - timedelta(days=settings.NOTICES_KEEP_DAYS),
            )
            .exclude(text="", params={})
            .update(text="", params={}),
            "finished jobs": DBTaskResult.objects.filter(
                status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=now - timedelta(days=1)
            ).delete()[0],
            "jobs of workers that died": DBTaskResult.objects.filter(
                status="RUNNING", started_at__lt=now - timedelta(days=1)
            ).delete()[0],
        }
    return counts


class Command(BaseCommand):
    help = "Delete personal data the retention rule no longer keeps (run daily)."

    def handle(self, *args, **options):
        for kind, count in purge().items():
            self.stdout.write(f"{kind}: {count}")
