"""The officials' summary: wishes in their area by community and kind, linked to the list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.text import capfirst

from communities.models import Community
from tests.conftest import client_for
from wishes.models import Wish

pytestmark = pytest.mark.django_db

SUMMARY = "/wishes/summary/"


def wish(community, kind, status="open", support=1) -> Wish:
    return Wish.objects.create(
        community=community,
        kind=kind,
        title="愿望",
        text="说明",
        status=status,
        support_count=support,
    )


def test_an_official_sees_their_districts_wishes_by_community_and_kind(
    official, community_a, community_b
):
    wish(community_a, "course", "open", 3)
    wish(community_a, "course", "planned", 2)
    wish(community_a, "course", "done", 1)
    wish(community_a, "service", "declined", 4)
    wish(community_b, "course", "open", 50)  # another district
    response = client_for(official).get(SUMMARY)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.community, str(r.kind)) for r in rows] == [
        (community_a.name, capfirst(Wish.Kind.COURSE.label)),
        (community_a.name, capfirst(Wish.Kind.SERVICE.label)),
    ]
    course, service = rows
    assert [count for _label, count, _link in course.counts] == [1, 1, 1, 0]
    assert (course.total, course.supporters) == (3, 6)
    assert [count for _label, count, _link in service.counts] == [0, 0, 0, 1]
    assert response.context["total"] == 4
    assert response.context["supporters"] == 10
    assert [count for _label, count in response.context["totals"]] == [1, 1, 1, 1]
    assert course.link == f"/wishes/?community={community_a.slug}&kind=course"
    assert (
        course.counts[1][2] == f"/wishes/?community={community_a.slug}&kind=course&status=planned"
    )
    assert community_b.name not in response.content.decode()


def test_staff_see_their_own_community(staff_b, community_a, community_b):
    wish(community_a, "course")
    wish(community_b, "facility")
    rows = client_for(staff_b).get(SUMMARY).context["rows"]
    assert [r.community for r in rows] == [community_b.name]


def test_a_resident_gets_403_and_a_visitor_signs_in(client, resident):
    assert client_for(resident).get(SUMMARY).status_code == 403
    response = client.get(SUMMARY)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_summary_takes_the_same_number_of_queries_for_1_or_15_wishes(
    official, community_a, django_assert_max_num_queries
):
    client = client_for(official)
    client.get(SUMMARY)  # the session and the account, read once and kept with the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SUMMARY).status_code == 200
        return len(queries)

    wish(community_a, "course")
    one = count()
    for n in range(14):
        community = Community.objects.create(
            subdistrict=community_a.subdistrict, name=f"社区{n}", latitude=43.9, longitude=125.3
        )
        wish(community, ["course", "facility", "service"][n % 3], ["open", "done"][n % 2])
    assert count() == one
    # The session, the user, its authenticator, the scope (the summary itself is cached).
    with django_assert_max_num_queries(5):
        client.get(SUMMARY)
