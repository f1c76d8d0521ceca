"""Generated street networks and gates (streets.generated), for the demo districts (load_demo) and
the synthetic city (generate_city): reproducible, never shorter than the straight line, connected,
crossing a railway or a river only at its crossings, with gates a short way from a street on
their compound's side; and the railway does what it is there for: a canteen near in a straight
line is a long walk round."""

import io
import itertools
import math

import networkx as nx
import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from communities.models import CompoundGate, District, ResidentialCompound
from facilities.management.commands.generate_city import DISTRICT_CODE
from facilities.models import Category, Facility
from portal.lib import geo
from streets import demo_data, generated, loader, osm
from streets.models import StreetEdge, StreetNetwork, StreetNode

BOX = (31.99, 117.79, 32.02, 117.83)  # about 3.3 × 3.8 km
RIVER = generated.Barrier(
    kind="river",
    name="测试河",
    points=((32.0000, 117.70), (32.0040, 117.80), (32.0010, 117.82), (32.0060, 117.90)),
    crossings=(
        generated.Crossing("西桥", (32.004, 117.80)),
        generated.Crossing("东桥", (32.002, 117.82)),
    ),
    half_width_m=40,
)


# ---- plane geometry, written independently of the generator's ----


def metres(lat, lng, lat0: float) -> np.ndarray:
    """Metres east and north of (lat0, 0): the equirectangular frame of portal.lib.geo."""
    lat, lng = np.asarray(lat, dtype=float), np.asarray(lng, dtype=float)
    k = geo.METRES_PER_DEGREE
    return np.stack([lng * k * math.cos(math.radians(lat0)), (lat - lat0) * k], axis=-1)


def crossing_points(a: np.ndarray, b: np.ndarray, line: np.ndarray) -> list[tuple[int, tuple]]:
    """(edge, point) for every segment a[i]–b[i] that meets the polyline ``line``; any frame
    linear in degrees will do, so plain (lng, lat) degrees."""
    found = []
    for p, q in itertools.pairwise(line):
        r, s = b - a, q - p
        denominator = r[:, 0] * s[1] - r[:, 1] * s[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((p[0] - a[:, 0]) * s[1] - (p[1] - a[:, 1]) * s[0]) / denominator
            u = ((p[0] - a[:, 0]) * r[:, 1] - (p[1] - a[:, 1]) * r[:, 0]) / denominator
        meets = (denominator != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
        for i in np.flatnonzero(meets):
            found.append((int(i), tuple(a[i] + t[i] * r[i])))
    return found


def to_segments_m(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Metres from each point to the nearest of the segments a–b (all in metres)."""
    best = np.full(len(points), np.inf)
    ab = b - a
    square = np.maximum((ab * ab).sum(axis=1), 1e-9)
    for start in range(0, len(points), 64):
        p = points[start : start + 64, None, :]
        t = np.clip(((p - a) * ab).sum(axis=2) / square, 0, 1)
        nearest = np.hypot(*(p - a - t[..., None] * ab).transpose(2, 0, 1))
        best[start : start + 64] = nearest.min(axis=1)
    return best


def degrees(points) -> np.ndarray:
    """(lat, lng) pairs as (lng, lat) rows."""
    return np.array([(lng, lat) for lat, lng in points])


# ---- the stored networks ----


class Stored:
    """A stored network read back from the database: nodes and undirected edges."""

    def __init__(self, network: StreetNetwork) -> None:
        self.record = network
        rows = list(
            StreetNode.objects.filter(network=network).values_list("id", "latitude", "longitude")
        )
        index = {pk: i for i, (pk, _lat, _lng) in enumerate(rows)}
        self.lat = np.array([r[1] for r in rows])
        self.lng = np.array([r[2] for r in rows])
        edges = list(
            StreetEdge.objects.filter(network=network).values_list(
                "source_id", "target_id", "length_m", "kind"
            )
        )
        self.source = np.array([index[e[0]] for e in edges])
        self.target = np.array([index[e[1]] for e in edges])
        self.length = np.array([e[2] for e in edges])
        self.lat0 = float(self.lat.mean())
        xy = metres(self.lat, self.lng, self.lat0)
        self.a, self.b = xy[self.source], xy[self.target]

    def xy(self, points) -> np.ndarray:
        return metres([p[0] for p in points], [p[1] for p in points], self.lat0)

    def street_m(self, points) -> np.ndarray:
        return to_segments_m(self.xy(points), self.a, self.b)

    def walk_m(self, start: geo.Point, end: geo.Point) -> float:
        """Metres walked from ``start`` to ``end``: to the nearest point of the nearest edge,
        along the streets (scipy's Dijkstra), and off the edge nearest ``end``."""
        n = len(self.lat)
        rows, cols = [*self.source, *self.target], [*self.target, *self.source]
        weights = [*self.length, *self.length]
        ends = []
        for k, point in enumerate((start, end)):
            p = self.xy([point])[0]
            ab = self.b - self.a
            t = np.clip(((p - self.a) * ab).sum(axis=1) / (ab * ab).sum(axis=1), 0, 1)
            off = np.hypot(*(self.a + t[:, None] * ab - p).T)
            e = int(off.argmin())
            ends.append((e, float(t[e]), float(off[e])))
            node = n + k
            for other, share in ((self.source[e], t[e]), (self.target[e], 1 - t[e])):
                rows += [node, other]
                cols += [other, node]
                weights += [max(share * self.length[e], 1e-9)] * 2
        graph = coo_matrix((weights, (rows, cols)), shape=(n + 2, n + 2)).tocsr()
        along = dijkstra(graph, indices=n)[n + 1]
        (e1, t1, off1), (e2, t2, off2) = ends
        if e1 == e2:
            along = min(along, abs(t1 - t2) * self.length[e1])
        return off1 + along + off2


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """``load_demo`` once for the module, rolled back after it; each test in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic(), connection.cursor() as cursor:
        out = io.StringIO()
        call_command("load_demo", "--no-accounts", stdout=out)
        # The deferred foreign-key checks now, once: else each test's end checks them again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def networks(demo, db) -> dict[str, Stored]:
    return {n.district.code: Stored(n) for n in StreetNetwork.objects.select_related("district")}


# ---- the generator alone ----


def test_the_same_seed_gives_the_same_network_and_checksum():
    first = generated.generate(BOX, seed=7, barriers=(RIVER,))
    again = generated.generate(BOX, seed=7, barriers=(RIVER,))
    assert first.sha256 == again.sha256 == generated.checksum(again.network, again.report)
    for name in ("osm_ids", "lat", "lng", "source", "target", "length_m"):
        assert np.array_equal(getattr(first.network, name), getattr(again.network, name))
    assert first.network.kind == again.network.kind
    assert generated.generate(BOX, seed=8, barriers=(RIVER,)).sha256 != first.sha256
    assert generated.generate(BOX, seed=7).sha256 != first.sha256


@pytest.mark.parametrize("piece_m", [None, generated.PIECE_M])
def test_no_edge_is_shorter_than_the_straight_line_between_its_ends(piece_m):
    network = generated.generate(BOX, seed=3, barriers=(RIVER,), piece_m=piece_m).network
    ends = zip(network.source.tolist(), network.target.tolist(), strict=True)
    for (s, t), length in zip(ends, network.length_m.tolist(), strict=True):
        straight = geo.distance_m(
            (network.lat[s], network.lng[s]), (network.lat[t], network.lng[t])
        )
        assert length >= straight > 0
    assert (network.osm_ids < 0).all() and len(set(network.osm_ids.tolist())) == network.nodes
    south, west, north, east = BOX
    assert (south <= network.lat).all() and (network.lat <= north).all()
    assert (west <= network.lng).all() and (network.lng <= east).all()


def test_arterials_every_400_to_600_m_and_lanes_every_100_to_150_m():
    network = generated.generate(BOX, seed=3).network
    kinds = np.array(network.kind)
    assert set(kinds) == {"primary", "secondary", "residential", "service", "footway"}
    # Corner to corner: a lane's edge spans one gap between lanes, give or take the corners'
    # few metres; an arterial's spans one too (lanes cross it).
    assert 100 <= np.median(network.length_m) <= 150
    assert np.percentile(network.length_m, 5) >= 85 and np.percentile(network.length_m, 95) <= 170
    # Arterials are about a quarter of the streets: one line in 3–5.
    share = np.isin(kinds, ["primary", "secondary"]).mean()
    assert 0.18 <= share <= 0.35
    # Not a lattice: corners are off any straight line by some metres.
    assert len(set(np.round(network.lat, 6).tolist())) > 0.5 * network.nodes


def test_with_shape_nodes_no_edge_is_longer_than_a_piece():
    plain = generated.generate(BOX, seed=3).network
    shaped = generated.generate(BOX, seed=3, piece_m=generated.PIECE_M).network
    assert shaped.length_m.max() <= generated.PIECE_M + 10
    assert shaped.nodes > 2.5 * plain.nodes
    assert shaped.length_m.sum() == pytest.approx(plain.length_m.sum(), rel=0.02)


@pytest.mark.parametrize("piece_m", [None, generated.PIECE_M])
def test_a_barrier_is_crossed_only_at_its_crossings_and_they_join_its_sides(piece_m):
    made = generated.generate(BOX, seed=5, barriers=(RIVER,), piece_m=piece_m)
    network = made.network
    report = made.report["barriers"][0]
    line = degrees(RIVER.points)
    a = np.stack([network.lng[network.source], network.lat[network.source]], axis=1)
    b = np.stack([network.lng[network.target], network.lat[network.target]], axis=1)
    crossings = crossing_points(a, b, line)
    assert [c["name"] for c in report["crossings"]] == ["西桥", "东桥"]
    reported = degrees([c["point"] for c in report["crossings"]])
    assert len(crossings) == 2
    for _edge, point in crossings:
        assert np.abs(reported - point).sum(axis=1).min() < 1e-6
    # Without its crossing edges the network falls apart in two: no way round the river.
    keep = np.ones(network.edges, dtype=bool)
    keep[[edge for edge, _point in crossings]] = False
    n = network.nodes
    graph = coo_matrix(
        (np.ones(keep.sum()), (network.source[keep], network.target[keep])), shape=(n, n)
    )
    assert connected_components(graph, directed=False)[0] == 2
    # No street runs in the river's corridor, but a bridge's ends and nodes.
    xy = metres(network.lat, network.lng, 32.0)
    river = metres(*zip(*RIVER.points, strict=True), 32.0)
    inside = to_segments_m(xy, river[:-1], river[1:]) < RIVER.half_width_m
    bridges = metres(*zip(*[c["point"] for c in report["crossings"]], strict=True), 32.0)
    to_bridge = np.hypot(*(xy[inside][:, None, :] - bridges[None, :, :]).transpose(2, 0, 1))
    assert (to_bridge.min(axis=1) <= 3 * RIVER.half_width_m + network.length_m.max()).all()


def test_gates_open_on_the_sides_of_the_compound_near_a_street_on_its_side_of_a_barrier():
    made = generated.generate(BOX, seed=5, barriers=(RIVER,))
    rng = np.random.default_rng(1)
    lats, lngs = rng.uniform(31.995, 32.015, 80), rng.uniform(117.795, 117.825, 80)
    river = metres(*zip(*RIVER.points, strict=True), 32.0)
    # Compounds stand clear of the river (the demo's are 245 m from theirs at least).
    clear = to_segments_m(metres(lats, lngs, 32.0), river[:-1], river[1:]) > 100
    compounds = [
        (f"c{i}", float(la), float(ln))
        for i, (la, ln) in enumerate(zip(lats[clear], lngs[clear], strict=True))
    ]
    assert len(compounds) > 50
    plans = generated.plan_gates(made.network, compounds, seed=1, barriers=(RIVER,))
    again = generated.plan_gates(made.network, compounds, seed=1, barriers=(RIVER,))
    assert plans == again
    network = made.network
    xy = metres(network.lat, network.lng, 32.0)
    a, b = xy[network.source], xy[network.target]
    line = degrees(RIVER.points)
    for (_key, lat, lng), gates in zip(compounds, plans, strict=True):
        names = [g.name for g in gates]
        assert 1 <= len(gates) <= 3 and len(set(names)) == len(names)
        assert set(names) <= generated.GATE_NAMES
        points = [(g.latitude, g.longitude) for g in gates]
        street = to_segments_m(metres(*zip(*points, strict=True), 32.0), a, b)
        assert ((street >= 10) & (street <= 30.5)).all(), street
        home = np.array([[lng, lat]])
        for gate in gates:
            assert not crossing_points(home, np.array([[gate.longitude, gate.latitude]]), line)
            north = (gate.latitude - lat) * geo.METRES_PER_DEGREE
            east = (gate.longitude - lng) * geo.METRES_PER_DEGREE * math.cos(math.radians(lat))
            along = {"北门": north, "南门": -north, "东门": east, "西门": -east}[gate.name]
            assert along >= -12  # its side, or a little beyond the point where a street is close


# ---- the demo districts ----


def test_each_demo_district_has_a_generated_network_labelled_as_demo(networks, demo):
    assert set(networks) == {"220106", "410311"}
    for code, stored in networks.items():
        network = stored.record
        assert network.is_demo and network.source_name == generated.SOURCE_NAME
        assert network.source_date is None
        assert network.report["generated"] is True
        assert len(network.source_sha256) == 64
        district = network.district
        assert (network.south, network.west, network.north, network.east) == pytest.approx(
            loader.district_box(district)
        )
        again = generated.generate(
            loader.district_box(district),
            seed=f"{demo_data.SEED}:{code}",
            barriers=demo_data.BARRIERS[code],
        )
        assert again.sha256 == network.source_sha256
        assert (network.node_count, network.edge_count) == (len(stored.lat), len(stored.length))
        barrier = network.report["barriers"][0]
        assert barrier["kind"] == {"220106": "railway", "410311": "river"}[code]
        assert barrier["points"] == [list(p) for p in demo_data.BARRIERS[code][0].points]
    assert "Streets of 长春市绿园区" in demo and "generated, demo data" in demo


def test_the_demo_networks_are_connected(networks):
    for stored in networks.values():
        graph = nx.Graph()
        graph.add_edges_from(zip(stored.source.tolist(), stored.target.tolist(), strict=True))
        assert graph.number_of_nodes() == len(stored.lat)
        assert nx.is_connected(graph)


@pytest.mark.parametrize("code, crossings", [("220106", (2, 3)), ("410311", (3, 4))])
def test_no_street_crosses_the_railway_or_the_river_but_at_its_crossings(networks, code, crossings):
    stored = networks[code]
    barrier = demo_data.BARRIERS[code][0]
    a = np.stack([stored.lng[stored.source], stored.lat[stored.source]], axis=1)
    b = np.stack([stored.lng[stored.target], stored.lat[stored.target]], axis=1)
    found = crossing_points(a, b, degrees(barrier.points))
    reported = stored.record.report["barriers"][0]["crossings"]
    assert crossings[0] <= len(reported) <= crossings[1]
    assert len(found) == len(reported)
    points = degrees([c["point"] for c in reported])
    used = sorted(int(np.abs(points - p).sum(axis=1).argmin()) for _e, p in found)
    assert used == list(range(len(reported)))  # each crossing once
    for _edge, point in found:
        assert np.abs(points - point).sum(axis=1).min() < 1e-6
    # Take the crossings away and the two sides are apart.
    keep = np.ones(len(stored.source), dtype=bool)
    keep[[e for e, _p in found]] = False
    n = len(stored.lat)
    graph = coo_matrix((np.ones(keep.sum()), (stored.source[keep], stored.target[keep])), (n, n))
    assert connected_components(graph, directed=False)[0] == 2


def railway_lat(lng: float) -> float:
    """The railway's latitude at ``lng`` (it runs west to east)."""
    lats, lngs = zip(*demo_data.RAILWAY.points, strict=True)
    return float(np.interp(lng, lngs, lats))


def test_the_tiexi_compounds_and_their_gates_lie_south_of_the_railway_the_canteen_north(demo, db):
    compounds = ResidentialCompound.objects.filter(
        name__in=demo_data.RAILWAY_SOUTH, community__name="康宁社区"
    ).prefetch_related("gates")
    assert compounds.count() == len(demo_data.RAILWAY_SOUTH)
    for compound in compounds:
        assert compound.latitude < railway_lat(compound.longitude), compound
        for gate in compound.gates.all():
            assert gate.latitude < railway_lat(gate.longitude), gate
    canteen = Facility.objects.get(name="康宁社区食堂", community__name="康宁社区")
    assert canteen.latitude > railway_lat(canteen.longitude)


def test_every_compound_has_1_to_3_gates_near_a_street_on_its_side(networks):
    for code, stored in networks.items():
        barrier = demo_data.BARRIERS[code][0]
        line = degrees(barrier.points)
        compounds = ResidentialCompound.objects.filter(
            community__subdistrict__district__code=code
        ).prefetch_related("gates")
        for compound in compounds:
            gates = list(compound.gates.all())
            names = [g.name for g in gates]
            assert 1 <= len(gates) <= 3 and len(set(names)) == len(names), compound
            assert set(names) <= generated.GATE_NAMES
            points = [g.point for g in gates]
            street = stored.street_m(points)
            assert ((street >= 10) & (street <= 60)).all(), (compound, street)
            home = np.array([[compound.longitude, compound.latitude]])
            for gate in gates:
                gate_at = np.array([[gate.longitude, gate.latitude]])
                assert not crossing_points(home, gate_at, line), gate


def test_a_street_lies_within_200_m_of_every_compound_and_facility(networks):
    for code, stored in networks.items():
        inside = {"community__subdistrict__district__code": code}
        points = list(
            ResidentialCompound.objects.filter(**inside).values_list("latitude", "longitude")
        )
        points += Facility.objects.filter(**inside).values_list("latitude", "longitude")
        assert len(points) > 250
        assert stored.street_m(points).max() <= 200


def test_the_railway_turns_a_canteen_near_in_a_straight_line_into_a_long_walk(networks):
    """铁西一区 has 康宁社区食堂 300 m away in a straight line, within a canteen's walking
    distance; along the streets the walk goes round by a crossing, and without the railway the
    same grid would have it in reach."""
    reach = Category.objects.get(code="canteen").distance_m
    compound = ResidentialCompound.objects.get(name="铁西一区", community__name="康宁社区")
    canteen = Facility.objects.get(name="康宁社区食堂", community__name="康宁社区")
    straight = geo.distance_m(compound.point, canteen.point)
    walked = min(networks["220106"].walk_m(g.point, canteen.point) for g in compound.gates.all())
    assert straight <= reach < walked
    assert walked > 4 * straight
    # The same streets without the railway (no barrier, nothing cut).
    district = District.objects.get(code="220106")
    plain = generated.generate(loader.district_box(district), seed=f"{demo_data.SEED}:220106")
    with transaction.atomic():
        network, _replaced = loader.replace_network(
            district, plain.network, source_name="x", source_sha256=plain.sha256,
            source_date=None, box=loader.district_box(district), report=plain.report,
        )  # fmt: skip
        without = Stored(network)
        assert min(without.walk_m(g.point, canteen.point) for g in compound.gates.all()) <= reach
        transaction.set_rollback(True)


def test_running_load_demo_again_changes_no_network_and_no_gate(networks):
    def state():
        return (
            list(StreetNetwork.objects.order_by("pk").values("pk", "source_sha256", "imported_at")),
            list(CompoundGate.objects.order_by("pk").values()),
        )

    before = state()
    out = io.StringIO()
    call_command("load_demo", "--no-accounts", stdout=out)
    assert state() == before
    assert "generated, demo data, unchanged" in out.getvalue()


def test_gates_staff_added_stay_and_moved_ones_are_put_back(networks):
    compound = ResidentialCompound.objects.get(name="铁西一区", community__name="康宁社区")
    gate = compound.gates.first()
    planned = (gate.latitude, gate.longitude)
    gate.latitude += 0.001
    gate.save()
    extra = CompoundGate.objects.create(
        compound=compound,
        name="东侧人行门",
        latitude=compound.latitude,
        longitude=compound.longitude,
    )
    planned_names = set(compound.gates.exclude(pk=extra.pk).values_list("name", flat=True))
    stray = CompoundGate.objects.create(
        compound=compound, name=sorted(generated.GATE_NAMES - planned_names)[0],
        latitude=compound.latitude, longitude=compound.longitude,
    )  # fmt: skip

    call_command("load_demo", "--no-accounts", verbosity=0)

    gate.refresh_from_db()
    assert (gate.latitude, gate.longitude) == planned
    assert CompoundGate.objects.filter(pk=extra.pk).exists()
    assert not CompoundGate.objects.filter(pk=stray.pk).exists()
    names = set(compound.gates.values_list("name", flat=True))
    assert names == planned_names | {"东侧人行门"}


def test_a_district_with_an_imported_network_keeps_it(networks):
    district = District.objects.get(code="410311")
    box = loader.district_box(district)
    south, west, _north, _east = box
    tiny = osm.Network(
        osm_ids=np.array([1, 2], dtype=np.int64),
        lat=np.array([south + 0.01, south + 0.011]),
        lng=np.array([west + 0.01, west + 0.01]),
        source=np.array([0], dtype=np.int32),
        target=np.array([1], dtype=np.int32),
        length_m=np.array([111.2]),
        kind=["footway"],
        report=osm.Report(),
    )
    imported, _replaced = loader.replace_network(
        district, tiny, source_name="luolong.osm.pbf", source_sha256="0" * 64,
        source_date=None, box=box, report={"ways_kept": {"footway": 1}},
    )  # fmt: skip
    out = io.StringIO()
    call_command("load_demo", "--no-accounts", stdout=out)
    assert StreetNetwork.objects.get(district=district).pk == imported.pk
    assert "imported, kept" in out.getvalue()


# ---- the synthetic city ----


@pytest.mark.django_db
def test_the_generated_city_has_streets_and_gates_the_same_for_the_same_seed():
    def city(seed: int) -> tuple[str, list[tuple]]:
        call_command(
            "generate_city", "--compounds", "60", "--facilities", "40", "--seed", str(seed),
            verbosity=0,
        )  # fmt: skip
        network = StreetNetwork.objects.get(district__code=DISTRICT_CODE)
        gates = CompoundGate.objects.filter(
            compound__community__subdistrict__district__code=DISTRICT_CODE
        )
        return network, sorted(gates.values_list("compound__name", "name", "latitude", "longitude"))

    network, gates = city(4)
    assert network.is_demo and network.report["generated"]
    stored = Stored(network)
    assert stored.length.max() <= generated.PIECE_M + 10  # shape nodes along the streets
    compounds = ResidentialCompound.objects.filter(
        community__subdistrict__district__code=DISTRICT_CODE
    )
    assert {c for c, *_ in gates} == set(compounds.values_list("name", flat=True))
    points = list(compounds.values_list("latitude", "longitude"))
    points += Facility.objects.filter(
        community__subdistrict__district__code=DISTRICT_CODE
    ).values_list("latitude", "longitude")
    assert stored.street_m(points).max() <= 200
    street = stored.street_m([(g[2], g[3]) for g in gates])
    assert street.min() >= 10 and street.max() <= 60

    again, gates_again = city(4)
    assert again.source_sha256 == network.source_sha256 and gates_again == gates

    call_command("generate_city", "--remove", verbosity=0)
    assert not StreetNetwork.objects.filter(district__code=DISTRICT_CODE).exists()
    assert not StreetNode.objects.filter(network=again).exists()
    assert not StreetEdge.objects.filter(network=again).exists()
    assert not CompoundGate.objects.filter(compound__name__in=[g[0] for g in gates]).exists()
