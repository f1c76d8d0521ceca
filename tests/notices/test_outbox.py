"""The outbox: a message written with its change (and only when the change commits), delivered
once through the real SMS adapter to the fake provider, with the person's choices obeyed."""

import pytest
from django.db import transaction

from courses import enrolment
from notices.models import Channel, Choice, Kind, Notice
from tests.courses.conftest import NOW, residents
from tests.notices.conftest import drain

pytestmark = pytest.mark.django_db


def test_a_seat_from_the_waiting_list_reaches_the_first_person_waiting(sms, photography):
    first, second, waiting = residents(3)
    seat = enrolment.enrol(first, photography, now=NOW)
    enrolment.enrol(second, photography, now=NOW)
    queued = enrolment.enrol(waiting, photography, now=NOW)
    assert queued.status == "waitlisted"
    assert Notice.objects.count() == 0

    enrolment.cancel(seat, now=NOW)
    notice = Notice.objects.get()
    assert (notice.kind, notice.user_id, notice.status) == (Kind.SEAT, waiting.pk, "pending")
    assert notice.channel == "" and notice.params["course"] == "摄影"  # decided when sent
    drain()

    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 1
    assert (notice.channel, notice.language) == (Channel.SMS, "zh-hans")
    assert notice.text.startswith("您已获得名额：摄影，周三 09:00上课。")
    [received] = sms.inbox
    assert received.phone == waiting.resident.phone
    assert received.out_id == f"ccp-{notice.pk}"
    [text] = sms.texts()
    assert text.startswith("您已获得名额")
    assert "摄影" in text and "回T退订" in text
    drain()  # nothing more to do: no second message
    assert len(sms.inbox) == 1


def test_no_message_when_the_change_rolls_back(sms, photography):
    first, waiting = residents(2, start=13800000100)
    photography.capacity = 1
    photography.save()
    seat = enrolment.enrol(first, photography, now=NOW)
    enrolment.enrol(waiting, photography, now=NOW)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        enrolment.cancel(seat, now=NOW)
        assert Notice.objects.count() == 1
        raise Undo
    assert Notice.objects.count() == 0
    drain()
    assert sms.inbox == []


def test_a_person_who_turned_a_topic_off_gets_nothing(sms, photography):
    first, second, waiting = residents(3, start=13800000200)
    seat = enrolment.enrol(first, photography, now=NOW)
    enrolment.enrol(second, photography, now=NOW)
    enrolment.enrol(waiting, photography, now=NOW)
    enrolment.cancel(seat, now=NOW)
    # Turned off after the seat was handed over, before the worker came to send: not sent.
    Choice.objects.create(user=waiting, seats=Channel.OFF)
    drain()
    notice = Notice.objects.get()
    assert notice.status == Notice.Status.SKIPPED
    assert notice.last_error == "本人选择不接收这类消息。"
    assert (notice.text, notice.attempts) == ("", 0)
    assert sms.inbox == []


def test_the_job_written_with_a_message_is_the_job_enqueue_writes():
    """notices.outbox.write writes each message's job in the message's own statement: the row
    must be the one django-tasks-db's ``enqueue`` saves, column by column (a new django-tasks-db
    that adds or changes a column fails here, not in a worker)."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from notices.outbox import Message, tell
    from notices.tasks import deliver

    [person] = residents(1, start=13800000300)
    now = timezone.now()
    with transaction.atomic():
        [pk] = tell([Message(user_id=person.pk, kind=Kind.SEAT, key="seat:job-shape", path="/me/")])
    ours = DBTaskResult.objects.get()
    theirs = DBTaskResult.objects.get(pk=deliver.using(run_after=now).enqueue(pk).id)
    assert ours.args_kwargs == theirs.args_kwargs == {"args": [pk], "kwargs": {}}
    assert ours.run_after == Notice.objects.get(pk=pk).next_attempt_at
    different = {
        f.name: (getattr(ours, f.attname), getattr(theirs, f.attname))
        for f in DBTaskResult._meta.concrete_fields
        if f.name not in {"id", "enqueued_at", "run_after"}
        and getattr(ours, f.attname) != getattr(theirs, f.attname)
    }
    assert different == {}
    assert ours.id != theirs.id and ours.status == "READY"
    assert abs(ours.enqueued_at - theirs.enqueued_at).total_seconds() < 60
    # The same task, queue, backend and priority.
    assert ours.task.using(run_after=now) == theirs.task.using(run_after=now)
    assert drain() == 2  # a worker runs both (the second finds it sent: one SMS)


def test_a_key_told_twice_makes_one_message_and_one_job():
    """An event named twice, in one batch or in two changes, is one message with one job."""
    from django_tasks_db.models import DBTaskResult

    from notices.outbox import Message, tell

    first, second = residents(2, start=13800000310)
    batch = [
        Message(user_id=first.pk, kind=Kind.WISH_REPLY, key="wish:1:a", path="/wishes/"),
        Message(user_id=first.pk, kind=Kind.WISH_REPLY, key="wish:1:a", path="/wishes/"),
        Message(user_id=second.pk, kind=Kind.WISH_REPLY, key="wish:1:b", path="/wishes/"),
    ]
    with transaction.atomic():
        written = tell(batch)
    assert len(written) == 2
    with transaction.atomic():
        assert tell(batch[:1]) == []
    assert Notice.objects.count() == 2
    jobs = DBTaskResult.objects.values_list("args_kwargs__args__0", flat=True)
    assert sorted(jobs) == sorted(written)
