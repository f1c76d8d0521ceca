"""The check with the provider before a message is sent again (``AliyunSms.find``) finds a message
wherever Alibaba Cloud's QuerySendDetails lists it: under the day it was sent, which may be after
the day it was written, and on any page of that day's list (50 a page)."""

from datetime import timedelta

import pytest

from notices import delivery
from notices.models import Kind, Notice
from notices.outbox import Message, tell
from tests.courses.conftest import resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return resident("13812345678", name="王秀英")


def write(user, key: str) -> int:
    [pk] = tell([Message(user.pk, Kind.SEAT, key, "/me/", {"course": "摄影", "when": "周三"})])
    return pk


def answer_lost(pk: int) -> None:
    """The provider took the message, its answer never reached the worker."""
    Notice.objects.filter(pk=pk).update(status="pending", sent_at=None, unsure=True)


def test_a_message_written_yesterday_and_sent_today_is_found_not_sent_again(sms, person):
    pk = write(person, "seat:1:1")
    Notice.objects.filter(pk=pk).update(
        created_at=Notice.objects.get(pk=pk).created_at - timedelta(days=1)
    )
    assert delivery.attempt(pk) == Notice.Status.SENT
    answer_lost(pk)

    assert delivery.attempt(pk) == Notice.Status.SENT
    assert [r.out_id for r in sms.inbox] == [f"ccp-{pk}"]  # once
    assert Notice.objects.get(pk=pk).provider_id == sms.inbox[0].biz_id


def test_the_fifty_first_message_of_the_day_is_found_on_the_second_page(sms, person):
    for i in range(50):
        assert delivery.attempt(write(person, f"seat:{i}:1")) == Notice.Status.SENT
    pk = write(person, "seat:50:1")
    assert delivery.attempt(pk) == Notice.Status.SENT
    answer_lost(pk)

    assert delivery.attempt(pk) == Notice.Status.SENT
    assert len(sms.inbox) == 51 and sms.sends[f"ccp-{pk}"] == 1
    assert Notice.objects.get(pk=pk).provider_id == sms.inbox[-1].biz_id
