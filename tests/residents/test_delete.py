"""Deleting my account: seats go to the people waiting, everything about me goes, staff cannot."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from courses import enrolment
from courses.models import CourseClass, Enrolment
from residents.models import Resident
from tests.conftest import PASSWORD, client_for
from tests.courses import conftest as courses
from tests.courses.conftest import NOW, make_class, resident

pytestmark = pytest.mark.django_db
term = courses.term


@pytest.fixture
def me(db):
    user = resident("13812341234", name="王秀兰")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_the_confirmation_page_says_what_will_happen(me, term, compound_a):
    enrolment.enrol(me, make_class(term, compound_a), now=NOW)
    response = client_for(me).get(reverse("residents:delete"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'autocomplete="current-password"' in html and 'for="id_password"' in html
    assert "候补" in html  # "the waiting list moves on"
    assert Resident.objects.filter(user=me).exists()


def test_a_wrong_password_deletes_nothing(me, term, compound_a):
    photography = make_class(term, compound_a, capacity=1)
    mine = enrolment.enrol(me, photography, now=NOW)
    client = client_for(me)
    response = client.post(reverse("residents:delete"), {"password": "not-my-password"})
    assert response.status_code == 200
    assert 'id="id_password-error"' in response.content.decode()
    assert Resident.objects.filter(user=me).exists()
    mine.refresh_from_db()
    assert mine.status == Enrolment.Status.ENROLLED
    assert client.get(reverse("communities:account")).status_code == 200  # still signed in


def test_deleting_frees_my_seat_for_the_first_person_waiting(me, term, compound_a):
    photography = make_class(term, compound_a, capacity=1)
    calligraphy = make_class(term, compound_a, name="书画", capacity=3)
    enrolment.enrol(me, photography, now=NOW)
    enrolment.enrol(me, calligraphy, now=NOW)
    first, second = resident("13900000001"), resident("13900000002")
    waiting_first = enrolment.enrol(first, photography, now=NOW)
    waiting_second = enrolment.enrol(second, photography, now=NOW)
    assert waiting_first.status == Enrolment.Status.WAITLISTED

    client = client_for(me)
    response = client.post(reverse("residents:delete"), {"password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == reverse("residents:deleted")
    assert not get_user_model().objects.filter(pk=me.pk).exists()
    assert not Resident.objects.filter(phone="13812341234").exists()
    assert not Enrolment.objects.filter(user_id=me.pk).exists()
    waiting_first.refresh_from_db()
    waiting_second.refresh_from_db()
    assert waiting_first.status == Enrolment.Status.ENROLLED
    assert waiting_second.status == Enrolment.Status.WAITLISTED
    counts = dict(CourseClass.objects.values_list("pk", "enrolled_count"))
    assert counts == {photography.pk: 1, calligraphy.pk: 0}
    assert "_auth_user_id" not in client.session
    assert client.get(response["Location"]).status_code == 200


def test_the_same_number_can_register_again_afterwards(me, client):
    client_for(me).post(reverse("residents:delete"), {"password": PASSWORD})
    response = client.post(
        reverse("residents:register"),
        {
            "name": "王秀兰",
            "phone": "13812341234",
            "password1": "lanterns-over-the-river",
            "password2": "lanterns-over-the-river",
            "birth_year": "1956",
            "privacy": "on",
        },
    )
    assert response.status_code == 302
    assert Resident.objects.filter(phone="13812341234").count() == 1


@pytest.mark.parametrize("persona", ["staff_a", "official", "city_admin"])
def test_staff_and_officials_cannot_delete_themselves_here(request, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    page = client.get(reverse("residents:delete"))
    assert page.status_code == 200 and 'name="password"' not in page.content.decode()
    response = client.post(reverse("residents:delete"), {"password": PASSWORD})
    assert response.status_code == 403
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_a_resident_who_also_keeps_a_community_cannot_delete_here(me, community_a):
    from communities.roles import make_staff

    make_staff(me, community_a)
    response = client_for(me).post(reverse("residents:delete"), {"password": PASSWORD})
    assert response.status_code == 403
    assert Resident.objects.filter(user=me).exists()


def test_a_registered_resident_never_reaches_the_admin(client):
    client.post(
        reverse("residents:register"),
        {
            "name": "王秀兰",
            "phone": "13812341234",
            "password1": "lanterns-over-the-river",
            "password2": "lanterns-over-the-river",
            "birth_year": "1956",
            "privacy": "on",
        },
    )
    assert "_auth_user_id" in client.session
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # Nor does signing in there let them through.
    response = client.post(
        reverse("admin:login"),
        {"username": "13812341234", "password": "lanterns-over-the-river"},
    )
    assert response.status_code == 200 and "error" in response.content.decode()
    assert client.get(reverse("admin:courses_enrolment_changelist")).status_code == 302
