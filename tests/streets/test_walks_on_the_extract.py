"""The engine's walks on real OpenStreetMap data (the Helsinki extract, imported as a district's
network and read back as the engine reads it) against the independent reference of
tests/reports/test_walking.py: networkx shortest paths between the ends of each point's nearest
edge, found by trying every edge."""

import random

import networkx as nx
import numpy as np
import pytest

from portal.lib import geo
from reports import coverage
from reports.coverage import Circle, Gates, Homes, Sites, Walker
from streets import loader, network
from tests.reports.test_walking import place_by_hand, reference_walk
from tests.streets.test_import import HELSINKI, helsinki_district  # noqa: F401

pytestmark = pytest.mark.django_db


def test_walks_on_the_extract_equal_the_reference(helsinki_district):  # noqa: F811
    loader.import_file(HELSINKI, helsinki_district)
    network._networks.clear()
    streets = coverage.load_streets([helsinki_district.pk])[helsinki_district.pk]
    pairs = list(zip(streets.source.tolist(), streets.target.tolist(), strict=True))
    points = list(zip(streets.lat.tolist(), streets.lng.tolist(), strict=True))
    graph = nx.Graph()
    for (a, b), metres in zip(pairs, streets.length_m.tolist(), strict=True):
        if not graph.has_edge(a, b) or graph[a][b]["weight"] > metres:
            graph.add_edge(a, b, weight=metres)
    lengths = streets.length_m.tolist()

    rnd = random.Random(5)
    centre = (60.170, 24.943)

    def anywhere():
        return geo.offset(centre, rnd.uniform(-700, 700), rnd.uniform(-700, 700))

    homes = [(100 + i, *anywhere(), 500, 1, 1, helsinki_district.pk) for i in range(12)]
    gates = [(100 + i, *geo.offset(h[1:3], 30, -20)) for i, h in enumerate(homes) if i % 3]
    sites = [(500 + i, *anywhere(), "open", "canteen") for i in range(15)]
    h = Homes.from_rows(homes)
    h = Homes(
        h.ids, h.lat, h.lng, h.population, h.community, h.subdistrict, h.district,
        Gates.from_rows(h.ids, gates),
    )  # fmt: skip
    s = Sites.from_rows(sites)
    matrix = coverage.compute(
        h, s, [Circle("canteen", 600)], walker=Walker({helsinki_district.pk: streets}, h, s)
    )
    placed = {f[0]: place_by_hand(f[1:3], points, pairs, streets) for f in sites}
    compared = 0
    for row, home in enumerate(homes):
        starts = [g[1:3] for g in gates if g[0] == home[0]] or [home[1:3]]
        on = [p for p in (place_by_hand(p, points, pairs, streets) for p in starts) if p]
        assert on, "every point lies within 200 m of a street in central Helsinki"
        paths = {
            u: nx.single_source_dijkstra_path_length(graph, u, weight="weight")
            for p in on
            for u in pairs[p[0]]
        }
        best = min(
            reference_walk(p, placed[f[0]], pairs, lengths, paths)
            for p in on
            for f in sites
            if placed[f[0]]
        )
        got = float(matrix.distance["canteen"][row])
        if best <= 1200:
            assert got == pytest.approx(best, abs=1e-6), home
            # Never shorter than the straight line from a start to the facility reached.
            fid = int(matrix.nearest["canteen"][row])
            reached = next(f for f in sites if f[0] == fid)
            assert got >= min(geo.distance_m(p, reached[1:3]) for p in starts) - 1e-6
            compared += 1
        else:
            assert np.isinf(got)
    assert compared >= 8
