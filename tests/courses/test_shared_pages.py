"""Public pages (a course's, the wishes) are rendered once for everyone, signed in or not;
each person's own parts are filled in per request (portal/personal.py): never another
person's, and fresh right after a change of mine."""

import re

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import enrolment
from portal import personal
from tests.conftest import client_for
from tests.courses.conftest import NOW, resident
from wishes.models import Wish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _tables(queries) -> set[str]:
    return {t for q in queries.captured_queries for t in re.findall(r'FROM "(\w+)"', q["sql"])}


def test_a_signed_in_resident_reads_the_page_the_visitors_made(client, photography):
    url = f"/courses/{photography.course.slug}/"
    visitor = client.get(url).content.decode()
    me = client_for(resident("13900000001"))
    me.get("/me/")  # the session and the account, read once

    with CaptureQueriesContext(connection) as queries:
        mine = me.get(url).content.decode()

    # The course and its classes are not read again for me; only my own enrolments are.
    assert "courses_course" not in _tables(queries)
    assert "Sign in to enrol" in visitor and "Sign in to enrol" not in mine
    assert "Enrol<span" in mine and "Enrol<span" not in visitor
    assert "My account" in mine and "My account" not in visitor
    about = visitor.split('<section aria-labelledby="about-title">')[1].split("</section>")[0]
    assert about in mine


def test_a_shared_page_never_shows_another_persons_place(photography):
    url = f"/courses/{photography.course.slug}/"
    first, second = resident("13900000001"), resident("13900000002")
    first_client, second_client = client_for(first), client_for(second)
    with TestCase.captureOnCommitCallbacks(execute=True):
        enrolment.enrol(first, photography, now=NOW)

    assert "You are enrolled." in first_client.get(url).content.decode()
    theirs = second_client.get(url).content.decode()  # the same cached page, their own parts
    assert "You are enrolled." not in theirs
    assert "Enrol<span" in theirs
    assert "You are enrolled." in first_client.get(url).content.decode()


def test_my_support_shows_at_once_on_the_cached_list_and_only_for_me(community_a):
    wish = Wish.objects.create(
        community=community_a, kind=Wish.Kind.SERVICE, title="理发点", text="说明"
    )
    me, other = client_for(resident("13900000001")), client_for(resident("13900000002"))
    visitor = Client()
    for client in (me, other, visitor):
        client.get("/wishes/")  # the list is cached now
    assert "I want this too" in me.get("/wishes/").content.decode()

    response = me.post(f"/wishes/{wish.pk}/support/", {"next": "/wishes/"}, follow=True)

    mine = response.content.decode()
    assert "You support this wish." in mine
    assert "Thank you: your support is counted." in mine  # my message, shown once
    assert "Thank you" not in me.get("/wishes/").content.decode()
    theirs = other.get("/wishes/").content.decode()
    assert "You support this wish." not in theirs and "I want this too" in theirs
    assert "Thank you" not in theirs
    assert "Sign in to support this wish" in visitor.get("/wishes/").content.decode()


def test_each_person_posts_with_their_own_token(community_a):
    wish = Wish.objects.create(
        community=community_a, kind=Wish.Kind.SERVICE, title="理发点", text="说明"
    )
    people = []
    for phone in ("13900000001", "13900000002"):
        client = client_for(resident(phone))
        client.handler.enforce_csrf_checks = True
        html = client.get("/wishes/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        people.append((client, token))
    (mine, my_token), (_theirs, their_token) = people
    assert my_token != their_token
    # Another person's token does not post for me; mine does.
    assert (
        mine.post(f"/wishes/{wish.pk}/support/", {"csrfmiddlewaretoken": their_token}).status_code
        == 403
    )
    response = mine.post(f"/wishes/{wish.pk}/support/", {"csrfmiddlewaretoken": my_token})
    assert response.status_code == 302
    assert wish.supports.count() == 1


def test_a_page_to_share_may_not_hold_a_token():
    with pytest.raises(personal.SharedTokenError):
        personal.shared(b'<input type="hidden" name="csrfmiddlewaretoken" value="x">')
    assert personal.shared(b"<p>ok</p>") == b"<p>ok</p>"


def test_a_key_cannot_carry_markup():
    with pytest.raises(ValueError):
        personal.hole("wish-support", "1--><script>")


def test_a_seat_given_to_me_elsewhere_shows_at_once_on_my_kept_pages(photography):
    """My parts are kept per minute, but a change made by someone else (their cancellation
    hands me their seat) moves my stamp: my course page and /me/ show it on the next request."""
    url = f"/courses/{photography.course.slug}/"
    first, second, me = (resident(p) for p in ("13900000001", "13900000002", "13900000003"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        for user in (first, second, me):
            enrolment.enrol(user, photography, now=NOW)
    client = client_for(me)
    assert "You are number 1 on the waiting list." in client.get(url).content.decode()
    assert "You are number 1 on the waiting list." in client.get("/me/").content.decode()

    with TestCase.captureOnCommitCallbacks(execute=True):
        enrolment.cancel(first.enrolments.get(), now=NOW)

    page = client.get(url).content.decode()
    assert "You are enrolled." in page and "waiting list." not in page
    mine = client.get("/me/").content.decode()
    assert "You are not on any waiting list." in mine
    assert photography.course.name in mine.split('id="enrolled-title"')[1].split("</section>")[0]


def test_staff_enrolling_me_at_the_desk_shows_at_once(photography, staff_a):
    me = resident("13900000001")
    client = client_for(me)
    url = f"/courses/{photography.course.slug}/"
    assert "Enrol<span" in client.get(url).content.decode()
    client.get("/me/")

    with TestCase.captureOnCommitCallbacks(execute=True):
        enrolment.enrol(me, photography, by=staff_a, now=NOW)

    assert "You are enrolled." in client.get(url).content.decode()
    assert "You are not enrolled in any class." not in client.get("/me/").content.decode()


def test_my_page_posts_with_my_token_though_it_is_kept(photography):
    me = resident("13900000001")
    client = client_for(me)
    client.handler.enforce_csrf_checks = True
    client.get("/me/")  # kept now
    html = client.get("/me/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post("/me/calendar/new/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
