"""Delivering the outbox: one attempt at a message (``attempt``, the task the workers run),
retries with back-off, and the sweep that picks up what a lost worker left (``sweep``).

Never two messages for one event, whatever workers die or faults come:

1. An attempt takes the message under a lease, in a short transaction of its own (the row is
   locked with SKIP LOCKED: two workers never hold it at once), and commits that before it calls
   the provider. Another worker leaves a leased message alone until the lease runs out.
2. It calls the provider outside any transaction, then records the outcome, but only if it still
   holds the attempt (the attempt number is its fencing token).
3. A message whose attempt never came back (its worker died, the answer was lost) is ``unsure``
   or still ``sending``: the next attempt first asks the provider whether it went out
   (``Base.find``, which Alibaba Cloud answers by the message's own number, ``OutId``), and only
   sends if it did not.

A passing fault (throttled, the provider down) waits base × 2ⁿ⁻¹ seconds (at most the cap) and
tries again, up to ``NOTICES_MAX_ATTEMPTS``; then, or at once for a bad number, the message is
``failed``, which staff see and can resend from the back office.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices import channels
from notices.models import Channel, Choice, Notice

log = logging.getLogger(__name__)
Status = Notice.Status


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th attempt failed for a passing reason."""
    base = settings.NOTICES_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTICES_RETRY_MAX_SECONDS)
    )


def address_of(notice: Notice) -> str:
    """The person's mobile number or email address, read now: the outbox keeps neither."""
    if notice.channel == Channel.SMS:
        resident = getattr(notice.user, "resident", None)
        return resident.phone if resident is not None else ""
    return notice.user.email


NOT_WANTED = _("They chose not to be told of this.")
UNREACHABLE = _("No mobile number or email address to send to.")


def decide(notice: Notice) -> str | None:
    """How a message not decided yet goes, from the person's choices now: its channel, language,
    template values and text. Why it is not sent (they turned it off, nothing reaches them), or
    None. Needs ``user__resident`` selected."""
    from notices import kinds

    choice = Choice.of(notice.user_id)
    channel = choice.channel_for(kinds.TOPIC[notice.kind])
    has_phone = getattr(notice.user, "resident", None) is not None
    has_email = bool(notice.user.email)
    if channel == Channel.OFF:
        return str(NOT_WANTED)
    if channel == Channel.SMS and not has_phone:
        channel = Channel.EMAIL if has_email else Channel.OFF
    if channel == Channel.EMAIL and not has_email:
        channel = Channel.OFF
    if channel == Channel.OFF:
        return str(UNREACHABLE)
    filled = kinds.values(notice.params, choice.language)
    notice.channel, notice.language, notice.params = channel, choice.language, filled
    notice.text = kinds.render(notice.kind, filled, choice.language)
    return None


def take(notice_id: int, now: datetime) -> tuple[Notice, bool] | None:
    """Start an attempt: the message, and whether an earlier attempt may have gone out; None when
    there is nothing to do now (done, failed, not due, or in another worker's hands)."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user__resident")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None or notice.status in (Status.SENT, Status.FAILED, Status.SKIPPED):
            return None
        if notice.status == Status.SENDING and notice.lease_until and notice.lease_until > now:
            return None
        if notice.status == Status.PENDING and notice.next_attempt_at > now:
            return None
        if not notice.channel:
            reason = decide(notice)
            if reason:
                notice.status, notice.last_error = Status.SKIPPED, reason[:200]
                notice.save(update_fields=["status", "last_error"])
                return None
            notice.save(update_fields=["channel", "language", "params", "text"])
        # Still "sending" after its lease: its worker never said how it went.
        unsure = notice.unsure or notice.status == Status.SENDING
        if notice.attempts >= settings.NOTICES_MAX_ATTEMPTS:
            # Attempts that never came back count too: a message does not loop for ever.
            notice.status, notice.lease_until = Status.FAILED, None
            notice.last_error = (notice.last_error or "no answer")[:200]
            notice.save(update_fields=["status", "lease_until", "last_error"])
            return None
        notice.status = Status.SENDING
        notice.attempts += 1
        notice.lease_until = now + timedelta(seconds=settings.NOTICES_LEASE_SECONDS)
        notice.unsure = unsure
        notice.save(update_fields=["status", "attempts", "lease_until", "unsure"])
    return notice, unsure


def record(notice: Notice, outcome: channels.Outcome, now: datetime) -> str:
    """Keep how the attempt went, if this worker still holds it; the state recorded."""
    from notices.tasks import deliver

    fields: dict = {"lease_until": None}
    if outcome.state == "sent":
        fields |= {
            "status": Status.SENT,
            "sent_at": now,
            "provider_id": outcome.provider_id[:64],
            "unsure": False,
            "last_error": "",
        }
    elif outcome.state == "retry" and notice.attempts < settings.NOTICES_MAX_ATTEMPTS:
        fields |= {
            "status": Status.PENDING,
            "next_attempt_at": now + backoff(notice.attempts),
            "unsure": outcome.unsure,
            "last_error": outcome.error,
        }
    else:
        fields |= {"status": Status.FAILED, "last_error": outcome.error, "unsure": False}
    with transaction.atomic():
        held = Notice.objects.filter(
            pk=notice.pk, status=Status.SENDING, attempts=notice.attempts
        ).update(**fields)
        if held and fields["status"] == Status.PENDING:
            deliver.using(run_after=fields["next_attempt_at"]).enqueue(notice.pk)
    return fields["status"] if held else "overtaken"


def attempt(notice_id: int, now: datetime | None = None) -> str:
    """One attempt at a message; what became of it."""
    taken = take(notice_id, now or timezone.now())
    if taken is None:
        return "nothing to do"
    notice, unsure = taken
    channel = channels.for_channel(notice.channel)
    address = address_of(notice)
    if not address:
        return record(notice, channels.failed("no address to send to"), timezone.now())
    if unsure:
        try:
            found = channel.find(notice, address)
        except LookupError as error:
            # Sending now could send twice: wait until the provider can say.
            return record(notice, channels.retry(f"unknown: {error}", unsure=True), timezone.now())
        if found:
            return record(notice, channels.sent(found), timezone.now())
    try:
        outcome = channel.send(notice, address)
    except Exception as error:  # a fault of ours or of a library: it may have gone out
        log.exception("message %s: the channel failed", notice.pk)
        outcome = channels.retry(f"{type(error).__name__}: {error}", unsure=True)
    if outcome.state != "sent":
        log.warning("message %s: %s", notice.pk, outcome.error)
    return record(notice, outcome, timezone.now())


def sweep(now: datetime | None = None) -> int:
    """Enqueue again what no task will deliver: a message waiting past its time with no job
    ready for it (a job lost with its worker), or one still ``sending`` after its lease. How many
    were enqueued; another job for the same message does no harm (``attempt`` is idempotent)."""
    from django_tasks_db.models import DBTaskResult

    from notices.tasks import deliver

    now = now or timezone.now()
    grace = timedelta(seconds=settings.NOTICES_SWEEP_SECONDS)
    stuck = list(
        Notice.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now - grace)
            | Q(status=Status.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    if not stuck:
        return 0
    waiting = set(
        DBTaskResult.objects.filter(
            status="READY", task_path=deliver.module_path, args_kwargs__args__0__in=stuck
        ).values_list("args_kwargs__args__0", flat=True)
    )
    again = [pk for pk in stuck if pk not in waiting]
    with transaction.atomic():
        for pk in again:
            deliver.enqueue(pk)
    return len(again)


def resend(notice_ids) -> int:
    """A failed message tried again from the start (staff's action): how many."""
    from notices.tasks import deliver

    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notice.objects.select_for_update()
            .filter(pk__in=list(notice_ids), status=Status.FAILED)
            .exclude(text="")  # purged: nothing left to send
            .values_list("pk", flat=True)
        )
        Notice.objects.filter(pk__in=ids).update(
            status=Status.PENDING, attempts=0, next_attempt_at=now, last_error=""
        )
        for pk in ids:
            deliver.enqueue(pk)
    return len(ids)
