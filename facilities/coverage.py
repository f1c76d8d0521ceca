"""Walking-distance coverage: for each compound and category, the nearest facility and whether it
lies within the category's walking circle.

Pure: plain dataclasses in, plain dataclasses out, no ORM. The community page feeds it today; the
officials' reports and the benchmark call the same functions. Distances are straight lines
(portal.lib.geo), as the planning standards measure walking circles.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portal.lib import geo


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


def nearest(demand: Demand, supplies: Iterable[Supply], code: str) -> Nearest:
    best, best_m = None, None
    for supply in supplies:
        if code not in supply.categories:
            continue
        metres = geo.distance_m(demand.point, supply.point)
        if best_m is None or metres < best_m:
            best, best_m = supply, metres
    return Nearest(demand, best, best_m)


def coverage(
    demands: Sequence[Demand], supplies: Sequence[Supply], circles: Sequence[tuple[str, int]]
) -> list[CategoryCoverage]:
    """For each (category code, walking metres) in ``circles``: every compound's nearest facility.

    ``supplies`` should hold every facility within the largest walk of any compound; the caller
    selects them with a bounding box, so this stays a small nested loop.
    """
    return [
        CategoryCoverage(code, within_m, tuple(nearest(d, supplies, code) for d in demands))
        for code, within_m in circles
    ]
