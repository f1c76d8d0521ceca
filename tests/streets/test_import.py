"""Importing a district's street network (streets.loader, manage.py import_streets): stored whole,
replaced whole, and a file that cannot be used changes nothing, with a message in the user's
language (Chinese unless told otherwise)."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from communities.models import Community, District, ResidentialCompound, Subdistrict
from streets import loader, osm
from streets.models import StreetEdge, StreetNetwork, StreetNode

HELSINKI = str(Path(__file__).parent / "data" / "helsinki.osm.pbf")

pytestmark = pytest.mark.django_db


@pytest.fixture
def helsinki_district() -> District:
    """A district laid over the extract: one community in its middle and a compound near it."""
    district = District.objects.create(
        code="990101",
        name="测试区",
        city="赫尔辛基",
        city_code="9901",
        province="测试省",
        province_code="99",
    )
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


def stored(network: StreetNetwork) -> tuple[int, int]:
    return (
        StreetNode.objects.filter(network=network).count(),
        StreetEdge.objects.filter(network=network).count(),
    )


def test_the_extract_is_stored_as_the_districts_network(helsinki_district):
    done = loader.import_file(HELSINKI, helsinki_district)

    network = done.network
    expected = osm.read(HELSINKI, loader.district_box(helsinki_district))
    assert (network.node_count, network.edge_count) == (expected.nodes, expected.edges)
    assert stored(network) == (expected.nodes, expected.edges)
    assert network.source_name == "helsinki.osm.pbf"
    assert network.source_sha256 == loader.sha256_of(HELSINKI) and len(network.source_sha256) == 64
    assert network.length_km == pytest.approx(expected.length_m.sum() / 1000)
    assert network.report["ways_kept"]["footway"] > 0
    assert not done.replaced
    # The box: the district's points and the margin around them.
    assert network.south < 60.170 - 0.017 and network.north > 60.172 + 0.017
    # Every edge joins two nodes of the same network, with a length.
    edge = StreetEdge.objects.filter(network=network).select_related("source", "target").first()
    assert edge.source.network_id == edge.target.network_id == network.pk
    assert edge.length_m > 0


def test_a_reimport_replaces_the_network_whole(helsinki_district):
    first = loader.import_file(HELSINKI, helsinki_district).network
    again = loader.import_file(HELSINKI, helsinki_district)

    assert again.replaced
    assert not StreetNetwork.objects.filter(pk=first.pk).exists()
    assert StreetNetwork.objects.filter(district=helsinki_district).count() == 1
    assert StreetNode.objects.count() == again.network.node_count
    assert StreetEdge.objects.count() == again.network.edge_count


@pytest.mark.parametrize("broken", ["not osm", "cut short"])
def test_a_broken_file_leaves_the_previous_network_untouched(helsinki_district, tmp_path, broken):
    before = loader.import_file(HELSINKI, helsinki_district).network
    counts = stored(before)
    path = tmp_path / "broken.osm.pbf"
    if broken == "not osm":
        path.write_text("名称,地址\n林园食堂,林园路1号\n")
    else:
        path.write_bytes(Path(HELSINKI).read_bytes()[:300_000])

    with pytest.raises(loader.ImportRefused, match="无法作为 OpenStreetMap 数据"):
        loader.import_file(str(path), helsinki_district)

    assert StreetNetwork.objects.get(district=helsinki_district).pk == before.pk
    assert stored(before) == counts


def test_an_extract_of_another_place_is_refused(helsinki_district):
    far = District.objects.create(
        code="220106", name="绿园区", city="长春市", city_code="2201", province="吉林省",
        province_code="22",
    )  # fmt: skip
    Community.objects.create(
        subdistrict=Subdistrict.objects.create(district=far, code="220106005", name="青年路街道"),
        name="新竹社区",
        latitude=43.88,
        longitude=125.27,
    )
    refused = "在长春市绿园区及其周边 2,000 米内没有可步行的道路"
    with pytest.raises(loader.ImportRefused, match=refused):
        loader.import_file(HELSINKI, far)
    assert not StreetNetwork.objects.exists()


def test_a_district_without_places_is_told_to_add_them_first():
    empty = District.objects.create(
        code="990102", name="空区", city="测试市", city_code="9901", province="测试省",
        province_code="99",
    )  # fmt: skip
    with pytest.raises(loader.ImportRefused, match="还没有带坐标的社区或小区"):
        loader.import_file(HELSINKI, empty)


def test_the_command_imports_and_reports_what_it_left_out(helsinki_district):
    out = StringIO()
    call_command("import_streets", HELSINKI, district="990101", stdout=out)
    text = out.getvalue()
    network = StreetNetwork.objects.get(district=helsinki_district)
    assert f"{network.node_count:,} nodes" in text and "ways left out" in text
    assert "pieces not joined" in text


def test_the_command_names_what_is_wrong(helsinki_district, tmp_path):
    with pytest.raises(CommandError, match="No district has the code 000000"):
        call_command("import_streets", HELSINKI, district="000000")
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_streets", str(tmp_path / "none.osm.pbf"), district="990101")
    bad = tmp_path / "bad.osm.pbf"
    bad.write_text("x")
    with pytest.raises(CommandError, match="无法作为 OpenStreetMap 数据"):
        call_command("import_streets", str(bad), district="990101")
    assert not StreetNetwork.objects.exists()
