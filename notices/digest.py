"""The staff's daily digest: once a day (after ``NOTICES_DIGEST_HOUR``, local time), each staff
member hears of their community's new wishes, new enrolments and waiting lists of the last day.
The workers' sweep calls ``send_due`` every few minutes; the day's key makes it one message per
person, community and day however many workers ask. A community with nothing new sends nothing.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from communities.models import Community, Membership
from courses.models import Enrolment
from notices.models import Kind, Notice
from notices.outbox import Message, tell
from wishes.models import Wish


def counts(community_ids, since: datetime) -> dict[int, dict[str, int]]:
    """New wishes and enrolments since ``since``, and people waiting now, by community (two
    queries)."""
    wishes = dict(
        Wish.objects.filter(community_id__in=community_ids, created_at__gte=since)
        .values_list("community_id")
        .annotate(n=Count("pk"))
    )
    enrolments = (
        Enrolment.objects.filter(
            course_class__course__term__community_id__in=community_ids,
            status__in=Enrolment.LIVE,
        )
        .values_list("course_class__course__term__community_id")
        .annotate(
            new=Count("pk", filter=Q(created_at__gte=since)),
            waiting=Count("pk", filter=Q(status=Enrolment.Status.WAITLISTED)),
        )
    )
    found = {
        cid: {"wishes": wishes.get(cid, 0), "enrolled": 0, "waiting": 0} for cid in community_ids
    }
    for cid, new, waiting in enrolments:
        found[cid].update(enrolled=new, waiting=waiting)
    return found


def send_due(now: datetime | None = None) -> int:
    """Write today's digests if their hour has come and they are not written yet; how many."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.NOTICES_DIGEST_HOUR:
        return 0
    day = f"{now:%Y%m%d}"
    staff = list(
        Membership.objects.filter(role=Membership.Role.STAFF, community__isnull=False)
        .values_list("user_id", "community_id")
        .order_by("community_id", "user_id")
    )
    keys = {(u, c): f"digest:{u}:{c}:{day}" for u, c in staff}
    written = set(Notice.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    todo = [(u, c) for u, c in staff if keys[(u, c)] not in written]
    if not todo:
        return 0
    community_ids = {c for _u, c in todo}
    names = dict(Community.objects.filter(pk__in=community_ids).values_list("pk", "name"))
    numbers = counts(community_ids, now - timedelta(days=1))
    messages = [
        Message(
            user_id=u,
            kind=Kind.DIGEST,
            key=keys[(u, c)],
            path="/admin/",
            params={"community": names[c], **numbers[c]},
            community_id=c,
        )
        for u, c in todo
        if numbers[c]["wishes"] or numbers[c]["enrolled"] or numbers[c]["waiting"]
    ]
    with transaction.atomic():
        return len(tell(messages))
