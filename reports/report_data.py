"""What the coverage reports know about an area, gathered once per scope and content version.

``gather(communities)`` runs the coverage engine over the districts of the communities a user may
read (residents near a district's edge walk across it, and ``coverage.load`` keeps every
facility for that reason), then keeps only those communities' compounds. The resulting ``Area``
is plain data (numpy columns, tuples of frozen dataclasses), pickled compactly into the shared
cache (``Area.__getstate__``: what is cheap to recompute is recomputed when read), and every report
page, export and the benchmark read their tables from it:

- ``figures(plan)``: residents and residents covered per community and category;
- ``matrix_rows`` / ``gap_rows`` / ``compound_rows``: the tables of the matrix, the gap list and a
  community's drill-down;
- ``suggestions``: the greedy choice among the area's idle rooms (``coverage.best_sites``);
- ``progress``: facilities planned, under construction and opened, by year;
- ``demand``: each community's courses in current terms and its open wishes (``read_demand``),
  kept apart from the coverage because they change far more often (see below).

``plan`` everywhere means the what-if: planned and under-construction facilities counted as open.
"""

import dataclasses
import math
import pickle
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.lib import geo
from reports import coverage
from streets import network

# What an area pickles to (``Area.__getstate__``), numbered: it is part of the area's cache keys and
# moves on with every change to that, so no app server reads an area another version wrote.
STORED_FORMAT = 3

# How many sites the suggestions propose at most, and how many the form offers.
MAX_PICKS = 10
DEFAULT_PICKS = 5


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True)
class Service:
    """A category as the reports name it, with its walking circle."""

    code: str
    name_zh: str
    name_en: str
    distance_m: int
    required: bool

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def minutes(self) -> int:
        return geo.walking_minutes(self.distance_m)


@dataclass(frozen=True)
class Place:
    """A community of the area."""

    id: int
    name: str
    slug: str
    subdistrict: str
    district: str  # with its city: 洛阳市洛龙区
    district_id: int = 0


@dataclass(frozen=True)
class Spot:
    """A facility the reports mention: nearest to some compound, or in one of the area's
    communities."""

    id: int
    name: str
    slug: str
    status: str
    latitude: float
    longitude: float
    community_id: int
    codes: tuple[str, ...]  # main category first
    year: int | None  # opened, or planned to open

    @property
    def serving(self) -> bool:
        return self.status in coverage.SERVING

    @property
    def planned(self) -> bool:
        return self.status in coverage.WITH_PLANNED - coverage.SERVING


@dataclass(frozen=True)
class Room:
    """An idle room (闲置用房), a candidate site."""

    id: int
    name: str
    community_id: int
    latitude: float
    longitude: float
    floor_area: int
    owner: str
    available_from: date | None
    notes: str
    services: tuple[str, ...] = ()  # the category codes it could take; empty: any that fits

    def could_take(self, code: str) -> bool:
        return not self.services or code in self.services


@dataclass(frozen=True)
class Cell:
    """One community × service: residents, and those within the walk."""

    population: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.population - self.covered

    @property
    def percent(self) -> int | None:
        """Rounded down, so 100 means everyone (None: no residents to cover)."""
        if not self.population:
            return None
        return 100 * self.covered // self.population

    @property
    def band(self) -> str:
        """A word for the cell's colour; the page always writes the number too."""
        p = self.percent
        if p is None:
            return "none"
        if p == 100:
            return "full"
        if p >= 80:
            return "most"
        if p >= 50:
            return "half"
        return "few"


# A community's most supported open wishes, as its report lists them.
TOP_WISHES = 5


@dataclass(frozen=True)
class WishCount:
    """A community's open wishes (not done or declined) of one kind, and their supporters."""

    kind: str  # wishes.Wish.Kind
    wishes: int
    support: int

    @property
    def label(self) -> str:
        from wishes.models import Wish

        return capfirst(Wish.Kind(self.kind).label)


@dataclass(frozen=True)
class WishItem:
    """One of a community's most supported open wishes."""

    id: int
    title: str
    kind: str
    status: str  # open | planned
    support: int
    # The category the wish names, else those its title names (facilities.matching), in order.
    codes: tuple[str, ...]
    text: str = ""  # what the resident wrote (the report's export carries it)

    @property
    def kind_label(self) -> str:
        from wishes.models import Wish

        return capfirst(Wish.Kind(self.kind).label)

    @property
    def status_label(self) -> str:
        from wishes.models import Wish

        return capfirst(Wish.Status(self.status).label)


@dataclass(frozen=True)
class Demand:
    """A community's courses in its current terms (those not yet ended) and its open wishes."""

    classes: int = 0
    seats: int = 0
    enrolled: int = 0  # seats taken
    full: int = 0  # classes without a seat left
    waiting: int = 0  # places on waiting lists (a person waiting for two classes counts twice)
    applied: int = 0  # applications to lottery classes, waiting for the draw
    residents: int = 0  # people with a seat, each counted once
    wishes: tuple[WishCount, ...] = ()  # every kind, in Wish.Kind order
    top: tuple[WishItem, ...] = ()  # most supported first

    @property
    def open_wishes(self) -> int:
        return sum(w.wishes for w in self.wishes)

    @property
    def support(self) -> int:
        return sum(w.support for w in self.wishes)

    @property
    def fill(self) -> int | None:
        """Seats taken, in per cent rounded down (None: no seats)."""
        return 100 * self.enrolled // self.seats if self.seats else None

    def wishes_of(self, kind: str) -> WishCount:
        return next((w for w in self.wishes if w.kind == kind), WishCount(kind, 0, 0))


@dataclass(frozen=True)
class DemandRow:
    """A community where residents wait for classes or wish for something, beside its gaps."""

    place: Place
    demand: Demand
    gaps: int  # required services leaving some of its residents beyond the walk


@dataclass(frozen=True)
class MatrixRow:
    place: Place
    population: int
    cells: tuple[Cell, ...]  # in the order of Area.required
    complete: bool
    demand: Demand = Demand()


@dataclass(frozen=True)
class Gap:
    """Residents of one community beyond one service's walk."""

    place: Place
    service: Service
    residents: int
    compounds: int
    population: int  # the community's residents
    farthest_m: float | None  # the longest walk to the nearest one; None: none within reach
    # Of ``residents``, those a straight line would count as covered (walking figures only).
    line_covered: int = 0


@dataclass(frozen=True)
class Walk:
    """A compound's nearest facility of one service."""

    service: Service
    spot: Spot | None  # None: none within reach
    distance_m: float | None
    covered: bool
    line_m: float | None = None  # the straight line to the nearest, where the walk was measured
    line_covered: bool = False  # within the walk by straight line
    # Covered by straight line only, and that line crosses a barrier the network's import knows
    # (a railway, a river): its (kind, name).
    across: tuple[str, str] | None = None

    @property
    def detour(self) -> bool:
        """Covered by straight line but not on foot: the streets make it too far."""
        return self.line_covered and not self.covered

    @property
    def across_text(self) -> str:
        """Why, where the data says so: 隔着铁路 (across the railway)."""
        if self.across is None:
            return ""
        kind, name = self.across
        if kind == "railway":
            return _("across the railway (%(name)s)") % {"name": name}
        if kind == "river":
            return _("across the river (%(name)s)") % {"name": name}
        return _("across %(name)s") % {"name": name}

    @property
    def minutes(self) -> int | None:
        return None if self.distance_m is None else geo.walking_minutes(self.distance_m)


@dataclass(frozen=True)
class CompoundRow:
    id: int
    name: str
    population: int
    latitude: float
    longitude: float
    walks: tuple[Walk, ...]  # in the order of the services asked for
    off_streets: bool = False  # farther than 200 m from every street: check this point


@dataclass(frozen=True)
class Suggestion:
    rank: int
    room: Room
    place: Place
    gained: int  # residents newly within the walk, after the earlier picks
    covered_after: int  # residents of the area within the walk once this and earlier picks open


@dataclass(frozen=True)
class Suggestions:
    service: Service
    picks: tuple[Suggestion, ...]
    population: int
    covered: int  # before any pick
    rooms: int  # idle rooms in the area
    too_small: int  # of them, smaller than the service needs
    min_floor_area: int

    @property
    def covered_after(self) -> int:
        return self.picks[-1].covered_after if self.picks else self.covered

    @property
    def gained(self) -> int:
        return self.covered_after - self.covered


@dataclass(frozen=True)
class YearProgress:
    year: int | None  # None: no date given
    planned: int
    building: int
    opened: int
    before: bool = False  # every year before ``year``, summed


@dataclass(frozen=True)
class Marks:
    """Where the watched event tables stood when an area was read: each one's row count, the
    facilities' highest event id, and a counter moved by changes the trail does not record (a
    facility's further categories)."""

    counts: tuple[int, ...]
    facility_max: int
    structure: int


@dataclass(frozen=True)
class Network:
    """A district's street network, as the pages name the measure: 沿街步行, from which extract
    and date."""

    district_id: int
    district: str
    source: str
    as_of: date | None
    imported: date
    is_demo: bool
    # What the import records of barriers (a railway, a river): (kind, name, (lat, lng) points).
    barriers: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...] = ()


@dataclass
class Area:
    """Coverage of the communities a user may read, today and with the plan: walked along the
    streets where their districts have a network (straight lines elsewhere), and by straight
    lines throughout (``line_now``, ``line_plan``) for comparison."""

    services: tuple[Service, ...]  # every category, in display order
    places: tuple[Place, ...]  # ordered by district, subdistrict, name
    homes: coverage.Homes  # the places' compounds only
    home_names: tuple[str, ...]
    now: coverage.Matrix
    plan: coverage.Matrix
    spots: dict[int, Spot]  # the places' own facilities, and every compound's nearest
    rooms: tuple[Room, ...]
    nearest_ids: frozenset[int]  # facilities nearest to some compound, today or with the plan
    sites: coverage.Sites | None = None  # every facility the engine read, for refresh()
    circles: tuple[coverage.Circle, ...] = ()
    marks: Marks | None = None
    demand: dict[int, Demand] = field(default_factory=dict)  # per place id (read_demand)
    demand_mark: tuple | None = None  # read_demand_mark() when ``demand`` was read
    line_now: coverage.Matrix | None = None  # None: no network, so the same as now
    line_plan: coverage.Matrix | None = None
    networks: tuple[Network, ...] = ()
    walker: coverage.Walker | None = None
    straight: bool = False  # this view shows the straight lines (``measured``)
    # Per compound: walked from a gate on the streets (False also where no network is loaded).
    on_streets: np.ndarray | None = None

    def __getstate__(self) -> dict:
        """The area as the shared cache keeps it, compressed: without the straight-line figures
        and the nearest facilities' ids (recomputed when read: a fifth of a second for the
        generated city), the plan only where it differs from today, the facilities as columns,
        and the engine's compact matrices (``coverage``). The generated city's area takes about
        4 MB so, against 44 MB as plain objects."""
        state = dict(self.__dict__)
        state.update(
            plan=self.plan.delta(self.now),
            spots=_spot_columns(self.spots, self.sites),
            nearest_ids=None,
            line_now=self.line_now is not None,
            line_plan=None,
        )
        return {"packed": zlib.compress(pickle.dumps(state, pickle.HIGHEST_PROTOCOL), 1)}

    def __setstate__(self, packed: dict) -> None:
        state = pickle.loads(zlib.decompress(packed["packed"]))
        lines = state.pop("line_now")
        state.update(
            plan=state["now"].patched(state["plan"]), spots=_spots(state["spots"], state["sites"])
        )
        self.__dict__.update(state, line_now=None, line_plan=None)
        if lines:
            added = coverage.WITH_PLANNED - coverage.SERVING
            self.line_now = coverage.compute(self.homes, self.sites, self.circles)
            self.line_plan = coverage.extended(self.line_now, self.sites, added)
            if self.straight:
                self.now, self.plan = self.line_now, self.line_plan
        matrices = [self.now, self.plan, *([self.line_now, self.line_plan] if lines else [])]
        nearest = [ids for matrix in matrices for ids in matrix.nearest.values()]
        self.nearest_ids = frozenset(_distinct(nearest))

    def measured(self, straight: bool) -> "Area":
        """The area as the page asked to see it: walked (as far as networks go) or straight."""
        if not straight or self.line_now is None:
            return self
        return dataclasses.replace(
            self, now=self.line_now, plan=self.line_plan, straight=True, walker=None
        )

    def measure_label(self) -> str:
        """Which measure the figures use, in words: 沿街步行 (from which extract, as of when)
        or 直线 (and why)."""
        if self.walks:
            sources = "; ".join(
                _("%(district)s: %(source)s, as of %(date)s%(demo)s")
                % {
                    "district": n.district,
                    "source": n.source,
                    "date": (n.as_of or n.imported).isoformat(),
                    "demo": _(", demo data") if n.is_demo else "",
                }
                for n in self.networks
            )
            return _("Walking along streets (%(sources)s)") % {"sources": sources}
        if self.straight:
            return _("Straight line, to compare with the walk")
        return _("Straight line (no street network is loaded for this area)")

    @property
    def walks(self) -> bool:
        """Whether any figure shown walks along streets."""
        return bool(self.networks) and not self.straight

    @property
    def label(self) -> str:
        """What the area is called: its community, subdistrict or district(s)."""
        if len(self.places) == 1:
            return f"{self.places[0].district}{self.places[0].subdistrict}{self.places[0].name}"
        subdistricts = {(p.district, p.subdistrict) for p in self.places}
        if len(subdistricts) == 1:
            return "".join(next(iter(subdistricts)))
        return "、".join(dict.fromkeys(p.district for p in self.places))

    @property
    def required(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.required)

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def place(self, slug: str) -> Place | None:
        return next((p for p in self.places if p.slug == slug), None)

    def matrix(self, plan: bool) -> coverage.Matrix:
        return self.plan if plan else self.now

    def line_matrix(self, plan: bool) -> coverage.Matrix | None:
        """The straight-line figures to compare with, where this view walks (else None)."""
        if not self.walks:
            return None
        return self.line_plan if plan else self.line_now

    def line_totals(self, plan: bool) -> dict[str, Cell] | None:
        """``totals`` by straight line, where this view walks."""
        if not self.walks:
            return None
        return self.measured(True).totals(plan)

    def detour(self, code: str, plan: bool = False) -> float | None:
        """How much longer the walk to the nearest facility is than the straight line to the
        nearest, the median over the compounds walked with one within reach both ways."""
        line = self.line_matrix(plan)
        if line is None:
            return None
        walk = self.matrix(plan).distance[code]
        straight = line.distance[code]
        both = self.matrix(plan).walked & np.isfinite(walk) & np.isfinite(straight) & (straight > 0)
        if not both.any():
            return None
        return float(np.median(walk[both] / straight[both]))

    @property
    def population(self) -> int:
        return int(self.homes.population.sum())

    def compound_counts(self) -> dict[int, int]:
        ids, counts = np.unique(self.homes.community, return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist(), strict=True))

    def figures(self, plan: bool) -> dict[int, dict[str, Cell]]:
        """Per community id and category code: residents, and residents within the walk.
        Communities without compounds get cells of nobody."""
        rolled = self.matrix(plan).rollup("community")
        nobody = coverage.AreaFigures(0, {s.code: 0 for s in self.services})
        return {
            p.id: {
                s.code: Cell(fig.population, fig.covered[s.code])
                for s in self.services
                for fig in (rolled.get(p.id, nobody),)
            }
            for p in self.places
        }

    def totals(self, plan: bool) -> dict[str, Cell]:
        """Per category over the whole area."""
        matrix = self.matrix(plan)
        pop = self.homes.population
        return {
            s.code: Cell(int(pop.sum()), int((pop * matrix.covered(s.code)).sum()))
            for s in self.services
        }

    def complete(self, plan: bool) -> dict[int, bool]:
        """Communities meeting the standard. One without residents does not: there is nothing
        to show it meets."""
        done = self.matrix(plan).complete_communities()
        return {p.id: done.get(p.id, False) for p in self.places}

    def matrix_rows(self, plan: bool, sort: str = "", descending: bool = False) -> list[MatrixRow]:
        """The coverage matrix's rows, in the area's order or sorted by ``sort``: "name",
        "population", "waiting" (places on waiting lists), "wishes" (open wishes, then their
        supporters) or a required category's code (by share covered, then by residents left
        out, largest first for an ascending share)."""
        figures, complete = self.figures(plan), self.complete(plan)
        rows = [
            MatrixRow(
                place,
                next(iter(figures[place.id].values())).population if self.services else 0,
                tuple(figures[place.id][s.code] for s in self.required),
                complete[place.id],
                self.demand_of(place.id),
            )
            for place in self.places
        ]
        index = {s.code: i for i, s in enumerate(self.required)}
        if sort == "name":
            rows.sort(key=lambda r: r.place.name, reverse=descending)
        elif sort == "population":
            rows.sort(key=lambda r: r.population, reverse=descending)
        elif sort == "waiting":
            rows.sort(key=lambda r: r.demand.waiting, reverse=descending)
        elif sort == "wishes":
            rows.sort(key=lambda r: (r.demand.open_wishes, r.demand.support), reverse=descending)
        elif sort in index:
            i = index[sort]

            def share(row: MatrixRow) -> tuple:
                cell = row.cells[i]
                p = cell.percent
                # No residents sorts after every share either way.
                return (p is None, (-1 if descending else 1) * (p or 0), -cell.uncovered)

            rows.sort(key=share)
        return rows

    def demand_of(self, place_id: int) -> Demand:
        """A community's courses and wishes (nothing, for an area read without them)."""
        found = self.demand.get(place_id)
        return found if found is not None else Demand(wishes=wish_kinds())

    def demand_total(self) -> Demand:
        """The area's courses and open wishes, summed (``residents`` left at 0: one person may
        take classes in two communities)."""
        every = [self.demand_of(p.id) for p in self.places]
        kinds = [w.kind for w in every[0].wishes] if every else []
        return Demand(
            classes=sum(d.classes for d in every),
            seats=sum(d.seats for d in every),
            enrolled=sum(d.enrolled for d in every),
            full=sum(d.full for d in every),
            waiting=sum(d.waiting for d in every),
            applied=sum(d.applied for d in every),
            wishes=tuple(
                WishCount(
                    kind,
                    sum(d.wishes_of(kind).wishes for d in every),
                    sum(d.wishes_of(kind).support for d in every),
                )
                for kind in kinds
            ),
        )

    def demand_rows(self, plan: bool, limit: int | None = None) -> list[DemandRow]:
        """Communities where people wait for a class or a wish is open, beside the number of
        required services with a gap: most people waiting first, then most supporters."""
        # gap_rows has one row per community and required service with residents left out.
        gaps = Counter(g.place.id for g in self.gap_rows(plan))
        rows = [
            DemandRow(place, demand, gaps[place.id])
            for place in self.places
            for demand in (self.demand_of(place.id),)
            if demand.waiting or demand.applied or demand.open_wishes
        ]
        rows.sort(key=lambda r: (-r.demand.waiting - r.demand.applied, -r.demand.support))
        return rows[:limit] if limit is not None else rows

    def gap_rows(self, plan: bool, code: str = "") -> list[Gap]:
        """Every community × required category (or ``code`` alone) leaving residents beyond the
        walk, most residents first."""
        matrix = self.matrix(plan)
        services = [self.service(code)] if code else list(self.required)
        by_id = {p.id: p for p in self.places}
        communities, where = np.unique(self.homes.community, return_inverse=True)
        pop = self.homes.population
        n = len(communities)
        population = np.bincount(where, weights=pop, minlength=n)
        gaps = []
        for service in services:
            if service is None:
                continue
            out = ~matrix.covered(service.code) & (pop > 0)
            if not out.any():
                continue
            residents = np.bincount(where, weights=pop * out, minlength=n)
            compounds = np.bincount(where, weights=out, minlength=n)
            line = self.line_matrix(plan)
            by_line = (
                np.bincount(where, weights=pop * (out & line.covered(service.code)), minlength=n)
                if line is not None
                else np.zeros(n)
            )
            farthest = np.full(n, -1.0)
            np.maximum.at(farthest, where[out], matrix.distance[service.code][out])
            for i in np.flatnonzero(compounds > 0).tolist():
                far = float(farthest[i])
                gaps.append(
                    Gap(
                        by_id[int(communities[i])],
                        service,
                        int(residents[i]),
                        int(compounds[i]),
                        int(population[i]),
                        None if np.isinf(far) else far,
                        int(by_line[i]),
                    )
                )
        gaps.sort(key=lambda g: (-g.residents, g.place.name, g.service.code))
        return gaps

    def compound_rows(
        self, plan: bool, place: Place | None = None, services: Sequence[Service] = ()
    ) -> list[CompoundRow]:
        """Each compound (of ``place``, or all) with its nearest facility per service (the
        required ones unless given), biggest first."""
        matrix = self.matrix(plan)
        services = tuple(services) or self.required
        rows = np.arange(len(self.homes.ids))
        if place is not None:
            rows = rows[self.homes.community[rows] == place.id]
        covered = {s.code: matrix.covered(s.code) for s in services}
        line = self.line_matrix(plan)
        by_line = {s.code: line.covered(s.code) for s in services} if line is not None else {}
        networked = np.isin(self.homes.district, [n.district_id for n in self.networks])
        walked = self.on_streets if self.on_streets is not None else networked
        barriers = {n.district_id: n.barriers for n in self.networks if n.barriers}
        # Columns as lists first: a city's 20,000 compounds × 10 services read from numpy one
        # value at a time took seconds.
        columns = [
            (
                s,
                matrix.nearest[s.code][rows].tolist(),
                matrix.distance[s.code][rows].tolist(),
                covered[s.code][rows].tolist(),
                *(
                    (
                        line.distance[s.code][rows].tolist(),
                        by_line[s.code][rows].tolist(),
                        line.nearest[s.code][rows].tolist(),
                    )
                    if line is not None
                    else (None, None, None)
                ),
            )
            for s in services
        ]
        homes, spots = self.homes, self.spots
        ids, population = homes.ids[rows].tolist(), homes.population[rows].tolist()
        lat, lng = homes.lat[rows].tolist(), homes.lng[rows].tolist()
        check = (networked & ~walked)[rows].tolist()
        result = []
        for i, row in enumerate(rows.tolist()):
            walks = []
            for s, nearest, metres, inside, straight, by_line_s, line_nearest in columns:
                fid = nearest[i]
                line_m = straight[i] if straight is not None else math.inf
                line_covered = by_line_s[i] if by_line_s is not None else False
                across = None
                if line_covered and not inside[i]:
                    across = self._across(row, line_nearest[i], barriers)
                walks.append(
                    Walk(
                        s,
                        spots.get(fid) if fid >= 0 else None,
                        metres[i] if fid >= 0 else None,
                        inside[i],
                        None if math.isinf(line_m) else line_m,
                        line_covered,
                        across,
                    )
                )
            result.append(
                CompoundRow(
                    ids[i],
                    self.home_names[row],
                    population[i],
                    lat[i],
                    lng[i],
                    tuple(walks),
                    check[i],
                )
            )
        result.sort(key=lambda r: (-r.population, r.name))
        return result

    def off_streets(self, place: Place) -> list[Spot]:
        """The place's own facilities more than 200 m from every street of its district's
        network, by name: measured by straight line, their points are worth checking."""
        walker, sites = self.walker, self.sites
        if self.straight or walker is None or sites is None:
            return []
        on_streets = walker.on_streets(place.district_id)
        if on_streets is None:
            return []
        own = {s.id: s for s in self.spots.values() if s.community_id == place.id}
        rows = np.flatnonzero(np.isin(sites.ids, list(own)))
        off = sites.ids[rows[~on_streets[rows]]].tolist()
        return sorted((own[int(f)] for f in set(off)), key=lambda s: s.name)

    def _across(self, row: int, fid: int, barriers: dict) -> tuple[str, str] | None:
        """The barrier (kind, name) the straight line from compound ``row`` to facility ``fid``
        crosses, if its district's network records one."""
        spot = self.spots.get(fid)
        if spot is None:
            return None
        home = (float(self.homes.lat[row]), float(self.homes.lng[row]))
        for kind, name, points in barriers.get(int(self.homes.district[row]), ()):
            if geo.crosses(home, (spot.latitude, spot.longitude), points):
                return kind, name
        return None

    def suggestions(self, code: str, plan: bool, k: int = DEFAULT_PICKS) -> Suggestions:
        """The best ``k`` idle rooms for category ``code``, chosen greedily."""
        service = self.service(code)
        matrix = self.matrix(plan)
        floor = coverage.MIN_FLOOR_AREA_M2.get(code, 0)
        # A room that names the services it could take is a candidate for those alone: its
        # floor area counts as none for the others.
        picks = coverage.best_sites(
            matrix,
            code,
            [
                (r.latitude, r.longitude, r.floor_area if r.could_take(code) else None)
                for r in self.rooms
            ],
            k,
        )
        pop = self.homes.population
        covered = int((pop * matrix.covered(code)).sum())
        by_id = {p.id: p for p in self.places}
        running, result = covered, []
        for rank, pick in enumerate(picks, start=1):
            running += pick.gained
            room = self.rooms[pick.candidate]
            result.append(Suggestion(rank, room, by_id[room.community_id], pick.gained, running))
        return Suggestions(
            service=service,
            picks=tuple(result),
            population=int(pop.sum()),
            covered=covered,
            rooms=len(self.rooms),
            too_small=sum(r.floor_area < floor for r in self.rooms if r.could_take(code)),
            min_floor_area=floor,
        )

    def progress(self, since: int | None = None) -> list[YearProgress]:
        """The area's own facilities (not across its border) planned, under construction and
        opened, per year (opened: the year it opened; planned and building: the year it is due);
        years before ``since`` summed in one row."""
        ours = {p.id for p in self.places}
        counts: Counter[tuple[int | None, str]] = Counter()
        for spot in self.spots.values():
            if spot.community_id not in ours or spot.status == "closed":
                continue
            kind = spot.status if spot.status in ("planned", "building") else "opened"
            if kind == "opened" and spot.year is None:
                continue  # open since before records began
            counts[(spot.year, kind)] += 1
        kinds = ("planned", "building", "opened")
        rows = []
        if since is not None:
            early: Counter[str] = Counter()
            for (year, kind), c in counts.items():
                if year is not None and year < since:
                    early[kind] += c
            if early:
                rows.append(YearProgress(since, *(early[k] for k in kinds), before=True))
                counts = Counter(
                    {(y, k): c for (y, k), c in counts.items() if y is None or y >= since}
                )
        years = sorted({y for y, _ in counts}, key=lambda y: (y is None, y or 0))
        rows += [YearProgress(y, *(counts[(y, kind)] for kind in kinds)) for y in years]
        return rows


# ---- gathering, and keeping up to date ----

# The audit trail's event tables (portal.audit) whose rows decide an area's figures. They are
# append-only, so the number of rows only grows, and every committed change adds one.
WATCHED = ("Community", "ResidentialCompound", "CompoundGate", "Facility", "IdleRoom")
STRUCTURE_KEY = "coverage-structure"


def _event_tables() -> list[str]:
    from portal import audit

    return [audit.event_model(label)._meta.db_table for label in _labels()]


def _labels() -> list[str]:
    return [
        f"communities.{name}"
        if name in ("Community", "ResidentialCompound", "CompoundGate")
        else f"facilities.{name}"
        for name in WATCHED
    ]


def _reading(label: str):
    """The connection the ORM reads ``label``'s rows from: the marks are read where the rows
    they stand for are (a read replica for the report pages, portal/dbrouter.py)."""
    from django.apps import apps
    from django.db import connections, router

    return connections[router.db_for_read(apps.get_model(label))]


def read_marks() -> Marks:
    """The watched tables' marks, in one query (and one cache read)."""
    from django.core.cache import cache

    tables = _event_tables()
    facility = tables[WATCHED.index("Facility")]
    connection = _reading("facilities.Facility")
    quote = connection.ops.quote_name
    counts = ", ".join(f"(SELECT count(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}, (SELECT coalesce(max(pgh_id), 0) FROM {quote(facility)})")
        *counts_row, top = cursor.fetchone()
    return Marks(tuple(counts_row), top, cache.get(STRUCTURE_KEY, 0))


def structure_changed(**kwargs) -> None:
    """A signal receiver: a change the audit trail does not record, so areas are gathered anew."""
    from django.core.cache import cache

    try:
        cache.incr(STRUCTURE_KEY)
    except ValueError:
        cache.set(STRUCTURE_KEY, 1, None)


def gather(communities) -> Area:
    """The ``Area`` of ``communities`` (a queryset, already scoped), in at most seventeen queries:
    eleven for the coverage, six for the courses and wishes; and where the districts have street
    networks, one more and two per network this process has not read yet."""
    from communities.models import ResidentialCompound

    # Read first: a change committed while the rest is read is then seen as new by refresh().
    marks = read_marks()
    rows = list(
        communities.order_by(
            "subdistrict__district__code", "subdistrict__code", "name"
        ).values_list(
            "id",
            "name",
            "slug",
            "subdistrict__name",
            "subdistrict__district__city",
            "subdistrict__district__name",
            "subdistrict__district_id",
            "subdistrict__district__street_network",
        )
    )
    places = [
        Place(i, name, slug, sub, city + district, district_id)
        for i, name, slug, sub, city, district, district_id, _network in rows
    ]
    districts = sorted({row[-2] for row in rows})
    homes, sites, circles = coverage.load(districts)
    ours = np.isin(homes.community, [p.id for p in places])
    homes = homes.subset(np.flatnonzero(ours))
    walked = sorted({row[-2] for row in rows if row[-1] is not None})
    stored = _stored_networks(walked)
    streets = {
        n.district_id: network.read(n.district_id, n.pk, n.source_sha256, n.imported_at)
        for n in stored
    }
    walker = coverage.Walker(streets, homes, sites) if streets else None
    added = coverage.WITH_PLANNED - coverage.SERVING
    now = coverage.compute(homes, sites, circles, walker=walker)
    plan = coverage.extended(now, sites, added, walker=walker)
    line_now = line_plan = None
    if walker is not None:
        line_now = coverage.compute(homes, sites, circles)
        line_plan = coverage.extended(line_now, sites, added)
    names = dict(
        ResidentialCompound.objects.filter(pk__in=_any(homes.ids.tolist())).values_list(
            "id", "name"
        )
    )
    area = Area(
        services=_services(),
        places=tuple(places),
        homes=homes,
        home_names=tuple(names.get(i, "") for i in homes.ids.tolist()),
        now=now,
        plan=plan,
        spots={},
        rooms=(),
        nearest_ids=frozenset(),
        sites=sites,
        circles=tuple(circles),
        marks=marks,
        line_now=line_now,
        line_plan=line_plan,
        networks=_networks(stored),
        walker=walker,
        on_streets=now.walked if walker is not None else None,
    )
    area.rooms = _rooms(area)
    _place_spots(area, set())
    area.demand_mark = read_demand_mark()
    area.demand = read_demand(p.id for p in places)
    return area


def unchanged(area: Area) -> bool:
    """Whether nothing ``area`` shows has changed since it was read: the watched tables and the
    categories are as they were (an edit to a menu or a course moves the content version, not
    these). Two queries."""
    return area.marks is not None and read_marks() == area.marks and _services() == area.services


def refresh(area: Area) -> Area | None:
    """``area`` brought up to date after facilities changed, touching only the compounds within
    reach of each one's old and new points; None when only gathering again will do (compounds
    or communities changed, categories changed, or the trail cannot say exactly what changed).
    Idle rooms are read again when they changed. About five queries."""
    from facilities.models import Facility

    marks, old = read_marks(), area.marks
    if old is None or marks.structure != old.structure:
        return None
    at = {name: i for i, name in enumerate(WATCHED)}
    for name in ("Community", "ResidentialCompound", "CompoundGate"):
        if marks.counts[at[name]] != old.counts[at[name]]:
            return None
    if _services() != area.services:
        return None
    new_events = marks.counts[at["Facility"]] - old.counts[at["Facility"]]
    if new_events:
        table = _event_tables()[at["Facility"]]
        connection = _reading("facilities.Facility")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), array_agg(DISTINCT pgh_obj_id) FROM "
                f"{connection.ops.quote_name(table)} WHERE pgh_id > %s",
                [old.facility_max],
            )
            above, ids = cursor.fetchone()
        if above != new_events:
            return None  # an event committed out of order: which one is unknown
        if area.walker is not None and not area.walker.attach(
            coverage.load_streets(area.walker.keys), area.homes, area.sites
        ):
            return None  # a network was imported again
        changed = sorted({int(i) for i in ids or ()})
        facilities = Facility.objects.filter(pk__in=changed).exclude(status=Facility.Status.CLOSED)
        current = coverage.Sites.from_rows(
            list(facilities.values_list("id", "latitude", "longitude", "status", "category__code")),
            Facility.other_categories.through.objects.filter(facility__in=changed).values_list(
                "facility_id", "category__code"
            ),
        )
        _apply(area, changed, current)
    if marks.counts[at["IdleRoom"]] != old.counts[at["IdleRoom"]]:
        area.rooms = _rooms(area)
    area.marks = marks
    return area


def _apply(area: Area, changed: list[int], current: coverage.Sites) -> None:
    """Put the ``changed`` facilities' current rows (``current``, closed ones left out) in
    ``area.sites`` and recompute the nearest facility of the compounds within reach of their old
    or new points, today and with the plan."""
    old = area.sites
    gone = np.isin(old.ids, changed)
    kept_rows = np.flatnonzero(~gone)
    kept = old.subset(kept_rows)
    area.sites = sites = coverage.Sites(
        np.concatenate([kept.ids, current.ids]),
        np.concatenate([kept.lat, current.lat]),
        np.concatenate([kept.lng, current.lng]),
        np.concatenate([kept.status, current.status]).astype(str),
        np.concatenate([kept.member_row, current.member_row + len(kept.ids)]).astype(np.int64),
        np.concatenate([kept.member_code, current.member_code]).astype(str),
    )
    # Every point a changed facility stood at or stands at now, with the categories it counted
    # for there.
    touched: list[tuple[float, float, str]] = []
    for before_after in (old.subset(np.flatnonzero(gone)), current):
        for row, code in zip(
            before_after.member_row.tolist(), before_after.member_code.tolist(), strict=True
        ):
            touched.append((before_after.lat[row], before_after.lng[row], code))
    homes = area.homes
    walker = area.walker
    if walker is not None:
        area.walker = walker = walker.moved(sites, kept_rows, current)
    for circle in area.circles:
        points = [(lat, lng) for lat, lng, code in touched if code == circle.code]
        if not points or not len(homes.ids):
            continue
        reach = coverage.REACH * circle.distance_m
        lat, lng = map(np.array, zip(*points, strict=True))
        near = homes.tree.query_ball_point(coverage.unit_vectors(lat, lng), coverage.chord(reach))
        # Every compound whose nearest could change is within reach of an old or a new point
        # (a walk is never shorter than the straight line).
        rows = np.unique(np.concatenate([np.array(r, dtype=np.int64) for r in near]))
        if not len(rows):
            continue
        for matrix, line, statuses in (
            (area.now, area.line_now, coverage.SERVING),
            (area.plan, area.line_plan, coverage.WITH_PLANNED),
        ):
            every = sites.rows_for(circle.code, statuses)
            if walker is not None:
                # Their nearest is within reach of them, so within twice of a touched point.
                close = np.zeros(len(every), dtype=bool)
                for p_lat, p_lng in zip(lat, lng, strict=True):
                    close |= (
                        coverage.distances_m(sites.lat[every], sites.lng[every], p_lat, p_lng)
                        <= 2 * reach
                    )
                ids, metres = walker.nearest(homes, rows, sites, every[close], reach)
                matrix.nearest[circle.code][rows] = ids
                matrix.distance[circle.code][rows] = metres
                matrix = line
            ids, metres = coverage._nearest_in(homes, rows, sites, every, reach)
            matrix.nearest[circle.code][rows] = ids
            matrix.distance[circle.code][rows] = metres
    _place_spots(area, set(changed))


def _stored_networks(district_ids: list[int]) -> list:
    """The districts' stored networks with their districts (one query; none without ids)."""
    from streets.models import StreetNetwork

    if not district_ids:
        return []
    return list(
        StreetNetwork.objects.filter(district_id__in=district_ids)
        .select_related("district")
        .order_by("district__code")
    )


def _networks(rows: list) -> tuple[Network, ...]:
    """The networks as the pages name the measure."""
    return tuple(
        Network(
            n.district_id,
            f"{n.district.city}{n.district.name}",
            n.source_name,
            timezone.localdate(n.source_date) if n.source_date else None,
            timezone.localdate(n.imported_at),
            n.is_demo,
            tuple(
                (
                    str(b.get("kind", "")),
                    str(b.get("name", "")),
                    tuple((float(p[0]), float(p[1])) for p in b.get("points", ())),
                )
                for b in (n.report or {}).get("barriers", ())
                if isinstance(b, dict)
            ),
        )
        for n in rows
    )


def _services() -> tuple[Service, ...]:
    from facilities.models import Category

    return tuple(
        Service(*row)
        for row in Category.objects.order_by("sort_order", "code").values_list(
            "code", "name_zh", "name_en", "distance_m", "required"
        )
    )


def _rooms(area: Area) -> tuple[Room, ...]:
    from django.contrib.postgres.aggregates import ArrayAgg
    from django.db.models import Q

    from facilities.models import IdleRoom

    # The services each room could take ride along as an array: one query still.
    codes = ArrayAgg(
        "services__code",
        filter=Q(services__isnull=False),
        order_by="services__code",
        default=[],
    )
    return tuple(
        Room(*row[:-1], services=tuple(row[-1]))
        for row in IdleRoom.objects.filter(community_id__in=_any(p.id for p in area.places))
        .annotate(codes=codes)
        .order_by("community_id", "name")
        .values_list(
            "id",
            "name",
            "community_id",
            "latitude",
            "longitude",
            "floor_area",
            "owner",
            "available_from",
            "notes",
            "codes",
        )
    )


def _place_spots(area: Area, changed: set[int]) -> None:
    """Keep ``area.spots`` to the area's own facilities and every compound's nearest, reading
    the ones it lacks and the ``changed`` ones (one query)."""
    from facilities.models import Facility

    matrices = [m for m in (area.now, area.plan, area.line_now, area.line_plan) if m is not None]
    every = [ids for matrix in matrices for ids in matrix.nearest.values()]
    nearest = set(_distinct(every))
    before = area.nearest_ids
    area.nearest_ids = frozenset(nearest)
    ours = {p.id for p in area.places}
    spots = dict(area.spots)
    for fid in changed | (before - area.nearest_ids):
        spot = spots.get(fid)
        if spot is not None and (fid in changed or spot.community_id not in ours):
            del spots[fid]
    wanted = (nearest | changed) - spots.keys()
    facilities = Facility.objects.filter(pk__in=_any(wanted))
    if not area.spots:  # gathering: the area's own facilities too
        facilities = facilities | Facility.objects.filter(community_id__in=_any(ours))
    rows = list(
        facilities.order_by().values_list(
            "id",
            "name",
            "slug",
            "status",
            "latitude",
            "longitude",
            "community_id",
            "category__code",
            "opened_on",
            "planned_opening",
        )
    )
    codes = _further_codes(area.sites, {row[0] for row in rows})
    for row in rows:
        fid, name, slug, status, lat, lng, cid, code, opened, due = row
        if fid not in nearest and cid not in ours:
            continue
        when = opened or due
        spots[fid] = Spot(
            fid,
            name,
            slug,
            status,
            lat,
            lng,
            cid,
            (code, *sorted(set(codes.get(fid, ())) - {code})),
            when.year if when else None,
        )
    area.spots = spots


def _spot_columns(spots: dict[int, Spot], sites: coverage.Sites | None) -> dict:
    """``Area.spots`` as columns, for keeping: tens of thousands of small objects pickle to
    several times the size of their values. A point the engine's facilities hold already (every
    one but the closed) is not kept twice."""
    rows = list(spots.values())
    statuses, codes = {}, {}
    ids = np.array([s.id for s in rows], dtype=np.int64)
    lat = np.array([s.latitude for s in rows], dtype=np.float64)
    lng = np.array([s.longitude for s in rows], dtype=np.float64)
    at = _rows_of(sites, ids)
    found = at >= 0
    found[found] = (sites.lat[at[found]] == lat[found]) & (sites.lng[at[found]] == lng[found])
    return {
        "id": ids,
        "name": [s.name for s in rows],
        "slug": [s.slug for s in rows],
        "status": [statuses.setdefault(s.status, len(statuses)) for s in rows],
        "statuses": list(statuses),
        "codes": [codes.setdefault(s.codes, len(codes)) for s in rows],
        "code_sets": list(codes),
        "at_site": found,
        "latitude": lat[~found],
        "longitude": lng[~found],
        "community_id": np.array([s.community_id for s in rows], dtype=np.int64),
        "year": [s.year for s in rows],
    }


def _spots(columns: dict, sites: coverage.Sites | None) -> dict[int, Spot]:
    """``Area.spots`` from ``_spot_columns``."""
    statuses, code_sets = columns["statuses"], columns["code_sets"]
    found = columns["at_site"]
    lat, lng = np.empty(len(found)), np.empty(len(found))
    if found.any():
        at = _rows_of(sites, columns["id"][found])
        lat[found], lng[found] = sites.lat[at], sites.lng[at]
    lat[~found], lng[~found] = columns["latitude"], columns["longitude"]
    return {
        fid: Spot(fid, name, slug, statuses[status], y, x, community, code_sets[codes], year)
        for fid, name, slug, status, codes, y, x, community, year in zip(
            columns["id"].tolist(),
            columns["name"],
            columns["slug"],
            columns["status"],
            columns["codes"],
            lat.tolist(),
            lng.tolist(),
            columns["community_id"].tolist(),
            columns["year"],
            strict=True,
        )
    }


def _rows_of(sites: coverage.Sites | None, ids: np.ndarray) -> np.ndarray:
    """Each facility id's row in ``sites`` (-1: not there)."""
    if sites is None or not len(sites.ids):
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(sites.ids, kind="stable")
    at = order[np.minimum(np.searchsorted(sites.ids, ids, sorter=order), len(order) - 1)]
    return np.where(sites.ids[at] == ids, at, -1)


def _distinct(arrays: list[np.ndarray]) -> list[int]:
    """The facility ids (≥ 0) found in ``arrays``, without sorting hundreds of thousands."""
    top = max((int(a.max()) for a in arrays if len(a)), default=-1)
    seen = np.zeros(top + 1, dtype=bool)
    for a in arrays:
        seen[a[a >= 0]] = True
    return np.flatnonzero(seen).tolist()


def _any(ids) -> RawSQL:
    """``ids`` for an ``__in`` lookup as one array parameter: a city's tens of thousands of ids
    as separate parameters take longer to send than the query takes to run."""
    return RawSQL("SELECT unnest(%s::bigint[])", [sorted(ids)])


def _further_codes(sites: coverage.Sites, ids: set[int]) -> dict[int, list[str]]:
    """Every category each of ``ids`` counts for in the engine's membership columns."""
    if not ids:
        return {}
    owners = sites.ids[sites.member_row]
    mask = np.isin(owners, list(ids))
    codes: dict[int, list[str]] = {}
    for fid, code in zip(owners[mask].tolist(), sites.member_code[mask].tolist(), strict=True):
        codes.setdefault(fid, []).append(code)
    return codes


# ---- courses and wishes ----
#
# Enrolments do not move the content version (it would empty every cached fragment each time
# someone enrols, see courses/listing.py), so an area's course and wish figures carry a mark of
# their own: the highest event id of each table that decides them (the audit trail's, append-only,
# so every committed insert, change or delete adds a higher one), the highest support id
# (supports are not in the trail), today's date ("current" terms are those not yet ended) and
# the current DEMAND_BOUND_S slot. Reading it is one query of index lookups, cheap enough for
# every request: the reports put it in their cache keys, so the next page view after an
# enrolment, a wish or a supporter shows it. A maximum misses only an event committed after a
# higher one was already read (two writers racing); the time slot bounds that case.

DEMAND_EVENTS = (
    "courses.Term",
    "courses.Course",
    "courses.CourseClass",
    "courses.Enrolment",
    "wishes.Wish",
)
DEMAND_BOUND_S = 600


def read_demand_mark() -> tuple:
    """Where the course and wish tables stand, in one query (see above)."""
    from portal import audit
    from wishes.models import Support

    connection = _reading("wishes.Support")
    quote = connection.ops.quote_name
    tables = [audit.event_model(label)._meta.db_table for label in DEMAND_EVENTS]
    tops = [f"(SELECT coalesce(max(pgh_id), 0) FROM {quote(t)})" for t in tables]
    tops.append(f"(SELECT coalesce(max(id), 0) FROM {quote(Support._meta.db_table)})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(tops)}")
        row = cursor.fetchone()
    return (timezone.localdate().isoformat(), _slot(), *row)


def _slot() -> int:
    """The DEMAND_BOUND_S slot of the present moment."""
    return int(time.time()) // DEMAND_BOUND_S


def wish_kinds() -> tuple[WishCount, ...]:
    """Every kind of wish, in Wish.Kind order, with nothing counted (for columns and empty
    communities)."""
    from wishes.models import Wish

    return tuple(WishCount(kind.value, 0, 0) for kind in Wish.Kind)


def read_demand(place_ids: Iterable[int], today: date | None = None) -> dict[int, Demand]:
    """Each community's courses in current terms and its open wishes, in five queries whatever
    the number of communities: the classes, the enrolments, the wishes by kind, the most
    supported wishes with the category each names, and the categories whose everyday words name
    what a wish without one asks for (left out when every top wish names its category)."""
    from courses.models import CourseClass, Enrolment
    from facilities import matching
    from facilities.models import Category
    from wishes.models import Wish

    ids = sorted(set(place_ids))
    today = today or timezone.localdate()
    term = "course__term__"
    classes = {
        row["place"]: row
        for row in CourseClass.objects.filter(
            **{f"{term}community_id__in": _any(ids), f"{term}ends_on__gte": today}
        )
        .values(place=F(f"{term}community_id"))
        .annotate(
            classes=Count("pk"),
            seats=Sum("capacity"),
            enrolled=Sum("enrolled_count"),
            full=Count("pk", filter=Q(enrolled_count__gte=F("capacity"))),
        )
        .order_by()
    }
    status = Enrolment.Status
    people = {
        row["place"]: row
        for row in Enrolment.objects.filter(
            **{
                f"course_class__{term}community_id__in": _any(ids),
                f"course_class__{term}ends_on__gte": today,
            },
            status__in=[status.ENROLLED, status.WAITLISTED, status.APPLIED],
        )
        .values(place=F(f"course_class__{term}community_id"))
        .annotate(
            waiting=Count("pk", filter=Q(status=status.WAITLISTED)),
            applied=Count("pk", filter=Q(status=status.APPLIED)),
            residents=Count("user", distinct=True, filter=Q(status=status.ENROLLED)),
        )
        .order_by()
    }
    still_open = Wish.objects.filter(
        community_id__in=_any(ids), status__in=[Wish.Status.OPEN, Wish.Status.PLANNED]
    )
    by_kind = {
        (row["community_id"], row["kind"]): row
        for row in still_open.values("community_id", "kind")
        .annotate(wishes=Count("pk"), support=Sum("support_count"))
        .order_by()
    }
    ranked = still_open.annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("community_id"),
            order_by=[F("support_count").desc(), F("created_at").desc(), F("pk").desc()],
        )
    ).filter(rank__lte=TOP_WISHES)
    top: dict[int, list[WishItem]] = {}
    ranked_rows = list(
        ranked.order_by("community_id", "rank").values_list(
            "id",
            "community_id",
            "title",
            "kind",
            "status",
            "support_count",
            "text",
            "category__code",
        )
    )
    # A wish that names its service counts for that one alone; the title's words decide only
    # for the others, so the categories are read only when one of those is in the top.
    terms = []
    if any(code is None for *_rest, code in ranked_rows):
        terms = [
            matching.terms_for(c.code, c.name_zh, c.name_en, tuple(c.word_list))
            for c in Category.objects.order_by("sort_order", "code").only(
                "code", "name_zh", "name_en", "words"
            )
        ]
    for wid, cid, title, kind, state, support, text, named in ranked_rows:
        codes = (named,) if named else tuple(matching.matching_codes(title, terms))
        top.setdefault(cid, []).append(WishItem(wid, title, kind, state, support, codes, text))
    kinds = [kind.value for kind in Wish.Kind]
    result = {}
    for cid in ids:
        c, p = classes.get(cid, {}), people.get(cid, {})
        result[cid] = Demand(
            classes=c.get("classes", 0),
            seats=c.get("seats") or 0,
            enrolled=c.get("enrolled") or 0,
            full=c.get("full", 0),
            waiting=p.get("waiting", 0),
            applied=p.get("applied", 0),
            residents=p.get("residents", 0),
            wishes=tuple(
                WishCount(
                    kind,
                    by_kind.get((cid, kind), {}).get("wishes", 0),
                    by_kind.get((cid, kind), {}).get("support") or 0,
                )
                for kind in kinds
            ),
            top=tuple(top.get(cid, ())),
        )
    return result
