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
    assert (notice.kind, notice.user_id, notice.channel) == (Kind.SEAT, waiting.pk, Channel.SMS)
    assert notice.status == Notice.Status.PENDING
    drain()

    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 1
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
    Choice.objects.create(user=waiting, seats=Channel.OFF)
    seat = enrolment.enrol(first, photography, now=NOW)
    enrolment.enrol(second, photography, now=NOW)
    enrolment.enrol(waiting, photography, now=NOW)
    enrolment.cancel(seat, now=NOW)
    assert Notice.objects.count() == 0
