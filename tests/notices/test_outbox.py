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
