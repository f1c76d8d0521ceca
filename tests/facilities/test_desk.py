"""The staff desk on the back office's front page: what in my community needs attention."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from facilities.models import Facility, OpeningHours
from tests.conftest import client_for
from tests.facilities.conftest import category

pytestmark = pytest.mark.django_db


def make(community, name: str, code: str = "supermarket", **fields) -> Facility:
    return Facility.objects.create(
        community=community,
        category=category(code),
        name=name,
        latitude=community.latitude,
        longitude=community.longitude,
        **fields,
    )


def section(html: str, title: str) -> str:
    start = html.index(title)
    return html[start : html.index("</ul>", start)]


def test_the_desk_lists_what_needs_attention_with_links_to_fix_it(
    staff_a, community_a, community_b
):
    bare = make(community_a, "没时间的超市")
    kept = make(community_a, "齐全的超市", phone="0431-85550001")
    OpeningHours.objects.create(facility=kept, weekday=0, opens=time(8), closes=time(20))
    canteen = make(community_a, "新竹食堂", code="canteen", phone="0431-85550002")
    OpeningHours.objects.create(facility=canteen, weekday=0, opens=time(11), closes=time(13))
    late = make(
        community_a,
        "迟到的养老站",
        code="elderly_care",
        status=Facility.Status.PLANNED,
        planned_opening=date.today() - timedelta(days=30),
    )
    make(community_b, "石油的超市")  # another community's: never on this desk

    html = client_for(staff_a).get(reverse("admin:index")).content.decode()
    no_hours = section(html, "没有开放时间的设施")
    assert "没时间的超市" in no_hours and "齐全的超市" not in no_hours
    assert reverse("admin:facilities_facility_change", args=[bare.pk]) in no_hours
    assert "新竹食堂" in section(html, "未来三天没有菜单的食堂")
    assert "迟到的养老站" in section(html, "开放日期已过的规划设施")
    assert reverse("admin:facilities_facility_change", args=[late.pk]) in html
    assert "没时间的超市" in section(html, "没有电话的设施")
    assert "齐全的超市" not in section(html, "没有电话的设施")
    assert "石油的超市" not in html


def test_people_who_keep_no_community_get_no_desk(city_admin, community_a):
    make(community_a, "没时间的超市")
    html = client_for(city_admin).get(reverse("admin:index")).content.decode()
    assert 'id="desk-title"' not in html and "没时间的超市" not in html
