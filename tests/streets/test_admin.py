"""Street networks in the back office (streets.admin): the city administrator imports an extract
through the admin and removes networks; staff read their own district's network and nothing
more; a file that cannot be used changes nothing. And the gates of a compound, edited inline on
it, in the compound's history."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import Community, CompoundGate, District, ResidentialCompound, Subdistrict
from communities.roles import make_staff
from portal.lib.geo import distance_m
from streets import loader
from streets.models import StreetEdge, StreetNetwork, StreetNode
from tests.conftest import PASSWORD, client_for

HELSINKI = Path(__file__).parent / "data" / "helsinki.osm.pbf"

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:streets_streetnetwork_import")
CHANGELIST = reverse("admin:streets_streetnetwork_changelist")


def change_url(network: StreetNetwork) -> str:
    return reverse("admin:streets_streetnetwork_change", args=[network.pk])


@pytest.fixture
def helsinki_district(db) -> District:
    """A district laid over the extract: a community in its middle and a compound near it."""
    district = District.objects.create(
        code="990101", name="测试区", city="赫尔辛基", city_code="9901", province="测试省",
        province_code="99",
    )  # fmt: skip
    community = Community.objects.create(
        subdistrict=Subdistrict.objects.create(district=district, code="990101001", name="中心"),
        name="中心社区",
        latitude=60.170,
        longitude=24.943,
    )
    ResidentialCompound.objects.create(
        community=community, name="一区", population=500, households=200,
        latitude=60.172, longitude=24.946,
    )  # fmt: skip
    return district


@pytest.fixture
def helsinki_staff(helsinki_district, django_user_model):
    user = django_user_model.objects.create_user(username="staff-helsinki", password=PASSWORD)
    make_staff(user, Community.objects.get(subdistrict__district=helsinki_district))
    return user


@pytest.fixture
def network(helsinki_district) -> StreetNetwork:
    return loader.import_file(str(HELSINKI), helsinki_district).network


def stored(network: StreetNetwork) -> tuple[int, int]:
    return (
        StreetNode.objects.filter(network=network).count(),
        StreetEdge.objects.filter(network=network).count(),
    )


def upload(district: District, content: bytes = b"", name: str = "helsinki.osm.pbf") -> dict:
    return {
        "district": district.pk,
        "extract": SimpleUploadedFile(name, content or HELSINKI.read_bytes()),
    }


def text_of(response) -> str:
    """The page's text, tags and spaces between them dropped (numbers are grouped: 1,234)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# ---- the city administrator imports ----------------------------------------------------------


def test_the_import_page_offers_the_districts_and_a_file_field(city_admin, helsinki_district):
    response = client_for(city_admin).get(IMPORT)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{helsinki_district.pk}">' in html
    assert '<label class="required" for="id_extract">' in html
    assert 'type="file" name="extract"' in html and 'accept=".pbf"' in html
    assert 'aria-describedby="id_extract_helptext"' in html
    assert html.count("<h1") == 1


def test_the_list_links_the_city_administrator_to_the_import(city_admin):
    response = client_for(city_admin).get(CHANGELIST)
    assert IMPORT in response.content.decode()


def test_the_city_administrator_imports_an_extract_and_sees_the_counts(
    city_admin, helsinki_district
):
    client = client_for(city_admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(IMPORT, upload(helsinki_district))

    # Two imports of one district wait for each other rather than collide.
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)
    network = StreetNetwork.objects.get(district=helsinki_district)
    assert response.status_code == 302 and response["Location"] == change_url(network)
    assert network.source_name == "helsinki.osm.pbf"
    assert network.source_sha256 == loader.sha256_of(str(HELSINKI))
    assert network.node_count > 1000 and stored(network) == (network.node_count, network.edge_count)
    page = client.get(response["Location"])
    shown = text_of(page)
    assert f"{network.node_count:,} 个节点" in shown and f"{network.edge_count:,} 条路段" in shown
    # The report, as a table: the kinds of way kept, and those left out.
    report = page.context["report"]
    footway = next(k for k in report.kinds if k.kind == "footway")
    assert footway.kept == network.report["ways_kept"]["footway"]
    assert '<th scope="row"><code>footway</code></th>' in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # read-only: nothing in it is typed
    logged = LogEntry.objects.get(object_id=str(network.pk))
    assert logged.action_flag == ADDITION and logged.user_id == city_admin.pk
    assert f"{network.node_count:,} 个节点" in logged.get_change_message()


def test_a_second_import_replaces_the_network_and_says_so(city_admin, network):
    client = client_for(city_admin)
    response = client.post(IMPORT, upload(network.district), follow=True)

    again = StreetNetwork.objects.get(district=network.district)
    assert again.pk != network.pk
    assert "它替换了原来的网络" in text_of(response)
    assert StreetNode.objects.count() == again.node_count
    removed = LogEntry.objects.get(object_id=str(network.pk))
    assert removed.action_flag == DELETION and "helsinki.osm.pbf" in removed.get_change_message()


@pytest.mark.parametrize("broken", ["not osm", "cut short"])
def test_a_broken_file_changes_nothing_and_the_form_says_why(city_admin, network, broken):
    before = stored(network)
    content = (
        "名称,地址\n林园食堂,林园路1号\n".encode()
        if broken == "not osm"
        else HELSINKI.read_bytes()[:300_000]
    )
    response = client_for(city_admin).post(IMPORT, upload(network.district, content))

    assert response.status_code == 200
    assert "无法作为 OpenStreetMap 数据" in text_of(response)
    assert response.context["form"].non_field_errors()
    assert StreetNetwork.objects.get(district=network.district).pk == network.pk
    assert stored(network) == before
    assert not LogEntry.objects.exists()


def test_an_extract_of_another_place_is_refused(city_admin, district, community_a):
    """District 220106 lies in Changchun, the extract in Helsinki."""
    response = client_for(city_admin).post(IMPORT, upload(district))
    assert response.status_code == 200
    assert "没有可步行的道路" in text_of(response)
    assert not StreetNetwork.objects.exists()


def test_a_file_of_another_format_is_refused_by_the_form(city_admin, helsinki_district):
    response = client_for(city_admin).post(
        IMPORT, upload(helsinki_district, b"<osm></osm>", name="helsinki.osm")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["extract"]
    assert 'href="#id_extract"' in response.content.decode()  # the summary links to the field
    assert not StreetNetwork.objects.exists()


def test_an_import_without_the_csrf_token_is_refused(city_admin, helsinki_district):
    client = client_for(city_admin)
    client.handler.enforce_csrf_checks = True
    response = client.post(IMPORT, upload(helsinki_district))
    assert response.status_code == 403
    assert not StreetNetwork.objects.exists()
    # The same upload with the page's token goes through: the refusal was the token's.
    client.get(IMPORT)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(IMPORT, {**upload(helsinki_district), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert StreetNetwork.objects.filter(district=helsinki_district).exists()


# ---- removing -------------------------------------------------------------------------------


def test_the_city_administrator_removes_a_network_with_its_nodes_and_edges(
    city_admin, network, django_assert_max_num_queries
):
    client = client_for(city_admin)
    url = reverse("admin:streets_streetnetwork_delete", args=[network.pk])
    with django_assert_max_num_queries(20):  # not one query, nor one line, per node
        confirm = client.get(url)
    assert confirm.status_code == 200
    summary = confirm.context["model_count"]  # how many go, not a line for each
    assert [n for _name, n in summary] == [1, network.node_count, network.edge_count]

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not StreetNetwork.objects.exists()
    assert not StreetNode.objects.exists() and not StreetEdge.objects.exists()
    assert LogEntry.objects.get(object_id=str(network.pk)).action_flag == DELETION


# ---- staff read their own district's network, read-only ---------------------------------------


def test_staff_read_their_districts_network_and_its_report(helsinki_staff, network):
    client = client_for(helsinki_staff)
    listed = client.get(CHANGELIST)
    assert [row.pk for row in listed.context["cl"].result_list] == [network.pk]
    assert IMPORT not in listed.content.decode()
    page = client.get(change_url(network))
    assert page.status_code == 200
    assert page.context["report"].kinds
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert reverse("admin:streets_streetnetwork_delete", args=[network.pk]) not in html


def test_staff_change_remove_and_import_nothing(helsinki_staff, network):
    client = client_for(helsinki_staff)
    before = stored(network)
    assert client.post(change_url(network), {"source_name": "改过.osm.pbf"}).status_code == 403
    delete = reverse("admin:streets_streetnetwork_delete", args=[network.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, upload(network.district)).status_code == 403
    assert StreetNetwork.objects.get().pk == network.pk and stored(network) == before
    assert StreetNetwork.objects.get().source_name == "helsinki.osm.pbf"


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_staff_of_another_district_get_404(staff_a, network, view):
    url = reverse(f"admin:streets_streetnetwork_{view}", args=[network.pk])
    assert client_for(staff_a).get(url).status_code == 404


def test_staff_of_another_district_do_not_see_it_listed(staff_a, network):
    response = client_for(staff_a).get(CHANGELIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert change_url(network) not in response.content.decode()


def test_officials_residents_and_visitors_are_sent_to_sign_in(official, resident, client, network):
    for who, asking in [("official", client_for(official)), ("resident", client_for(resident))]:
        for url in (CHANGELIST, change_url(network), IMPORT):
            response = asking.get(url)
            assert response.status_code == 302, (who, url)
            assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(IMPORT, upload(network.district))
    assert response["Location"].startswith(reverse("admin:login"))
    assert StreetNetwork.objects.get().pk == network.pk


def test_the_list_reads_networks_in_a_fixed_number_of_queries(
    city_admin, django_assert_max_num_queries
):
    for n in range(12):
        district = District.objects.create(
            code=f"99{n:04d}", name=f"区{n}", city="测试市", city_code="9901", province="测试省",
            province_code="99",
        )  # fmt: skip
        StreetNetwork.objects.create(
            district=district, source_name=f"{n}.osm.pbf", source_sha256="0" * 64,
            imported_at="2026-01-01T00:00Z", south=0, west=0, north=1, east=1,
            node_count=n, edge_count=n, length_km=n,
        )  # fmt: skip
    client = client_for(city_admin)
    with django_assert_max_num_queries(12):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 12


# ---- the gates of a compound, inline --------------------------------------------------------


def test_staff_add_gates_to_their_compound_and_they_are_in_its_history(staff_a, compound_a):
    client = client_for(staff_a)
    url = reverse("admin:communities_residentialcompound_change", args=[compound_a.pk])
    form = {
        "community": compound_a.community_id,
        "name": compound_a.name,
        "population": compound_a.population,
        "households": compound_a.households,
        "latitude": compound_a.latitude,
        "longitude": compound_a.longitude,
        "gates-TOTAL_FORMS": 2,
        "gates-INITIAL_FORMS": 0,
        "gates-MIN_NUM_FORMS": 0,
        "gates-MAX_NUM_FORMS": 1000,
        "gates-0-name": "北门",
        "gates-0-latitude": 43.8815,
        "gates-0-longitude": 125.2710,
        "gates-1-name": "东侧人行门",
        "gates-1-latitude": 43.8810,
        "gates-1-longitude": 125.2716,
    }
    response = client.post(url, form)

    assert response.status_code == 302
    gates = list(compound_a.gates.order_by("name"))
    assert [g.name for g in gates] == ["东侧人行门", "北门"]
    assert distance_m(gates[1].point, compound_a.point) < 100
    history = client.get(
        reverse("admin:communities_residentialcompound_history", args=[compound_a.pk])
    )
    assert history.status_code == 200
    added = {e.object_id for e in history.context["entries"] if e.model is CompoundGate}
    assert added == {g.pk for g in gates}
    assert "北门" in text_of(history)


def test_a_gate_moved_and_removed_inline_is_in_the_history(staff_a, compound_a):
    gate = CompoundGate.objects.create(
        compound=compound_a, name="北门", latitude=43.8815, longitude=125.2710
    )
    client = client_for(staff_a)
    url = reverse("admin:communities_residentialcompound_change", args=[compound_a.pk])
    base = {
        "community": compound_a.community_id,
        "name": compound_a.name,
        "population": compound_a.population,
        "households": compound_a.households,
        "latitude": compound_a.latitude,
        "longitude": compound_a.longitude,
        "gates-TOTAL_FORMS": 1,
        "gates-INITIAL_FORMS": 1,
        "gates-MIN_NUM_FORMS": 0,
        "gates-MAX_NUM_FORMS": 1000,
        "gates-0-id": gate.pk,
        "gates-0-compound": compound_a.pk,
        "gates-0-name": "北门",
        "gates-0-latitude": 43.8818,
        "gates-0-longitude": 125.2710,
    }
    assert client.post(url, base).status_code == 302
    gate.refresh_from_db()
    assert gate.latitude == 43.8818
    assert client.post(url, {**base, "gates-0-DELETE": "on"}).status_code == 302
    assert not compound_a.gates.exists()

    history = client.get(
        reverse("admin:communities_residentialcompound_history", args=[compound_a.pk])
    )
    actions = [e.action for e in history.context["entries"] if e.model is CompoundGate]
    assert actions == ["delete", "update", "insert"]
