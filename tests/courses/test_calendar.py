"""The private calendar feed: courses.calendar on its own, and /me/calendar/<token>.ics read back
with the icalendar library as a calendar app would."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # icalendar's own dependency
from icalendar import Calendar

from courses import enrolment
from courses.calendar import Meeting, feed, first_meeting
from tests.courses.conftest import NOW, make_class, resident, residents

SHANGHAI = ZoneInfo("Asia/Shanghai")


def meeting(**fields) -> Meeting:
    values = {
        "uid": "enrolment-1@example.org",
        "summary": "摄影 初级",
        "location": "老年大学 201室",
        "weekday": 2,  # Wednesday
        "starts_at": time(9),
        "ends_at": time(11),
        "first_date": date(2026, 9, 14),  # a Monday
        "last_date": date(2027, 1, 13),
    }
    return Meeting(**(values | fields))


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def test_one_weekly_event_from_the_first_meeting_to_the_last_in_beijing_time():
    cal = parse(feed([meeting()], name="我的课程", now=NOW))

    (event,) = cal.walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    # The first Wednesday on or after the first date, not the Monday itself.
    assert start == datetime(2026, 9, 16, 9, tzinfo=SHANGHAI)
    assert end == datetime(2026, 9, 16, 11, tzinfo=SHANGHAI)
    assert event["dtstart"].params["TZID"] == "Asia/Shanghai"
    rule = event["rrule"]
    assert rule["FREQ"] == ["WEEKLY"]
    (until,) = rule["UNTIL"]
    assert until.tzinfo is not None and until.utcoffset().total_seconds() == 0
    assert datetime(2027, 1, 13, 9, tzinfo=SHANGHAI) <= until < datetime(2027, 1, 14, tzinfo=UTC)
    assert str(event["summary"]) == "摄影 初级"
    assert str(event["location"]) == "老年大学 201室"
    assert str(event["uid"]) == "enrolment-1@example.org"


def test_the_feed_carries_the_time_zone_it_names():
    cal = parse(feed([meeting()], name="我的课程", now=NOW))

    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(cal["x-wr-calname"]) == "我的课程"


def test_the_rule_gives_the_right_number_of_meetings():
    cal = parse(feed([meeting()], name="c", now=NOW))

    (event,) = cal.walk("VEVENT")
    # 16 Sept 2026 to 13 Jan 2027, every Wednesday: 18 meetings, the last on 13 January.
    rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=event.decoded("dtstart"))
    meetings = list(rule)
    assert len(meetings) == 18
    assert meetings[-1] == datetime(2027, 1, 13, 9, tzinfo=SHANGHAI)


def test_first_meeting_is_the_first_date_when_it_falls_on_the_weekday():
    assert first_meeting(meeting(first_date=date(2026, 9, 16))) == date(2026, 9, 16)
    assert first_meeting(meeting(first_date=date(2026, 9, 17))) == date(2026, 9, 23)


def test_an_empty_feed_is_still_a_calendar():
    cal = parse(feed([], name="c", now=NOW))

    assert cal.walk("VEVENT") == []
    assert str(cal["version"]) == "2.0"


# ---- the view ----


def test_the_feed_holds_my_seats_only(client, term, compound_a, photography):
    me = resident("13900000001")
    guzheng = make_class(term, compound_a, "古筝", capacity=1, room="201室")
    piano = make_class(term, compound_a, "电钢琴", capacity=1)
    dance = make_class(term, compound_a, "舞蹈")
    for user in residents(1):
        enrolment.enrol(user, piano, now=NOW)
    # Seats given up are not in the feed (and free the per-term limit of 2 again).
    enrolment.cancel(enrolment.enrol(me, photography, now=NOW), now=NOW)
    enrolment.cancel(enrolment.enrol(me, dance, now=NOW), now=NOW)
    mine = enrolment.enrol(me, guzheng, now=NOW)
    enrolment.enrol(me, piano, now=NOW)  # waiting: not in the feed either

    response = client.get(f"/me/calendar/{me.resident.calendar_token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    cal = parse(response.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == "古筝"
    assert str(event["location"]) == f"{guzheng.facility.name} 201室"
    assert str(event["uid"]) == f"enrolment-{mine.pk}@testserver"
    assert event["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("dtstart") == datetime(2026, 9, 16, 9, tzinfo=SHANGHAI)
    assert event["rrule"]["FREQ"] == ["WEEKLY"]
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_the_uid_of_an_enrolment_stays_the_same_between_fetches(client, photography):
    me = resident("13900000001")
    enrolment.enrol(me, photography, now=NOW)
    url = f"/me/calendar/{me.resident.calendar_token}.ics"

    first, second = (parse(client.get(url).content).walk("VEVENT")[0]["uid"] for _ in range(2))

    assert first == second


def test_the_feed_shows_nobody_elses_classes(client, photography):
    me, other = residents(2)
    enrolment.enrol(other, photography, now=NOW)

    cal = parse(client.get(f"/me/calendar/{me.resident.calendar_token}.ics").content)

    assert cal.walk("VEVENT") == []
