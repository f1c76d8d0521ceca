"""Generated street networks and gates, for districts no extract covers: the demo districts and
the synthetic benchmark city. Stored, they say so (``StreetNetwork.is_demo``, ``SOURCE_NAME``);
a deployment imports its district's real extract instead (``manage.py import_streets``).

``generate(box, seed=…, barriers=…)`` is pure: numbers in, a ``streets.osm.Network`` out, the same
for the same arguments on every machine (``Generated.sha256`` is the checksum of a canonical
serialisation, so a second run can tell it has nothing new). Over the whole box:

- arterials (``primary``, ``secondary``) every 400–600 m each way and lanes (``residential``,
  ``service``, ``footway``) every 100–150 m between them; a few lane blocks are missing (a
  courtyard, a dead end);
- corners moved by a few metres, so it is no perfect lattice; with ``piece_m``, streets drawn
  with a node at least that often, a little off the straight line, as a drawn map has them (the
  benchmark city wants an extract's density of nodes; the demo, loaded in every test that needs
  it, the corners only: its walks are the same);
- barriers (a railway, a river) that streets cross only at their named crossings: every other
  edge that would cross one is cut, and no street runs inside its corridor. They go into the
  report with their crossings, for maps to draw.

Edge lengths are ``portal.lib.geo.distance_m`` between the ends, as for an extract; node ids are
negative (OpenStreetMap's are positive) and numbered in order.

``plan_gates(network, compounds, seed=…, barriers=…)`` gives each compound 1–3 gates named by the
side they open on (北门, 南门, 东门, 西门): on the way from the compound to a street it faces, 12–30
m from that street and, moved along it off a block's corner where need be, at least 10.5 m from
every other; never across a barrier from the compound nor near one, so each snaps to a street on
the compound's side.
"""

import hashlib
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from portal.lib import geo
from streets import osm

SOURCE_NAME = "生成的演示街道 (demo)"
# Part of the checksum: raise it when the same arguments start to give another network.
VERSION = 1

ARTERIAL_SPACING_M = (400, 600)
LANE_SPACING_M = 125  # lanes split the gap between two arterials into 3–5 parts of 100–150 m
LANE_SHIFT_M = 6  # a lane is this far off its even place at most
# Corners move this far at most: arterials run almost straight, lanes less so.
CORNER_JITTER_M = {True: 2.0, False: 8.0}
# With shape nodes, one at least this often along a street, off the straight line by up to BEND_M.
PIECE_M = 60.0
BEND_M = {True: 1.0, False: 3.0}
PRIMARY_SHARE = 0.4  # of arterials; the others are secondary
LANE_KINDS = {"residential": 0.6, "service": 0.25, "footway": 0.15}
MISSING_LANE_SHARE = 0.06  # of lanes' stretches from corner to corner
COORDINATE_DIGITS = 7  # about a centimetre

# Gates: a compound has 1–3, the nearer sides first, each this far from its street.
GATE_COUNT_WEIGHTS = {1: 3, 2: 5, 3: 2}
GATE_SETBACK_M = (12.0, 30.0)
GATE_SEARCH_M = (200.0, 600.0)  # the streets looked at, then, where none will do, farther
# A gate keeps this far beyond a barrier's corridor, so its nearest street is on its side.
GATE_CLEARANCE_M = 20.0
# Where a gate would stand on another street (at a corner of the block), it moves along its own
# by the first of these that keeps it GATE_STREET_GAP_M from every street (else it stays).
GATE_SHIFTS_M = (0.0, 12.0, -12.0, 24.0, -24.0, 36.0, -36.0)
GATE_STREET_GAP_M = 10.5
SIDE_NAMES = {"north": "北门", "south": "南门", "east": "东门", "west": "西门"}
GATE_NAMES = frozenset(SIDE_NAMES.values())
STEEP = math.sin(math.radians(45))  # a crossing street meets the barrier at least this steeply
PERPENDICULAR = math.cos(math.radians(75))  # a gate's way to its street: 75–105° to the street


@dataclass(frozen=True)
class Crossing:
    """Where streets cross a barrier: the arterial crossing nearest ``near`` (lat, lng)."""

    name: str
    near: geo.Point


@dataclass(frozen=True)
class Barrier:
    """A line streets cross only at its crossings: ``kind`` as OpenStreetMap names it (railway,
    river), a polyline of (lat, lng) reaching beyond the box, and the corridor (metres either
    side of the line) that no street runs in."""

    kind: str
    name: str
    points: tuple[geo.Point, ...]
    crossings: tuple[Crossing, ...]
    half_width_m: float


@dataclass
class Generated:
    network: osm.Network
    report: dict  # the StreetNetwork's: ways by kind, the barriers and their crossings
    sha256: str


@dataclass(frozen=True)
class Gate:
    name: str
    latitude: float
    longitude: float


# ---- the local frame: metres east (x) and north (y) of the box's south-west corner ----


@dataclass(frozen=True)
class _Frame:
    south: float
    west: float
    cos_lat: float

    @classmethod
    def around(cls, south: float, west: float, north: float) -> "_Frame":
        return cls(south, west, math.cos(math.radians((south + north) / 2)))

    def xy(self, lat, lng) -> np.ndarray:
        lat, lng = np.asarray(lat, dtype=np.float64), np.asarray(lng, dtype=np.float64)
        x = (lng - self.west) * geo.METRES_PER_DEGREE * self.cos_lat
        y = (lat - self.south) * geo.METRES_PER_DEGREE
        return np.stack([x, y], axis=-1)

    def latlng(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lat = self.south + xy[:, 1] / geo.METRES_PER_DEGREE
        lng = self.west + xy[:, 0] / (geo.METRES_PER_DEGREE * self.cos_lat)
        return np.round(lat, COORDINATE_DIGITS), np.round(lng, COORDINATE_DIGITS)


# ---- plane geometry over arrays of segments ----


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _hits(a: np.ndarray, b: np.ndarray, line: np.ndarray) -> np.ndarray:
    """For each segment a[i]–b[i], the index of the first piece of the polyline ``line`` it
    crosses or touches, or -1."""
    found = np.full(len(a), -1, dtype=np.int64)
    for k in range(len(line) - 2, -1, -1):
        q1, q2 = line[k], line[k + 1]
        d1, d2 = _cross(q2 - q1, a - q1), _cross(q2 - q1, b - q1)
        d3, d4 = _cross(b - a, q1 - a), _cross(b - a, q2 - a)
        found[(d1 * d2 <= 0) & (d3 * d4 <= 0)] = k
    return found


def _distance_to_line(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Metres from each point to the polyline ``line``."""
    best = np.full(len(points), np.inf)
    for q1, q2 in itertools.pairwise(line):
        along = np.clip((points - q1) @ (q2 - q1) / ((q2 - q1) @ (q2 - q1)), 0, 1)
        best = np.minimum(best, np.hypot(*(points - q1 - along[:, None] * (q2 - q1)).T))
    return best


def _foot(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The point of each segment a[i]–b[i] nearest p[i]."""
    ab = b - a
    square = np.maximum((ab * ab).sum(axis=1), 1e-12)
    along = np.clip(((p - a) * ab).sum(axis=1) / square, 0, 1)
    return a + along[:, None] * ab


# ---- the grid ----


def _lines(rng: np.random.Generator, extent: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (metres from 0) of the streets running across one axis, and which are
    arterials. Only those inside (0, extent) are kept, clear of the box's edge."""
    arterials = [-rng.uniform(0, ARTERIAL_SPACING_M[1])]
    while arterials[-1] <= extent + ARTERIAL_SPACING_M[1]:
        arterials.append(arterials[-1] + rng.uniform(*ARTERIAL_SPACING_M))
    positions, arterial = [], []
    for start, end in itertools.pairwise(arterials):
        parts = max(1, round((end - start) / LANE_SPACING_M))
        positions.append(start)
        arterial.append(True)
        for m in range(1, parts):
            shift = rng.uniform(-LANE_SHIFT_M, LANE_SHIFT_M)
            positions.append(start + (end - start) * m / parts + shift)
            arterial.append(False)
    positions, arterial = np.array(positions), np.array(arterial)
    margin = max(CORNER_JITTER_M.values()) + max(BEND_M.values())
    inside = (positions > margin) & (positions < extent - margin)
    return positions[inside], arterial[inside]


def _kinds(rng: np.random.Generator, arterial: np.ndarray, blocks: int) -> np.ndarray:
    """Kind of each line's stretch between two arterials of the other axis: an arterial keeps
    its kind all along, a lane may change at each arterial it meets."""
    kinds = np.array(["primary", "secondary", *LANE_KINDS])
    main = np.where(rng.random(len(arterial)) < PRIMARY_SHARE, 0, 1)
    lanes = 2 + rng.choice(len(LANE_KINDS), size=(len(arterial), blocks), p=[*LANE_KINDS.values()])
    return kinds[np.where(arterial[:, None], main[:, None], lanes)]


def _grid(rng: np.random.Generator, width: float, height: float, piece_m: float | None):
    """Corners and the streets between them, split into edges at most ``piece_m`` long (None:
    from corner to corner): node points (x, y), and per edge its ends, kind, line (an id per
    street), whether the line is an arterial, and its way (an id per way)."""
    xs, x_main = _lines(rng, width)
    ys, y_main = _lines(rng, height)
    nx_, ny_ = len(xs), len(ys)
    # Corners: corner (i, j) is node i * ny_ + j, where street i (x) meets street j (y).
    jitter = rng.uniform(-1, 1, size=(nx_, ny_, 2))
    jitter[..., 0] *= np.where(x_main, CORNER_JITTER_M[True], CORNER_JITTER_M[False])[:, None]
    jitter[..., 1] *= np.where(y_main, CORNER_JITTER_M[True], CORNER_JITTER_M[False])[None, :]
    corners = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1) + jitter
    corners = corners.reshape(-1, 2)

    ids = np.arange(nx_ * ny_).reshape(nx_, ny_)
    # Streets along y (fixed i) between corners j and j+1, then along x (fixed j).
    x_kinds = _kinds(rng, x_main, int(y_main.sum()) + 1)[
        np.arange(nx_)[:, None], np.cumsum(y_main)[None, :-1]
    ]
    y_kinds = _kinds(rng, y_main, int(x_main.sum()) + 1)[
        np.arange(ny_)[:, None], np.cumsum(x_main)[None, :-1]
    ]
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    kind = np.concatenate([x_kinds.ravel(), y_kinds.T.ravel()])
    line = np.concatenate(
        [np.repeat(np.arange(nx_), ny_ - 1), nx_ + np.tile(np.arange(ny_), nx_ - 1)]
    )
    main = np.concatenate([np.repeat(x_main, ny_ - 1), np.tile(y_main, nx_ - 1)])
    # Ways, as a map would have them: an arterial is one, a lane one from arterial to arterial.
    x_block = np.where(x_main[:, None], -1, np.cumsum(y_main)[None, :-1])
    y_block = np.where(y_main[:, None], -1, np.cumsum(x_main)[None, :-1])
    block = np.concatenate([x_block.ravel(), y_block.T.ravel()])
    way = line * (nx_ + ny_ + 2) + block + 1
    keep = main | (rng.random(len(a)) >= MISSING_LANE_SHARE)
    a, b, kind, line, main, way = a[keep], b[keep], kind[keep], line[keep], main[keep], way[keep]

    # Nodes along each street: ``pieces`` edges per stretch between corners.
    vector = corners[b] - corners[a]
    length = np.hypot(*vector.T)
    pieces = np.ones(len(a), dtype=np.int64)
    if piece_m:
        pieces = np.maximum(1, np.ceil(length / piece_m)).astype(np.int64)
    inner = pieces - 1
    stretch = np.repeat(np.arange(len(a)), inner)
    step = np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner) + 1
    normal = np.stack([-vector[:, 1], vector[:, 0]], axis=1) / length[:, None]
    bend = rng.uniform(-1, 1, len(stretch)) * np.where(main[stretch], BEND_M[True], BEND_M[False])
    inner_points = (
        corners[a[stretch]]
        + vector[stretch] * (step / pieces[stretch])[:, None]
        + normal[stretch] * bend[:, None]
    )
    points = np.concatenate([corners, inner_points])
    # Each stretch as a chain of node ids: its corner, its inner nodes, its other corner.
    chain_length = pieces + 1
    starts = np.cumsum(chain_length) - chain_length
    chain = np.empty(chain_length.sum(), dtype=np.int64)
    chain[starts] = a
    chain[starts + pieces] = b
    chain[np.repeat(starts, inner) + step] = len(corners) + np.arange(len(stretch))
    at = np.ones(len(chain) - 1, dtype=bool)
    at[(starts + pieces)[:-1]] = False  # no edge from one chain's end to the next one's start
    at = np.flatnonzero(at)
    return (
        points,
        chain[at],
        chain[at + 1],
        np.repeat(kind, pieces),
        np.repeat(line, pieces),
        np.repeat(main, pieces),
        np.repeat(way, pieces),
    )


# ---- barriers ----


def _cut(points, source, target, line, main, barriers, frame):
    """Which edges the barriers leave (a mask), and the report's account of each barrier with
    the crossings it keeps."""
    longest = float(np.hypot(*(points[target] - points[source]).T).max(initial=0))
    keep = np.ones(len(source), dtype=bool)
    reports = []
    for barrier in barriers:
        polyline = frame.xy(*zip(*barrier.points, strict=True))
        a, b = points[source], points[target]
        hits = _hits(a, b, polyline)
        corridor = _distance_to_line(points, polyline) < barrier.half_width_m
        crossing_edges, bridge, crossings, used = [], np.zeros(len(source), dtype=bool), [], set()
        for crossing in barrier.crossings:
            near = frame.xy(*crossing.near)
            candidates = np.flatnonzero((hits >= 0) & main & ~np.isin(line, list(used)))
            if not len(candidates):
                continue  # the barrier passes the box by (or too few arterials cross it)
            # A street that meets the line at 45° or more: no bridge runs along the river.
            steep = _sine(a[candidates], b[candidates], polyline, hits[candidates]) >= STEEP
            candidates = candidates[steep] if steep.any() else candidates
            where = _intersection(a[candidates], b[candidates], polyline, hits[candidates])
            best = np.argmin(np.hypot(*(where - near).T))
            edge, point = candidates[best], where[best]
            used.add(int(line[edge]))
            crossing_edges.append(edge)
            # The crossing street's edges near the crossing, over the corridor: the bridge (a
            # street meeting the line at a slant spans more than the corridor's width).
            reach = 3 * barrier.half_width_m + longest
            bridge |= (
                (line == line[edge])
                & (np.hypot(*(a - point).T) < reach)
                & (np.hypot(*(b - point).T) < reach)
            )
            lat, lng = frame.latlng(point[None, :])
            crossings.append(
                {
                    "name": crossing.name,
                    "point": [float(lat[0]), float(lng[0])],
                    "street": None,  # filled in with the kind by ``generate``
                    "edge": int(edge),
                }
            )
        crossing_mask = np.zeros(len(source), dtype=bool)
        crossing_mask[crossing_edges] = True
        protected = np.zeros(len(points), dtype=bool)
        protected[source[bridge]] = protected[target[bridge]] = True
        gone = corridor & ~protected
        keep &= ~gone[source] & ~gone[target]
        keep &= (hits < 0) | crossing_mask
        keep &= bridge | ~(corridor[source] | corridor[target])
        reports.append(
            {
                "kind": barrier.kind,
                "name": barrier.name,
                "half_width_m": barrier.half_width_m,
                "points": [[lat, lng] for lat, lng in barrier.points],
                "crossings": crossings,
            }
        )
    return keep, reports


def _sine(a, b, polyline, piece) -> np.ndarray:
    """The sine of the angle at which each segment a[i]–b[i] meets piece ``piece[i]``."""
    u, v = b - a, polyline[piece + 1] - polyline[piece]
    return np.abs(_cross(u, v)) / np.maximum(np.hypot(*u.T) * np.hypot(*v.T), 1e-12)


def _intersection(a, b, polyline, piece) -> np.ndarray:
    """Where each segment a[i]–b[i] meets piece ``piece[i]`` of the polyline."""
    q1, q2 = polyline[piece], polyline[piece + 1]
    denominator = _cross(b - a, q2 - q1)
    denominator = np.where(np.abs(denominator) < 1e-12, 1e-12, denominator)
    along = np.clip(_cross(q1 - a, q2 - q1) / denominator, 0, 1)
    return a + along[:, None] * (b - a)


# ---- the network ----


def _numpy_rng(seed) -> np.random.Generator:
    digest = hashlib.sha256(f"streets:{seed}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def generate(
    box: osm.Box, *, seed, barriers: Sequence[Barrier] = (), piece_m: float | None = None
) -> Generated:
    """A generated walkable network over ``box`` (south, west, north, east), cut by
    ``barriers``, its largest connected piece; with ``piece_m``, a node at least that often
    along every street."""
    south, west, north, east = box
    frame = _Frame.around(south, west, north)
    width, height = frame.xy(north, east)
    rng = _numpy_rng(seed)
    points, source, target, kind, line, main, way = _grid(rng, float(width), float(height), piece_m)
    keep, barrier_reports = _cut(points, source, target, line, main, barriers, frame)
    for report in barrier_reports:
        for crossing in report["crossings"]:
            crossing["street"] = str(kind[crossing.pop("edge")])

    source, target, kind, way = source[keep], target[keep], kind[keep], way[keep]
    n = len(points)
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    used = np.zeros(n, dtype=bool)
    used[source] = used[target] = True
    sizes = np.bincount(labels[used])
    largest = int(sizes.argmax())
    keep_node = labels == largest
    keep_edge = keep_node[source]
    renumber = np.cumsum(keep_node) - 1
    lat, lng = frame.latlng(points[keep_node])
    source = renumber[source[keep_edge]].astype(np.int32)
    target = renumber[target[keep_edge]].astype(np.int32)
    kinds = kind[keep_edge].tolist()
    _ways, first = np.unique(way[keep_edge], return_index=True)
    lat_list, lng_list = lat.tolist(), lng.tolist()
    length = np.array(
        [
            geo.distance_m((lat_list[s], lng_list[s]), (lat_list[t], lng_list[t]))
            for s, t in zip(source.tolist(), target.tolist(), strict=True)
        ]
    )
    report_counts = osm.Report(
        ways_kept=Counter(kind[keep_edge][first].tolist()),
        pieces=int((sizes > 0).sum()),
        nodes_in_smaller_pieces=int(used.sum() - keep_node.sum()),
    )
    network = osm.Network(
        osm_ids=-np.arange(1, len(lat) + 1, dtype=np.int64),
        lat=lat,
        lng=lng,
        source=source,
        target=target,
        length_m=length,
        kind=kinds,
        report=report_counts,
    )
    report = {
        "generated": True,
        "seed": str(seed),
        "piece_m": piece_m,
        # As an import's report has them (nothing is outside the box or left out).
        "ways_kept": dict(sorted(report_counts.ways_kept.items(), key=lambda kv: (-kv[1], kv[0]))),
        "ways_left": {},
        "segments_outside": 0,
        "pieces": report_counts.pieces,
        "nodes_in_smaller_pieces": report_counts.nodes_in_smaller_pieces,
        "barriers": barrier_reports,
    }
    return Generated(network, report, checksum(network, report))


def checksum(network: osm.Network, report: dict) -> str:
    """SHA-256 of a canonical serialisation: fixed-width little-endian integers (coordinates in
    1e-7 degrees, lengths in millimetres), the kinds, and the report as sorted JSON."""
    digest = hashlib.sha256(f"generated streets v{VERSION}\n".encode())
    for values, scale in ((network.lat, 1e7), (network.lng, 1e7), (network.length_m, 1e3)):
        digest.update(np.round(values * scale).astype("<i8").tobytes())
    digest.update(network.osm_ids.astype("<i8").tobytes())
    digest.update(network.source.astype("<i4").tobytes())
    digest.update(network.target.astype("<i4").tobytes())
    digest.update("\n".join(network.kind).encode())
    digest.update(json.dumps(report, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


# ---- gates ----


def plan_gates(
    network: osm.Network,
    compounds: Sequence[tuple[str, float, float]],
    *,
    seed,
    barriers: Sequence[Barrier] = (),
) -> list[tuple[Gate, ...]]:
    """1–3 gates for each compound of ``compounds`` ((key, lat, lng); the key seeds its own
    draw, so one compound's gates do not move when another's do), in the same order."""
    if not len(compounds) or not network.edges:
        return [() for _ in compounds]
    frame = _Frame.around(float(network.lat.min()), float(network.lng.min()), network.lat.max())
    nodes = frame.xy(network.lat, network.lng)
    a, b = nodes[network.source], nodes[network.target]
    tree = cKDTree((a + b) / 2)
    half = float(np.hypot(*(b - a).T).max()) / 2
    homes = frame.xy([c[1] for c in compounds], [c[2] for c in compounds])
    lines = [
        (frame.xy(*zip(*barrier.points, strict=True)), barrier.half_width_m) for barrier in barriers
    ]
    rngs = [random.Random(f"{seed}:{key}") for key, _lat, _lng in compounds]
    setbacks = np.array([rng.uniform(*GATE_SETBACK_M) for rng in rngs])
    wanted = [rng.choices([*GATE_COUNT_WEIGHTS], [*GATE_COUNT_WEIGHTS.values()])[0] for rng in rngs]

    plans: list[tuple[Gate, ...]] = [() for _ in compounds]
    todo = np.arange(len(compounds))
    for radius in GATE_SEARCH_M:
        found = _sides(tree, a, b, half, homes[todo], setbacks[todo], radius, lines)
        left = []
        for row, sides in zip(todo.tolist(), found, strict=True):
            if not sides:
                left.append(row)
                continue
            chosen = sorted(sides, key=lambda s: s[1])[: wanted[row]]
            points = np.array([point for _side, _d, point in chosen])
            lat, lng = frame.latlng(points)
            plans[row] = tuple(
                Gate(SIDE_NAMES[side], round(float(la), 6), round(float(ln), 6))
                for (side, _d, _p), la, ln in zip(chosen, lat, lng, strict=True)
            )
        todo = np.array(left, dtype=np.int64)
        if not len(todo):
            break
    return plans


def _sides(tree, a, b, half, homes, setbacks, radius, lines) -> list[list]:
    """For each home, the sides it can open a gate on: (side, metres to the street, gate
    point), the nearest street of each side that no barrier separates from the home."""
    near = tree.query_ball_point(homes, radius + half)
    counts = np.array([len(n) for n in near], dtype=np.int64)
    result: list[list] = [[] for _ in range(len(homes))]
    if not counts.sum():
        return result
    home = np.repeat(np.arange(len(homes)), counts)
    edge = np.concatenate([np.asarray(n, dtype=np.int64) for n in near if n])
    p = homes[home]
    foot = _foot(p, a[edge], b[edge])
    offset = foot - p
    metres = np.hypot(*offset.T)
    # A street the home faces: the way to it meets it square (not the end of a street the
    # home stands on, nor a corner seen across a diagonal).
    direction = b[edge] - a[edge]
    square = np.abs((offset * direction).sum(axis=1)) <= PERPENDICULAR * metres * np.maximum(
        np.hypot(*direction.T), 1e-9
    )
    ok = (metres <= radius) & (metres > 0.5) & square
    for line, _half_width in lines:
        ok &= _hits(p, foot, line) < 0
    angle = np.degrees(np.arctan2(offset[:, 1], offset[:, 0]))
    side = np.select(
        [(angle > 45) & (angle <= 135), (angle < -45) & (angle >= -135), np.abs(angle) <= 45],
        [0, 1, 2],
        3,
    )
    pick = np.flatnonzero(ok)
    pick = pick[np.lexsort((metres[pick], side[pick], home[pick]))]
    first = np.ones(len(pick), dtype=bool)
    first[1:] = (home[pick][1:] != home[pick][:-1]) | (side[pick][1:] != side[pick][:-1])
    pick = pick[first]
    # The gate: on the way from the street to the home, ``setback`` from the street (never less
    # than 12 m, even where the home's point is nearer the street than that) ...
    back = np.maximum(GATE_SETBACK_M[0], np.minimum(setbacks[home[pick]], metres[pick]))
    gate = foot[pick] - offset[pick] / metres[pick][:, None] * back[:, None]
    # ... and moved along its street where that puts it on another (a corner of the block).
    along = b[edge[pick]] - a[edge[pick]]
    along /= np.maximum(np.hypot(*along.T), 1e-9)[:, None]
    placed = np.zeros(len(pick), dtype=bool)
    for shift in GATE_SHIFTS_M:
        trial = gate[~placed] + along[~placed] * shift
        clear = _clear(tree, a, b, half, trial, GATE_STREET_GAP_M)
        moved = np.flatnonzero(~placed)[clear]
        gate[moved], placed[moved] = trial[clear], True
    fine = np.ones(len(pick), dtype=bool)
    for line, half_width in lines:
        fine &= _hits(p[pick], gate, line) < 0
        fine &= _distance_to_line(gate, line) >= half_width + GATE_CLEARANCE_M
    names = list(SIDE_NAMES)
    for h, s, d, g in zip(
        home[pick][fine], side[pick][fine], metres[pick][fine], gate[fine], strict=True
    ):
        result[h].append((names[s], float(d), g))
    return result


def _clear(tree, a, b, half, points, metres: float) -> np.ndarray:
    """Whether each point is at least ``metres`` from every edge a[i]–b[i]."""
    near = tree.query_ball_point(points, metres + half)
    counts = np.array([len(n) for n in near], dtype=np.int64)
    clear = np.ones(len(points), dtype=bool)
    if not counts.sum():
        return clear
    which = np.repeat(np.arange(len(points)), counts)
    edge = np.concatenate([np.asarray(n, dtype=np.int64) for n in near if n])
    p = points[which]
    close = np.hypot(*(_foot(p, a[edge], b[edge]) - p).T) < metres
    clear[which[close]] = False
    return clear
