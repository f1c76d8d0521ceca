"""Signing in, and the account page that shows each person their roles and area."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, client_for, pass_second_step

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_asked_to_sign_in(client):
    response = client.get(reverse("communities:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_official_signs_in_and_sees_the_communities_of_their_district(
    client, official, community_a, community_b
):
    response = client.post(reverse("login"), {"username": "official", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("communities:account")
    pass_second_step(client, official)
    html = client.get(reverse("communities:account")).content.decode()
    assert "街道/区工作人员" in html and "长春市绿园区" in html
    assert community_a.get_absolute_url() in html
    assert community_b.get_absolute_url() not in html  # another district
    assert reverse("admin:index") + '"' not in html.split("<main", 1)[1].split("</main>")[0]


def test_staff_see_their_community_and_the_way_to_the_back_office(staff_a, community_a):
    html = client_for(staff_a).get(reverse("communities:account")).content.decode()
    assert "社区工作人员" in html and community_a.get_absolute_url() in html
    assert "进入工作人员后台" in html


def test_resident_with_no_role_is_told_so(resident, community_a):
    html = client_for(resident).get(reverse("communities:account")).content.decode()
    assert "您还没有职责" in html
    assert community_a.get_absolute_url() not in html


def test_wrong_password_rerenders_the_form_with_an_error_summary(client, official):
    response = client.post(reverse("login"), {"username": "official", "password": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'value="official"' in html  # what was typed is kept
    assert "_auth_user_id" not in client.session


def test_empty_sign_in_names_each_missing_field(client, db):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert 'href="#id_username"' in html and 'href="#id_password"' in html


def test_account_page_runs_a_constant_number_of_queries(
    official, community_a, django_assert_max_num_queries
):
    client = client_for(official)
    # One more than before two-step sign-in: the session's authenticator.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("communities:account"))
    assert response.status_code == 200


def test_sign_out_needs_a_post_and_ends_the_session(official):
    client = client_for(official)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("communities:account")).status_code == 302
