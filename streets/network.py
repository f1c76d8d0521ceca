"""A district's street network as arrays, for walking: points placed on the nearest edge, and
shortest walks from such points along the streets.

Pure numpy and scipy but for ``load_streets``, which reads a network from the database once per
process (and again after a re-import). The coverage engine (reports.coverage) walks every
compound to every category with it; the facility finder walks from one compound.

Points are placed on edges, not nodes: a canteen in the middle of a 300 m block is reached from
that spot, not from a corner. A point farther than ``SNAP_M`` from every edge is "off the
streets" (a misplaced point, most likely) and its callers fall back to the straight line.

Searches run on the network's junctions only. Most nodes of a drawn street (an extract's, or the
benchmark city's) are shape points with two neighbours: a walk that enters such a run of nodes
leaves at its other end or stops inside it, so each run between two junctions (a *chain*) is one
edge of the searched graph, and every point placed on a street sits at its metres along its
chain. The answer is the same walk in a graph a fraction of the size. Walks start from extra
graph nodes, one per placed point, with edges out to both junctions of the point's chain and none
in, so no walk passes through one; a point at the other end reads the two junctions of its own
chain, and a start on that same chain is checked directly (the walk along one chain need not
touch either end). Every length reported is geo's; the plane below only places points.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse import vstack as sparse_vstack
from scipy.sparse.csgraph import connected_components, dijkstra
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
# Placing asks for this many nearest pieces at once (and for all of them where more are as near).
NEAREST_PIECES = 12


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


def _graph(rows: np.ndarray, cols: np.ndarray, metres: np.ndarray, shape) -> csr_matrix:
    """A sparse graph with the shortest of parallel edges (scipy would add them up)."""
    order = np.lexsort((metres, cols, rows))
    rows, cols, metres = rows[order], cols[order], metres[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if len(rows) else []
    return csr_matrix(
        (np.maximum(metres[first], NANOMETRE), (rows[first], cols[first])), shape=shape
    )


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
        self._full: csr_matrix | None = None
        self._chains()
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

    def _chains(self) -> None:
        """The searched graph: the junctions (nodes with other than two edge ends) and the chains
        of edges between them. Each edge gets its chain and the metres along that chain of its
        two ends; each chain its two junctions (``chain_u``, ``chain_v``) and its length."""
        n = self.nodes
        degree = np.bincount(self.source, minlength=n) + np.bincount(self.target, minlength=n)
        junction = degree != 2
        while True:
            inner = ~junction
            both = inner[self.source] & inner[self.target]
            _, label = connected_components(
                csr_matrix(
                    (np.ones(int(both.sum())), (self.source[both], self.target[both])),
                    shape=(n, n),
                ),
                directed=False,
            )
            boundary = np.flatnonzero(inner[self.source] ^ inner[self.target])
            inner_end = np.where(
                inner[self.source[boundary]], self.source[boundary], self.target[boundary]
            )
            count = int(label.max()) + 1 if n else 0
            ends_per = np.bincount(label[inner_end], minlength=count)
            # A ring of two-edge nodes alone has no junction: its first node becomes one.
            ring = np.zeros(count, dtype=bool)
            ring[label[inner]] = True
            ring &= ends_per == 0
            if not ring.any():
                break
            first = np.full(count, n, dtype=np.int64)
            np.minimum.at(first, label[inner], np.flatnonzero(inner))
            junction[first[ring]] = True
        # Chains through two-edge nodes: numbered by their run of such nodes, each with exactly
        # two boundary edges (the first in edge order starts it, the other ends it).
        runs = np.flatnonzero(ends_per > 0)
        chain_of_run = np.full(count, -1, dtype=np.int64)
        chain_of_run[runs] = np.arange(len(runs))
        inner_chains = len(runs)
        order = np.lexsort((boundary, chain_of_run[label[inner_end]]))
        boundary, inner_end = boundary[order], inner_end[order]
        opening, closing = boundary[0::2], boundary[1::2]
        opening_inner, closing_inner = inner_end[0::2], inner_end[1::2]
        assert len(opening) == len(closing) == inner_chains
        outer = np.where(
            inner_end == self.source[boundary], self.target[boundary], self.source[boundary]
        )
        # Metres along each chain: one search from every chain's start over the chains alone,
        # each given its own start and end node, so no walk leaves its chain.
        interior = np.flatnonzero(both)
        start_node = n + np.arange(inner_chains)
        end_node = n + inner_chains + np.arange(inner_chains)
        a = np.concatenate([self.source[interior], start_node, end_node])
        b = np.concatenate([self.target[interior], opening_inner, closing_inner])
        w = np.concatenate(
            [self.length_m[interior], self.length_m[opening], self.length_m[closing]]
        )
        size = n + 2 * inner_chains
        if inner_chains:
            along = dijkstra(
                _graph(np.r_[a, b], np.r_[b, a], np.r_[w, w], (size, size)),
                directed=True,
                indices=start_node,
                min_only=True,
            )
        else:
            along = np.zeros(size)
        direct = np.flatnonzero(junction[self.source] & junction[self.target])
        core = np.cumsum(junction) - 1
        self.junction_nodes = np.flatnonzero(junction)  # the node of each junction
        self.junctions = len(self.junction_nodes)
        m = len(self.source)
        self.edge_chain = np.empty(m, dtype=np.int64)
        self.edge_at_source = np.empty(m)
        self.edge_at_target = np.empty(m)
        self.edge_chain[interior] = chain_of_run[label[self.source[interior]]]
        self.edge_at_source[interior] = along[self.source[interior]]
        self.edge_at_target[interior] = along[self.target[interior]]
        chain_m = np.concatenate([along[end_node], self.length_m[direct]])
        for edges, inner_nodes, at_junction in (
            (opening, opening_inner, np.zeros(inner_chains)),
            (closing, closing_inner, chain_m[:inner_chains]),
        ):
            self.edge_chain[edges] = np.arange(inner_chains)
            inner_first = self.source[edges] == inner_nodes
            self.edge_at_source[edges] = np.where(inner_first, along[inner_nodes], at_junction)
            self.edge_at_target[edges] = np.where(inner_first, at_junction, along[inner_nodes])
        self.edge_chain[direct] = inner_chains + np.arange(len(direct))
        self.edge_at_source[direct] = 0.0
        self.edge_at_target[direct] = self.length_m[direct]
        self.chain_u = core[np.concatenate([outer[0::2], self.source[direct]])]
        self.chain_v = core[np.concatenate([outer[1::2], self.target[direct]])]
        self.chain_m = chain_m
        # The searched graph: one edge per chain between two junctions (the shortest of
        # parallel ones; a chain back to its own junction shortens no walk).
        real = self.chain_u != self.chain_v
        u, v, w = self.chain_u[real], self.chain_v[real], chain_m[real]
        k = self.junctions
        self.graph = _graph(np.r_[u, v], np.r_[v, u], np.r_[w, w], (k, k))

    def _at(self, edge: np.ndarray, along: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The chains of spots ``along`` their ``edge``s, and the metres along each chain."""
        at_source, at_target = self.edge_at_source[edge], self.edge_at_target[edge]
        return self.edge_chain[edge], at_source + along * (at_target - at_source)

    @property
    def full_graph(self) -> csr_matrix:
        """Every node and edge (for drawing one walk node by node), built when first asked."""
        if self._full is None:
            s, t, w = self.source, self.target, self.length_m
            self._full = _graph(np.r_[s, t], np.r_[t, s], np.r_[w, w], (self.nodes, self.nodes))
        return self._full

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
        # middle within half a piece of that bound. Slack: the plane is not geo's measure. One
        # query for the nearest few pieces; a point with more than that within the bound (at a
        # crossing of many short edges) is asked again for all of them.
        k = min(NEAREST_PIECES, len(self._piece_edge))
        reach, piece = self._pieces.query(
            points, k=k, distance_upper_bound=within_m * 1.01 + 1 + self._half_piece
        )
        reach, piece = reach.reshape(m, k), piece.reshape(m, k)
        near = np.isfinite(reach[:, 0])
        if not near.any():
            return Placed(edge, along, offset)
        bound = reach[:, :1] + self._half_piece + 1e-6
        more = near & (reach[:, -1] <= bound[:, 0])
        few = np.flatnonzero(near & ~more)
        # The points with a few candidates, as a table: a row per point, a column per piece.
        cand = self._piece_edge[np.minimum(piece[few], len(self._piece_edge) - 1)]
        t, d = self._to_edges(cand, px[few, None], py[few, None])
        d = np.where(reach[few] <= bound[few], d, np.inf)
        # The nearest candidate per point, the lowest edge number among equals.
        nearest = d == d.min(axis=1, keepdims=True)
        cand = np.where(nearest, cand, np.iinfo(np.int64).max)
        column = np.argmin(cand, axis=1)
        who = few
        cand = cand[np.arange(len(few)), column]
        t = t[np.arange(len(few)), column]
        if more.any():
            rows = np.flatnonzero(more)
            found = self._pieces.query_ball_point(points[rows], bound[rows, 0])
            counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
            many = np.repeat(rows, counts)
            many_cand = self._piece_edge[np.concatenate(found).astype(np.int64)]
            many_t, many_d = self._to_edges(many_cand, px[many], py[many])
            # Sorted by (point, distance, edge): the first of each point.
            order = np.lexsort((many_cand, many_d, many))
            many, many_cand, many_t = many[order], many_cand[order], many_t[order]
            first = np.r_[True, many[1:] != many[:-1]]
            who = np.concatenate([who, many[first]])
            cand = np.concatenate([cand, many_cand[first]])
            t = np.concatenate([t, many_t[first]])
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

    def _to_edges(
        self, edge: np.ndarray, px: np.ndarray, py: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For points (in the plane) and edges: how far along each edge its nearest spot to the
        point lies (0 … 1), and the distance to that spot, in the plane."""
        ax, ay = self.x[self.source[edge]], self.y[self.source[edge]]
        dx, dy = self.x[self.target[edge]] - ax, self.y[self.target[edge]] - ay
        span = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(span > 0, ((px - ax) * dx + (py - ay) * dy) / span, 0.0)
        t = np.clip(t, 0.0, 1.0)
        return t, np.hypot(ax + t * dx - px, ay + t * dy - py)

    def with_starts(self, placed: Placed) -> csr_matrix:
        """The searched graph with one extra node per placed point (``junctions + i``), with
        edges out to both junctions of its chain and none in. Points not on the streets get a
        node without edges."""
        n, k = self.junctions, len(placed.edge)
        rows = np.flatnonzero(placed.on_streets)
        chain, at = self._at(placed.edge[rows], placed.along[rows])
        offset = placed.offset_m[rows]
        extra = _graph(
            np.r_[rows, rows],
            np.r_[self.chain_u[chain], self.chain_v[chain]],
            np.r_[offset + at, offset + self.chain_m[chain] - at],
            (k, n + k),
        )
        base = self.graph
        # The junction rows widened to n + k columns, then the new rows below them.
        widened = csr_matrix((base.data, base.indices, base.indptr), shape=(n, n + k))
        return csr_matrix(sparse_vstack([widened, extra], format="csr"))

    def reach(
        self,
        graph: csr_matrix,
        starts: np.ndarray,
        limit_m: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every junction's walk from the nearest of ``starts`` (extra-node numbers, from 0)
        within ``limit_m``, and which start that is (-1: none within the limit)."""
        n = self.junctions
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
        junctions of the starts' chains, for one origin's handful of gates."""
        result = np.full(len(ends.edge), np.inf)
        on = np.flatnonzero(starts.on_streets)
        reached = np.flatnonzero(ends.on_streets)
        if not len(on) or not len(reached):
            return result
        chain, at = self._at(starts.edge[on], starts.along[on])
        roots = np.r_[self.chain_u[chain], self.chain_v[chain]]
        out = starts.offset_m[on]
        extra = np.r_[out + at, out + self.chain_m[chain] - at]
        # Each root's own search, then the start's way out to it added: the nearest over all.
        rows = dijkstra(self.graph, directed=True, indices=roots, limit=limit_m)
        dist = np.min(rows + extra[:, None], axis=0)
        end_chain, end_at = self._at(ends.edge[reached], ends.along[reached])
        best = np.minimum(
            dist[self.chain_u[end_chain]] + end_at,
            dist[self.chain_v[end_chain]] + self.chain_m[end_chain] - end_at,
        )
        # A start on the end's own chain walks straight along it.
        for i in range(len(on)):
            same = end_chain == chain[i]
            if same.any():
                direct = out[i] + np.abs(end_at[same] - at[i])
                best[same] = np.minimum(best[same], direct)
        best = best + ends.offset_m[reached]
        result[reached] = np.where(best <= limit_m, best, np.inf)
        return result

    def path(self, start: Placed, end: Placed, limit_m: float) -> list[int] | None:
        """The street nodes of the shortest walk from one placed point to another (both on the
        streets), in order; [] when the walk stays on their shared edge; None beyond
        ``limit_m``. Searched over every node, as it is drawn."""
        a, b = int(start.edge[0]), int(end.edge[0])
        if a < 0 or b < 0:
            return None
        roots = [int(self.source[a]), int(self.target[a])]
        out = [
            float(start.along[0] * self.length_m[a]),
            float((1 - start.along[0]) * self.length_m[a]),
        ]
        dist, previous = dijkstra(
            self.full_graph, directed=True, indices=roots, limit=limit_m, return_predecessors=True
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
        chain, at = self._at(gates.edge[g], gates.along[g])
        u, v = self.chain_u[chain], self.chain_v[chain]
        via_u = dist[u] + at
        via_v = dist[v] + (self.chain_m[chain] - at)
        best = np.where(via_u <= via_v, via_u, via_v)
        who = np.where(via_u <= via_v, src[u], src[v])
        # Ends on the gate's own chain: straight along it.
        own = end_rows[ends.on_streets[end_rows]]
        if len(own):
            own_chain, own_at = self._at(ends.edge[own], ends.along[own])
            order = np.argsort(own_chain, kind="stable")
            own, own_chain, own_at = own[order], own_chain[order], own_at[order]
            lo = np.searchsorted(own_chain, chain, side="left")
            hi = np.searchsorted(own_chain, chain, side="right")
            counts = hi - lo
            if counts.any():
                gate_at = np.repeat(np.arange(len(g)), counts)
                step = np.arange(len(gate_at)) - np.repeat(np.cumsum(counts) - counts, counts)
                index = np.repeat(lo, counts) + step
                pick = own[index]
                direct = ends.offset_m[pick] + np.abs(own_at[index] - at[gate_at])
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


def preload() -> None:
    """Read every district's network into this process (an app server calls it once, in the
    background, as it starts): the first page that walks then does not wait for the read."""
    import logging

    from django.db import DatabaseError, connection

    from streets.models import StreetNetwork

    try:
        load_streets(StreetNetwork.objects.values_list("district_id", flat=True))
    except DatabaseError:
        # The database is not there yet: the first page that walks reads the network instead.
        logging.getLogger(__name__).warning("street networks not preloaded", exc_info=True)
    finally:
        connection.close()
