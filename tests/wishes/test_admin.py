"""Staff answer their own community's wishes in the admin: the service asked for, status and
reply, nothing else."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from facilities.models import Category
from residents.models import Resident
from tests.conftest import client_for
from wishes.models import Support, Wish

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/wishes/wish/"


def change_url(wish: Wish) -> str:
    return f"{CHANGELIST}{wish.pk}/change/"


@pytest.fixture
def author(db):
    return get_user_model().objects.create_user(username="author")


@pytest.fixture
def wish_a(author, community_a) -> Wish:
    return Wish.post(
        author=author, community=community_a, kind="course", title="书法班", text="想学"
    )


@pytest.fixture
def wish_b(author, community_b) -> Wish:
    return Wish.post(
        author=author, community=community_b, kind="service", title="助浴", text="需要"
    )


def test_staff_see_only_their_communitys_wishes(staff_a, wish_a, wish_b):
    response = client_for(staff_a).get(CHANGELIST)
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [wish_a]


def test_another_communitys_wish_is_404(staff_a, wish_b):
    client = client_for(staff_a)
    assert client.get(change_url(wish_b)).status_code == 404
    assert client.post(change_url(wish_b), {"status": "declined", "reply": "不"}).status_code == 404
    wish_b.refresh_from_db()
    assert wish_b.status == Wish.Status.OPEN and wish_b.reply == ""


def test_a_reply_is_stamped_with_who_and_when(staff_a, wish_a):
    response = client_for(staff_a).post(
        change_url(wish_a),
        {"status": "planned", "reply": "下学期开班。", "title": "改掉", "support_count": 99},
    )
    assert response.status_code == 302
    wish_a.refresh_from_db()
    assert wish_a.status == Wish.Status.PLANNED
    assert wish_a.reply == "下学期开班。"
    assert wish_a.replied_by == staff_a and wish_a.replied_at is not None
    # What the resident wrote and the count are not the staff's to change.
    assert wish_a.title == "书法班" and wish_a.support_count == 1

    # A status change alone leaves the reply's stamp as it was.
    stamped = wish_a.replied_at
    client_for(staff_a).post(change_url(wish_a), {"status": "done", "reply": "下学期开班。"})
    wish_a.refresh_from_db()
    assert wish_a.status == Wish.Status.DONE and wish_a.replied_at == stamped


def test_staff_name_the_service_a_wish_asks_for_and_correct_it(staff_a, wish_a):
    client = client_for(staff_a)
    form = client.get(change_url(wish_a)).context["adminform"].form
    # Categories are the city's: every one is offered, with an empty choice.
    assert form.fields["category"].queryset.count() == Category.objects.count()
    assert not form.fields["category"].required

    library = Category.objects.get(code="library")
    response = client.post(
        change_url(wish_a), {"status": "open", "reply": "", "category": library.pk}
    )
    assert response.status_code == 302
    wish_a.refresh_from_db()
    assert wish_a.category == library
    # Naming the service is not a reply.
    assert wish_a.replied_at is None

    client.post(change_url(wish_a), {"status": "open", "reply": "", "category": ""})
    wish_a.refresh_from_db()
    assert wish_a.category is None


def test_the_list_filters_by_the_services_staffs_own_wishes_name(staff_a, wish_a, wish_b):
    Wish.objects.filter(pk=wish_a.pk).update(category=Category.objects.get(code="library"))
    Wish.objects.filter(pk=wish_b.pk).update(category=Category.objects.get(code="elderly_care"))
    client = client_for(staff_a)

    html = client.get(CHANGELIST).content.decode()
    assert "图书室" in html and "养老服务站" not in html

    library = Category.objects.get(code="library")
    response = client.get(CHANGELIST, {"category__id__exact": library.pk})
    assert list(response.context["cl"].queryset) == [wish_a]


def test_another_communitys_wish_keeps_its_service(staff_a, wish_b):
    library = Category.objects.get(code="library")
    response = client_for(staff_a).post(
        change_url(wish_b), {"status": "open", "reply": "", "category": library.pk}
    )
    assert response.status_code == 404
    wish_b.refresh_from_db()
    assert wish_b.category is None


def test_wishes_are_not_added_in_the_admin_and_supports_are_not_there(staff_a, city_admin):
    assert client_for(staff_a).get(f"{CHANGELIST}add/").status_code == 403
    assert client_for(city_admin).get(f"{CHANGELIST}add/").status_code == 403
    assert not admin.site.is_registered(Support)


def test_residents_and_officials_cannot_open_the_admin_list(resident, official):
    assert client_for(resident).get(CHANGELIST).status_code == 302  # to the admin sign-in
    assert client_for(official).get(CHANGELIST).status_code == 302


def test_the_change_page_names_the_author_only_masked(staff_a, author, wish_a, compound_a):
    Resident.objects.create(
        user=author, name="王五", phone="13912345678", birth_year=1948, compound=compound_a
    )
    html = client_for(staff_a).get(change_url(wish_a)).content.decode()
    assert "王**" in html
    assert "王五" not in html and "13912345678" not in html
