"""Walking-distance coverage: for each compound and category, the nearest facility and whether it
lies within the category's walking circle; roll-ups for officials, a what-if with planned
facilities, incremental updates and a greedy choice among candidate sites.

Pure: numpy arrays and dataclasses in, figures out; no request, template or ORM. ``load()`` at the
bottom is the thin loader that feeds it from the database in four queries. The community page, the
officials' reports and bench/coverage.py call the same functions.

How distances are measured. Points become 3-D unit vectors, so one scipy ``cKDTree`` per category
finds nearest facilities and everything within a walk without a loop per compound (the chord
between unit vectors grows monotonically with the great-circle distance). Every distance the
engine reports or compares with a threshold is then recomputed with portal.lib.geo's formula
(``distances_m`` is its vectorised twin), so the engine, the pages and the database agree to the
millimetre; the tree is only asked for candidates, with a metre of slack. The one consequence: of
two facilities whose distances differ by less than a millimetre, the tree may pick the other one.

Which facilities serve: open ones, and temporarily closed ones (``SERVING``, the same as
``Facility.objects.operating()``): a canteen shut for a month's repairs still exists for
planning; planned and under-construction ones count only in the what-if (``WITH_PLANNED``).

How far "nearest" looks: up to ``REACH`` times a category's walk. An uncovered compound is told
how far its nearest facility is up to there, and "none within reach" beyond; bounding the search
is what lets one changed facility touch only the compounds within reach of its old and new points.

Pickled compactly, for the reports' shared cache: compounds without their unit vectors and tree
(rebuilt), facility statuses and codes as small integers, a matrix's facility ids as int32 and
its distances as float32 (``stored_metres``: never rounded across a whole or half metre, so every
figure the reports derive reads the same), a walker without its placements (placed again when its
networks are attached).
"""

import dataclasses
import functools
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from facilities.taxonomy import MIN_FLOOR_AREA_M2
from portal.lib import geo
from streets.network import SNAP_M, Placed, Streets, load_streets  # noqa: F401 (re-exported)

# Facility.Status values, spelt out so the pure part needs no Django (a test checks they match).
SERVING = frozenset({"open", "paused"})
WITH_PLANNED = SERVING | {"planned", "building"}

# Nearest facilities are looked for up to this multiple of a category's walk (the community page
# loads facilities up to twice the widest walk for the same reason).
REACH = 2.0

# The tree is asked for candidates a metre farther than needed, and geo's formula decides: the
# chord and the equirectangular distance differ by millimetres over a few kilometres.
SLACK_M = 1.0

# Smallest floor area a candidate site needs to host a category: facilities.taxonomy.

Level = Literal["community", "subdistrict", "district", "city"]


def distances_m(lat: np.ndarray, lng: np.ndarray, to_lat: float, to_lng: float) -> np.ndarray:
    """geo.distance_m from many points to one (or pairwise, given arrays for both)."""
    return geo.distances_m(lat, lng, to_lat, to_lng)


def unit_vectors(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """(n, 3) points on the unit sphere."""
    phi, lam = np.radians(lat), np.radians(lng)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def chord(metres: float) -> float:
    """The unit-sphere chord spanning ``metres`` of great circle (plus the slack)."""
    if math.isinf(metres):
        return math.inf
    return 2 * math.sin(min(math.pi, (metres + SLACK_M) / geo.EARTH_RADIUS_M) / 2)


def stored_metres(metres: np.ndarray) -> np.ndarray:
    """Distances as float32, for keeping: a tenth of a millimetre at 2 km, and never rounded onto
    a whole or half metre the distance is not at. The reports compare distances with whole-metre
    walks, round them to whole metres and count minutes of whole metres, so each of those figures
    is the same from the stored value as from the exact one: the nearest float32 can only land on
    such a boundary, never cross it (every boundary below 2²² m is a float32 itself), and where
    it lands on one it is moved a step back to the distance's side."""
    metres = np.asarray(metres, dtype=np.float64)
    kept = metres.astype(np.float32)
    moved = (kept != metres) & np.isfinite(kept)
    moved[moved] = np.fmod(kept[moved], np.float32(0.5)) == 0
    toward = np.where(metres[moved] > kept[moved], np.float32(np.inf), np.float32(-np.inf))
    kept[moved] = np.nextafter(kept[moved], toward)
    return kept


def _ids32(ids: np.ndarray) -> np.ndarray:
    """Ids as int32 where they fit (they are read back as int64)."""
    if len(ids) and (ids.max() > np.iinfo(np.int32).max or ids.min() < np.iinfo(np.int32).min):
        return ids
    return ids.astype(np.int32)


def _coded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as (the distinct ones, each value's index among them)."""
    labels, index = np.unique(values, return_inverse=True)
    return labels, index.astype(np.uint16 if len(labels) > 255 else np.uint8)


@dataclass(frozen=True)
class Circle:
    """A category's walking circle."""

    code: str
    distance_m: int
    required: bool = False


@dataclass(frozen=True)
class Gates:
    """Where compounds' walks start: each gate's compound (a row of ``Homes``) and point."""

    home: np.ndarray  # int64
    lat: np.ndarray
    lng: np.ndarray

    @classmethod
    def from_rows(cls, home_ids: np.ndarray, rows: Sequence[tuple]) -> "Gates":
        """From (compound id, lat, lng) rows; gates of compounds not in ``home_ids`` are left
        out."""
        ids, lat, lng = list(zip(*rows, strict=True)) if rows else [(), (), ()]
        ids = np.array(ids, dtype=np.int64)
        order = np.argsort(home_ids)
        at = np.searchsorted(home_ids, ids, sorter=order)
        at = np.minimum(at, max(len(home_ids) - 1, 0))
        known = (home_ids[order[at]] == ids) if len(home_ids) else np.zeros(len(ids), bool)
        return cls(
            order[at[known]].astype(np.int64),
            np.array(lat, dtype=np.float64)[known],
            np.array(lng, dtype=np.float64)[known],
        )


@dataclass(frozen=True)
class Homes:
    """Compounds as columns, one row each, with the areas they roll up into, and their gates."""

    ids: np.ndarray  # int64
    lat: np.ndarray  # float64 degrees
    lng: np.ndarray
    population: np.ndarray  # int64
    community: np.ndarray  # int64 area ids
    subdistrict: np.ndarray
    district: np.ndarray
    gates: Gates | None = None  # None: every compound walks from its point
    xyz: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xyz", unit_vectors(self.lat, self.lng))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("xyz", "tree")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, xyz=unit_vectors(state["lat"], state["lng"]))

    def starts(self) -> Gates:
        """Where each compound's walks start: its gates, or its point where it has none."""
        gates = self.gates or Gates(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        bare = np.setdiff1d(np.arange(len(self.ids)), gates.home)
        home = np.concatenate([gates.home, bare])
        order = np.argsort(home, kind="stable")
        return Gates(
            home[order],
            np.concatenate([gates.lat, self.lat[bare]])[order],
            np.concatenate([gates.lng, self.lng[bare]])[order],
        )

    @functools.cached_property
    def tree(self) -> cKDTree:
        """The compounds' own tree, built when first asked for (updates and site choice need
        it; the matrix does not)."""
        return cKDTree(self.xyz)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple]) -> "Homes":
        """From (id, lat, lng, population, community, subdistrict, district) rows."""
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        ints, floats = np.int64, np.float64
        types = (ints, floats, floats, ints, ints, ints, ints)
        return cls(*(np.array(c, dtype=t) for c, t in zip(cols, types, strict=True)))

    def subset(self, rows: np.ndarray) -> "Homes":
        gates = None
        if self.gates is not None:
            renumber = np.full(len(self.ids), -1)
            renumber[rows] = np.arange(len(rows))
            keep = renumber[self.gates.home] >= 0
            gates = Gates(
                renumber[self.gates.home[keep]], self.gates.lat[keep], self.gates.lng[keep]
            )
        return Homes(
            *(
                getattr(self, n)[rows]
                for n in ("ids", "lat", "lng", "population", "community", "subdistrict")
            ),
            self.district[rows],
            gates,
        )

    def area(self, level: Level) -> np.ndarray:
        return np.zeros_like(self.ids) if level == "city" else getattr(self, level)


@dataclass(frozen=True)
class Sites:
    """Facilities as columns, and which categories each counts for as (row, code) pairs: a
    neighbourhood centre counts for several."""

    ids: np.ndarray  # int64
    lat: np.ndarray
    lng: np.ndarray
    status: np.ndarray  # str
    member_row: np.ndarray  # int64 row in the columns above
    member_code: np.ndarray  # str category code

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in ("status", "member_code"):
            state[name] = _coded(state[name])
        return state

    def __setstate__(self, state: dict) -> None:
        for name in ("status", "member_code"):
            labels, index = state[name]
            state[name] = labels[index]
        self.__dict__.update(state)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple], further: Iterable[tuple[int, str]] = ()) -> "Sites":
        """From (id, lat, lng, status, main category code) rows and (id, further code) pairs;
        pairs of facilities not among the rows are left out."""
        ids, lat, lng, status, main = list(zip(*rows, strict=True)) if rows else [()] * 5
        ids_a = np.array(ids, dtype=np.int64)
        pairs = list(further)
        extra_ids = np.array([p[0] for p in pairs], dtype=np.int64)
        known = np.isin(extra_ids, ids_a)
        pairs = [p for p, ok in zip(pairs, known.tolist(), strict=True) if ok]
        extra_ids = extra_ids[known]
        order = np.argsort(ids_a)
        extra_rows = order[np.searchsorted(ids_a, extra_ids, sorter=order)]
        return cls(
            ids_a,
            np.array(lat, dtype=np.float64),
            np.array(lng, dtype=np.float64),
            np.array(status, dtype=str),
            np.concatenate([np.arange(len(ids_a)), extra_rows]).astype(np.int64),
            np.array(list(main) + [p[1] for p in pairs], dtype=str),
        )

    def subset(self, rows: np.ndarray) -> "Sites":
        renumber = np.full(len(self.ids), -1)
        renumber[rows] = np.arange(len(rows))
        keep = renumber[self.member_row] >= 0
        return Sites(
            self.ids[rows],
            self.lat[rows],
            self.lng[rows],
            self.status[rows],
            renumber[self.member_row[keep]],
            self.member_code[keep],
        )

    def rows_for(self, code: str, statuses: frozenset[str]) -> np.ndarray:
        """Rows of the facilities that count for ``code`` with one of ``statuses``."""
        rows = np.unique(self.member_row[self.member_code == code])
        return rows[np.isin(self.status[rows], list(statuses))]


@dataclass(frozen=True)
class AreaFigures:
    """One area's residents and, per category, how many live within its walk."""

    population: int
    covered: dict[str, int]

    def share(self, code: str) -> float:
        return self.covered[code] / self.population if self.population else 0.0


@dataclass
class Matrix:
    """Every compound's nearest serving facility per category, within REACH walks."""

    homes: Homes
    circles: tuple[Circle, ...]
    nearest: dict[str, np.ndarray]  # facility id per compound, -1: none within reach
    distance: dict[str, np.ndarray]  # metres per compound, inf: none within reach
    # Per compound, whether its distances were walked along streets (else: straight lines).
    walked: np.ndarray | None = None

    def covered(self, code: str) -> np.ndarray:
        circle = next(c for c in self.circles if c.code == code)
        return self.distance[code] <= circle.distance_m

    def __getstate__(self) -> dict:
        return dict(
            self.__dict__,
            nearest={code: _ids32(ids) for code, ids in self.nearest.items()},
            distance={code: stored_metres(m) for code, m in self.distance.items()},
        )

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(
            state,
            nearest={code: ids.astype(np.int64) for code, ids in state["nearest"].items()},
            distance={code: m.astype(np.float64) for code, m in state["distance"].items()},
        )

    def delta(self, base: "Matrix") -> dict:
        """What this matrix holds that ``base`` (of the same compounds) does not, as kept: per
        category, the rows that differ with their facility ids and stored distances. The plan
        differs from today only where a planned facility is the nearer one."""
        changes = {}
        for code, ids in self.nearest.items():
            mine, theirs = stored_metres(self.distance[code]), stored_metres(base.distance[code])
            rows = np.flatnonzero((ids != base.nearest[code]) | (mine != theirs))
            changes[code] = (rows.astype(np.int32), _ids32(ids[rows]), mine[rows])
        return {"changes": changes, "walked": self.walked}

    def patched(self, delta: dict) -> "Matrix":
        """This matrix with a ``delta`` of another one applied: that other one, as kept."""
        nearest = {code: ids.copy() for code, ids in self.nearest.items()}
        distance = {code: metres.copy() for code, metres in self.distance.items()}
        for code, (rows, ids, metres) in delta["changes"].items():
            nearest[code][rows] = ids
            distance[code][rows] = metres
        return Matrix(self.homes, self.circles, nearest, distance, delta["walked"])

    def rollup(self, level: Level) -> dict[int, AreaFigures]:
        """Population and covered residents per area of ``level`` (one area, id 0, for the
        city)."""
        areas, where = np.unique(self.homes.area(level), return_inverse=True)
        pop = self.homes.population
        totals = np.bincount(where, weights=pop, minlength=len(areas))
        covered = {
            c.code: np.bincount(where, weights=pop * self.covered(c.code), minlength=len(areas))
            for c in self.circles
        }
        return {
            int(area): AreaFigures(int(totals[i]), {code: int(v[i]) for code, v in covered.items()})
            for i, area in enumerate(areas)
        }

    def complete_communities(self) -> dict[int, bool]:
        """Whether each community meets the complete-community standard: every required
        category within walking distance of all its residents. Compounds without residents
        don't count against it."""
        communities, where = np.unique(self.homes.community, return_inverse=True)
        lacking = np.zeros(len(communities), dtype=bool)
        for circle in self.circles:
            if circle.required:
                left_out = (~self.covered(circle.code)) & (self.homes.population > 0)
                lacking |= np.bincount(where, weights=left_out, minlength=len(communities)) > 0
        return {int(c): not bool(lack) for c, lack in zip(communities, lacking, strict=True)}


def _nearest_in(
    homes: Homes, rows: np.ndarray, sites: Sites, site_rows: np.ndarray, reach_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest of ``site_rows`` for the compounds at ``rows``: (facility ids, metres)."""
    ids = np.full(len(rows), -1, dtype=np.int64)
    metres = np.full(len(rows), np.inf)
    if not len(site_rows) or not len(rows):
        return ids, metres
    tree = cKDTree(unit_vectors(sites.lat[site_rows], sites.lng[site_rows]))
    _, hit = tree.query(homes.xyz[rows], distance_upper_bound=chord(reach_m))
    found = hit < len(site_rows)
    best = site_rows[hit[found]]
    d = distances_m(
        homes.lat[rows][found], homes.lng[rows][found], sites.lat[best], sites.lng[best]
    )
    inside = d <= reach_m
    where = np.flatnonzero(found)[inside]
    ids[where] = sites.ids[best[inside]]
    metres[where] = d[inside]
    return ids, metres


# ---- walking along streets ----
#
# Where a district has a street network, a compound's distance to a facility is the walk from one
# of its gates (or its own point, without gates) along the streets (streets.network places points
# on edges and walks from them). One multi-source Dijkstra per category gives every node its walk
# to the nearest serving facility and which facility that is; a gate then reads the two ends of
# its own edge. A point farther than SNAP_M from every edge falls back to the straight line, as
# does every compound of a district without a network.


class Walker:
    """Some districts' street networks and where the compounds' gates and the facilities sit on
    them: what ``compute`` and the updates walk with. Pickled without the networks (they are
    large and shared) and without the placements, which are placed again when ``attach`` gives
    the networks back (a fifth of a second for the generated city); which facilities are on the
    streets is kept."""

    def __init__(self, streets: dict[int, Streets], homes: Homes, sites: Sites) -> None:
        self.streets = streets
        self.keys = {d: s.key for d, s in streets.items()}
        self._graphs: dict[int, csr_matrix] = {}
        self._place(homes, sites)

    def _place(self, homes: Homes, sites: Sites) -> None:
        self.starts = homes.starts()
        self.gates: dict[int, tuple[np.ndarray, Placed]] = {}
        self.walked = np.zeros(len(homes.ids), dtype=bool)
        for district, network in self.streets.items():
            rows = np.flatnonzero(homes.district[self.starts.home] == district)
            placed = network.place(self.starts.lat[rows], self.starts.lng[rows])
            self.gates[district] = (rows, placed)
            self.walked[self.starts.home[rows[placed.on_streets]]] = True
        self.sites: dict[int, Placed] = {
            d: self._place_sites(network, sites) for d, network in self.streets.items()
        }

    def __getstate__(self) -> dict:
        dropped = ("streets", "_graphs", "starts", "gates", "sites", "site_streets")
        state = {k: v for k, v in self.__dict__.items() if k not in dropped}
        on = {d: a for d in self.keys if (a := self.on_streets(d)) is not None}
        state["site_streets"] = {d: (np.packbits(a), len(a)) for d, a in on.items()}
        return state

    def __setstate__(self, state: dict) -> None:
        packed = state.pop("site_streets")
        self.__dict__.update(
            state,
            streets={},
            _graphs={},
            starts=None,
            gates={},
            sites={},
            site_streets={
                d: np.unpackbits(bits, count=n).astype(bool) for d, (bits, n) in packed.items()
            },
        )

    def on_streets(self, district: int) -> np.ndarray | None:
        """Per facility (a row of the sites placed), whether it sits on the district's streets;
        None for a district without a network here."""
        placed = self.sites.get(district)
        if placed is not None:
            return placed.on_streets
        return getattr(self, "site_streets", {}).get(district)

    def attach(self, streets: dict[int, Streets], homes: Homes, sites: Sites) -> bool:
        """Give back the networks after unpickling, placing ``homes``' gates and ``sites`` on
        them again (the ones placed before); False if any is not the one placed on."""
        if {d: s.key for d, s in streets.items()} != self.keys:
            return False
        self.streets = streets
        if self.starts is None:
            self._place(homes, sites)
        return True

    @staticmethod
    def _place_sites(network: Streets, sites: Sites) -> Placed:
        pad = SNAP_M / geo.METRES_PER_DEGREE * 2
        inside = np.flatnonzero(
            (sites.lat >= network.lat.min() - pad)
            & (sites.lat <= network.lat.max() + pad)
            & (sites.lng >= network.lng.min() - pad * 2)
            & (sites.lng <= network.lng.max() + pad * 2)
        )
        placed = network.place(sites.lat[inside], sites.lng[inside])
        n = len(sites.ids)
        edge = np.full(n, -1, dtype=np.int64)
        along, offset = np.zeros(n), np.full(n, np.inf)
        edge[inside], along[inside], offset[inside] = placed.edge, placed.along, placed.offset_m
        return Placed(edge, along, offset)

    def moved(self, sites: Sites, kept: np.ndarray, fresh: Sites) -> "Walker":
        """This walker for ``sites``: the rows ``kept`` of the old sites first, then ``fresh``
        (placed now), as report_data's update builds them."""
        clone = Walker.__new__(Walker)
        clone.__dict__.update(self.__dict__, _graphs={})
        clone.sites = {}
        for district, network in self.streets.items():
            old, new = self.sites[district], self._place_sites(network, fresh)
            clone.sites[district] = Placed(
                np.concatenate([old.edge[kept], new.edge]),
                np.concatenate([old.along[kept], new.along]),
                np.concatenate([old.offset_m[kept], new.offset_m]),
            )
        return clone

    def nearest(
        self,
        homes: Homes,
        rows: np.ndarray,
        sites: Sites,
        site_rows: np.ndarray,
        reach_m: float,
        whole: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest of ``site_rows`` for the compounds at ``rows`` (facility ids, metres): walked
        where the compound has a gate on the streets, by straight line elsewhere. ``whole``: the
        site rows are a whole category, so the graph holding every facility is used."""
        position = np.full(len(homes.ids), -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        # Compounds with no gate on the streets go by straight line; the others are walked below.
        ids, metres = np.full(len(rows), -1, dtype=np.int64), np.full(len(rows), np.inf)
        straight = np.flatnonzero(~self.walked[rows])
        if len(straight):
            ids[straight], metres[straight] = _nearest_in(
                homes, rows[straight], sites, site_rows, reach_m
            )
        for district, network in self.streets.items():
            gate_rows, placed = self.gates[district]
            gate_home = self.starts.home[gate_rows]
            pick = placed.on_streets & (position[gate_home] >= 0)
            if not pick.any():
                continue
            gates = Placed(placed.edge[pick], placed.along[pick], placed.offset_m[pick])
            gate_home = gate_home[pick]
            ends = self.sites[district]
            on = site_rows[ends.on_streets[site_rows]]
            if whole:
                if district not in self._graphs:
                    self._graphs[district] = network.with_starts(ends)
                graph, starts, row_of = self._graphs[district], on, np.arange(len(sites.ids))
            else:
                ends = Placed(ends.edge[on], ends.along[on], ends.offset_m[on])
                graph, starts, row_of = network.with_starts(ends), np.arange(len(on)), on
            dist, src = network.reach(graph, starts, reach_m)
            walk_m, end = network.walks(dist, src, gates, ends, starts)
            # The shortest walk of each compound, over its gates.
            order = np.lexsort((walk_m, gate_home))
            gate_home, walk_m, end = gate_home[order], walk_m[order], end[order]
            first = np.r_[True, gate_home[1:] != gate_home[:-1]]
            home, walk_m, end = gate_home[first], walk_m[first], end[first]
            best_id = np.where(end >= 0, sites.ids[row_of[np.maximum(end, 0)]], -1)
            # Facilities off the streets count by straight line, as compounds off them do.
            off = site_rows[~self.sites[district].on_streets[site_rows]]
            if len(off):
                off_id, off_m = _nearest_in(homes, home, sites, off, reach_m)
                closer = off_m < walk_m
                walk_m = np.where(closer, off_m, walk_m)
                best_id = np.where(closer, off_id, best_id)
            beyond = walk_m > reach_m
            walk_m[beyond], best_id[beyond] = np.inf, -1
            ids[position[home]] = best_id
            metres[position[home]] = walk_m
        return ids, metres


def compute(
    homes: Homes,
    sites: Sites,
    circles: Sequence[Circle],
    statuses: frozenset[str] = SERVING,
    reach: float = REACH,
    walker: Walker | None = None,
) -> Matrix:
    """The coverage matrix: by straight line, one tree per category and one vectorised query
    for all compounds, the categories on every core at once (scipy and numpy release the GIL);
    with a ``walker``, walked along the streets where its districts have them."""
    every = np.arange(len(homes.ids))

    def one(circle: Circle) -> tuple[np.ndarray, np.ndarray]:
        rows = sites.rows_for(circle.code, statuses)
        if walker is not None:
            return walker.nearest(homes, every, sites, rows, reach * circle.distance_m, True)
        return _nearest_in(homes, every, sites, rows, reach * circle.distance_m)

    if walker is not None:  # Dijkstra holds the GIL: threads would only take turns
        results = [one(c) for c in circles]
    else:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(one, circles))
    nearest = {c.code: ids for c, (ids, _) in zip(circles, results, strict=True)}
    distance = {c.code: metres for c, (_, metres) in zip(circles, results, strict=True)}
    walked = walker.walked.copy() if walker is not None else np.zeros(len(homes.ids), bool)
    return Matrix(homes, tuple(circles), nearest, distance, walked)


def extended(
    matrix: Matrix,
    sites: Sites,
    statuses: frozenset[str],
    reach: float = REACH,
    walker: Walker | None = None,
) -> Matrix:
    """``matrix`` with the facilities of ``statuses`` added (the plan: today's matrix and the
    planned and under-construction facilities): the nearest of the union is the nearer of today's
    nearest and the nearest added one, so only the few added facilities are searched from."""
    homes = matrix.homes
    every = np.arange(len(homes.ids))
    nearest = {code: ids.copy() for code, ids in matrix.nearest.items()}
    distance = {code: metres.copy() for code, metres in matrix.distance.items()}
    for circle in matrix.circles:
        rows = sites.rows_for(circle.code, statuses)
        if not len(rows):
            continue
        limit = reach * circle.distance_m
        if walker is not None:
            ids, metres = walker.nearest(homes, every, sites, rows, limit, True)
        else:
            ids, metres = _nearest_in(homes, every, sites, rows, limit)
        closer = metres < distance[circle.code]
        nearest[circle.code][closer] = ids[closer]
        distance[circle.code][closer] = metres[closer]
    walked = matrix.walked.copy() if matrix.walked is not None else None
    return Matrix(homes, matrix.circles, nearest, distance, walked)


@dataclass(frozen=True)
class WhatIf:
    """Today's coverage, and the coverage once planned and building facilities open."""

    now: Matrix
    then: Matrix

    def gained(self, level: Level) -> dict[int, dict[str, int]]:
        """Residents newly within walking distance, per area and category."""
        now, then = self.now.rollup(level), self.then.rollup(level)
        return {
            area: {
                code: then[area].covered[code] - figures.covered[code] for code in figures.covered
            }
            for area, figures in now.items()
        }


def what_if(homes: Homes, sites: Sites, circles: Sequence[Circle]) -> WhatIf:
    return WhatIf(compute(homes, sites, circles), compute(homes, sites, circles, WITH_PLANNED))


@dataclass(frozen=True)
class Site:
    """One facility as the incremental update sees it."""

    id: int
    lat: float
    lng: float
    status: str
    codes: frozenset[str]


class Live:
    """A matrix kept current as facilities are added, moved or closed, each change touching only
    the compounds within reach of the facility's old and new points."""

    def __init__(self, homes: Homes, sites: Sites, circles: Sequence[Circle]) -> None:
        self.matrix = compute(homes, sites, circles)
        self.homes = homes
        self.reach_m = {c.code: REACH * c.distance_m for c in circles}
        # Per category, the serving facilities as columns the trees are rebuilt from.
        self.serving: dict[str, dict[int, tuple[float, float]]] = {}
        for circle in circles:
            rows = sites.rows_for(circle.code, SERVING)
            self.serving[circle.code] = dict(
                zip(
                    sites.ids[rows].tolist(),
                    zip(sites.lat[rows], sites.lng[rows], strict=True),
                    strict=True,
                )
            )
        self.where: dict[int, Site] = {}
        for row, code in zip(sites.member_row, sites.member_code, strict=True):
            if sites.status[row] in SERVING and code in self.serving:
                old = self.where.get(int(sites.ids[row]))
                codes = (old.codes if old else frozenset()) | {str(code)}
                self.where[int(sites.ids[row])] = Site(
                    int(sites.ids[row]), float(sites.lat[row]), float(sites.lng[row]), "open", codes
                )

    def put(self, site: Site) -> None:
        """Add a facility, or record its new point, status or categories."""
        old = self.where.pop(site.id, None)
        if old:
            for code in old.codes:
                self._remove(old, code)
        if site.status in SERVING:
            self.where[site.id] = site
            for code in site.codes & self.serving.keys():
                self._add(site, code)

    def close(self, facility_id: int) -> None:
        old = self.where.get(facility_id)
        if old:
            self.put(Site(old.id, old.lat, old.lng, "closed", old.codes))

    def _within(self, lat: float, lng: float, metres: float) -> np.ndarray:
        rows = np.array(
            self.homes.tree.query_ball_point(
                unit_vectors(np.array([lat]), np.array([lng]))[0], chord(metres)
            ),
            dtype=np.int64,
        )
        return rows[distances_m(self.homes.lat[rows], self.homes.lng[rows], lat, lng) <= metres]

    def _add(self, site: Site, code: str) -> None:
        self.serving[code][site.id] = (site.lat, site.lng)
        rows = self._within(site.lat, site.lng, self.reach_m[code])
        d = distances_m(self.homes.lat[rows], self.homes.lng[rows], site.lat, site.lng)
        closer = d < self.matrix.distance[code][rows]
        self.matrix.nearest[code][rows[closer]] = site.id
        self.matrix.distance[code][rows[closer]] = d[closer]

    def _remove(self, site: Site, code: str) -> None:
        del self.serving[code][site.id]
        # Only compounds within reach of the old point can have had it as their nearest.
        rows = self._within(site.lat, site.lng, self.reach_m[code])
        rows = rows[self.matrix.nearest[code][rows] == site.id]
        if not len(rows):
            return
        rest = self.serving[code]
        others = Sites(
            np.fromiter(rest.keys(), dtype=np.int64, count=len(rest)),
            np.array([p[0] for p in rest.values()]),
            np.array([p[1] for p in rest.values()]),
            np.full(len(rest), "open"),
            np.arange(len(rest)),
            np.full(len(rest), code),
        )
        ids, metres = _nearest_in(
            self.homes, rows, others, np.arange(len(rest)), self.reach_m[code]
        )
        self.matrix.nearest[code][rows] = ids
        self.matrix.distance[code][rows] = metres


@dataclass(frozen=True)
class Pick:
    candidate: int  # index into the candidates given
    gained: int  # residents newly within walking distance, after earlier picks


def best_sites(
    matrix: Matrix,
    code: str,
    candidates: Sequence[tuple[float, float, int | None]],
    k: int = 10,
) -> list[Pick]:
    """Greedy maximal covering: among candidate (lat, lng, floor area m²) sites large enough
    for the category, pick up to ``k``, each the one bringing the most residents not yet within
    walking distance of a facility or an earlier pick (ties: the earlier candidate). Greedy is
    within 1 − 1/e of the best set, and explainable to an official pick by pick."""
    circle = next(c for c in matrix.circles if c.code == code)
    homes = matrix.homes
    floor = MIN_FLOOR_AREA_M2.get(code, 0)
    usable = [i for i, (_, _, area) in enumerate(candidates) if (area or 0) >= floor]
    if not usable:
        return []
    lat = np.array([candidates[i][0] for i in usable])
    lng = np.array([candidates[i][1] for i in usable])
    # Candidate × compound incidence: which compounds each candidate would serve.
    reached = homes.tree.query_ball_point(unit_vectors(lat, lng), chord(circle.distance_m))
    cols = [np.array(r, dtype=np.int64) for r in reached]
    cols = [
        c[distances_m(homes.lat[c], homes.lng[c], lat[i], lng[i]) <= circle.distance_m]
        for i, c in enumerate(cols)
    ]
    indptr = np.cumsum([0] + [len(c) for c in cols])
    serves = csr_matrix(
        (np.ones(indptr[-1]), np.concatenate(cols) if cols else [], indptr),
        shape=(len(usable), len(homes.ids)),
    )
    waiting = homes.population * ~matrix.covered(code)
    picks: list[Pick] = []
    for _ in range(k):
        gains = serves @ waiting
        best = int(np.argmax(gains))  # argmax takes the first of equals
        if gains[best] <= 0:
            break
        picks.append(Pick(usable[best], int(gains[best])))
        waiting = waiting.copy()
        waiting[cols[best]] = 0
    return picks


def load(district_ids: Sequence[int] | None = None) -> tuple[Homes, Sites, list[Circle]]:
    """Compounds (of ``district_ids``, or all) with their gates, every facility that is not
    closed for good and the categories, in five queries. Facilities are not limited to the
    districts: residents near a border walk across it. The queries are the ORM's, their rows read
    straight from the cursor: tens of thousands of rows need no model machinery."""
    # Imported here so the engine above needs neither Django nor a database.
    from communities.models import CompoundGate, ResidentialCompound
    from facilities.models import Category, Facility

    compounds = ResidentialCompound.objects.all()
    gates = CompoundGate.objects.all()
    if district_ids is not None:
        compounds = compounds.filter(community__subdistrict__district_id__in=district_ids)
        gates = gates.filter(compound__community__subdistrict__district_id__in=district_ids)
    homes = Homes.from_rows(
        _fetch(
            compounds.values_list(
                "id",
                "latitude",
                "longitude",
                "population",
                "community_id",
                "community__subdistrict_id",
                "community__subdistrict__district_id",
            ).order_by()
        )
    )
    homes = dataclasses.replace(
        homes,
        gates=Gates.from_rows(
            homes.ids, _fetch(gates.values_list("compound_id", "latitude", "longitude").order_by())
        ),
    )
    facilities = Facility.objects.exclude(status=Facility.Status.CLOSED).order_by()
    sites = Sites.from_rows(
        _fetch(facilities.values_list("id", "latitude", "longitude", "status", "category__code")),
        # All of them: from_rows leaves out those of closed facilities.
        _fetch(
            Facility.other_categories.through.objects.values_list(
                "facility_id", "category__code"
            ).order_by()
        ),
    )
    circles = [
        Circle(*row)
        for row in Category.objects.order_by("sort_order", "code").values_list(
            "code", "distance_m", "required"
        )
    ]
    return homes, sites, circles


def _fetch(values_list) -> list[tuple]:
    """A values_list queryset's rows, as the cursor gives them (its columns are plain numbers
    and text, so nothing needs converting)."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    try:
        sql, params = values_list.query.sql_with_params()
    except EmptyResultSet:  # filtered by an empty list (an area with no communities yet)
        return []
    with connections[values_list.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The community page's interface: compound and facility objects in, one CategoryCoverage per
# category out. A thin layer over compute(), looking for the nearest facility at any distance
# among the supplies its caller chose.


@dataclass(frozen=True)
class Demand:
    """Where residents live: a compound."""

    id: int
    name: str
    point: geo.Point
    population: int


@dataclass(frozen=True)
class Supply:
    """A facility that serves residents, with every category it counts for."""

    id: int
    name: str
    point: geo.Point
    categories: frozenset[str]


@dataclass(frozen=True)
class Nearest:
    demand: Demand
    supply: Supply | None
    distance_m: float | None  # None when no facility of the category is known at all

    def covered(self, within_m: float) -> bool:
        return self.distance_m is not None and self.distance_m <= within_m


@dataclass(frozen=True)
class CategoryCoverage:
    code: str
    within_m: int
    nearest: tuple[Nearest, ...]  # one per compound, in the order given

    @property
    def covered(self) -> tuple[Nearest, ...]:
        return tuple(n for n in self.nearest if n.covered(self.within_m))

    @property
    def uncovered(self) -> tuple[Nearest, ...]:
        return tuple(n for n in self.nearest if not n.covered(self.within_m))

    @property
    def population(self) -> int:
        return sum(n.demand.population for n in self.nearest)

    @property
    def covered_population(self) -> int:
        return sum(n.demand.population for n in self.covered)

    @property
    def all_covered(self) -> bool:
        return bool(self.nearest) and not self.uncovered

    @property
    def closest(self) -> Nearest | None:
        """The compound-to-facility pair with the shortest walk."""
        known = [n for n in self.nearest if n.distance_m is not None]
        return min(known, key=lambda n: n.distance_m) if known else None

    @property
    def farthest(self) -> Nearest | None:
        """The compound with the longest walk to its nearest facility (None: none anywhere)."""
        if any(n.distance_m is None for n in self.nearest):
            return None
        return max(self.nearest, key=lambda n: n.distance_m, default=None)


def coverage(
    demands: Sequence[Demand],
    supplies: Sequence[Supply],
    circles: Sequence[tuple[str, int]],
    streets: Streets | None = None,
    gates: Sequence[tuple[int, float, float]] = (),
) -> list[CategoryCoverage]:
    """For each (category code, walking metres) in ``circles``: every compound's nearest facility
    among ``supplies``; by straight line at any distance, or with ``streets`` walked from the
    compounds' ``gates`` ((demand id, lat, lng); a compound without any walks from its point)
    up to REACH walks (a compound off the streets keeps the straight line)."""
    zeros = np.zeros(len(demands), dtype=np.int64)
    homes = Homes(
        np.arange(len(demands), dtype=np.int64),
        np.array([d.point[0] for d in demands], dtype=np.float64),
        np.array([d.point[1] for d in demands], dtype=np.float64),
        np.array([d.population for d in demands], dtype=np.int64),
        zeros,
        zeros,
        zeros,
    )
    sites = Sites.from_rows(
        [(i, s.point[0], s.point[1], "open", "") for i, s in enumerate(supplies)],
        [(i, code) for i, s in enumerate(supplies) for code in s.categories],
    )
    walker = None
    if streets is not None:
        row_of = {d.id: i for i, d in enumerate(demands)}
        homes = dataclasses.replace(
            homes,
            gates=Gates.from_rows(
                homes.ids, [(row_of[i], lat, lng) for i, lat, lng in gates if i in row_of]
            ),
        )
        walker = Walker({0: streets}, homes, sites)
    matrix = compute(
        homes,
        sites,
        [Circle(c, m) for c, m in circles],
        reach=REACH if walker is not None else math.inf,
        walker=walker,
    )
    return [
        CategoryCoverage(
            code,
            within_m,
            tuple(
                Nearest(d, supplies[s] if s >= 0 else None, float(m) if s >= 0 else None)
                for d, s, m in zip(
                    demands, matrix.nearest[code].tolist(), matrix.distance[code], strict=True
                )
            ),
        )
        for code, within_m in circles
    ]
