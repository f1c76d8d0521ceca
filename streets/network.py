"""A district's street network as arrays, for walking: points placed on the nearest edge, and
shortest walks from such points along the streets.

Pure numpy and scipy but for ``load_streets``, which reads a network from the database once per
process (and again after a re-import). The coverage engine (reports.coverage) walks every
compound to every category with it; the facility finder walks from one compound.

Points are placed on edges, not nodes: a canteen in the middle of a 300 m block is reached from
that spot, not from a corner. A point farther than ``SNAP_M`` from every edge is "off the
streets" (a misplaced point, most likely) and its callers fall back to the straight line. Walks
start from extra graph nodes, one per placed point, with edges out to both ends of the point's
edge and none in, so no walk passes through one; a point at the other end reads the two ends of
its own edge, and a start on that same edge is checked directly (the walk along one edge need
not touch either end). Every length reported is geo's; the plane below only places points.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse import vstack as sparse_vstack
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from portal.lib import geo

SNAP_M = 200.0
# The streets a map draws first, and alone when a district's minor ones would not fit.
MAJOR = frozenset(
    {"primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "trunk"}
)
# Edges are indexed by pieces at most this long, so the nearest piece's midpoint is at most half
# of it farther than the piece itself: the search is exact.
PIECE_M = 40.0
# scipy's graphs take a zero weight for "no edge" in places: a point exactly on a node walks 1 nm.
NANOMETRE = 1e-9


@dataclass(frozen=True)
class Placed:
    """Points placed on a network's edges: for each, the edge (-1: no edge within SNAP_M), how far
    along it from its source end (0 … 1) and the metres from the point to that spot."""

    edge: np.ndarray  # int64
    along: np.ndarray  # float64
    offset_m: np.ndarray  # float64

    @property
    def on_streets(self) -> np.ndarray:
        return self.edge >= 0


class Streets:
    """A district's walkable network as arrays: nodes (points), undirected edges (ends, metres,
    kind), with the graph and the index for placing points built once."""

    def __init__(
        self,
        lat: np.ndarray,
        lng: np.ndarray,
        source: np.ndarray,
        target: np.ndarray,
        length_m: np.ndarray,
        kind: np.ndarray,
        kinds: tuple[str, ...] = (),
        key: str = "",
    ) -> None:
        self.lat, self.lng = np.asarray(lat, np.float64), np.asarray(lng, np.float64)
        self.source = np.asarray(source, np.int64)
        self.target = np.asarray(target, np.int64)
        self.length_m = np.asarray(length_m, np.float64)
        self.kind = np.asarray(kind, np.int16)  # index into ``kinds``
        self.kinds = kinds
        self.key = key  # which network, as imported (a new import is a new key)
        n = len(self.lat)
        weight = np.maximum(self.length_m, NANOMETRE)
        self.graph = csr_matrix(
            (
                np.concatenate([weight, weight]),
                (
                    np.concatenate([self.source, self.target]),
                    np.concatenate([self.target, self.source]),
                ),
            ),
            shape=(n, n),
        )
        # A plane around the network's middle, for placing points (only placing: every length
        # reported is geo's).
        self.lat0 = float(np.mean(self.lat)) if n else 0.0
        self.x, self.y = self.plane(self.lat, self.lng)
        ax, ay = self.x[self.source], self.y[self.source]
        bx, by = self.x[self.target], self.y[self.target]
        pieces = np.maximum(1, np.ceil(np.hypot(bx - ax, by - ay) / PIECE_M)).astype(np.int64)
        self._piece_edge = np.repeat(np.arange(len(self.source)), pieces)
        first = np.repeat(np.cumsum(pieces) - pieces, pieces)
        middle = (np.arange(len(self._piece_edge)) - first + 0.5) / pieces[self._piece_edge]
        e = self._piece_edge
        self._pieces = cKDTree(
            np.column_stack((ax[e] + (bx[e] - ax[e]) * middle, ay[e] + (by[e] - ay[e]) * middle))
        )
        self._half_piece = float(
            (np.hypot(bx - ax, by - ay) / pieces).max() / 2 if len(pieces) else 0.0
        )

    def cut(self, south: float, west: float, north: float, east: float) -> "Streets":
        """The part of the network with both ends of an edge inside the box (a district's own
        network, as an import cut to it would give)."""
        inside = (self.lat >= south) & (self.lat <= north) & (self.lng >= west) & (self.lng <= east)
        keep = inside[self.source] & inside[self.target]
        renumber = np.cumsum(inside) - 1
        return Streets(
            self.lat[inside],
            self.lng[inside],
            renumber[self.source[keep]],
            renumber[self.target[keep]],
            self.length_m[keep],
            self.kind[keep],
            self.kinds,
            f"{self.key}:cut:{south}:{west}:{north}:{east}",
        )

    def plane(self, lat: np.ndarray, lng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = geo.METRES_PER_DEGREE
        return (
            np.asarray(lng) * scale * math.cos(math.radians(self.lat0)),
            np.asarray(lat) * scale,
        )

    @property
    def nodes(self) -> int:
        return len(self.lat)

    def place(self, lat: np.ndarray, lng: np.ndarray, within_m: float = SNAP_M) -> Placed:
        """Each point's nearest spot on an edge, if one is within ``within_m``."""
        lat, lng = np.asarray(lat, np.float64), np.asarray(lng, np.float64)
        m = len(lat)
        edge = np.full(m, -1, dtype=np.int64)
        along = np.zeros(m)
        offset = np.full(m, np.inf)
        if not m or not len(self.source):
            return Placed(edge, along, offset)
        px, py = self.plane(lat, lng)
        points = np.column_stack((px, py))
        # The nearest piece's middle bounds the search; every piece that could be nearer has its
        # middle within half a piece of that bound. Slack: the plane is not geo's measure.
        first, _ = self._pieces.query(points, distance_upper_bound=within_m * 1.01 + 1)
        near = np.isfinite(first)
        if not near.any():
            return Placed(edge, along, offset)
        rows = np.flatnonzero(near)
        found = self._pieces.query_ball_point(points[rows], first[rows] + self._half_piece + 1e-6)
        counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
        who = np.repeat(rows, counts)
        cand = self._piece_edge[np.concatenate(found).astype(np.int64)]
        # Exact distance from each point to each candidate edge, in the plane.
        ax, ay = self.x[self.source[cand]], self.y[self.source[cand]]
        dx, dy = self.x[self.target[cand]] - ax, self.y[self.target[cand]] - ay
        span = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(span > 0, ((px[who] - ax) * dx + (py[who] - ay) * dy) / span, 0.0)
        t = np.clip(t, 0.0, 1.0)
        d = np.hypot(ax + t * dx - px[who], ay + t * dy - py[who])
        # The nearest candidate per point: sort by (point, distance, edge) and take the first.
        order = np.lexsort((cand, d, who))
        who, cand, t, d = who[order], cand[order], t[order], d[order]
        keep = np.r_[True, who[1:] != who[:-1]]
        who, cand, t = who[keep], cand[keep], t[keep]
        # The spot, back in degrees, and geo's metres to it.
        s_lat = self.lat[self.source[cand]] + t * (
            self.lat[self.target[cand]] - self.lat[self.source[cand]]
        )
        s_lng = self.lng[self.source[cand]] + t * (
            self.lng[self.target[cand]] - self.lng[self.source[cand]]
        )
        metres = geo.distances_m(lat[who], lng[who], s_lat, s_lng)
        inside = metres <= within_m
        edge[who[inside]] = cand[inside]
        along[who[inside]] = t[inside]
        offset[who[inside]] = metres[inside]
        return Placed(edge, along, offset)

    def with_starts(self, placed: Placed) -> csr_matrix:
        """The graph with one extra node per placed point (``nodes + i``), with edges out to both
        ends of its edge and none in. Points not on the streets get a node without edges."""
        n, k = self.nodes, len(placed.edge)
        rows = np.flatnonzero(placed.on_streets)
        e = placed.edge[rows]
        to_source = placed.offset_m[rows] + placed.along[rows] * self.length_m[e]
        to_target = placed.offset_m[rows] + (1 - placed.along[rows]) * self.length_m[e]
        extra = csr_matrix(
            (
                np.maximum(np.concatenate([to_source, to_target]), NANOMETRE),
                (np.concatenate([rows, rows]), np.concatenate([self.source[e], self.target[e]])),
            ),
            shape=(k, n + k),
        )
        base = self.graph
        # The street rows widened to n + k columns, then the new rows below them.
        widened = csr_matrix((base.data, base.indices, base.indptr), shape=(n, n + k))
        return csr_matrix(sparse_vstack([widened, extra], format="csr"))

    def reach(
        self,
        graph: csr_matrix,
        starts: np.ndarray,
        limit_m: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every street node's walk from the nearest of ``starts`` (extra-node numbers, from 0)
        within ``limit_m``, and which start that is (-1: none within the limit)."""
        n = self.nodes
        if not len(starts):
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        dist, _, src = dijkstra(
            graph,
            directed=True,
            indices=np.asarray(starts, dtype=np.int64) + n,
            min_only=True,
            limit=limit_m,
            return_predecessors=True,
        )
        src = src[:n].astype(np.int64)
        src[src >= 0] -= n
        return dist[:n], src

    def walk(self, starts: Placed, ends: Placed, limit_m: float) -> np.ndarray:
        """Metres from the nearest of ``starts`` to each of ``ends`` along the streets (inf
        beyond ``limit_m`` or where either is off the streets): a few limited searches from the
        ends of the starts' edges, for one origin's handful of gates."""
        result = np.full(len(ends.edge), np.inf)
        on = np.flatnonzero(starts.on_streets)
        reached = np.flatnonzero(ends.on_streets)
        if not len(on) or not len(reached):
            return result
        e = starts.edge[on]
        roots = np.concatenate([self.source[e], self.target[e]])
        extra = np.concatenate(
            [
                starts.offset_m[on] + starts.along[on] * self.length_m[e],
                starts.offset_m[on] + (1 - starts.along[on]) * self.length_m[e],
            ]
        )
        # Each root's own search, then the start's way out to it added: the nearest over all.
        rows = dijkstra(self.graph, directed=True, indices=roots, limit=limit_m)
        dist = np.min(rows + extra[:, None], axis=0)
        f = ends.edge[reached]
        t = ends.along[reached]
        length = self.length_m[f]
        best = np.minimum(
            dist[self.source[f]] + t * length, dist[self.target[f]] + (1 - t) * length
        )
        # A start on the end's own edge walks straight along it.
        for i in on.tolist():
            same = f == starts.edge[i]
            if same.any():
                direct = starts.offset_m[i] + np.abs(t[same] - starts.along[i]) * length[same]
                best[same] = np.minimum(best[same], direct)
        best = best + ends.offset_m[reached]
        result[reached] = np.where(best <= limit_m, best, np.inf)
        return result

    def path(self, start: Placed, end: Placed, limit_m: float) -> list[int] | None:
        """The street nodes of the shortest walk from one placed point to another (both on the
        streets), in order; [] when the walk stays on their shared edge; None beyond
        ``limit_m``."""
        a, b = int(start.edge[0]), int(end.edge[0])
        if a < 0 or b < 0:
            return None
        roots = [int(self.source[a]), int(self.target[a])]
        out = [
            float(start.along[0] * self.length_m[a]),
            float((1 - start.along[0]) * self.length_m[a]),
        ]
        dist, previous = dijkstra(
            self.graph, directed=True, indices=roots, limit=limit_m, return_predecessors=True
        )
        into = [
            (int(self.source[b]), float(end.along[0] * self.length_m[b])),
            (int(self.target[b]), float((1 - end.along[0]) * self.length_m[b])),
        ]
        best, chosen = math.inf, None
        for r in range(2):
            for node, last in into:
                total = out[r] + dist[r, node] + last
                if total < best:
                    best, chosen = total, (r, node)
        if a == b and abs(float(start.along[0] - end.along[0])) * self.length_m[a] <= best:
            return []
        if chosen is None or best > limit_m:
            return None
        r, node = chosen
        nodes = [node]
        while nodes[-1] != roots[r]:
            nodes.append(int(previous[r, nodes[-1]]))
        return nodes[::-1]

    def segments_in(
        self, south: float, west: float, north: float, east: float, budget: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The edges with an end inside the box, as many as ``budget`` allows: minor ones only
        when all fit, then major ones, longest first. (edge indices, whether each is major)."""
        inside = (self.lat >= south) & (self.lat <= north) & (self.lng >= west) & (self.lng <= east)
        edges = np.flatnonzero(inside[self.source] | inside[self.target])
        major_kinds = np.array([k in MAJOR for k in self.kinds], dtype=bool)
        major = major_kinds[self.kind[edges]] if len(self.kinds) else np.zeros(len(edges), bool)
        if len(edges) > budget:
            edges, major = edges[major], major[major]
            if len(edges) > budget:
                keep = np.argsort(-self.length_m[edges], kind="stable")[:budget]
                edges, major = edges[keep], major[keep]
        return edges, major

    def walks(
        self,
        dist: np.ndarray,
        src: np.ndarray,
        gates: Placed,
        ends: Placed,
        end_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each placed gate's walk to the nearest of the placed ``ends`` at ``end_rows`` (the
        starts of ``dist`` and ``src``, from ``reach``): (metres, index into ``ends``, -1 and
        inf where none). Gates off the streets get inf."""
        g = np.flatnonzero(gates.on_streets)
        metres = np.full(len(gates.edge), np.inf)
        which = np.full(len(gates.edge), -1, dtype=np.int64)
        if not len(g):
            return metres, which
        e = gates.edge[g]
        t = gates.along[g]
        length = self.length_m[e]
        via_source = dist[self.source[e]] + t * length
        via_target = dist[self.target[e]] + (1 - t) * length
        best = np.where(via_source <= via_target, via_source, via_target)
        who = np.where(via_source <= via_target, src[self.source[e]], src[self.target[e]])
        # Ends on the gate's own edge: straight along it.
        own = end_rows[ends.on_streets[end_rows]]
        if len(own):
            order = np.argsort(ends.edge[own], kind="stable")
            own = own[order]
            own_edges = ends.edge[own]
            lo = np.searchsorted(own_edges, e, side="left")
            hi = np.searchsorted(own_edges, e, side="right")
            counts = hi - lo
            if counts.any():
                gate_at = np.repeat(np.arange(len(g)), counts)
                step = np.arange(len(gate_at)) - np.repeat(np.cumsum(counts) - counts, counts)
                pick = own[np.repeat(lo, counts) + step]
                along_edge = np.abs(ends.along[pick] - t[gate_at]) * length[gate_at]
                direct = ends.offset_m[pick] + along_edge
                order = np.lexsort((direct, gate_at))
                gate_at, pick, direct = gate_at[order], pick[order], direct[order]
                first = np.r_[True, gate_at[1:] != gate_at[:-1]]
                gate_at, pick, direct = gate_at[first], pick[first], direct[first]
                closer = direct < best[gate_at]
                best[gate_at[closer]] = direct[closer]
                who[gate_at[closer]] = pick[closer]
            # ``who`` so far names starts by their extra-node number, which is the end's index.
        found = who >= 0
        metres[g[found]] = best[found] + gates.offset_m[g[found]]
        which[g[found]] = who[found]
        return metres, which


# Networks read in this process, by district: a city's is hundreds of thousands of rows and its
# index takes a moment to build, and it changes only when an extract is imported again.
_networks: dict[int, Streets] = {}


def load_streets(district_ids: Iterable[int]) -> dict[int, Streets]:
    """The street networks of those of ``district_ids`` that have one, by district id: one query,
    and two more per network not read before in this process (or imported again since)."""
    from streets.models import StreetNetwork

    rows = StreetNetwork.objects.filter(district_id__in=list(district_ids)).values_list(
        "district_id", "id", "source_sha256", "imported_at"
    )
    return {row[0]: read(*row) for row in rows}


def read(district_id: int, pk: int, sha256: str, imported) -> Streets:
    """The network ``pk`` of the district, from this process's memory when it was read before
    as the same import, else from the database (two queries)."""
    from django.db import connection

    from streets.models import StreetEdge, StreetNode

    key = f"{pk}:{sha256}:{imported.isoformat()}"
    known = _networks.get(district_id)
    if known is not None and known.key == key:
        return known
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, latitude, longitude FROM {StreetNode._meta.db_table} "
            "WHERE network_id = %s ORDER BY id",
            [pk],
        )
        nodes = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 3)
        cursor.execute(
            f"SELECT source_id, target_id, length_m, kind FROM {StreetEdge._meta.db_table} "
            "WHERE network_id = %s",
            [pk],
        )
        edges = cursor.fetchall()
    node_ids = nodes[:, 0].astype(np.int64)
    ends = np.array([(a, b) for a, b, _m, _k in edges], dtype=np.int64).reshape(-1, 2)
    names = np.array([k for *_, k in edges], dtype=str)
    kinds, kind = np.unique(names, return_inverse=True)
    streets = Streets(
        nodes[:, 1],
        nodes[:, 2],
        np.searchsorted(node_ids, ends[:, 0]),
        np.searchsorted(node_ids, ends[:, 1]),
        np.array([m for _a, _b, m, _k in edges], dtype=np.float64),
        kind,
        tuple(kinds.tolist()),
        key,
    )
    _networks[district_id] = streets
    return streets
