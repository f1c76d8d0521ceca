"""Delivery through the real Alibaba Cloud adapter against the fake provider: its signature, each
answer the provider gives (success, throttling, a bad number, an outage, no answer at all), the
back-off, the lease and the check with the provider before a message is ever sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notices import channels, delivery
from notices.models import Kind, Notice
from notices.outbox import Message, tell
from tests import fake_sms
from tests.courses.conftest import resident
from tests.notices.conftest import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return resident("13812345678", name="王秀英")


def write(user, key="seat:1:1", **params) -> Notice:
    values = {"course": "摄影", "weekday": 2, "starts": "09:00"}
    [pk] = tell([Message(user.pk, Kind.SEAT, key, "/me/", values)])
    return Notice.objects.get(pk=pk)


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_the_request_is_signed_and_a_wrong_secret_is_refused(sms, settings, person):
    notice = write(person)
    settings.ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    assert delivery.attempt(notice.pk) == Notice.Status.FAILED
    notice.refresh_from_db()
    assert notice.last_error.startswith("SignatureDoesNotMatch")
    assert sms.inbox == []


def test_what_the_provider_receives(sms, person):
    notice = write(person)
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    [received] = sms.inbox
    assert received.sign_name == "完整社区"
    assert received.template == "CCP_SEAT_ZH"
    assert received.params["course"] == "摄影"
    assert received.params["link"].endswith("/me/")
    notice.refresh_from_db()
    assert notice.provider_id == received.biz_id
    assert notice.sent_at is not None and notice.lease_until is None


def test_throttled_it_waits_longer_each_time_then_goes(sms, settings, person):
    settings.NOTICES_RETRY_BASE_SECONDS = 10
    notice = write(person)
    sms.mode = "throttle"
    assert delivery.attempt(notice.pk) == Notice.Status.PENDING
    notice.refresh_from_db()
    assert notice.last_error.startswith("isv.BUSINESS_LIMIT_CONTROL")
    first_wait = notice.next_attempt_at - timezone.now()
    assert timedelta(seconds=8) < first_wait <= timedelta(seconds=10)
    # Not due yet: an early job does nothing.
    assert delivery.attempt(notice.pk) == "nothing to do"
    assert delivery.attempt(notice.pk, now=later(11)) == Notice.Status.PENDING
    notice.refresh_from_db()
    assert notice.attempts == 2
    assert notice.next_attempt_at - timezone.now() > timedelta(seconds=15)  # 20 s: doubled
    sms.mode = "ok"
    assert delivery.attempt(notice.pk, now=later(40)) == Notice.Status.SENT
    assert len(sms.inbox) == 1


def test_each_retry_is_a_job_the_workers_run_when_it_is_due(sms, settings, person):
    settings.NOTICES_RETRY_BASE_SECONDS = 0
    notice = write(person)
    sms.mode = "outage"
    assert drain() == 1  # the attempt failed and enqueued its retry, due at once
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 1, "HTTP 500")
    sms.mode = "ok"
    assert drain() == 1
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 2
    assert len(sms.inbox) == 1


def test_a_bad_number_fails_at_once_and_says_why(sms, person):
    person.resident.phone = next(iter(fake_sms.BAD_NUMBERS))
    person.resident.save()
    notice = write(person)
    assert delivery.attempt(notice.pk) == Notice.Status.FAILED
    notice.refresh_from_db()
    assert notice.attempts == 1
    assert "MOBILE_NUMBER_ILLEGAL" in notice.last_error


def test_after_the_last_attempt_allowed_it_fails(sms, settings, person):
    settings.NOTICES_MAX_ATTEMPTS = 3
    settings.NOTICES_RETRY_BASE_SECONDS = 0
    notice = write(person)
    sms.mode = "outage"
    states = [delivery.attempt(notice.pk, now=later(i)) for i in range(3)]
    assert states == ["pending", "pending", "failed"]
    assert delivery.attempt(notice.pk, now=later(10)) == "nothing to do"
    assert sms.refused == 3


def test_an_attempt_whose_answer_was_lost_is_checked_with_the_provider_not_sent_again(
    sms, settings, person
):
    """The provider took the message, but its answer never came back (the worker timed out):
    the next attempt asks the provider by the message's own number, and sends nothing."""
    settings.NOTICES_TIMEOUT_SECONDS = 1
    settings.NOTICES_RETRY_BASE_SECONDS = 0
    notice = write(person)
    sms.delay = 1.5  # accepted, then answered too late
    assert delivery.attempt(notice.pk) == Notice.Status.PENDING
    notice.refresh_from_db()
    assert notice.unsure and "timed out" in notice.last_error
    assert len(sms.inbox) == 1
    sms.delay = 0
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    assert len(sms.inbox) == 1  # found at the provider, not sent twice
    notice.refresh_from_db()
    assert notice.provider_id == sms.inbox[0].biz_id and not notice.unsure


def test_an_unsure_message_the_provider_never_got_is_sent(sms, settings, person):
    notice = write(person)
    Notice.objects.filter(pk=notice.pk).update(unsure=True, attempts=1)
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    assert len(sms.inbox) == 1


def test_while_the_provider_cannot_say_nothing_is_sent(sms, settings, person):
    settings.NOTICES_RETRY_BASE_SECONDS = 0
    notice = write(person)
    Notice.objects.filter(pk=notice.pk).update(unsure=True, attempts=1)
    settings.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:9/"  # nobody answers
    assert delivery.attempt(notice.pk) == Notice.Status.PENDING
    notice.refresh_from_db()
    assert notice.unsure and notice.last_error.startswith("unknown")
    assert sms.inbox == []


def test_a_leased_message_is_left_to_its_worker_until_the_lease_runs_out(sms, person):
    notice = write(person)
    taken = delivery.take(notice.pk, timezone.now())
    assert taken is not None and taken[1] is False  # a first attempt: nothing to check
    assert delivery.attempt(notice.pk) == "nothing to do"
    # Its worker died: after the lease, another takes over and first asks the provider.
    assert delivery.attempt(notice.pk, now=later(121)) == Notice.Status.SENT
    notice.refresh_from_db()
    assert notice.attempts == 2
    assert len(sms.inbox) == 1


def test_a_worker_that_lost_its_lease_does_not_overwrite_the_one_that_took_over(sms, person):
    notice = write(person)
    slow, _ = delivery.take(notice.pk, timezone.now())
    assert delivery.attempt(notice.pk, now=later(121)) == Notice.Status.SENT
    # The first worker comes back with its own (late) answer: it no longer holds the attempt.
    assert delivery.record(slow, channels.retry("HTTP 500"), timezone.now()) == "overtaken"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT


def test_the_sweep_enqueues_what_no_job_will_deliver(sms, settings, person):
    settings.NOTICES_SWEEP_SECONDS = 30
    notice = write(person)
    assert delivery.sweep() == 0  # just written: its job is ready
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the job was lost with its worker
    assert delivery.sweep() == 0  # not overdue yet
    assert delivery.sweep(now=later(31)) == 1
    assert delivery.sweep(now=later(31)) == 0  # its new job is ready: nothing more
    assert drain() == 1
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT


def test_staff_resend_a_failed_message_once(sms, person):
    person.resident.phone = next(iter(fake_sms.BAD_NUMBERS))
    person.resident.save()
    notice = write(person)
    delivery.attempt(notice.pk)
    person.resident.phone = "13812345678"
    person.resident.save()
    assert delivery.resend([notice.pk]) == 1
    assert delivery.resend([notice.pk]) == 0  # no longer failed
    drain()
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT
    assert len(sms.inbox) == 1


def test_the_console_channel_writes_one_line_and_finds_it_again(settings, tmp_path, person):
    settings.NOTICES_SMS = "console"
    settings.NOTICES_CONSOLE_FILE = str(tmp_path / "messages.log")
    notice = write(person)
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    [line] = (tmp_path / "messages.log").read_text().splitlines()
    assert line.startswith(f"ccp-{notice.pk}\tsms\t138****5678\t您已获得名额")
    assert "13812345678" not in line
    Notice.objects.filter(pk=notice.pk).update(status="pending", unsure=True)
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    assert len((tmp_path / "messages.log").read_text().splitlines()) == 1


def test_email_goes_to_the_address_they_gave(settings, mailoutbox, person):
    from notices.models import Channel, Choice

    settings.NOTICES_EMAIL = "smtp"
    person.email = "wang@example.cn"
    person.save()
    Choice.objects.create(user=person, seats=Channel.EMAIL, language="en")
    notice = write(person)
    assert delivery.attempt(notice.pk) == Notice.Status.SENT
    notice.refresh_from_db()
    assert notice.channel == Channel.EMAIL and notice.language == "en"
    [mail] = mailoutbox
    assert mail.to == ["wang@example.cn"]
    assert mail.body.startswith("You have a seat: 摄影")
    assert mail.extra_headers["Message-ID"].startswith(f"<ccp-{notice.pk}@")
