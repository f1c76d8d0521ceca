"""The pages around messages: a person's choices on their account, the provider's push of replies
("T" stops them), the staff's outbox in the back office, and the retention rule."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from notices.models import Channel, Choice, Kind, Notice
from notices.outbox import Message, tell
from tests.conftest import client_for
from tests.courses.conftest import resident
from tests.notices.conftest import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return resident("13812340001", name="王秀英")


def notice_for(user, community, key="k", status=Notice.Status.SENT, **fields) -> Notice:
    now = timezone.now()
    fields.setdefault("text", "您已获得名额：摄影，周三 09:00上课。 回T退订")
    return Notice.objects.create(
        key=key,
        kind=Kind.SEAT,
        user=user,
        community=community,
        channel=Channel.SMS,
        language="zh-hans",
        status=status,
        next_attempt_at=now,
        sent_at=now if status == Notice.Status.SENT else None,
        **fields,
    )


# ---- the choices page ----


def test_the_page_shows_the_defaults_and_saves_a_choice(person):
    client = client_for(person)
    page = client.get(reverse("notices:choices"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的消息" in html and "回复T" in html
    assert 'name="seats" value="sms" id="id_seats_0" checked' in html.replace("\n", "")
    assert 'name="digest"' not in html  # staff only
    response = client.post(
        reverse("notices:choices"),
        {"seats": "sms", "classes": "off", "wishes": "sms", "language": "en", "email": ""},
    )
    assert response.status_code == 302
    choice = Choice.objects.get(user=person)
    assert (choice.seats, choice.classes, choice.wishes, choice.language) == (
        "sms",
        "off",
        "sms",
        "en",
    )


def test_email_without_an_address_is_refused_and_nothing_is_lost(person):
    client = client_for(person)
    response = client.post(
        reverse("notices:choices"),
        {"seats": "email", "classes": "off", "wishes": "sms", "language": "zh-hans", "email": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请填写电子邮箱" in html
    assert 'value="email" id="id_seats_1" checked' in html.replace("\n", "")
    assert 'value="off" id="id_classes_2" checked' in html.replace("\n", "")
    assert not Choice.objects.filter(user=person).exists()

    client.post(
        reverse("notices:choices"),
        {
            "seats": "email",
            "classes": "off",
            "wishes": "sms",
            "language": "zh-hans",
            "email": "w@example.cn",
        },
    )
    person.refresh_from_db()
    assert person.email == "w@example.cn"
    assert Choice.objects.get(user=person).seats == Channel.EMAIL


def test_sms_is_not_offered_without_a_mobile_number_and_staff_choose_their_digest(staff_a):
    html = client_for(staff_a).get(reverse("notices:choices")).content.decode()
    assert 'value="sms"' not in html
    assert 'name="digest"' in html
    response = client_for(staff_a).post(
        reverse("notices:choices"),
        {"seats": "sms", "classes": "off", "wishes": "off", "digest": "off", "language": "zh-hans"},
    )
    assert response.status_code == 200  # SMS is no choice for them
    assert not Choice.objects.filter(user=staff_a).exists()


def test_the_page_lists_my_own_messages_only(person, community_a):
    mine = notice_for(person, community_a, key="mine")
    other = resident("13812340002")
    notice_for(other, community_a, key="theirs", text="别人的消息")
    html = client_for(person).get(reverse("notices:choices")).content.decode()
    assert mine.text in html and "别人的消息" not in html


def test_the_page_needs_a_sign_in(client):
    response = client.get(reverse("notices:choices"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_account_page_links_to_it(person):
    html = client_for(person).get(reverse("communities:account")).content.decode()
    assert reverse("notices:choices") in html


# ---- replies pushed by the provider ----


def test_a_reply_t_turns_every_message_to_that_number_off(client, settings, person):
    settings.ALIYUN_SMS_REPLY_TOKEN = "s3cret"
    other = resident("13812340003")
    body = [
        {"phone_number": "13812340001", "content": " t ", "send_time": "2026-12-07 10:00:00"},
        {"phone_number": "13812340003", "content": "谢谢", "send_time": "2026-12-07 10:01:00"},
    ]
    url = reverse("notices:sms-replies", args=["s3cret"])
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.json() == {"code": 0, "msg": "成功"}
    choice = Choice.objects.get(user=person)
    assert (choice.seats, choice.classes, choice.wishes) == ("off", "off", "off")
    assert not Choice.objects.filter(user=other).exists()
    # Told after that: nothing is sent to them.
    [pk] = tell([Message(person.pk, Kind.SEAT, "seat:t", "/me/", {"course": "摄影"})])
    drain()
    assert Notice.objects.get(pk=pk).status == Notice.Status.SKIPPED


def test_the_reply_address_needs_its_secret(client, settings, person):
    body = json.dumps([{"phone_number": "13812340001", "content": "T"}])
    settings.ALIYUN_SMS_REPLY_TOKEN = ""
    url = reverse("notices:sms-replies", args=["anything"])
    assert client.post(url, body, content_type="application/json").status_code == 404
    settings.ALIYUN_SMS_REPLY_TOKEN = "s3cret"
    url = reverse("notices:sms-replies", args=["wrong"])
    assert client.post(url, body, content_type="application/json").status_code == 404
    url = reverse("notices:sms-replies", args=["s3cret"])
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    assert not Choice.objects.exists()


# ---- the outbox in the back office ----


def test_staff_see_their_own_communitys_messages_with_masked_numbers(
    staff_a, staff_b, person, community_a, community_b
):
    notice_for(person, community_a, key="a")
    notice_for(person, community_b, key="b", text="乙社区的消息")
    html = client_for(staff_a).get("/admin/notices/notice/").content.decode()
    assert "王秀英 (138****0001)" in html
    assert "13812340001" not in html
    assert html.count("/admin/notices/notice/") >= 1
    b_html = client_for(staff_b).get("/admin/notices/notice/").content.decode()
    assert "王秀英" in b_html  # their own community's message to the same person
    ids = Notice.objects.order_by("key").values_list("pk", flat=True)
    assert client_for(staff_b).get(f"/admin/notices/notice/{ids[0]}/change/").status_code == 404
    assert client_for(staff_a).get(f"/admin/notices/notice/{ids[0]}/change/").status_code == 200


def test_staff_resend_a_failed_message_and_nothing_else(staff_a, person, community_a):
    failed = notice_for(person, community_a, key="f", status=Notice.Status.FAILED, attempts=3)
    sent = notice_for(person, community_a, key="s")
    client = client_for(staff_a)
    response = client.post(
        "/admin/notices/notice/",
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert "将重新发送 1 条消息" in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert sent.status == "sent"


def test_nobody_edits_or_deletes_a_message_in_the_back_office(city_admin, person, community_a):
    notice = notice_for(person, community_a)
    client = client_for(city_admin)
    response = client.post(f"/admin/notices/notice/{notice.pk}/change/", {"text": "改过"})
    assert response.status_code == 403
    assert client.post(f"/admin/notices/notice/{notice.pk}/delete/").status_code == 403
    notice.refresh_from_db()
    assert notice.text.startswith("您已获得名额")


# ---- retention ----


def test_purge_empties_old_texts_and_keeps_the_record(settings, person, community_a):
    settings.NOTICES_KEEP_DAYS = 30
    old = notice_for(person, community_a, key="old")
    young = notice_for(person, community_a, key="young")
    waiting = notice_for(person, community_a, key="wait", status=Notice.Status.PENDING)
    Notice.objects.filter(pk__in=[old.pk, waiting.pk]).update(
        created_at=timezone.now() - timedelta(days=31), params={"course": "摄影"}
    )
    call_command("purge_expired")
    old.refresh_from_db()
    young.refresh_from_db()
    waiting.refresh_from_db()
    assert (old.text, old.params, old.status) == ("", {}, "sent")
    assert young.text and waiting.text  # too young, or still to be sent


def test_deleting_an_account_takes_its_messages_and_choices(person, community_a):
    from residents import privacy

    notice_for(person, community_a)
    Choice.objects.create(user=person)
    privacy.delete_account(person)
    assert not Notice.objects.exists() and not Choice.objects.exists()
    assert not get_user_model().objects.filter(pk=person.pk).exists()


def test_purge_deletes_finished_jobs_and_those_a_dead_worker_left_running():
    from django_tasks_db.models import DBTaskResult

    from notices.tasks import deliver

    ids = [deliver.enqueue(n).id for n in range(5)]
    day_ago = timezone.now() - timedelta(days=1, minutes=1)
    hour_ago = timezone.now() - timedelta(hours=1)
    states = [  # status, started, finished; the first two and the fourth go
        ("SUCCESSFUL", day_ago, day_ago),
        ("RUNNING", day_ago, None),  # its worker was killed a day ago
        ("RUNNING", hour_ago, None),  # perhaps still running
        ("FAILED", day_ago, day_ago),
        ("READY", None, None),
    ]
    for pk, (status, started, finished) in zip(ids, states, strict=True):
        DBTaskResult.objects.filter(pk=pk).update(
            status=status, started_at=started, finished_at=finished
        )
    out = StringIO()
    call_command("purge_expired", stdout=out)
    left = set(DBTaskResult.objects.values_list("status", flat=True))
    assert left == {"RUNNING", "READY"}
    assert DBTaskResult.objects.get(status="RUNNING").started_at == hour_ago
    assert "finished jobs: 2" in out.getvalue()
    assert "jobs of workers that died: 1" in out.getvalue()
