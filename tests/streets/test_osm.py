"""Reading an OpenStreetMap extract into a walkable network (streets.osm), on real data: the
rules for which ways people walk on, and the network checked against an independent one built
with networkx over the same ways."""

import itertools
import math
import random
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from streets import osm

HELSINKI = str(Path(__file__).parent / "data" / "helsinki.osm.pbf")
EVERYWHERE = (59.0, 23.0, 61.0, 26.0)


@pytest.mark.parametrize(
    "tags, kind",
    [
        ({"highway": "footway"}, "footway"),
        ({"highway": "footway", "footway": "crossing"}, "footway"),
        ({"highway": "residential"}, "residential"),
        ({"highway": "primary"}, "primary"),  # sidewalks assumed
        ({"highway": "secondary_link"}, "secondary_link"),
        ({"highway": "steps"}, "steps"),
        ({"highway": "motorway"}, None),
        ({"highway": "motorway_link", "foot": "yes"}, None),
        ({"highway": "trunk"}, None),
        ({"highway": "trunk", "sidewalk": "both"}, "trunk"),
        ({"highway": "trunk", "sidewalk": "separate"}, None),  # the pavement is its own way
        ({"highway": "residential", "foot": "no"}, None),
        ({"highway": "service", "access": "private"}, None),
        ({"highway": "service", "access": "no", "foot": "yes"}, "service"),
        ({"highway": "pedestrian", "area": "yes"}, None),
        ({"highway": "cycleway"}, None),
        ({"highway": "cycleway", "foot": "designated"}, "cycleway"),
        ({"highway": "construction"}, None),
        ({"building": "yes"}, None),
    ],
)
def test_which_ways_people_walk_on(tags, kind):
    assert osm.walk_kind(tags) == kind


def haversine_m(a, b) -> float:
    """Great-circle metres: a different formula from portal.lib.geo's, for the reference."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def reference_graph(path: str, box) -> nx.Graph:
    """The walked ways as networkx sees them: consecutive nodes joined, the shorter of two ways
    sharing a segment kept, cut to the box, its largest connected piece."""
    graph = nx.Graph()
    south, west, north, east = box

    def inside(loc) -> bool:
        return south <= loc.lat <= north and west <= loc.lon <= east

    for way in osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not way.is_way() or osm.walk_kind(way.tags) is None:
            continue
        nodes = [n for n in way.nodes if n.location.valid()]
        for a, b in itertools.pairwise(nodes):
            if a.ref == b.ref or not (inside(a.location) and inside(b.location)):
                continue
            metres = haversine_m((a.lat, a.lon), (b.lat, b.lon))
            if not graph.has_edge(a.ref, b.ref) or graph[a.ref][b.ref]["m"] > metres:
                graph.add_edge(a.ref, b.ref, m=metres)
    largest = max(nx.connected_components(graph), key=len)
    return graph.subgraph(largest).copy()


@pytest.fixture(scope="module")
def helsinki() -> osm.Network:
    return osm.read(HELSINKI, EVERYWHERE)


@pytest.fixture(scope="module")
def reference() -> nx.Graph:
    return reference_graph(HELSINKI, EVERYWHERE)


def test_the_network_has_the_reference_nodes_and_edges(helsinki, reference):
    assert helsinki.nodes == reference.number_of_nodes() > 4000
    assert helsinki.edges == reference.number_of_edges() > 5000
    assert set(helsinki.osm_ids.tolist()) == set(reference.nodes)
    ids = helsinki.osm_ids
    ours = {
        tuple(sorted((int(ids[a]), int(ids[b]))))
        for a, b in zip(helsinki.source, helsinki.target, strict=True)
    }
    assert ours == {tuple(sorted(e)) for e in reference.edges}


def test_shortest_walks_match_the_reference(helsinki, reference):
    n = helsinki.nodes
    graph = coo_matrix(
        (helsinki.length_m, (helsinki.source, helsinki.target)), shape=(n, n)
    ).tocsr()
    rng = random.Random(7)
    starts = rng.sample(range(n), 8)
    ours = dijkstra(graph, directed=False, indices=starts)
    index = {int(osm_id): i for i, osm_id in enumerate(helsinki.osm_ids)}
    for row, start in enumerate(starts):
        theirs = nx.single_source_dijkstra_path_length(
            reference, int(helsinki.osm_ids[start]), weight="m"
        )
        ends = rng.sample(sorted(theirs), 25)
        for end in ends:
            assert ours[row, index[end]] == pytest.approx(theirs[end], rel=2e-3, abs=0.5)
    assert np.isfinite(ours).all()  # one connected piece: every node reaches every other


def test_a_walk_is_never_shorter_than_the_straight_line(helsinki):
    n = helsinki.nodes
    graph = coo_matrix(
        (helsinki.length_m, (helsinki.source, helsinki.target)), shape=(n, n)
    ).tocsr()
    rng = random.Random(3)
    starts = rng.sample(range(n), 5)
    walks = dijkstra(graph, directed=False, indices=starts)
    from portal.lib import geo

    for row, start in enumerate(starts):
        a = (helsinki.lat[start], helsinki.lng[start])
        for end in rng.sample(range(n), 200):
            line = geo.distance_m(a, (helsinki.lat[end], helsinki.lng[end]))
            assert walks[row, end] >= line - 1e-6


def test_the_box_cuts_the_network(helsinki):
    south, west = helsinki.lat.min(), helsinki.lng.min()
    north, east = helsinki.lat.max(), helsinki.lng.max()
    half = (south, west, (south + north) / 2, east)
    cut = osm.read(HELSINKI, half)
    assert 0 < cut.nodes < helsinki.nodes
    assert cut.lat.max() <= half[2]
    assert cut.report.edges_outside > 0


def test_the_report_names_what_was_left_out(helsinki):
    report = helsinki.report
    assert report.ways_kept["footway"] > 500 and report.ways_kept["primary"] > 100
    assert "motorway" not in report.ways_kept
    assert report.ways_left["pedestrian"] > 0  # squares drawn as areas
    assert report.pieces > 1 and report.nodes_in_smaller_pieces > 0


def test_a_file_that_is_not_osm_or_is_cut_short_is_not_readable(tmp_path):
    text = tmp_path / "streets.osm.pbf"
    text.write_text("not an extract")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(Path(HELSINKI).read_bytes()[:300_000])
    for path in (text, cut):
        with pytest.raises(osm.NotReadable):
            osm.read(str(path), EVERYWHERE)


def test_the_extent_is_the_points_and_the_margin_on_every_side():
    from portal.lib import geo

    points = [(60.16, 24.93), (60.18, 24.96)]
    south, west, north, east = osm.extent(points, 2000)
    assert geo.distance_m((south, 24.93), (60.16, 24.93)) == pytest.approx(2000, rel=1e-3)
    assert geo.distance_m((60.18, 24.96), (north, 24.96)) == pytest.approx(2000, rel=1e-3)
    # In longitude, at least the margin for every point (the northern one needs the most).
    for lat, _lng in points:
        assert geo.distance_m((lat, west), (lat, 24.93)) >= 2000 - 1
        assert geo.distance_m((lat, 24.96), (lat, east)) >= 2000 - 1
