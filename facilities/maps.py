"""A small map of a facility's surroundings, laid out on the server for an inline SVG.

Plain functions and frozen dataclasses, no ORM, request or template: a view turns facilities and
compounds into ``Place`` values, ``layout`` places them on a canvas, and
``templates/facilities/includes/map.html`` draws the ``MapView`` it returns.

The projection (``Projection``) is a local equirectangular one, north up, with the metres of
``portal.lib.geo``; over the kilometre or two the map spans it is as exact as the distances the
portal shows. Every distance is a straight line from the subject (``geo.distance_m``).

``fitted`` lays out a whole area instead (a community, for the back office to pick a point on):
no walking circles or distances, and the canvas's ``bounds`` to undo the projection with.
"""

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from math import cos, radians

import numpy as np

from portal.lib import clip, geo
from portal.lib.coords import Bounds

FACILITY = "facility"
COMPOUND = "compound"
NEIGHBOUR = "neighbour"
KINDS = (FACILITY, COMPOUND, NEIGHBOUR)

# The walking circles residents know from the 15-minute living-circle guidance.
RING_METRES = (300, 500, 1000)
SCALE_BAR_METRES = (100, 200, 500, 1000)

# Pixel geometry shared with the template: it draws what these numbers describe.
MARGIN = 24  # between the radius_m circle and the shorter edge of the canvas
LABEL_FONT = 15  # user units, never below 14: the map is often drawn a little smaller
SMALL_FONT = 14  # ring and scale-bar labels
LABEL_GAP = 4  # between a marker and its label
LABEL_MAX_WIDTH = 170  # longer names are shortened on the map; the list below shows them whole
HALO = 2  # the white outline around the text
EDGE = 4  # keep labels this far inside the canvas
MARKER_HALF = {FACILITY: 12, COMPOUND: 6, NEIGHBOUR: 6}  # the template draws these sizes
RING_TEXT_GAP = 4  # between a ring and its label
SCALE_BAR_X = 16
SCALE_BAR_BOTTOM = 16  # from the bottom edge to the bar
SCALE_BAR_TEXT_LIFT = 8  # from the bar up to its label's baseline
NORTH_RIGHT = 24  # from the right edge to the north arrow
NORTH_TOP = 12  # from the top edge to the arrow's tip
NORTH_HEIGHT = 38  # the arrow and the "N" below it


@dataclass(frozen=True)
class Place:
    """Something to draw: the subject facility, a residential compound or another facility."""

    kind: str  # FACILITY (the subject) | COMPOUND | NEIGHBOUR
    label: str
    latitude: float
    longitude: float
    url: str = ""  # "" when it is not a link
    icon: str = ""  # the category icon of a neighbour
    walk_m: float | None = None  # the walk along the streets from the subject, where known

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")

    @property
    def point(self) -> geo.Point:
        return (self.latitude, self.longitude)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle on the canvas, y downwards."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Box") -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def inside(self, left: float, top: float, right: float, bottom: float) -> bool:
        return (
            self.left >= left and self.top >= top and self.right <= right and self.bottom <= bottom
        )


@dataclass(frozen=True)
class Marker:
    """A place on the canvas, with where its label goes (if it found room)."""

    place: Place
    x: float
    y: float
    label_x: float
    label_y: float  # the text baseline
    label_anchor: str  # "start" | "end" | "middle"; "" when the label is left off the map
    distance_m: int  # from the subject (walked where known, else straight); 0 for the subject
    label_text: str = ""  # the label as drawn, shortened to fit

    @property
    def label_shown(self) -> bool:
        return bool(self.label_anchor)

    @property
    def walking_minutes(self) -> int:
        return geo.walking_minutes(self.distance_m)

    @property
    def font_size(self) -> int:
        return LABEL_FONT + 1 if self.place.kind == FACILITY else LABEL_FONT

    @property
    def half_size(self) -> int:
        return MARKER_HALF[self.place.kind]

    @property
    def box(self) -> Box:
        h = self.half_size
        return Box(self.x - h, self.y - h, self.x + h, self.y + h)


@dataclass(frozen=True)
class MapView:
    width: int
    height: int
    markers: tuple[Marker, ...]  # the subject first, then the others nearest first
    rings: tuple[tuple[int, float], ...]  # (metres, radius in px) of the walking circles that fit
    # (metres, x, baseline, anchor) of each ring's label, on a stretch of the ring clear of markers
    ring_labels: tuple[tuple[int, float, float, str], ...]
    scale_bar_m: int
    scale_bar_px: float
    radius_m: int
    scale_bar_x: float  # the left end of the bar
    scale_bar_y: float
    north_x: float  # the tip of the north arrow
    north_y: float
    # The streets under everything, as SVG path data in whole pixels (main roads apart).
    streets_major: str = ""
    streets_minor: str = ""
    # The canvas's edges in degrees: the projection is linear in latitude and in longitude, so a
    # script turns a click back into a point from these alone (the back office's point picker).
    bounds: Bounds | None = None

    @property
    def walked(self) -> bool:
        """Whether the distances shown are walks along the streets."""
        return any(m.place.walk_m is not None for m in self.others)

    @property
    def subject(self) -> Marker:
        return self.markers[0]

    @property
    def others(self) -> tuple[Marker, ...]:
        return self.markers[1:]

    @property
    def compound_count(self) -> int:
        return sum(m.place.kind == COMPOUND for m in self.others)

    @property
    def neighbour_count(self) -> int:
        return sum(m.place.kind == NEIGHBOUR for m in self.others)

    @property
    def metres_per_minute(self) -> int:
        """The walking pace behind every marker's walking minutes."""
        return geo.SENIOR_METRES_PER_MINUTE

    @property
    def drawing_order(self) -> tuple[Marker, ...]:
        """Farthest first and the subject last, so the nearer markers sit on top."""
        return (*reversed(self.others), self.subject)

    def fixed_boxes(self) -> list[Box]:
        """What labels must keep clear of besides the markers: the scale bar and north arrow."""
        text = _label_box(
            _ring_text(self.scale_bar_m),
            self.scale_bar_x,
            self.scale_bar_y - SCALE_BAR_TEXT_LIFT,
            "start",
            SMALL_FONT,
        )
        bar = Box(
            self.scale_bar_x - HALO,
            self.scale_bar_y - 6,
            self.scale_bar_x + self.scale_bar_px + HALO,
            self.scale_bar_y + 2,
        )
        return [
            Box(bar.left, text.top, max(bar.right, text.right), bar.bottom),
            Box(self.north_x - 9, self.north_y - 2, self.north_x + 9, self.north_y + NORTH_HEIGHT),
        ]


@dataclass(frozen=True)
class Projection:
    """North up, equirectangular about ``centre``: ``scale`` px per metre, with ``centre`` drawn
    at (``cx``, ``cy``). Linear in latitude and in longitude, so it is undone from the canvas's
    ``bounds`` alone."""

    centre: geo.Point
    scale: float  # px per metre
    cx: float
    cy: float

    @property
    def cos_lat(self) -> float:
        return cos(radians(self.centre[0]))

    def xy(self, point: geo.Point) -> tuple[float, float]:
        north = (point[0] - self.centre[0]) * geo.METRES_PER_DEGREE
        east = (point[1] - self.centre[1]) * geo.METRES_PER_DEGREE * self.cos_lat
        return self.cx + east * self.scale, self.cy - north * self.scale

    def streets(
        self, streets: Sequence[tuple[geo.Point, geo.Point, bool]], width: int, height: int
    ) -> tuple[str, str]:
        """SVG path data of the main roads and of the other streets, cut to the canvas."""

        def path(major: bool) -> str:
            ends = np.array([(*a, *b) for a, b, big in streets if big == major], dtype=float)
            if not len(ends):
                return ""
            # Projected all at once: a city block's map has a thousand segments.
            north = (ends[:, [0, 2]] - self.centre[0]) * geo.METRES_PER_DEGREE
            east = (ends[:, [1, 3]] - self.centre[1]) * geo.METRES_PER_DEGREE * self.cos_lat
            x, y = self.cx + east * self.scale, self.cy - north * self.scale
            return clip.path(np.column_stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]]), width, height)

        return path(True), path(False)

    def bounds(self, width: int, height: int) -> Bounds:
        """The canvas's edges: (0, 0) is its north-west corner, (width, height) its south-east."""
        per_degree = geo.METRES_PER_DEGREE * self.scale
        lat, lng = self.centre
        return Bounds(
            south=lat - (height - self.cy) / per_degree,
            west=lng - self.cx / (per_degree * self.cos_lat),
            north=lat + self.cy / per_degree,
            east=lng + (width - self.cx) / (per_degree * self.cos_lat),
        )


def layout(
    subject: Place,
    others: Sequence[Place],
    *,
    width: int = 640,
    height: int = 400,
    radius_m: int = 600,
    limit: int = 12,
    streets: Sequence[tuple[geo.Point, geo.Point, bool]] = (),
) -> MapView:
    """Place the subject at the centre and the nearest ``limit`` others within ``radius_m``.

    Places farther than ``radius_m`` are dropped even where the wider side of the canvas has room
    for them, so the map, its description ("within 600 m") and the list below it agree.
    ``streets`` ((end, end, main road) segments) are drawn under everything.
    """
    if subject.kind != FACILITY:
        raise ValueError("the subject of a map is a facility")
    if min(width, height) < 4 * MARGIN:
        raise ValueError(f"a {width}×{height} canvas is too small for a map")
    cx, cy = width / 2, height / 2
    projection = Projection(subject.point, (min(width, height) / 2 - MARGIN) / radius_m, cx, cy)
    scale = projection.scale

    def project(place: Place) -> tuple[float, float]:
        x, y = projection.xy(place.point)
        return round(x, 1), round(y, 1)

    # Within the map by straight line (that is what it can draw); shown and ordered by the walk
    # where one is known.
    nearby = sorted(
        (
            (
                round(p.walk_m if p.walk_m is not None else geo.distance_m(subject.point, p.point)),
                p.label,
                i,
                p,
            )
            for i, p in enumerate(others)
            if geo.distance_m(subject.point, p.point) <= radius_m
        ),
        key=lambda t: t[:3],
    )
    kept = [(d, p) for d, _, _, p in nearby][:limit]

    rings = tuple(
        (metres, round(metres * scale, 1)) for metres in RING_METRES if metres <= radius_m
    )
    view = _frame(projection, width, height, radius_m, streets, rings)

    unlabelled = [_unlabelled(subject, cx, cy, 0)]
    unlabelled += [_unlabelled(p, *project(p), d) for d, p in kept]
    taken = view.fixed_boxes() + [_inflate(m.box, 2) for m in unlabelled]
    ring_labels = []
    for metres, px in rings:
        if slot := _free_ring_slot(metres, cx, cy, px, taken, width, height):
            ring_labels.append((metres, *slot))
            taken.append(_label_box(_ring_text(metres), *slot, SMALL_FONT))
    return replace(
        view, markers=_labelled(unlabelled, taken, width, height), ring_labels=tuple(ring_labels)
    )


def fitted(
    subject: Place,
    others: Sequence[Place],
    *,
    width: int = 640,
    height: int = 400,
    pad_m: float = 100,
    least_span_m: float = 400,
    reach_m: float = 1000,
    streets: Sequence[tuple[geo.Point, geo.Point, bool]] = (),
) -> MapView:
    """A map of an area rather than of a subject's surroundings: every one of ``others`` on the
    canvas with ``pad_m`` to spare on each side, at least ``least_span_m`` across, north up, no
    walking circles, no distances. The back office draws a community on it to pick a point from
    (``MapView.bounds`` undo the projection).

    The subject (a star) widens the area when it lies within ``reach_m`` of the others' box;
    farther away (a point typed wrong) it would shrink them to specks, so it is left off the
    canvas instead.
    """
    if subject.kind != FACILITY:
        raise ValueError("the subject of a map is a facility")
    if min(width, height) < 4 * MARGIN:
        raise ValueError(f"a {width}×{height} canvas is too small for a map")
    points = [p.point for p in others]
    if not points or Bounds.around(points).enlarged(reach_m).contains(subject.point):
        points.append(subject.point)
    area = Bounds.around(points)
    centre = ((area.south + area.north) / 2, (area.west + area.east) / 2)
    span_north = geo.distance_m((area.south, centre[1]), (area.north, centre[1]))
    span_east = geo.distance_m((centre[0], area.west), (centre[0], area.east))
    scale = min(
        width / max(span_east + 2 * pad_m, least_span_m),
        height / max(span_north + 2 * pad_m, least_span_m),
    )
    projection = Projection(centre, scale, width / 2, height / 2)
    radius_m = round(min(width, height) / 2 / scale)
    view = _frame(projection, width, height, radius_m, streets)

    def unlabelled(place: Place) -> Marker:
        x, y = projection.xy(place.point)
        return _unlabelled(place, round(x, 1), round(y, 1), 0)

    markers = [unlabelled(subject), *(unlabelled(p) for p in others)]
    taken = view.fixed_boxes() + [_inflate(m.box, 2) for m in markers]
    return replace(view, markers=_labelled(markers, taken, width, height))


def _frame(
    projection: Projection,
    width: int,
    height: int,
    radius_m: int,
    streets: Sequence[tuple[geo.Point, geo.Point, bool]],
    rings: tuple[tuple[int, float], ...] = (),
) -> MapView:
    """A map with its streets, scale bar and north arrow, and nothing placed on it yet."""
    scale = projection.scale
    # The longest round length that takes at most a quarter of the width.
    bar_m = max(
        (m for m in SCALE_BAR_METRES if m * scale <= width / 4), default=SCALE_BAR_METRES[0]
    )
    major, minor = projection.streets(streets, width, height)
    return MapView(
        streets_major=major,
        streets_minor=minor,
        width=width,
        height=height,
        markers=(),
        rings=rings,
        ring_labels=(),
        scale_bar_m=bar_m,
        scale_bar_px=round(bar_m * scale, 1),
        radius_m=radius_m,
        scale_bar_x=SCALE_BAR_X,
        scale_bar_y=height - SCALE_BAR_BOTTOM,
        north_x=width - NORTH_RIGHT,
        north_y=NORTH_TOP,
        bounds=projection.bounds(width, height),
    )


def _labelled(
    unlabelled: list[Marker], taken: list[Box], width: int, height: int
) -> tuple[Marker, ...]:
    """The markers with their labels placed, in order, each where it overlaps nothing placed
    before it (``taken``, which grows)."""
    markers = []
    for marker in unlabelled:
        text = _shorten(marker.place.label, marker.font_size, LABEL_MAX_WIDTH)
        slot = _free_slot(marker, text, taken, width, height)
        if slot is None:
            markers.append(replace(marker, label_text=text))
            continue
        x, y, anchor = slot
        taken.append(_label_box(text, x, y, anchor, marker.font_size))
        markers.append(replace(marker, label_x=x, label_y=y, label_anchor=anchor, label_text=text))
    return tuple(markers)


def _free_ring_slot(
    metres: int, cx: float, cy: float, r: float, taken: list[Box], width: int, height: int
) -> tuple[float, float, str] | None:
    """Where on its ring a label goes: the top, else the first free of the bottom, the sides and
    the diagonals; None on a map so crowded that none is."""
    text, g, size = _ring_text(metres), RING_TEXT_GAP, SMALL_FONT
    d = r * 0.7071  # the diagonals, at 45°
    slots = [
        (cx, cy - r - g, "middle"),
        (cx, cy + r + g + size * 0.95, "middle"),
        (cx + r + g, cy + size * 0.35, "start"),
        (cx - r - g, cy + size * 0.35, "end"),
        (cx + d + g, cy - d - g, "start"),
        (cx - d - g, cy - d - g, "end"),
        (cx + d + g, cy + d + g + size * 0.95, "start"),
        (cx - d - g, cy + d + g + size * 0.95, "end"),
    ]
    slots = [(round(x, 1), round(y, 1), anchor) for x, y, anchor in slots]
    for x, y, anchor in slots:
        box = _label_box(text, x, y, anchor, size)
        if box.inside(EDGE, EDGE, width - EDGE, height - EDGE) and not any(
            box.overlaps(other) for other in taken
        ):
            return x, y, anchor
    return None


def _unlabelled(place: Place, x: float, y: float, distance_m: int) -> Marker:
    return Marker(place, x, y, label_x=x, label_y=y, label_anchor="", distance_m=distance_m)


def _free_slot(
    marker: Marker, text: str, taken: Iterable[Box], width: int, height: int
) -> tuple[float, float, str] | None:
    size = marker.font_size
    # The subject's label may stand farther off in a crowd: its colour ties it to the star.
    reaches = (0, 12, 24, 36) if marker.place.kind == FACILITY else (0,)
    for x, y, anchor in (slot for reach in reaches for slot in _slots(marker, size, reach)):
        box = _label_box(text, x, y, anchor, size)
        if box.inside(EDGE, EDGE, width - EDGE, height - EDGE) and not any(
            box.overlaps(other) for other in taken
        ):
            return x, y, anchor
    return None


def _slots(marker: Marker, size: int, reach: float = 0) -> list[tuple[float, float, str]]:
    """Right, left, above, below, then the four diagonals: (x, baseline, anchor)."""
    x, y, d = marker.x, marker.y, marker.half_size + LABEL_GAP + reach
    middle = y + size * 0.35  # the baseline that centres the text on the marker
    above = y - d - size * 0.3
    below = y + d + size * 0.95
    slots = [
        (x + d, middle, "start"),
        (x - d, middle, "end"),
        (x, above, "middle"),
        (x, below, "middle"),
        (x + d, above, "start"),
        (x + d, below, "start"),
        (x - d, above, "end"),
        (x - d, below, "end"),
    ]
    return [(round(sx, 1), round(sy, 1), anchor) for sx, sy, anchor in slots]


def _label_box(text: str, x: float, baseline: float, anchor: str, size: int = LABEL_FONT) -> Box:
    """The rectangle a label with its halo covers, from an estimate of its width."""
    w = _text_width(text, size)
    left = {"start": x, "end": x - w, "middle": x - w / 2}[anchor]
    top = baseline - size * 0.95
    return Box(left - HALO, top - HALO, left + w + HALO, baseline + size * 0.3 + HALO)


def _text_width(text: str, size: float) -> float:
    """A generous estimate of the drawn width. Checked against Chromium's getBBox with the page's
    fonts (DejaVu Sans, Noto Sans CJK), which it exceeds by a pixel or more."""
    return size * sum(_em(c) for c in text)


def _em(char: str) -> float:
    if unicodedata.east_asian_width(char) in "WF":
        return 1.0  # CJK ideographs and full-width punctuation are square
    if char in "MW@%&" or char.isupper():
        return 0.95 if char in "MW@" else 0.78
    return 0.62


def _shorten(text: str, size: int, max_width: float) -> str:
    if _text_width(text, size) <= max_width:
        return text
    while text and _text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _ring_text(metres: int) -> str:
    return f"{metres} 米"  # the wider of the English and the Chinese label


def _inflate(box: Box, by: float) -> Box:
    return Box(box.left - by, box.top - by, box.right + by, box.bottom + by)
