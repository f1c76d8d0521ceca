"""Staff keep only their own community's rows in the admin, whatever URL or form they use."""

import pytest
from django.urls import reverse

from communities.access import scope_for
from communities.models import Community, ResidentialCompound
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


# The compound form's gate rows (communities.admin.GateInline), none of them.
NO_GATES = {
    "gates-TOTAL_FORMS": 0,
    "gates-INITIAL_FORMS": 0,
    "gates-MIN_NUM_FORMS": 0,
    "gates-MAX_NUM_FORMS": 1000,
}


def change_url(obj) -> str:
    return reverse(f"admin:communities_{obj._meta.model_name}_change", args=[obj.pk])


def test_staff_list_shows_only_their_own_compounds(staff_a, compound_a, compound_b):
    response = client_for(staff_a).get(reverse("admin:communities_residentialcompound_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [compound_a]


def test_staff_can_change_their_own_compound(staff_a, compound_a):
    client = client_for(staff_a)
    response = client.post(
        change_url(compound_a),
        {
            "community": compound_a.community_id,
            "name": "新竹一区",
            "population": 1300,
            "households": 460,
            "latitude": compound_a.latitude,
            "longitude": compound_a.longitude,
            **NO_GATES,
        },
    )
    assert response.status_code == 302
    compound_a.refresh_from_db()
    assert compound_a.population == 1300


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_staff_get_404_for_another_communitys_compound(staff_a, compound_b, view):
    url = reverse(f"admin:communities_residentialcompound_{view}", args=[compound_b.pk])
    assert client_for(staff_a).get(url).status_code == 404


def test_staff_get_404_for_another_community(staff_a, community_b):
    assert client_for(staff_a).get(change_url(community_b)).status_code == 404


def test_staff_cannot_post_changes_to_another_communitys_compound(staff_a, compound_b):
    response = client_for(staff_a).post(
        change_url(compound_b),
        {
            "community": compound_b.community_id,
            "name": "改名",
            "population": 1,
            "households": 1,
            "latitude": 34.6,
            "longitude": 112.4,
        },
    )
    assert response.status_code == 404
    compound_b.refresh_from_db()
    assert compound_b.name == "地勘三院小区"


def test_add_form_offers_only_their_own_community(staff_a, community_a, community_b):
    response = client_for(staff_a).get(reverse("admin:communities_residentialcompound_add"))
    assert response.status_code == 200
    choices = response.context["adminform"].form.fields["community"].queryset
    assert list(choices) == [community_a]


def test_staff_cannot_add_a_compound_to_another_community(staff_a, community_b):
    response = client_for(staff_a).post(
        reverse("admin:communities_residentialcompound_add"),
        {
            "community": community_b.pk,
            "name": "偷偷加的小区",
            "population": 10,
            "households": 4,
            "latitude": 34.6,
            "longitude": 112.4,
            **NO_GATES,
        },
    )
    assert response.status_code == 200  # the form re-renders with an error
    assert response.context["adminform"].form.errors["community"]
    assert not ResidentialCompound.objects.filter(name="偷偷加的小区").exists()


def test_autocomplete_offers_only_their_own_community(staff_a, community_a, community_b):
    # Django checks view permission on Community, which staff hold; the scope does the rest.
    response = client_for(staff_a).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "communities",
            "model_name": "membership",
            "field_name": "community",
            "term": "",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [community_a.name]


def test_staff_of_one_community_find_it_already_chosen(staff_a, community_a):
    response = client_for(staff_a).get(reverse("admin:communities_residentialcompound_add"))
    assert response.context["adminform"].form.fields["community"].initial == community_a.pk


def test_staff_cannot_move_their_community_to_another_subdistrict(staff_a, community_a):
    response = client_for(staff_a).get(change_url(community_a))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "subdistrict" not in form.fields
    assert "slug" not in form.fields


def test_staff_cannot_add_communities_or_see_districts(staff_a):
    client = client_for(staff_a)
    assert client.get(reverse("admin:communities_community_add")).status_code == 403
    assert client.get(reverse("admin:communities_district_changelist")).status_code == 403
    assert client.get(reverse("admin:communities_membership_changelist")).status_code == 403


def test_official_and_resident_are_sent_to_sign_in(official, resident):
    url = reverse("admin:communities_residentialcompound_changelist")
    for user in (official, resident):
        response = client_for(user).get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_anonymous_visitor_is_sent_to_sign_in(client, compound_a):
    response = client.get(change_url(compound_a))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_city_admin_sees_every_community(city_admin, community_a, community_b):
    response = client_for(city_admin).get(reverse("admin:communities_community_changelist"))
    assert set(response.context["cl"].queryset) == {community_a, community_b}


class TestScope:
    def test_staff_edit_their_community_only(self, staff_a, community_a, community_b):
        assert list(Community.objects.editable_by(staff_a)) == [community_a]
        assert list(Community.objects.readable_by(staff_a)) == [community_a]

    def test_district_official_reads_their_district_and_edits_nothing(
        self, official, community_a, community_b
    ):
        assert list(Community.objects.readable_by(official)) == [community_a]
        assert not Community.objects.editable_by(official).exists()
        assert scope_for(official).reads_reports

    def test_subdistrict_official_reads_their_subdistrict(self, resident, community_a, community_b):
        from communities.models import Membership

        Membership.objects.create(
            user=resident, role=Membership.Role.OFFICIAL, subdistrict=community_b.subdistrict
        )
        assert list(Community.objects.readable_by(resident)) == [community_b]

    def test_city_admin_edits_and_reads_everything(self, city_admin, community_a, community_b):
        assert set(Community.objects.editable_by(city_admin)) == {community_a, community_b}
        assert set(Community.objects.readable_by(city_admin)) == {community_a, community_b}

    def test_resident_and_anonymous_have_no_scope(self, resident, community_a):
        from django.contrib.auth.models import AnonymousUser

        for user in (resident, AnonymousUser()):
            assert not Community.objects.editable_by(user).exists()
            assert not Community.objects.readable_by(user).exists()
            assert not scope_for(user).edits_anything

    def test_a_user_with_two_memberships_gets_both(self, staff_a, community_a, community_b):
        from communities.roles import make_staff

        make_staff(staff_a, community_b)
        staff_a._portal_scope = None  # a new request reads memberships afresh
        assert set(Community.objects.editable_by(staff_a)) == {community_a, community_b}


class TestMembershipsDecideBackOfficeAccess:
    def test_a_staff_membership_added_in_the_admin_opens_the_back_office(
        self, city_admin, resident, community_a
    ):
        response = client_for(city_admin).post(
            reverse("admin:communities_membership_add"),
            {"user": resident.pk, "role": "staff", "community": community_a.pk},
        )
        assert response.status_code == 302
        resident.refresh_from_db()
        assert resident.is_staff
        url = reverse("admin:communities_residentialcompound_changelist")
        assert client_for(resident).get(url).status_code == 200

    def test_removing_the_membership_closes_it_again(self, city_admin, staff_a):
        membership = staff_a.memberships.get()
        response = client_for(city_admin).post(
            reverse("admin:communities_membership_delete", args=[membership.pk]), {"post": "yes"}
        )
        assert response.status_code == 302
        staff_a.refresh_from_db()
        assert not staff_a.is_staff
        assert not staff_a.groups.exists()

    def test_a_membership_without_the_area_its_role_needs_is_refused(
        self, city_admin, resident, district
    ):
        response = client_for(city_admin).post(
            reverse("admin:communities_membership_add"),
            {"user": resident.pk, "role": "staff", "district": district.pk},
        )
        assert response.status_code == 200
        assert "社区工作人员须选一个社区" in response.content.decode()
        assert not resident.memberships.exists()


def test_city_admin_adds_a_community_with_the_slug_left_empty(city_admin, subdistrict):
    response = client_for(city_admin).post(
        reverse("admin:communities_community_add"),
        {
            "name": "新建社区",
            "slug": "",
            "subdistrict": subdistrict.pk,
            "population": 0,
            "households": 0,
            "latitude": 43.9,
            "longitude": 125.3,
            "compounds-TOTAL_FORMS": 0,
            "compounds-INITIAL_FORMS": 0,
            "compounds-MIN_NUM_FORMS": 0,
            "compounds-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302
    assert Community.objects.get(name="新建社区").slug == "xinjian"
