"""Walking along streets: the engine's walks against an independent reference on random street
networks (networkx shortest paths between the ends of each point's nearest edge, that edge found
by trying every edge), and the properties every walk must have."""

import dataclasses
import itertools
import math
import random

import networkx as nx
import numpy as np
import pytest

from portal.lib import geo
from reports import coverage
from reports.coverage import Circle, Gates, Homes, Sites, Streets, Walker

CENTRE = (43.88, 125.30)
CIRCLES = [Circle("canteen", 500, required=True), Circle("library", 1000)]


def random_streets(rnd: random.Random, n: int = 160, side_m: float = 2500, shaped: bool = False):
    """``n`` crossings over a square, each joined to its three nearest (a street grid of sorts,
    in several pieces at times: a piece away from a point is never reached). ``shaped``: most
    streets bend through shape nodes, as drawn ones do, and there are lassos (a street back to
    its own crossing), second streets between the same two crossings and a ring on its own: the
    runs of two-edge nodes the engine searches as one."""
    points = [geo.offset(CENTRE, rnd.uniform(0, side_m), rnd.uniform(0, side_m)) for _ in range(n)]
    pairs = set()
    for i, p in enumerate(points):
        near = sorted(range(n), key=lambda j: geo.distance_m(p, points[j]))[1:4]
        pairs |= {(min(i, j), max(i, j)) for j in near}
    pairs = sorted(pairs)
    if shaped:
        pairs = shape(rnd, points, pairs)
    lat = np.array([p[0] for p in points])
    lng = np.array([p[1] for p in points])
    source = np.array([a for a, _ in pairs])
    target = np.array([b for _, b in pairs])
    length = np.array([geo.distance_m(points[a], points[b]) for a, b in pairs])
    return points, pairs, Streets(lat, lng, source, target, length, np.zeros(len(pairs)), ("x",))


def shape(rnd: random.Random, points: list, pairs: list) -> list:
    """``pairs`` with shape nodes (appended to ``points``) and the odd shapes of a drawn map."""

    def new(point) -> int:
        points.append(point)
        return len(points) - 1

    def through(a: int, b: int, bends: int, off_m: float) -> list:
        (la, ga), (lb, gb) = points[a], points[b]
        chain = [a]
        for k in range(1, bends + 1):
            t = k / (bends + 1)
            mid = (la + t * (lb - la), ga + t * (gb - ga))
            chain.append(
                new(geo.offset(mid, rnd.uniform(-off_m, off_m), rnd.uniform(-off_m, off_m)))
            )
        chain.append(b)
        return list(itertools.pairwise(chain))

    crossings = len(points)
    shaped = []
    for a, b in pairs:
        bends = rnd.choice([0, 1, 2, 3, 3])
        shaped += through(a, b, bends, 15) if bends else [(a, b)]
    for a, b in rnd.sample(pairs, 6):  # a second street between the same two crossings
        shaped += through(a, b, rnd.choice([1, 2]), 60)
    for c in rnd.sample(range(crossings), 5):  # a lasso: out and back to the same crossing
        loop = [new(geo.offset(points[c], rnd.uniform(40, 90), rnd.uniform(-60, 60)))]
        loop.append(new(geo.offset(points[loop[0]], rnd.uniform(20, 50), rnd.uniform(20, 50))))
        shaped += [(c, loop[0]), (loop[0], loop[1]), (loop[1], c)]
    middle = geo.offset(CENTRE, rnd.uniform(500, 2000), rnd.uniform(500, 2000))
    ring = [
        new(geo.offset(middle, 100 * math.sin(k * math.pi / 3), 100 * math.cos(k * math.pi / 3)))
        for k in range(6)
    ]
    shaped += list(zip(ring, ring[1:] + ring[:1], strict=True))
    return shaped


def place_by_hand(point, points, pairs, streets: Streets):
    """The nearest spot on any edge, trying every edge: (edge, along, metres) or None beyond
    SNAP_M. The same plane as the engine's, so ties resolve alike."""
    px, py = streets.plane(np.array([point[0]]), np.array([point[1]]))
    best = None
    for e, (a, b) in enumerate(pairs):
        ax, ay = streets.x[a], streets.y[a]
        bx, by = streets.x[b], streets.y[b]
        dx, dy = bx - ax, by - ay
        span = dx * dx + dy * dy
        t = 0.0 if span == 0 else min(1.0, max(0.0, ((px[0] - ax) * dx + (py[0] - ay) * dy) / span))
        d = math.hypot(ax + t * dx - px[0], ay + t * dy - py[0])
        if best is None or d < best[0]:
            best = (d, e, t)
    _, e, t = best
    a, b = pairs[e]
    spot = (
        points[a][0] + t * (points[b][0] - points[a][0]),
        points[a][1] + t * (points[b][1] - points[a][1]),
    )
    metres = geo.distance_m(point, spot)
    return (e, t, metres) if metres <= coverage.SNAP_M else None


def reference_walk(start, end, pairs, lengths, paths):
    """The walk between two placed points: out along the start's edge to one of its ends, the
    shortest path to one of the end's edge's ends, in along that edge; or straight along the
    edge they share."""
    (e1, t1, o1), (e2, t2, o2) = start, end
    a1, b1 = pairs[e1]
    a2, b2 = pairs[e2]
    best = math.inf
    if e1 == e2:
        best = abs(t1 - t2) * lengths[e1]
    for u, out in ((a1, t1 * lengths[e1]), (b1, (1 - t1) * lengths[e1])):
        for v, into in ((a2, t2 * lengths[e2]), (b2, (1 - t2) * lengths[e2])):
            path = paths[u].get(v, math.inf)
            best = min(best, out + path + into)
    return o1 + best + o2


def scene(seed: int, shaped: bool = False):
    rnd = random.Random(seed)
    points, pairs, streets = random_streets(rnd, shaped=shaped)
    graph = nx.Graph()
    for (a, b), metres in zip(pairs, streets.length_m.tolist(), strict=True):
        graph.add_edge(a, b, weight=metres)
    paths = dict(nx.all_pairs_dijkstra_path_length(graph, weight="weight"))

    def anywhere():
        return geo.offset(CENTRE, rnd.uniform(-300, 2800), rnd.uniform(-300, 2800))

    homes, gates = [], []
    for i in range(60):
        point = anywhere()
        homes.append((100 + i, *point, rnd.randint(100, 2000), 1, 1, 7))
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            gates.append((100 + i, *geo.offset(point, rnd.uniform(-60, 60), rnd.uniform(-60, 60))))
    sites, further = [], []
    for i in range(40):
        code = rnd.choice(["canteen", "library"])
        sites.append((500 + i, *anywhere(), rnd.choice(["open", "open", "planned"]), code))
        if rnd.random() < 0.2:
            further.append((500 + i, "library" if code == "canteen" else "canteen"))
    h = Homes.from_rows(homes)
    h = dataclasses.replace(h, gates=Gates.from_rows(h.ids, gates))
    return (
        points,
        pairs,
        streets,
        paths,
        homes,
        gates,
        sites,
        further,
        h,
        Sites.from_rows(sites, further),
    )


def reference_matrix(points, pairs, streets, paths, homes, gates, sites, further, code, reach_m):
    """For each compound: (facility id, metres), walking from its gates (its point without
    any) where one is on the streets, by straight line otherwise; facilities off the streets by
    straight line."""
    lengths = streets.length_m.tolist()
    codes = {s[0]: {s[4]} for s in sites}
    for fid, c in further:
        codes[fid].add(c)
    serving = [s for s in sites if s[3] == "open" and code in codes[s[0]]]
    placed = {s[0]: place_by_hand(s[1:3], points, pairs, streets) for s in serving}
    result = []
    for h in homes:
        starts = [g[1:3] for g in gates if g[0] == h[0]] or [h[1:3]]
        on = [p for p in (place_by_hand(s, points, pairs, streets) for s in starts) if p]
        best = (math.inf, -1)
        for s in serving:
            if on and placed[s[0]]:
                metres = min(reference_walk(p, placed[s[0]], pairs, lengths, paths) for p in on)
            else:
                metres = geo.distance_m(h[1:3], s[1:3])
            best = min(best, (metres, s[0]))
        result.append((best[1], best[0]) if best[0] <= reach_m else (-1, math.inf))
    return result


@pytest.mark.parametrize("shaped", [False, True], ids=["crossings", "shaped"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_walks_equal_an_independent_reference(seed, shaped):
    points, pairs, streets, paths, homes, gates, sites, further, h, s = scene(seed, shaped)
    matrix = coverage.compute(h, s, CIRCLES, walker=Walker({7: streets}, h, s))
    walked = compared = 0
    for circle in CIRCLES:
        expected = reference_matrix(
            points, pairs, streets, paths, homes, gates, sites, further, circle.code,
            2 * circle.distance_m,
        )  # fmt: skip
        for row, (fid, metres) in enumerate(expected):
            got = float(matrix.distance[circle.code][row])
            if math.isinf(metres):
                assert math.isinf(got), (circle.code, homes[row][0])
                continue
            assert got == pytest.approx(metres, abs=1e-6), (circle.code, homes[row][0])
            compared += 1
            walked += bool(matrix.walked[row])
            if int(matrix.nearest[circle.code][row]) != fid:
                # Only a tie may name another facility.
                other = int(matrix.nearest[circle.code][row])
                assert other in {x[0] for x in sites}
    assert compared > 40 and walked > 20


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_origin_walks_and_drawn_paths_equal_the_reference_on_shaped_streets(seed):
    """The finder's walk from one point and the walk drawn node by node, on streets that bend
    through shape nodes (searched as chains between crossings): both equal the reference."""
    rnd = random.Random(100 + seed)
    points, pairs, streets, paths, *_ = scene(seed, shaped=True)
    lengths = streets.length_m.tolist()
    assert streets.junctions < 0.6 * streets.nodes  # most nodes are shape nodes

    def anywhere():
        return geo.offset(CENTRE, rnd.uniform(-100, 2600), rnd.uniform(-100, 2600))

    compared = 0
    for _ in range(25):
        origin = anywhere()
        ends = [anywhere() for _ in range(30)]
        start = streets.place(np.array([origin[0]]), np.array([origin[1]]))
        placed = streets.place(np.array([e[0] for e in ends]), np.array([e[1] for e in ends]))
        got = streets.walk(start, placed, 1800)
        by_hand = place_by_hand(origin, points, pairs, streets)
        for i, end in enumerate(ends):
            other = place_by_hand(end, points, pairs, streets)
            if by_hand is None or other is None:
                assert math.isinf(got[i])
                continue
            expected = reference_walk(by_hand, other, pairs, lengths, paths)
            if expected > 1800:
                assert math.isinf(got[i])
                continue
            assert got[i] == pytest.approx(expected, abs=1e-6)
            compared += 1
            # The drawn walk: its nodes, joined, with the two ends' ways in and out.
            one = streets.place(np.array([end[0]]), np.array([end[1]]))
            nodes = streets.path(start, one, 1800)
            assert nodes is not None
            if nodes:
                drawn = sum(
                    geo.distance_m(points[a], points[b]) for a, b in itertools.pairwise(nodes)
                )
                e1, t1, o1 = by_hand
                e2, t2, o2 = other
                out = (t1 if pairs[e1][0] == nodes[0] else 1 - t1) * lengths[e1]
                into = (t2 if pairs[e2][0] == nodes[-1] else 1 - t2) * lengths[e2]
                assert o1 + out + drawn + into + o2 == pytest.approx(expected, abs=1e-3)
    assert compared > 120


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_walk_is_never_shorter_than_the_straight_line(seed):
    _, _, streets, _, _, _, _, _, h, s = scene(seed)
    walking = coverage.compute(h, s, CIRCLES, walker=Walker({7: streets}, h, s))
    starts = h.starts()
    by_id = {int(i): row for row, i in enumerate(s.ids.tolist())}
    checked = 0
    for circle in CIRCLES:
        ids, metres = walking.nearest[circle.code], walking.distance[circle.code]
        for row in np.flatnonzero(ids >= 0).tolist():
            site = by_id[int(ids[row])]
            # From a gate, or from the compound's point where it fell back to straight lines.
            here = starts.home == row
            points = [
                (h.lat[row], h.lng[row]),
                *zip(starts.lat[here], starts.lng[here], strict=True),
            ]
            line = min(geo.distance_m(p, (s.lat[site], s.lng[site])) for p in points)
            assert metres[row] >= line - 1e-6
            checked += 1
    assert checked > 20


def test_a_point_far_from_every_street_falls_back_to_the_straight_line():
    lat = np.array([CENTRE[0], geo.offset(CENTRE, 0, 400)[0]])
    lng = np.array([CENTRE[1], geo.offset(CENTRE, 0, 400)[1]])
    streets = Streets(lat, lng, np.array([0]), np.array([1]), np.array([400.0]), np.zeros(1))
    near = geo.offset(CENTRE, 50, 100)  # 50 m north of the street
    far = geo.offset(CENTRE, 250, 100)  # 250 m north: check this point
    homes = Homes.from_rows([(1, *near, 500, 1, 1, 7), (2, *far, 500, 1, 1, 7)])
    canteen = geo.offset(CENTRE, 20, 300)
    sites = Sites.from_rows([(9, *canteen, "open", "canteen")])
    walker = Walker({7: streets}, homes, sites)
    matrix = coverage.compute(homes, sites, CIRCLES[:1], walker=walker)
    assert matrix.walked.tolist() == [True, False]
    # Near: 50 m to the street, 200 m along it, 20 m to the canteen.
    assert matrix.distance["canteen"][0] == pytest.approx(
        geo.distance_m(near, geo.offset(CENTRE, 0, 100))
        + 200
        + geo.distance_m(canteen, geo.offset(CENTRE, 0, 300)),
        abs=0.01,
    )
    assert matrix.distance["canteen"][1] == pytest.approx(geo.distance_m(far, canteen))
    assert walker.sites[7].on_streets.tolist() == [True]


def test_gates_decide_where_a_walk_starts():
    """A compound whose gate opens on the far side of a block walks round it."""
    # Two parallel streets 300 m apart, joined only at the west end.
    a = CENTRE
    b = geo.offset(CENTRE, 0, 600)
    c = geo.offset(CENTRE, 300, 0)
    d = geo.offset(CENTRE, 300, 600)
    lat = np.array([p[0] for p in (a, b, c, d)])
    lng = np.array([p[1] for p in (a, b, c, d)])
    streets = Streets(
        lat, lng, np.array([0, 2, 0]), np.array([1, 3, 2]), np.array([600.0, 600.0, 300.0]),
        np.zeros(3),
    )  # fmt: skip
    canteen = geo.offset(CENTRE, -10, 500)  # on the south street, near its east end
    compound = geo.offset(CENTRE, 150, 500)  # between the streets
    north_gate = geo.offset(CENTRE, 290, 500)
    south_gate = geo.offset(CENTRE, 10, 500)
    sites = Sites.from_rows([(9, *canteen, "open", "canteen")])
    rows = [(1, *compound, 800, 1, 1, 7)]
    results = {}
    choices = {"north": [north_gate], "south": [south_gate], "both": [north_gate, south_gate]}
    for name, gates in choices.items():
        h = Homes.from_rows(rows)
        h = dataclasses.replace(h, gates=Gates.from_rows(h.ids, [(1, *g) for g in gates]))
        walker = Walker({7: streets}, h, sites)
        m = coverage.compute(h, sites, [Circle("canteen", 2000)], walker=walker)
        results[name] = float(m.distance["canteen"][0])
    # South gate: 10 m out, along the street 0 m, 10 m in.
    assert results["south"] == pytest.approx(20, abs=0.1)
    # North gate: 10 m out, 500 m west, 300 m south, 500 m east, 10 m in.
    assert results["north"] == pytest.approx(1320, abs=0.5)
    assert results["both"] == results["south"]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_plan_extended_from_today_equals_the_plan_computed_whole(seed):
    _, _, streets, _, _, _, _, _, h, s = scene(seed)
    added = coverage.WITH_PLANNED - coverage.SERVING
    for walker in (None, Walker({7: streets}, h, s)):
        now = coverage.compute(h, s, CIRCLES, walker=walker)
        whole = coverage.compute(h, s, CIRCLES, coverage.WITH_PLANNED, walker=walker)
        plan = coverage.extended(now, s, added, walker=walker)
        for circle in CIRCLES:
            np.testing.assert_allclose(plan.distance[circle.code], whole.distance[circle.code])
        assert any((plan.distance[c.code] < now.distance[c.code]).any() for c in CIRCLES), (
            "no planned facility changed anything: the test proves nothing"
        )
