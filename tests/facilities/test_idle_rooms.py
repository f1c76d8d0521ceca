"""Idle rooms (闲置用房) in the back office: staff keep their own community's, nobody else's."""

import pytest

from communities.roles import sync_role_groups
from facilities.models import IdleRoom
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LIST = "/admin/facilities/idleroom/"


@pytest.fixture
def rooms(community_a, community_b) -> tuple[IdleRoom, IdleRoom]:
    sync_role_groups()
    return (
        IdleRoom.objects.create(
            community=community_a,
            name="新竹一区物业用房",
            floor_area=180,
            latitude=43.881,
            longitude=125.272,
            owner="物业公司",
        ),
        IdleRoom.objects.create(
            community=community_b,
            name="石油社区旧车棚",
            floor_area=90,
            latitude=34.601,
            longitude=112.452,
        ),
    )


def test_staff_list_only_their_own_communitys_rooms(staff_a, rooms):
    html = client_for(staff_a).get(LIST).content.decode()
    assert rooms[0].name in html and rooms[1].name not in html


def test_staff_of_another_community_get_404_for_a_room(staff_b, rooms):
    response = client_for(staff_b).get(f"{LIST}{rooms[0].pk}/change/")
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, rooms):
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]
