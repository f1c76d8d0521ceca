"""The coverage reports beyond the overview: the matrix, a community's compounds, the gap list,
the map with site suggestions, the exports; their scope, controls, caching and query counts."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from communities.models import Community, ResidentialCompound, Subdistrict
from facilities.models import Facility, IdleRoom
from portal.lib import geo
from tests.conftest import client_for
from tests.facilities.conftest import category, place

MATRIX = reverse("reports:matrix")
GAPS = reverse("reports:gaps")
SITES = reverse("reports:sites")


def community_url(community) -> str:
    return reverse("reports:community", args=[community.slug])


@pytest.fixture
def second_community(subdistrict) -> Community:
    """青年社区: 1,500 residents and no canteen near."""
    community = Community.objects.create(
        subdistrict=subdistrict, name="青年社区", latitude=43.86, longitude=125.25
    )
    ResidentialCompound.objects.create(
        community=community, name="青年小区", population=1500, latitude=43.86, longitude=125.25
    )
    return community


def room(community, point, name: str, area: int = 200) -> IdleRoom:
    lat, lng = point
    return IdleRoom.objects.create(
        community=community, name=name, floor_area=area, latitude=lat, longitude=lng
    )


# ---- scope ----


@pytest.mark.parametrize(
    "url",
    [
        MATRIX,
        GAPS,
        SITES,
        reverse("reports:export-xlsx"),
        reverse("reports:export-csv", args=["matrix"]),
    ],
)
def test_residents_get_403_and_visitors_sign_in(url, resident, client):
    assert client_for(resident).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_another_districts_community_is_not_found_by_its_url(official, compound_a, compound_b):
    client = client_for(official)
    assert client.get(community_url(compound_a.community)).status_code == 200
    assert client.get(community_url(compound_b.community)).status_code == 404


def test_no_page_or_export_names_another_districts_places(official, compound_a, compound_b):
    """石油社区 and its compound are in 洛龙区; the official keeps 绿园区."""
    client = client_for(official)
    urls = [MATRIX, GAPS, SITES, reverse("reports:export-csv", args=["compounds"])]
    for url in urls:
        response = client.get(url)
        text = response.getvalue().decode("utf-8-sig")
        assert "石油社区" not in text and "地勘三院小区" not in text, url
        if url != SITES:
            assert "新竹" in text, url
    area_map = client.get(SITES, {"service": "health_station"}).context["area_map"]
    assert area_map.covered_count + area_map.uncovered_count == 1  # 新竹一区 alone
    book = load_workbook(io.BytesIO(client.get(reverse("reports:export-xlsx")).content))
    cells = {str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value}
    assert any("新竹一区" in v for v in cells)
    assert not any("石油" in v or "地勘" in v for v in cells)


def test_an_unknown_csv_table_is_not_found(official, compound_a):
    response = client_for(official).get(reverse("reports:export-csv", args=["secrets"]))
    assert response.status_code == 404


# ---- the matrix ----


def test_the_matrix_gives_each_communitys_share_and_sorts_by_a_service(
    official, compound_a, far_compound, canteen_a, second_community
):
    client = client_for(official)

    response = client.get(MATRIX)
    canteen = [s.code for s in response.context["services"]].index("canteen")
    shares = {row.place.name: row.cells[canteen].percent for row in response.context["rows"]}
    assert shares == {"新竹社区": 63, "青年社区": 0}  # 1,200 of 1,900; none of 1,500

    ascending = client.get(MATRIX, {"sort": "canteen"})
    assert [r.place.name for r in ascending.context["rows"]] == ["青年社区", "新竹社区"]
    assert 'aria-sort="ascending"' in ascending.content.decode()
    descending = client.get(MATRIX, {"sort": "canteen", "order": "desc"})
    assert [r.place.name for r in descending.context["rows"]] == ["新竹社区", "青年社区"]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_cells_say_their_share_in_text_not_colour_alone(official, compound_a, canteen_a):
    text = client_for(official).get(MATRIX).content.decode()
    assert 'class="cell cell--full">100%' in text  # the canteen: all 1,200 within the walk
    assert 'class="cell cell--few">0%' in text  # a service with no facility at all
    assert "1,200 位居民未覆盖" in text  # "1,200 left out"


def test_bad_controls_fall_back_to_the_defaults(official, compound_a):
    response = client_for(official).get(MATRIX, {"sort": "'; drop", "order": "sideways"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1


# ---- a community's compounds ----


def test_a_communitys_page_names_each_compounds_nearest_facility_and_walk(
    official, compound_a, far_compound, canteen_a
):
    response = client_for(official).get(community_url(compound_a.community))

    by_name = {c.name: c for c in response.context["compounds"]}
    near = by_name["新竹一区"].walks[0]
    assert near.service.code == "canteen" and near.covered
    assert near.spot.name == "新竹长者食堂"
    assert near.distance_m == pytest.approx(geo.distance_m(compound_a.point, canteen_a.point))
    far = by_name["新竹远郊小区"].walks[0]
    assert not far.covered and far.spot is None  # 1.9 km: beyond twice the walk
    text = response.content.decode()
    assert "新竹长者食堂" in text and "范围内没有" in text  # "none within reach"


# ---- the plan ----


def test_the_plan_toggle_counts_planned_facilities(official, compound_a, far_compound, canteen_a):
    place(
        far_compound,
        east=100,
        community=far_compound.community,
        category=category("canteen"),
        name="新竹规划食堂",
        status=Facility.Status.PLANNED,
    )
    client = client_for(official)

    today = client.get(GAPS, {"service": "canteen"})
    planned = client.get(GAPS, {"service": "canteen", "plan": "on"})

    assert [(g.place.name, g.residents) for g in today.context["gaps"]] == [("新竹社区", 700)]
    assert planned.context["gaps"] == []
    assert (
        "新竹远郊小区"
        in client.get(community_url(compound_a.community), {"plan": "on"}).content.decode()
    )


# ---- gaps ----


def test_gaps_list_the_most_residents_first(
    official, compound_a, far_compound, canteen_a, second_community
):
    gaps = client_for(official).get(GAPS, {"service": "canteen"}).context["gaps"]

    assert [(g.place.name, g.residents, g.compounds) for g in gaps] == [
        ("青年社区", 1500, 1),
        ("新竹社区", 700, 1),
    ]
    every = client_for(official).get(GAPS).context["gaps"]
    assert [g.residents for g in every] == sorted((g.residents for g in every), reverse=True)
    assert {g.service.code for g in every} >= {"canteen", "health_station"}


# ---- sites ----


def test_sites_are_ranked_greedily_and_too_small_rooms_are_left_out(
    official, compound_a, far_compound, canteen_a, second_community
):
    youth = second_community.compounds.get()
    room(second_community, geo.offset(youth.point, 50, 0), "青年小区物业用房", 180)
    room(second_community, geo.offset(youth.point, 0, 60), "青年小区门面", 60)  # too small
    room(compound_a.community, geo.offset(far_compound.point, 80, 0), "远郊锅炉房", 160)
    room(compound_a.community, geo.offset(compound_a.point, 30, 0), "新竹活动室", 300)

    response = client_for(official).get(SITES, {"service": "canteen", "k": "3"})

    picks = response.context["suggestions"].picks
    assert [(p.rank, p.room.name, p.gained) for p in picks] == [
        (1, "青年小区物业用房", 1500),
        (2, "远郊锅炉房", 700),
    ]  # 新竹活动室 adds nobody: 新竹一区 has its canteen already
    assert picks[-1].covered_after == 3400
    assert response.context["suggestions"].too_small == 1
    # Every idle room of the area is listed, with whether it fits the service.
    fits = {room.name: fit for room, _community, fit in response.context["rooms"]}
    assert fits == {
        "青年小区物业用房": True,
        "青年小区门面": False,
        "远郊锅炉房": True,
        "新竹活动室": True,
    }
    text = response.content.decode()
    assert "<svg" in text and "青年小区物业用房" in text
    assert text.count('class="area-map__pick') >= 2 or "area-map" in text


# ---- htmx and no-JS ----


def test_controls_are_a_plain_get_form_and_htmx_gets_the_body_alone(official, compound_a):
    client = client_for(official)
    page = client.get(GAPS).content.decode()
    assert 'method="get"' in page and f'action="{GAPS}"' in page
    assert 'hx-target="#report-body"' in page

    fragment = client.get(GAPS, {"plan": "on"}, headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert "<html" not in text and "<h1" not in text
    assert "规划中和在建的设施按已开放计算" in text  # "planned ... counted as open"


# ---- caching and queries ----


def test_an_edit_shows_on_the_next_request(official, compound_a, far_compound, canteen_a):
    client = client_for(official)
    assert client.get(GAPS, {"service": "canteen"}).context["gaps"][0].residents == 700

    place(
        far_compound,
        east=50,
        community=far_compound.community,
        category=category("canteen"),
        name="远郊食堂",
    )

    response = client.get(GAPS, {"service": "canteen"})
    assert response.context["gaps"] == []


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
        room(community, geo.offset(compound.point, 0, 400), f"闲置房{i}")


@pytest.mark.parametrize("size", [1, 25])
@pytest.mark.parametrize(
    "url",
    [
        MATRIX,
        GAPS,
        SITES + "?service=health_station",
        reverse("reports:community", args=["ce-shi-she-qu-0"]),
        reverse("reports:export-xlsx"),
    ],
)
def test_every_report_runs_a_constant_number_of_queries(
    official, size, url, django_assert_max_num_queries
):
    _district_of(official, size)
    Community.objects.filter(name="测试社区0").update(slug="ce-shi-she-qu-0")
    client = client_for(official)
    # The session, the user, its authenticator, the scope, the course and wish figures' mark
    # (on the pages and exports that show them), and gather's sixteen.
    with django_assert_max_num_queries(21):
        response = client.get(url)
    assert response.status_code == 200
    # Cached (pages and exports alike): the session, the user, its authenticator, the scope
    # and that mark only.
    with django_assert_max_num_queries(
        4 if url in (GAPS, SITES + "?service=health_station") else 5
    ):
        assert client.get(url).status_code == 200


def test_a_page_cached_for_one_scope_is_never_served_to_another(
    staff_b, official, compound_a, compound_b
):
    url = community_url(compound_b.community)
    assert client_for(staff_b).get(url).status_code == 200  # 石油社区's own staff: cached
    assert client_for(official).get(url).status_code == 404  # 绿园区's official
    assert client_for(official).get(url, headers={"HX-Request": "true"}).status_code == 404


def test_an_edit_shows_in_the_next_export(official, compound_a, far_compound, canteen_a):
    client = client_for(official)
    url = reverse("reports:export-csv", args=["gaps"])
    before = client.get(url, {"service": "canteen"}).getvalue().decode("utf-8-sig")
    assert any(row and "社区食堂" in row for row in csv.reader(io.StringIO(before)))

    place(
        far_compound,
        east=50,
        community=far_compound.community,
        category=category("canteen"),
        name="远郊食堂",
    )

    response = client.get(url, {"service": "canteen"})
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert not any(row and "社区食堂" in row for row in rows[1:])


def test_after_a_facility_edit_the_area_is_brought_up_to_date_not_gathered_again(
    official, compound_a, far_compound, canteen_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(official)
    assert client.get(GAPS, {"service": "canteen"}).context["gaps"][0].residents == 700
    place(
        far_compound,
        east=50,
        community=far_compound.community,
        category=category("canteen"),
        name="远郊食堂",
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.get(GAPS, {"service": "canteen"})

    assert response.context["gaps"] == []
    # gather() reads every compound; report_data.refresh() reads none.
    assert not any('"communities_residentialcompound"' in q["sql"] for q in queries)
    # The session, the user, its authenticator, the scope; the marks, the categories, the
    # events, the changed facility and its further categories, and the facilities to name.
    assert len(queries) <= 10


def test_a_large_area_pages_the_matrix_and_shows_the_largest_gaps(
    official, django_assert_max_num_queries, monkeypatch
):
    from reports import views as reports

    monkeypatch.setattr(reports, "MATRIX_PAGE", 10)
    monkeypatch.setattr(reports, "GAPS_SHOWN", 5)
    _district_of(official, 25)
    client = client_for(official)

    first = client.get(MATRIX, {"sort": "population", "order": "desc"})
    assert [r.population for r in first.context["rows"]] == list(range(124, 114, -1))
    assert "第 1 页，共 3 页" in first.content.decode()
    third = client.get(MATRIX, {"sort": "population", "order": "desc", "page": "3"})
    assert [r.population for r in third.context["rows"]] == list(range(104, 99, -1))

    gaps = client.get(GAPS, {"service": "health_station"})
    assert len(gaps.context["gaps"]) == 5 and gaps.context["gap_count"] == 25
    assert [g.residents for g in gaps.context["gaps"]] == [124, 123, 122, 121, 120]


def test_a_gap_names_its_longest_walk_or_none_within_reach(
    official, compound_a, far_compound, canteen_a
):
    lat, lng = geo.offset(canteen_a.point, 700, 0)
    middle = ResidentialCompound.objects.create(
        community=compound_a.community, name="新竹中区", population=300, latitude=lat, longitude=lng
    )
    gaps = client_for(official).get(GAPS, {"service": "canteen"}).context["gaps"]
    assert [(g.residents, g.compounds, g.farthest_m) for g in gaps] == [(1000, 2, None)]

    far_compound.delete()  # now the longest walk is the middle compound's, 700 m
    gaps = client_for(official).get(GAPS, {"service": "canteen"}).context["gaps"]
    assert len(gaps) == 1 and gaps[0].residents == middle.population
    assert gaps[0].farthest_m == pytest.approx(geo.distance_m(middle.point, canteen_a.point))
