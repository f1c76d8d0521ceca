"""Who is told of what: a draw's result, a class cancelled, moved or its venue closed, a reply to a
wish, the staff's digest; each once, in the person's language, within one SMS segment."""

from datetime import time, timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone

from courses import enrolment, lottery
from courses.models import CourseClass, Enrolment
from facilities.models import Facility
from notices import digest, kinds
from notices.models import Channel, Choice, Kind, Notice
from tests.conftest import client_for
from tests.courses.conftest import NOW, make_class, resident, residents
from tests.notices.conftest import drain
from wishes.models import Wish

pytestmark = pytest.mark.django_db

AFTER = NOW + timedelta(days=15)  # the term fixture's window closes at NOW + 14 days


def notices(kind=None):
    found = Notice.objects.order_by("user_id")
    return list(found.filter(kind=kind) if kind else found)


def test_a_draw_tells_each_applicant_their_result_once(sms, term, compound_a):
    calligraphy = make_class(term, compound_a, "书法", capacity=2, allocation="lottery")
    people = residents(5, start=13800000300)
    for person in people:
        enrolment.enrol(person, calligraphy, now=NOW)
    assert notices() == []  # applying tells nobody anything yet

    lottery.draw(calligraphy, now=AFTER)
    won, waiting = notices(Kind.DRAW_WON), notices(Kind.DRAW_WAIT)
    assert len(won) == 2 and len(waiting) == 3
    assert sorted(n.user_id for n in won + waiting) == sorted(p.pk for p in people)
    places = sorted(n.params["place"] for n in waiting)
    assert places == [1, 2, 3]
    lottery.draw(calligraphy, now=AFTER)  # a second call returns the first draw: no more
    assert len(notices()) == 5
    drain()
    assert len(sms.inbox) == 5
    texts = sms.texts()
    assert sum(t.startswith("摇号结果：您已中签书法") for t in texts) == 2
    assert sum("候补第" in t for t in texts) == 3


def test_staff_cancel_a_class_and_everyone_in_it_is_told_once(sms, photography, staff_a):
    people = residents(3, start=13800000400)
    for person in people:
        enrolment.enrol(person, photography, now=NOW)  # two seats, one waiting
    gone = resident("13800000499")
    enrolment.cancel(enrolment.enrol(gone, photography, now=NOW), now=NOW)

    client = client_for(staff_a)
    response = client.post(
        "/admin/courses/courseclass/",
        {"action": "cancel_classes", "_selected_action": [photography.pk]},
        follow=True,
    )
    assert "1 个班次" in response.content.decode() or "1 class" in response.content.decode()
    told = notices(Kind.CLASS_CANCELLED)
    assert sorted(n.user_id for n in told) == sorted(p.pk for p in people)
    photography.refresh_from_db()
    assert photography.cancelled_at is not None and photography.enrolled_count == 0
    assert not Enrolment.objects.filter(course_class=photography, status__in=Enrolment.LIVE)
    # Cancelling again changes nothing and tells nobody again.
    assert enrolment.cancel_class(photography) == 0
    client.post(
        "/admin/courses/courseclass/",
        {"action": "cancel_classes", "_selected_action": [photography.pk]},
    )
    assert len(notices(Kind.CLASS_CANCELLED)) == 3
    # Nobody may apply to it any more.
    refusal = enrolment.check(resident("13800000498"), photography, NOW)
    assert refusal is not None and refusal.code == "cancelled"


def test_another_communitys_staff_cannot_cancel_the_class(photography, staff_b):
    enrolment.enrol(resident("13800000500"), photography, now=NOW)
    client_for(staff_b).post(
        "/admin/courses/courseclass/",
        {"action": "cancel_classes", "_selected_action": [photography.pk]},
    )
    photography.refresh_from_db()
    assert photography.cancelled_at is None
    assert notices() == []


def test_a_class_moved_in_time_or_place_tells_its_people_once_per_change(photography):
    people = residents(3, start=13800000600)  # two seats, one waiting: all are told
    for person in people:
        enrolment.enrol(person, photography, now=NOW)
    photography.teacher = "刘老师"
    photography.save()
    assert notices() == []  # a new teacher is no new time or place

    photography.starts_at, photography.ends_at = time(14), time(16)
    photography.save()
    moved = notices(Kind.CLASS_CHANGED)
    assert len(moved) == 3
    assert (moved[0].params["weekday"], moved[0].params["starts"]) == (2, "14:00")
    photography.save()  # saved again unchanged: nothing more
    assert len(notices(Kind.CLASS_CHANGED)) == 3

    photography.room = "三楼教室"
    photography.save()
    assert len(notices(Kind.CLASS_CHANGED)) == 6
    assert "三楼教室" in notices(Kind.CLASS_CHANGED)[-1].params["place"]


def test_a_venue_closing_for_a_while_tells_the_people_of_its_classes(photography):
    person = resident("13800000700")
    enrolment.enrol(person, photography, now=NOW)
    venue = photography.facility
    venue.status = Facility.Status.TEMPORARILY_CLOSED
    venue.save()
    [closed] = notices(Kind.VENUE_CLOSED)
    assert closed.user_id == person.pk
    assert closed.params["place"] == venue.name[: kinds.VALUE_LIMIT - 1] + "…" or (
        closed.params["place"] == venue.name
    )
    venue.save()  # still closed: no second message
    assert len(notices(Kind.VENUE_CLOSED)) == 1


def test_a_reply_to_a_wish_reaches_its_author_and_supporters_once(sms, community_a, staff_a):
    author, fan, bystander = residents(3, start=13800000800)
    wish = Wish.post(
        author=author, community=community_a, kind="service", title="理发点", text="想要理发"
    )
    Wish.add_support(wish.pk, fan)
    client = client_for(staff_a)
    url = f"/admin/wishes/wish/{wish.pk}/change/"
    response = client.post(url, {"status": "planned", "reply": "下月开设。", "category": ""})
    assert response.status_code == 302
    told = notices(Kind.WISH_REPLY)
    assert sorted(n.user_id for n in told) == sorted([author.pk, fan.pk])
    assert bystander.pk not in {n.user_id for n in told}
    assert told[0].params["link"].endswith(f"/wishes/{wish.pk}/")
    # Saving the status alone, the reply unchanged, tells nobody again.
    client.post(url, {"status": "done", "reply": "下月开设。", "category": ""})
    assert len(notices(Kind.WISH_REPLY)) == 2
    drain()
    assert sorted(r.phone for r in sms.inbox) == sorted(["13800000800", "13800000801"])
    assert all(t.startswith("社区已回复“理发点”") for t in sms.texts())


def test_the_person_chooses_language_and_channel(photography):
    first, second, waiting = residents(3, start=13800000900)
    waiting.email = "li@example.cn"
    waiting.save()
    Choice.objects.create(user=waiting, seats=Channel.EMAIL, language="en")
    seat = enrolment.enrol(first, photography, now=NOW)
    enrolment.enrol(second, photography, now=NOW)
    enrolment.enrol(waiting, photography, now=NOW)
    enrolment.cancel(seat, now=NOW)
    drain()
    [told] = notices()
    assert (told.channel, told.language, told.status) == (Channel.EMAIL, "en", "sent")
    link = "http://127.0.0.1:8000/me/"
    assert told.text == f"You have a seat: 摄影, Wed 09:00. {link} Reply T to stop"


def test_someone_with_neither_a_number_nor_an_address_is_not_sent_anything(staff_a):
    from notices.outbox import Message, tell

    values = {"course": "摄影", "weekday": 2, "starts": "9:00"}
    [pk] = tell([Message(staff_a.pk, Kind.SEAT, "seat:x", "/me/", values)])
    drain()
    told = Notice.objects.get(pk=pk)
    assert (told.status, told.last_error) == ("skipped", "没有可发送的手机号或电子邮箱。")


# Kinds that name two things (a class and where it meets) fit with the usual names; with two long
# ones they take a second segment, which the provider joins into one message.
TWO_NAMES = {Kind.CLASS_CHANGED, Kind.VENUE_CLOSED}


@pytest.mark.parametrize("kind", [k for k in Kind if k != Kind.DIGEST])
def test_every_residents_text_fits_one_sms_segment_and_says_how_to_stop(kind):
    """With long ordinary values (a name over 12 characters is cut to fit) and an address as
    long as a district's own domain."""
    site = "https://sq.lvyuan.gov.cn"
    params = {
        "course": "视频剪辑" if kind in TWO_NAMES else "智能手机使用 初级",
        "weekday": 2,
        "starts": "09:00",
        "place": 12 if kind == Kind.DRAW_WAIT else "林园社区老年大学",
        "title": "社区理发点和助浴服务",
        "link": site + ("/wishes/12345/" if kind == Kind.WISH_REPLY else "/me/"),
    }
    text = kinds.render(kind, kinds.values(params, "zh-hans"), "zh-hans")
    assert kinds.fits_one_segment(text), f"{len(text)} characters: {text}"
    assert text.endswith("回T退订")
    english = kinds.render(kind, kinds.values(params, "en"), "en")
    assert english.endswith("Reply T to stop") and "%(" not in english


def test_a_long_name_is_cut_and_the_link_kept_whole():
    link = "https://sq.lvyuan.gov.cn/me/"
    long_name = "社区居民智能手机和网络安全使用入门"
    params = {"course": long_name, "weekday": 6, "starts": "19:30", "link": link}
    filled = kinds.values(params, "zh-hans")
    assert filled["course"] == long_name[: kinds.VALUE_LIMIT - 1] + "…"
    assert (filled["when"], filled["link"]) == ("周日 19:30", link)
    assert kinds.values(params, "en")["when"] == "Sun 19:30"
    assert kinds.fits_one_segment(kinds.render(Kind.SEAT, filled, "zh-hans"))


def test_the_staff_digest_once_a_day_after_its_hour(settings, photography, staff_a, community_a):
    settings.NOTICES_DIGEST_HOUR = 8
    staff_a.email = "staff@example.cn"
    staff_a.save()
    for person in residents(3, start=13800001000):
        enrolment.enrol(person, photography, now=NOW)
    Wish.post(
        author=resident("13800001099"),
        community=community_a,
        kind="course",
        title="书法",
        text="想学",
    )
    morning = timezone.localtime().replace(hour=7, minute=30)
    assert digest.send_due(morning) == 0  # before its hour
    nine = morning + timedelta(hours=1, minutes=30)
    assert digest.send_due(nine) == 1
    assert digest.send_due(nine + timedelta(hours=2)) == 0  # once a day
    drain()
    [told] = notices(Kind.DIGEST)
    assert told.user_id == staff_a.pk and told.channel == Channel.EMAIL
    assert told.params["wishes"] == "1"
    assert told.params["enrolled"] == "3" and told.params["waiting"] == "1"
    assert told.text.startswith(f"{community_a.name}近一天：新需求1条，新报名3人，候补1人。")
    assert digest.send_due(nine + timedelta(days=1)) == 1  # the next day's


def test_no_digest_for_a_community_with_nothing_new(settings, staff_a):
    staff_a.email = "staff@example.cn"
    staff_a.save()
    assert digest.send_due(timezone.localtime().replace(hour=9)) == 0
    assert notices() == []


def test_the_course_admin_shows_cancelled_classes(staff_a, photography):
    model_admin = admin.site._registry[CourseClass]
    request = RequestFactory().get("/")
    request.user = staff_a
    assert "cancelled_at" in model_admin.get_list_display(request)


def test_a_cancelled_class_says_so_and_offers_no_seat(client, photography):
    from courses import listing

    assert photography in [row.course_class for row in listing.for_home(NOW)]
    enrolment.cancel_class(photography)
    html = client.get(f"/courses/{photography.course.slug}/").content.decode()
    assert "已取消" in html
    assert photography not in [row.course_class for row in listing.for_home(NOW)]
    [row], _more = listing.for_facility(photography.facility, NOW)
    assert row.course_class == photography
