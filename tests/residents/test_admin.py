"""Residents in the back office: staff see the people they look after with masked numbers,
register someone at the desk and reset a forgotten password, and the audit trail keeps what they
did by user id only, even after the resident deletes the account."""

import re
from datetime import timedelta

import pghistory
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from communities import access
from communities.models import Membership
from courses import enrolment
from courses.models import Term
from residents import audit as account_trail
from residents.models import AccountEvent, Resident
from tests.conftest import PASSWORD, client_for
from tests.courses import conftest as courses
from tests.courses.conftest import NOW, make_class

pytestmark = pytest.mark.django_db
term = courses.term
photography = courses.photography

NUMBER = "13812341234"
MASKED = "138****1234"
LIST = reverse("admin:residents_resident_changelist")
ADD = reverse("admin:residents_resident_add")


def make_resident(phone: str, name: str, compound=None, birth_year: int = 1956) -> Resident:
    user = get_user_model().objects.create_user(username=phone, password=PASSWORD)
    return Resident.objects.create(
        user=user, name=name, phone=phone, birth_year=birth_year, compound=compound
    )


def change_url(resident: Resident) -> str:
    return reverse("admin:residents_resident_change", args=[resident.pk])


def reset_url(resident: Resident) -> str:
    return reverse("admin:residents_resident_password", args=[resident.pk])


def warning_text(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def password_in(response) -> str:
    return re.search(r"[:：]\s*(\d{8})(?!\d)", warning_text(response)).group(1)


def results_table(response) -> str:
    html = response.content.decode()
    start = html.index('id="result_list"')
    return html[start : html.index("</table>", start)]


@pytest.fixture
def neighbour(compound_a) -> Resident:
    """Lives in one of community A's compounds."""
    return make_resident(NUMBER, "王秀兰", compound_a)


@pytest.fixture
def learner(compound_b, photography) -> Resident:
    """Lives in community B but takes a class of community A."""
    resident = make_resident("13900000002", "李建国", compound_b)
    enrolment.enrol(resident.user, photography, now=NOW)
    return resident


@pytest.fixture
def stranger(compound_b) -> Resident:
    return make_resident("13900000003", "赵桂芝", compound_b)


# Who staff see


def test_staff_see_their_compounds_residents_and_their_learners_only(
    staff_a, neighbour, learner, stranger, photography
):
    gone = make_resident("13900000004", "钱丽", None)
    enrolment.cancel(enrolment.enrol(gone.user, photography, now=NOW), now=NOW)

    response = client_for(staff_a).get(LIST)

    assert response.status_code == 200
    assert set(response.context["cl"].queryset) == {neighbour, learner}


def test_the_scope_rule_for_officials_staff_b_and_the_city(
    staff_b, official, city_admin, neighbour, learner, stranger
):
    everyone = Resident.objects.all()
    assert set(access.residents(everyone, staff_b)) == {learner, stranger}
    assert not access.residents(everyone, official).exists()
    assert set(access.residents(everyone, city_admin)) == {neighbour, learner, stranger}


def test_the_list_masks_every_number_in_few_queries(
    staff_a, compound_a, neighbour, django_assert_max_num_queries
):
    for i in range(30):
        make_resident(f"1370000{i:04d}", f"居民{i}", compound_a)
    client = client_for(staff_a)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    html = response.content.decode()
    assert MASKED in html and NUMBER not in html
    assert "13700000007" not in html and "137****0007" in html
    assert len(response.context["cl"].result_list) == 31


def test_a_full_number_finds_its_owner_and_the_list_still_masks_it(staff_a, neighbour, learner):
    client = client_for(staff_a)
    response = client.get(LIST, {"q": "138 1234 1234"})
    assert list(response.context["cl"].result_list) == [neighbour]
    table = results_table(response)
    assert MASKED in table and NUMBER not in table

    assert list(client.get(LIST, {"q": "王秀"}).context["cl"].result_list) == [neighbour]
    # Parts of a number find nobody: no guessing people by digits.
    assert not client.get(LIST, {"q": "1234"}).context["cl"].result_list


def test_a_full_number_outside_the_scope_finds_nobody(staff_a, neighbour, stranger):
    response = client_for(staff_a).get(LIST, {"q": stranger.phone})
    assert not response.context["cl"].result_list


# The change page


def test_the_change_page_masks_the_number_and_keeps_secrets_out(staff_a, neighbour):
    response = client_for(staff_a).get(change_url(neighbour))
    assert response.status_code == 200
    html = response.content.decode()
    assert MASKED in html and NUMBER not in html
    assert neighbour.calendar_token not in html
    assert neighbour.user.password not in html
    assert 'name="phone"' not in html and 'name="password"' not in html
    fields = set(response.context["adminform"].form.fields)
    assert fields == {"name", "birth_year", "compound"}
    assert reset_url(neighbour) in html


def test_staff_correct_a_name_and_it_is_noted_by_id(staff_a, neighbour, compound_a):
    client = client_for(staff_a)
    response = client.post(
        change_url(neighbour),
        {"name": " 王  秀兰 ", "birth_year": "1955", "compound": compound_a.pk, "phone": "1"},
    )
    assert response.status_code == 302
    neighbour.refresh_from_db()
    assert (neighbour.name, neighbour.birth_year, neighbour.phone) == ("王 秀兰", 1955, NUMBER)
    event = AccountEvent.objects.get(pgh_obj_id=neighbour.user_id)
    assert event.pgh_label == account_trail.DETAILS_CORRECTED
    assert event.pgh_context["user"] == staff_a.pk
    # The admin's own log would keep the name as text: it is not written.
    assert not LogEntry.objects.exists()


def test_an_impossible_birth_year_is_refused_and_nothing_changes(staff_a, neighbour, compound_a):
    response = client_for(staff_a).post(
        change_url(neighbour), {"name": "改名", "birth_year": "1850", "compound": compound_a.pk}
    )
    assert response.status_code == 200
    assert "birth_year" in response.context["adminform"].form.errors
    neighbour.refresh_from_db()
    assert neighbour.name == "王秀兰"
    assert not AccountEvent.objects.exists()


def test_a_learner_from_another_community_is_seen_but_not_changed(
    staff_a, learner, compound_a, compound_b
):
    """A place in our class lets staff see the learner; their account is their own community's
    to correct (else enrolling someone at the desk would hand over their account)."""
    client = client_for(staff_a)
    assert client.get(change_url(learner)).status_code == 200
    before = (learner.name, learner.birth_year, learner.compound)
    response = client.post(
        change_url(learner), {"name": "李建国", "birth_year": "1950", "compound": compound_a.pk}
    )
    assert response.status_code == 403
    learner.refresh_from_db()
    assert (learner.name, learner.birth_year, learner.compound) == before


def test_staff_hold_the_resident_permissions_but_delete(staff_a):
    assert staff_a.has_perms(
        ["residents.view_resident", "residents.add_resident", "residents.change_resident"]
    )
    assert not staff_a.has_perm("residents.delete_resident")


def test_nobody_deletes_a_resident_in_the_admin(city_admin, neighbour):
    client = client_for(city_admin)
    url = reverse("admin:residents_resident_delete", args=[neighbour.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Resident.objects.filter(pk=neighbour.pk).exists()


# Registering at the desk


def test_staff_register_a_resident_who_can_sign_in_with_the_password_shown(staff_a, compound_a):
    client = client_for(staff_a)
    response = client.post(
        ADD,
        {
            "phone": "+86 137-1234-5678",
            "name": "孙大妈",
            "birth_year": "1957",
            "compound": compound_a.pk,
        },
        follow=True,
    )

    made = Resident.objects.get(phone="13712345678")
    assert (made.name, made.birth_year, made.compound) == ("孙大妈", 1957, compound_a)
    assert made.user.username == "13712345678" and not made.user.is_staff
    assert Client().login(username="13712345678", password=password_in(response))
    event = AccountEvent.objects.get(pgh_obj_id=made.user_id)
    assert event.pgh_label == account_trail.REGISTERED_AT_DESK
    assert event.id == made.user_id
    assert event.pgh_context == {"user": staff_a.pk, "url": ADD}
    assert not LogEntry.objects.exists()


def test_the_add_form_offers_only_their_own_compounds(staff_a, compound_a, compound_b):
    client = client_for(staff_a)
    page = client.get(ADD)
    assert list(page.context["adminform"].form.fields["compound"].queryset) == [compound_a]
    response = client.post(
        ADD,
        {"phone": "13712345678", "name": "孙大妈", "birth_year": "1957", "compound": compound_b.pk},
    )
    assert response.status_code == 200
    assert "compound" in response.context["adminform"].form.errors
    assert not get_user_model().objects.filter(username="13712345678").exists()


def test_a_number_with_an_account_is_refused_with_a_way_forward(staff_a, stranger):
    response = client_for(staff_a).post(
        ADD, {"phone": stranger.phone, "name": "又一个", "birth_year": "1957"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["phone"]
    assert [e.code for e in errors] == ["taken"]
    assert Resident.objects.count() == 1
    assert not AccountEvent.objects.exists()


@pytest.fixture
def open_term(community_a) -> Term:
    now = timezone.now()
    return Term.objects.create(
        community=community_a,
        year=now.year,
        season=Term.Season.SPRING,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=(now + timedelta(days=20)).date(),
        ends_on=(now + timedelta(days=140)).date(),
    )


def test_the_desk_notes_a_registration_with_the_staff_member_in_the_context(
    staff_a, open_term, compound_a
):
    course_class = make_class(open_term, compound_a)
    url = reverse("admin:courses_courseclass_desk", args=[course_class.pk])
    client_for(staff_a).post(url, {"phone": "13712345678", "name": "孙大妈", "birth_year": "1957"})

    made = Resident.objects.get(phone="13712345678")
    event = AccountEvent.objects.get(pgh_obj_id=made.user_id)
    assert event.pgh_label == account_trail.REGISTERED_AT_DESK
    assert event.pgh_context == {"user": staff_a.pk, "url": url}


# Resetting a password


def test_a_reset_password_replaces_the_old_and_signs_the_resident_out(staff_a, neighbour):
    theirs = Client()
    assert theirs.login(username=NUMBER, password=PASSWORD)
    assert theirs.get(reverse("residents:data")).status_code == 200

    client = client_for(staff_a)
    page = client.get(reset_url(neighbour))
    assert page.status_code == 200 and 'method="post"' in page.content.decode()
    assert not AccountEvent.objects.exists()  # asking is not doing
    response = client.post(reset_url(neighbour), follow=True)

    assert response.redirect_chain[-1][0] == change_url(neighbour)
    new = password_in(response)
    assert not Client().login(username=NUMBER, password=PASSWORD)
    assert Client().login(username=NUMBER, password=new)
    signed_out = theirs.get(reverse("residents:data"))
    assert signed_out.status_code == 302 and "login" in signed_out["Location"]
    event = AccountEvent.objects.get(pgh_obj_id=neighbour.user_id)
    assert event.pgh_label == account_trail.PASSWORD_RESET
    assert event.pgh_context == {"user": staff_a.pk, "url": reset_url(neighbour)}
    # The staff member stays signed in.
    assert client.get(change_url(neighbour)).status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_communitys_staff_get_404(staff_b, neighbour, compound_a, method):
    client = client_for(staff_b)
    data = {"name": "改名", "birth_year": "1950", "compound": compound_a.pk}
    for url in (change_url(neighbour), reset_url(neighbour)):
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 404
    neighbour.refresh_from_db()
    assert neighbour.name == "王秀兰"
    assert neighbour.user.check_password(PASSWORD)
    assert not AccountEvent.objects.exists()


@pytest.mark.parametrize("persona", ["official", "resident"])
def test_officials_and_residents_never_reach_it(request, persona, neighbour):
    client = client_for(request.getfixturevalue(persona))
    for url in (LIST, change_url(neighbour)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(reset_url(neighbour))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    neighbour.user.refresh_from_db()
    assert neighbour.user.check_password(PASSWORD)
    assert not AccountEvent.objects.exists()


def test_a_role_holders_password_is_not_reset_from_a_residents_page(staff_a, neighbour, district):
    Membership.objects.create(user=neighbour.user, role=Membership.Role.OFFICIAL, district=district)
    client = client_for(staff_a)
    assert reset_url(neighbour) not in client.get(change_url(neighbour)).content.decode()
    assert client.get(reset_url(neighbour)).status_code == 403
    assert client.post(reset_url(neighbour)).status_code == 403
    neighbour.user.refresh_from_db()
    assert neighbour.user.check_password(PASSWORD)


# The history on the change page


def test_the_history_names_staff_and_not_the_residents_number(
    staff_a, staff_b, neighbour, term, compound_a, compound_b, django_assert_max_num_queries
):
    classes = [make_class(term, compound_a, name=f"课{i}", capacity=5) for i in range(3)]

    def enrol_myself(course_class):
        with pghistory.context(user=neighbour.user_id, url="/courses/"):
            return enrolment.enrol(neighbour.user, course_class, now=NOW)

    # By a command first (no one in the context; a context set later in this test's transaction
    # would stay for the rest of it), then by the resident.
    enrolment.cancel(enrolment.enrol(neighbour.user, classes[0], now=NOW), now=NOW)
    enrol_myself(classes[1])
    enrol_myself(classes[2])
    b_term = Term.objects.create(
        community=compound_b.community,
        year=2026,
        season=Term.Season.SPRING,
        registration_opens=NOW - timedelta(days=1),
        registration_closes=NOW + timedelta(days=14),
        starts_on=NOW.date(),
        ends_on=NOW.date() + timedelta(days=90),
    )
    enrolment.enrol(neighbour.user, make_class(b_term, compound_b, name="秘密课"), now=NOW)
    for _ in range(5):
        with pghistory.context(user=staff_a.pk, url="/admin/"):
            account_trail.record(neighbour.user, account_trail.PASSWORD_RESET)
    with pghistory.context(user=staff_b.pk, url="/admin/"):
        account_trail.record(neighbour.user, account_trail.REGISTERED_AT_DESK)

    client = client_for(staff_a)
    with django_assert_max_num_queries(16):
        response = client.get(change_url(neighbour))

    lines = response.context["account_history"]
    assert len(lines) == 5 + 1 + 3 + 1  # resets, registration, enrolments, one cancellation
    assert [line.at for line in lines] == sorted((line.at for line in lines), reverse=True)
    whats = {line.what for line in lines}
    assert any("课0" in what for what in whats) and not any("秘密课" in w for w in whats)
    with translation.override("zh-hans"):
        expected = {"staff-a", "staff-b", gettext("the resident"), gettext("system")}
    assert {line.who for line in lines} == expected
    html = response.content.decode()
    assert NUMBER not in html and "staff-b" in html
    history = client.get(reverse("admin:residents_resident_history", args=[neighbour.pk]))
    assert history.status_code == 200 and len(history.context["account_history"]) == 10


# What the trail keeps


def test_the_trail_holds_ids_only_and_outlives_the_account(staff_a, compound_a):
    client = client_for(staff_a)
    client.post(
        ADD,
        {"phone": "13712345678", "name": "孙大妈", "birth_year": "1957", "compound": compound_a.pk},
        follow=True,
    )
    made = Resident.objects.get(phone="13712345678")
    user_id = made.user_id
    reset = client.post(reset_url(made), follow=True)
    password = password_in(reset)

    theirs = Client()
    assert theirs.login(username="13712345678", password=password)
    deleted = theirs.post(reverse("residents:delete"), {"password": password})

    assert deleted.status_code == 302 and deleted["Location"] == reverse("residents:deleted")
    assert not get_user_model().objects.filter(pk=user_id).exists()
    events = list(AccountEvent.objects.filter(pgh_obj_id=user_id).order_by("pgh_id"))
    assert [e.pgh_label for e in events] == [
        account_trail.REGISTERED_AT_DESK,
        account_trail.PASSWORD_RESET,
    ]
    assert all(e.id == user_id for e in events)
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(
                cursor, AccountEvent._meta.db_table
            )
        }
        cursor.execute(f"SELECT row_to_json(e)::text FROM {AccountEvent._meta.db_table} e")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert columns == {
        "pgh_id",
        "pgh_created_at",
        "pgh_label",
        "pgh_context",
        "pgh_context_id",
        "id",
        "pgh_obj_id",
    }
    for personal in ("13712345678", "137****5678", "孙大妈", "1957", "孙"):
        assert personal not in rows


def test_the_trail_refuses_updates_and_deletes(staff_a, neighbour):
    with pghistory.context(user=staff_a.pk):
        account_trail.record(neighbour.user, account_trail.PASSWORD_RESET)
    for statement in (
        f"UPDATE {AccountEvent._meta.db_table} SET pgh_label = 'x'",
        f"DELETE FROM {AccountEvent._meta.db_table}",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccountEvent.objects.count() == 1
