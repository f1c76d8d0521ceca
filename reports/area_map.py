"""An area map for the officials' coverage reports, laid out on the server for an inline SVG.

Plain functions and frozen dataclasses, no ORM, request or template: a loader turns one area's
residential compounds, the facilities of one service category and the candidate sites (idle rooms)
into ``Home``, ``Site`` and ``Candidate`` values, ``layout`` fits them on a canvas, and
``templates/reports/includes/area_map.html`` draws the ``AreaMap`` it returns.

The projection is a local equirectangular one (x = longitude · cos(latitude), north up) with the
metres of ``portal.lib.geo``; over the ten kilometres or so a district spans it keeps distances to
well under a percent, which is all a map read by eye needs. Unlike ``facilities.maps`` it draws
every point it is given: the bounding box of all of them decides the scale.

Coordinates are rounded to a tenth of a pixel so that a district's 2,000 compounds stay a page of
modest size.

A city is another matter: 20,000 compounds drawn one by one made a megabyte of SVG in which they
buried each other. A caller with more than ``GROUP_ABOVE`` compounds passes them as ``Group``
values instead, one per community (at its residents' centre, sized by its residents, filled by the
share of them within walking distance in the report's four bands), and ``layout`` then draws the
facilities as small squares of one path each: the city map stays well under 300 KB.
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import cos, radians, sqrt

from portal.lib import clip, geo

# Pixel geometry shared with the template: it draws what these numbers describe.
MARGIN = 28  # from the canvas edge to the outermost point; more than the largest circle's radius
BOTTOM = 64  # below the lowest point: room for the scale bar and the north arrow
MIN_HEIGHT = 240  # a long, thin area still gets a map one can read
MIN_SPAN_M = 400  # a community of three compounds is not blown up to the size of a district
HOME_R_MIN = 3.0  # px; population 0 or unknown
HOME_R_MAX = 18.0  # px; the most populous compound on a sparse map
# On a crowded map the largest circle shrinks towards this, in proportion to the room each
# compound has, so that a district's 2,000 compounds do not bury each other.
HOME_R_MAX_CROWDED = 8.0
SITE_HALF = 8  # half the side of a facility's square
CANDIDATE_HALF = 6  # half the diagonal of a candidate's diamond
PICK_HALF = 17  # half the diagonal of a suggested site's diamond, wide enough for "12"
PICK_FONT = 15  # user units; text is never below 14
SMALL_FONT = 14  # the scale bar's label and the north arrow's "N"
# The longest of these that takes at most a quarter of the width is the scale bar.
SCALE_BAR_METRES = (100, 200, 500, 1000, 2000, 5000, 10000)
SCALE_BAR_X = 16  # the bar's left end
SCALE_BAR_BOTTOM = 14  # from the bottom edge to the bar
NORTH_RIGHT = 24  # from the right edge to the north arrow
NORTH_TOP = 46  # from the bottom edge up to the arrow's tip; the arrow and its "N" are 38 tall
# Above this many compounds a map draws each community as one circle (a ``Group``): a district's
# 2,000 are still drawn one by one, a city's 20,000 are not.
GROUP_ABOVE = 3000
SITE_DOT = 4  # px, the side of a facility's square on a map of groups
# The shares of residents within walking distance each band of groups stands for, as the
# coverage matrix bands its cells (report_data.Cell.band): everyone, 80 % or more, half or more,
# fewer.
BANDS = ("full", "most", "half", "few")


@dataclass(frozen=True)
class Home:
    """A residential compound."""

    label: str
    latitude: float
    longitude: float
    population: int
    covered: bool  # a facility of the category is within walking distance


@dataclass(frozen=True)
class Group:
    """A community's compounds drawn as one circle, on a map with too many to draw each."""

    label: str
    latitude: float  # its residents' centre
    longitude: float
    population: int
    covered: int  # residents within walking distance

    @property
    def band(self) -> str:
        """Which of BANDS it is drawn in (the share rounded down, as the matrix shows it)."""
        percent = 100 * self.covered // self.population if self.population else 100
        if percent == 100:
            return "full"
        if percent >= 80:
            return "most"
        return "half" if percent >= 50 else "few"


@dataclass(frozen=True)
class Site:
    """A facility of the category."""

    label: str
    latitude: float
    longitude: float
    planned: bool = False  # planned or under construction


@dataclass(frozen=True)
class Candidate:
    """A candidate site (an idle room)."""

    label: str
    latitude: float
    longitude: float
    rank: int | None = None  # 1, 2, 3 … for the suggested sites; None when not suggested


@dataclass(frozen=True)
class Line:
    """A street segment or a walk to draw, as (lat, lng) points."""

    points: tuple[tuple[float, float], ...]
    major: bool = False  # a main road (drawn wider)
    label: str = ""  # a walk's: from which compound to which facility


@dataclass(frozen=True)
class WalkPath:
    d: str  # SVG path data
    label: str


@dataclass(frozen=True)
class BarrierPath:
    """A railway or a river the streets cross only at a few places."""

    kind: str  # "railway" | "river" (the template draws these two)
    d: str
    label: str


@dataclass(frozen=True)
class HomeMarker:
    x: float
    y: float
    r: float
    covered: bool
    population: int
    label: str


@dataclass(frozen=True)
class GroupMarker:
    x: float
    y: float
    r: float
    band: str
    label: str


@dataclass(frozen=True)
class GroupBand:
    """The groups of one band, drawn together."""

    band: str
    markers: tuple[GroupMarker, ...]

    @property
    def count(self) -> int:
        return len(self.markers)


@dataclass(frozen=True)
class SiteMarker:
    x: float
    y: float
    planned: bool
    label: str
    half: int = SITE_HALF

    @property
    def left(self) -> float:
        return round(self.x - self.half, 1)

    @property
    def top(self) -> float:
        return round(self.y - self.half, 1)

    @property
    def size(self) -> int:
        return 2 * self.half


@dataclass(frozen=True)
class CandidateMarker:
    """A diamond: a pick when it has a rank, a plain candidate when not."""

    x: float
    y: float
    label: str
    rank: int | None = None
    half: int = CANDIDATE_HALF

    @property
    def top(self) -> float:
        """The diamond's upper corner, where the template's path starts."""
        return round(self.y - self.half, 1)

    @property
    def text_y(self) -> float:
        """The baseline that centres the rank number on the diamond."""
        return round(self.y + PICK_FONT * 0.35, 1)


@dataclass(frozen=True)
class Circle:
    """The walking distance around a suggested site."""

    cx: float
    cy: float
    r: float
    rank: int


@dataclass(frozen=True)
class ScaleBar:
    x: float  # the left end
    y: float  # the bar's baseline
    px: float  # its length
    metres: int

    @property
    def label(self) -> str:
        """The English label; the template translates its own."""
        return f"{self.metres} m"

    @property
    def right(self) -> float:
        return round(self.x + self.px, 1)


@dataclass(frozen=True)
class AreaMap:
    width: int
    height: int
    # In drawing order: covered homes (larger first, so small ones stay visible), then the
    # uncovered ones above them, then facilities, candidates, walking circles and picks by rank.
    covered_homes: tuple[HomeMarker, ...]
    uncovered_homes: tuple[HomeMarker, ...]
    sites: tuple[SiteMarker, ...]
    candidates: tuple[CandidateMarker, ...]  # the ones not suggested
    picks: tuple[CandidateMarker, ...]  # the suggested ones, by rank
    pick_circles: tuple[Circle, ...]  # empty unless reach_m was given
    scale_bar: ScaleBar
    north_x: float  # the tip of the north arrow
    north_y: float
    px_per_m: float
    reach_m: int | None
    max_population: int  # of the largest circle
    home_r_max: float  # its radius
    sites_open: int
    sites_planned: int
    # Streets under everything (path data, whole pixels: a district's streets stay small), and
    # the walks drawn above the homes.
    streets_major: str = ""
    streets_minor: str = ""
    walks: tuple[WalkPath, ...] = ()
    barriers: tuple[BarrierPath, ...] = ()
    # A map of groups: each band's circles, and the facilities as squares of one path each.
    bands: tuple[GroupBand, ...] = ()
    sites_open_d: str = ""
    sites_planned_d: str = ""

    @property
    def barrier_kinds(self) -> set[str]:
        return {b.kind for b in self.barriers}

    @property
    def grouped(self) -> bool:
        """Communities drawn as circles, not compounds."""
        return bool(self.bands)

    @property
    def group_count(self) -> int:
        return sum(b.count for b in self.bands)

    def band(self, name: str) -> int:
        return next((b.count for b in self.bands if b.band == name), 0)

    @property
    def groups_full(self) -> int:
        return self.band("full")

    @property
    def groups_most(self) -> int:
        return self.band("most")

    @property
    def groups_half(self) -> int:
        return self.band("half")

    @property
    def groups_few(self) -> int:
        return self.band("few")

    @property
    def empty(self) -> bool:
        """No compounds: the template says so in words instead of drawing."""
        return not (self.covered_homes or self.uncovered_homes or self.bands)

    @property
    def homes(self) -> tuple[HomeMarker, ...]:
        return self.covered_homes + self.uncovered_homes

    @property
    def covered_count(self) -> int:
        return len(self.covered_homes)

    @property
    def uncovered_count(self) -> int:
        return len(self.uncovered_homes)

    @property
    def site_count(self) -> int:
        return self.sites_open + self.sites_planned

    @property
    def candidate_count(self) -> int:
        """Every candidate site, suggested or not."""
        return len(self.candidates) + len(self.picks)

    @property
    def pick_count(self) -> int:
        return len(self.picks)


def layout(
    homes: Sequence[Home],
    sites: Sequence[Site],
    candidates: Sequence[Candidate] = (),
    *,
    reach_m: int | None = None,
    width: int = 800,
    max_height: int = 640,
    streets: Sequence[Line] = (),
    walks: Sequence[Line] = (),
    barriers: Sequence[tuple[str, Line]] = (),
    groups: Sequence[Group] = (),
) -> AreaMap:
    """Fit every compound (or ``groups`` of them), facility and candidate into a canvas
    ``width`` wide, north up.

    The height follows the area's shape up to ``max_height``; a taller area is scaled to fit and
    centred across. ``reach_m`` draws the category's walking distance around each suggested site.
    ``streets`` are drawn under the points (they do not widen the map) and ``walks`` above the
    homes. With ``groups`` (and no homes), each is a circle and the facilities small squares.
    """
    if width < 200 or max_height < MIN_HEIGHT:
        raise ValueError(f"a {width}×{max_height} canvas is too small for an area map")
    if reach_m is not None and reach_m <= 0:
        raise ValueError("reach_m is a positive number of metres")

    if homes and groups:
        raise ValueError("a map draws compounds or groups of them, not both")
    points = [(p.latitude, p.longitude) for p in (*homes, *groups, *sites, *candidates)]
    if not points:
        points = [(0.0, 0.0)]
    south, north = min(p[0] for p in points), max(p[0] for p in points)
    west, east = min(p[1] for p in points), max(p[1] for p in points)
    mid_lat, mid_lng = (south + north) / 2, (west + east) / 2
    cos_lat = cos(radians(mid_lat))
    span_x = max((east - west) * geo.METRES_PER_DEGREE * cos_lat, MIN_SPAN_M)
    span_y = max((north - south) * geo.METRES_PER_DEGREE, MIN_SPAN_M)

    inner_w = width - 2 * MARGIN
    scale = min(inner_w / span_x, (max_height - MARGIN - BOTTOM) / span_y)  # px per metre
    height = min(max_height, max(MIN_HEIGHT, round(span_y * scale) + MARGIN + BOTTOM))
    cx = MARGIN + inner_w / 2
    cy = MARGIN + (height - MARGIN - BOTTOM) / 2

    def project(latitude: float, longitude: float) -> tuple[float, float]:
        north_m = (latitude - mid_lat) * geo.METRES_PER_DEGREE
        east_m = (longitude - mid_lng) * geo.METRES_PER_DEGREE * cos_lat
        return round(cx + east_m * scale, 1), round(cy - north_m * scale, 1)

    max_population = max((h.population for h in homes), default=0)
    r_max = largest_radius(len(homes), inner_w * (height - MARGIN - BOTTOM))
    home_markers = sorted(
        (
            HomeMarker(
                *project(h.latitude, h.longitude),
                r=home_radius(h.population, max_population, r_max),
                covered=h.covered,
                population=h.population,
                label=h.label,
            )
            for h in homes
        ),
        key=lambda m: (-m.r, m.y, m.x),
    )
    if groups:
        # Half the side of the square each community has to itself: a city's communities touch
        # only where they are large.
        max_population = max(g.population for g in groups)
        room = sqrt(inner_w * (height - MARGIN - BOTTOM) / len(groups))
        r_max = round(min(HOME_R_MAX, max(HOME_R_MIN + 1, 0.5 * room)), 1)
    group_markers = sorted(
        (
            GroupMarker(
                *project(g.latitude, g.longitude),
                r=home_radius(g.population, max_population, r_max),
                band=g.band,
                label=g.label,
            )
            for g in groups
            if g.population > 0
        ),
        key=lambda m: (-m.r, m.y, m.x),
    )
    site_markers = sorted(
        (SiteMarker(*project(s.latitude, s.longitude), s.planned, s.label) for s in sites),
        key=lambda m: (not m.planned, m.y, m.x),  # the open ones, solid, above the planned
    )

    def squares(planned: bool) -> str:
        """Facilities as small squares of one path, in whole pixels: a city's thousands."""
        half = SITE_DOT // 2
        return "".join(
            f"M{round(m.x) - half} {round(m.y) - half}h{SITE_DOT}v{SITE_DOT}h-{SITE_DOT}z"
            for m in site_markers
            if m.planned == planned
        )

    others = [
        CandidateMarker(*project(c.latitude, c.longitude), c.label)
        for c in candidates
        if c.rank is None
    ]
    picks = sorted(
        (
            CandidateMarker(*project(c.latitude, c.longitude), c.label, c.rank, PICK_HALF)
            for c in candidates
            if c.rank is not None
        ),
        key=lambda m: (m.rank, m.label),
    )
    circles = (
        tuple(Circle(p.x, p.y, round(reach_m * scale, 1), p.rank) for p in picks) if reach_m else ()
    )

    def d(lines: Iterable[Line]) -> str:
        """The lines' segments, cut to the canvas."""
        segments = []
        for line in lines:
            xy = [project(lat, lng) for lat, lng in line.points]
            segments += [(*a, *b) for a, b in itertools.pairwise(xy)]
        return clip.path(segments, width, height)

    # The longest round length that takes at most a quarter of the width.
    bar_m = max(
        (m for m in SCALE_BAR_METRES if m * scale <= width / 4), default=SCALE_BAR_METRES[0]
    )
    return AreaMap(
        width=width,
        height=height,
        covered_homes=tuple(m for m in home_markers if m.covered),
        uncovered_homes=tuple(m for m in home_markers if not m.covered),
        sites=() if groups else tuple(site_markers),
        candidates=tuple(others),
        picks=tuple(picks),
        pick_circles=circles,
        scale_bar=ScaleBar(SCALE_BAR_X, height - SCALE_BAR_BOTTOM, round(bar_m * scale, 1), bar_m),
        north_x=width - NORTH_RIGHT,
        north_y=height - NORTH_TOP,
        px_per_m=scale,
        reach_m=reach_m,
        max_population=max_population,
        home_r_max=r_max,
        sites_open=sum(not s.planned for s in sites),
        sites_planned=sum(s.planned for s in sites),
        streets_major=d(line for line in streets if line.major),
        streets_minor=d(line for line in streets if not line.major),
        walks=tuple(WalkPath(d([w]), w.label) for w in walks if len(w.points) > 1),
        barriers=tuple(
            BarrierPath(kind, path, line.label)
            for kind, line in barriers
            if kind in ("railway", "river") and (path := d([line]))
        ),
        bands=tuple(
            GroupBand(band, tuple(m for m in group_markers if m.band == band))
            for band in BANDS
            if groups
        ),
        sites_open_d=squares(False) if groups else "",
        sites_planned_d=squares(True) if groups else "",
    )


def largest_radius(count: int, area_px: float) -> float:
    """The radius of the most populous compound: HOME_R_MAX unless the map is crowded.

    Three quarters of the side of the square each compound would have to itself: most circles
    are smaller than the largest, so neighbours touch rather than cover each other."""
    if count == 0:
        return HOME_R_MAX
    room = 0.75 * sqrt(area_px / count)
    return round(min(HOME_R_MAX, max(HOME_R_MAX_CROWDED, room)), 1)


def home_radius(population: int, max_population: int, r_max: float = HOME_R_MAX) -> float:
    """The radius whose circle's area is proportional to the population, at least HOME_R_MIN.

    The most populous compound on the map gets ``r_max``."""
    if population <= 0 or max_population <= 0:
        return HOME_R_MIN
    r = r_max * sqrt(min(population, max_population) / max_population)
    return round(max(HOME_R_MIN, r), 1)
