"""The officials' coverage report: scope, figures that match the engine, the plan, queries."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, ResidentialCompound, Subdistrict
from facilities.models import Facility
from reports import coverage
from tests.conftest import client_for
from tests.facilities.conftest import category, place

URL = reverse("reports:overview")


def canteen_row(response):
    return next(row for row in response.context["report"].categories if row.code == "canteen")


def test_official_sees_their_district_with_the_engines_figures(
    official, compound_a, far_compound, canteen_a, compound_b
):
    response = client_for(official).get(URL)

    assert response.status_code == 200
    homes, sites, circles = coverage.load([compound_a.community.subdistrict.district_id])
    district = coverage.compute(homes, sites, circles).rollup("district")
    figures = district[compound_a.community.subdistrict.district_id]
    row = canteen_row(response)
    assert row.covered == figures.covered["canteen"] == 1200
    assert row.uncovered == 700
    assert row.percent == 63
    report = response.context["report"]
    assert (report.population, report.compounds, report.complete) == (1900, 2, 0)
    text = response.content.decode()
    assert "新竹社区" in text
    assert "石油社区" not in text
    assert "地勘三院小区" not in text
    assert re.search(r">1,200<|>1200<", text)
    assert "<svg" in text and 'role="img"' in text


def test_a_facility_across_the_district_border_serves_the_area(official, compound_a, compound_b):
    """Facilities outside the area serve its compounds; the report still names only the area."""
    other = Community.objects.create(
        subdistrict=Subdistrict.objects.create(
            district=compound_b.community.subdistrict.district, code="410311099", name="边界街道"
        ),
        name="边界社区",
        latitude=43.88,
        longitude=125.27,
    )
    place(compound_a, north=100, community=other, category=category("canteen"), name="边界食堂")

    response = client_for(official).get(URL)

    assert canteen_row(response).covered == 1200
    assert "边界社区" not in response.content.decode()


def test_the_plan_column_counts_residents_a_planned_facility_brings_within_reach(
    official, compound_a, far_compound, canteen_a
):
    place(
        far_compound,
        east=100,
        community=far_compound.community,
        category=category("canteen"),
        name="新竹规划食堂",
        status=Facility.Status.PLANNED,
    )

    response = client_for(official).get(URL)

    row = canteen_row(response)
    assert (row.covered, row.gained, row.percent_planned) == (1200, 700, 100)
    assert "新增 700 位居民" in response.content.decode()  # "+700 residents"


def test_staff_see_their_own_community_only(staff_b, community_b, compound_b):
    neighbour = Community.objects.create(
        subdistrict=community_b.subdistrict, name="邻近社区", latitude=34.61, longitude=112.46
    )
    ResidentialCompound.objects.create(
        community=neighbour, name="邻近小区", population=500, latitude=34.611, longitude=112.461
    )

    response = client_for(staff_b).get(URL)

    assert response.status_code == 200
    text = response.content.decode()
    assert "石油社区" in text
    assert "邻近社区" not in text
    report = response.context["report"]
    assert (report.population, report.compounds, len(report.communities)) == (900, 1, 1)


def test_the_city_administrator_sees_every_district(city_admin, compound_a, compound_b):
    response = client_for(city_admin).get(URL)

    text = response.content.decode()
    assert "新竹社区" in text and "石油社区" in text
    assert response.context["report"].population == 2100


def test_resident_gets_403(resident):
    assert client_for(resident).get(URL).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_account_page_links_the_report_for_those_who_may_read_it(
    official, resident, community_a
):
    link = f'href="{URL}"'
    assert link in client_for(official).get(reverse("communities:account")).content.decode()
    assert link not in client_for(resident).get(reverse("communities:account")).content.decode()


def _district_of(official, size: int) -> None:
    subdistrict = Subdistrict.objects.get_or_create(
        district=official.memberships.get().district, code="220106009", name="测试街道"
    )[0]
    for i in range(size):
        community = Community.objects.create(
            subdistrict=subdistrict, name=f"测试社区{i}", latitude=43.88, longitude=125.27
        )
        compound = ResidentialCompound.objects.create(
            community=community,
            name=f"测试小区{i}",
            population=100 + i,
            latitude=43.88 + i * 0.002,
            longitude=125.27,
        )
        place(
            compound, north=50, community=community, category=category("canteen"), name=f"食堂{i}"
        )


@pytest.mark.parametrize("size", [1, 25])
def test_the_report_runs_a_constant_number_of_queries(
    official, size, django_assert_max_num_queries
):
    _district_of(official, size)
    client = client_for(official)
    # The session, the user, its authenticator, the scope, the course and wish figures' mark,
    # and report_data.gather's sixteen.
    with django_assert_max_num_queries(21):
        response = client.get(URL)
    assert len(response.context["report"].communities) == size
    # The figures are cached: a repeat request reads the session, the user, its authenticator,
    # the scope and the course and wish figures' mark only.
    with django_assert_max_num_queries(5):
        client.get(URL)


def test_construction_progress_counts_the_areas_own_facilities_by_year(
    official, compound_a, compound_b
):
    from datetime import date

    canteen = category("canteen")
    place(
        compound_a,
        community=compound_a.community,
        category=canteen,
        name="老食堂",
        opened_on=date(2015, 3, 1),
    )
    place(
        compound_a,
        community=compound_a.community,
        category=canteen,
        name="新食堂",
        opened_on=date(2025, 9, 1),
    )
    place(
        compound_a,
        community=compound_a.community,
        category=canteen,
        name="在建食堂",
        status=Facility.Status.UNDER_CONSTRUCTION,
        planned_opening=date(2027, 1, 1),
    )
    place(
        compound_a,
        community=compound_a.community,
        category=canteen,
        name="规划食堂",
        status=Facility.Status.PLANNED,
        planned_opening=date(2027, 6, 1),
    )
    place(
        compound_b,
        community=compound_b.community,
        category=canteen,
        name="洛龙食堂",
        status=Facility.Status.PLANNED,
        planned_opening=date(2027, 6, 1),
    )  # not the area's

    report = client_for(official).get(URL).context["report"]

    rows = [(r.year, r.before, r.opened, r.building, r.planned) for r in report.progress]
    this_year = timezone.localdate().year
    assert rows == [
        (this_year - 4, True, 1, 0, 0),  # 2015, summed as "before"
        (2025, False, 1, 0, 0),
        (2027, False, 0, 1, 1),
    ]
    assert (report.progress_totals.planned, report.progress_totals.building) == (1, 1)
