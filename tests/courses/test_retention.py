"""The retention rule: manage.py purge_expired deletes what is no longer needed, and only that."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.models import SignInFailure
from courses.models import Enrolment, Term
from tests.courses.conftest import make_class, residents

pytestmark = pytest.mark.django_db


def test_the_purge_deletes_what_has_expired_and_keeps_the_rest(term, compound_a, staff_a, capsys):
    now = timezone.now()
    SignInFailure.objects.create(
        username="someone", address="10.0.0.1", at=now - timedelta(hours=1)
    )
    recent_failure = SignInFailure.objects.create(username="someone", address="10.0.0.1", at=now)

    ended = Term.objects.create(
        community=term.community,
        year=term.year - 1,
        season=Term.Season.SPRING,
        registration_opens=now - timedelta(days=200),
        registration_closes=now - timedelta(days=190),
        starts_on=timezone.localdate() - timedelta(days=180),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    old_class = make_class(ended, compound_a, name="旧班")
    new_class = make_class(term, compound_a, name="新班")
    one, two, three = residents(3)
    cancelled_old = Enrolment.objects.create(
        user=one, course_class=old_class, status=Enrolment.Status.CANCELLED
    )
    kept_old = Enrolment.objects.create(
        user=two, course_class=old_class, status=Enrolment.Status.ENROLLED, enrolled_at=now
    )
    cancelled_now = Enrolment.objects.create(
        user=three, course_class=new_class, status=Enrolment.Status.CANCELLED
    )

    abandoned = TOTPDevice.objects.create(user=staff_a, name="a", confirmed=False)
    TOTPDevice.objects.filter(pk=abandoned.pk).update(created_at=now - timedelta(days=2))
    fresh = TOTPDevice.objects.create(user=staff_a, name="b", confirmed=False)
    confirmed = TOTPDevice.objects.create(user=staff_a, name="c", confirmed=True)
    TOTPDevice.objects.filter(pk=confirmed.pk).update(created_at=now - timedelta(days=400))

    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="y" * 32, session_data="", expire_date=now + timedelta(1))

    call_command("purge_expired")

    assert list(SignInFailure.objects.all()) == [recent_failure]
    assert set(Enrolment.objects.values_list("pk", flat=True)) == {kept_old.pk, cancelled_now.pk}
    assert not Enrolment.objects.filter(pk=cancelled_old.pk).exists()
    assert set(TOTPDevice.objects.values_list("pk", flat=True)) == {fresh.pk, confirmed.pk}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
    out = capsys.readouterr().out
    assert "failed sign-ins: 1" in out and "cancelled enrolments: 1" in out
