"""A district's walkable street network from an OpenStreetMap extract: plain data in and out.

``read`` takes a ``.osm.pbf`` file and a box (the district's extent and a margin) and gives back a
``Network``: nodes with their points, and undirected edges between consecutive nodes of the ways
people walk on, with their length in metres and the way's kind, cut to the box and reduced to the
largest connected piece (a footpath in a courtyard that joins no street reaches nobody). Nothing
here touches the database; ``streets.loader`` stores what this returns.

Which ways people walk on (``walk_kind``), following OpenStreetMap's tagging:
- every ``highway`` of ``WALKED`` (footways, paths, steps, pedestrian streets, living streets,
  residential, service and unclassified roads, tertiary, secondary and primary roads: Chinese
  city roads of these classes have pavements, so sidewalks are assumed), and their ``*_link``
  slip roads;
- a trunk road only with a pavement tagged along it (``sidewalk=both|left|right|yes``);
- any other way tagged ``foot=yes|designated|permissive`` (a cycle track people may walk on);
- never a motorway, a way tagged ``foot=no``, or one tagged ``access=private|no`` unless it
  says ``foot=yes|designated|permissive``; never an area (``area=yes``, a square drawn as its
  outline), which is not a line anyone walks along.

The reader is pyosmium (``osmium``), which hands each way its nodes' locations in one pass; see
the README for why not pyrosm.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from portal.lib import geo

WALKED = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "tertiary",
        "secondary",
        "primary",
        "crossing",
    }
)
LINKS = frozenset({"primary_link", "secondary_link", "tertiary_link"})
NEVER = frozenset({"motorway", "motorway_link"})
TRUNK = frozenset({"trunk", "trunk_link"})
FOOT_YES = frozenset({"yes", "designated", "permissive"})
SIDEWALK_YES = frozenset({"both", "left", "right", "yes"})
CLOSED = frozenset({"private", "no"})

Box = tuple[float, float, float, float]  # (south, west, north, east) in degrees


class NotReadable(Exception):
    """The file is no OpenStreetMap extract we can read (not OSM, or truncated)."""


def walk_kind(tags) -> str | None:
    """The way's kind (its ``highway`` value) if people walk on it, else None. ``tags`` is any
    mapping of OpenStreetMap tags (osmium's TagList answers ``.get`` like a dict)."""
    highway = tags.get("highway")
    if not highway or highway in NEVER:
        return None
    if tags.get("area") == "yes":
        return None
    foot = tags.get("foot")
    if foot == "no":
        return None
    if tags.get("access") in CLOSED and foot not in FOOT_YES:
        return None
    if highway in TRUNK:
        return highway if tags.get("sidewalk") in SIDEWALK_YES or foot in FOOT_YES else None
    if highway in WALKED or highway in LINKS or foot in FOOT_YES:
        return highway
    return None


@dataclass
class Report:
    """What the import kept and what it left out, for the person who ran it."""

    ways_kept: Counter = field(default_factory=Counter)  # kind → ways
    ways_left: Counter = field(default_factory=Counter)  # highway → ways not walked on
    edges_outside: int = 0  # segments with an end outside the box
    nodes_in_smaller_pieces: int = 0  # nodes of pieces not joined to the largest
    pieces: int = 0  # connected pieces before keeping the largest


@dataclass
class Network:
    """Nodes (OpenStreetMap ids and points) and undirected edges between them (indices into the
    node arrays, metres, kinds)."""

    osm_ids: np.ndarray  # int64
    lat: np.ndarray  # float64
    lng: np.ndarray  # float64
    source: np.ndarray  # int32, index of an end
    target: np.ndarray  # int32, index of the other end
    length_m: np.ndarray  # float64
    kind: list[str]
    report: Report

    @property
    def nodes(self) -> int:
        return len(self.osm_ids)

    @property
    def edges(self) -> int:
        return len(self.source)


def _inside(box: Box, lat: float, lng: float) -> bool:
    south, west, north, east = box
    return south <= lat <= north and west <= lng <= east


def segments(path: str, box: Box) -> tuple[dict, dict, Report]:
    """Every walked segment inside ``box`` as {(osm id a, osm id b) with a < b: (metres, kind)},
    the shortest where two ways share one; the points of their nodes {osm id: (lat, lng)}; and
    the report so far."""
    import osmium

    report = Report()
    found: dict[tuple[int, int], tuple[float, str]] = {}
    points: dict[int, tuple[float, float]] = {}
    # Nodes feed the index of locations (in memory: a district's extract fits); ways are read.
    processor = osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY).with_locations()
    try:
        for way in processor:
            if not way.is_way():
                continue
            tags = way.tags
            highway = tags.get("highway")
            if not highway:
                continue
            kind = walk_kind(tags)
            if kind is None:
                report.ways_left[highway] += 1
                continue
            report.ways_kept[kind] += 1
            previous = None
            for node in way.nodes:
                location = node.location
                if not location.valid():
                    previous = None  # a node the extract does not hold: the way is cut there
                    continue
                point = (location.lat, location.lon)
                if previous is not None and previous[0] != node.ref:
                    a, b = previous[0], node.ref
                    if _inside(box, *previous[1]) and _inside(box, *point):
                        metres = geo.distance_m(previous[1], point)
                        key = (a, b) if a < b else (b, a)
                        if key not in found or metres < found[key][0]:
                            found[key] = (metres, kind)
                        points[a], points[node.ref] = previous[1], point
                    else:
                        report.edges_outside += 1
                previous = (node.ref, point)
    except RuntimeError as error:  # osmium's own: not OSM, truncated, or unknown format
        raise NotReadable(str(error)) from None
    return found, points, report


def read(path: str, box: Box) -> Network:
    """The walkable network of ``path`` inside ``box``, its largest connected piece."""
    pairs, points, report = segments(path, box)
    ids = np.array(sorted(points), dtype=np.int64)
    if not len(pairs):
        return Network(
            ids[:0], np.zeros(0), np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32),
            np.zeros(0), [], report,
        )  # fmt: skip
    index = {osm_id: i for i, osm_id in enumerate(ids.tolist())}
    source = np.array([index[a] for a, _b in pairs], dtype=np.int32)
    target = np.array([index[b] for _a, b in pairs], dtype=np.int32)
    length = np.array([m for m, _k in pairs.values()], dtype=np.float64)
    kinds = [k for _m, k in pairs.values()]
    n = len(ids)
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
    report.pieces, labels = connected_components(graph, directed=False)
    largest = np.bincount(labels).argmax()
    keep_node = labels == largest
    report.nodes_in_smaller_pieces = int((~keep_node).sum())
    keep_edge = keep_node[source]  # both ends share a piece
    renumber = np.cumsum(keep_node) - 1
    lat = np.array([points[i][0] for i in ids.tolist()])
    lng = np.array([points[i][1] for i in ids.tolist()])
    return Network(
        osm_ids=ids[keep_node],
        lat=lat[keep_node],
        lng=lng[keep_node],
        source=renumber[source[keep_edge]].astype(np.int32),
        target=renumber[target[keep_edge]].astype(np.int32),
        length_m=length[keep_edge],
        kind=[k for k, kept in zip(kinds, keep_edge.tolist(), strict=True) if kept],
        report=report,
    )


def extent(points, margin_m: float) -> Box:
    """The box around ``points`` ((lat, lng) pairs), widened by ``margin_m`` on every side."""
    lats = [p[0] for p in points]
    lngs = [p[1] for p in points]
    # geo.bounding_box widens longitude for the latitude it is given: the one farthest from the
    # equator needs the most degrees.
    far = max(lats, key=abs)
    south = geo.bounding_box((min(lats), 0.0), margin_m)[0]
    north = geo.bounding_box((max(lats), 0.0), margin_m)[1]
    west = geo.bounding_box((far, min(lngs)), margin_m)[2]
    east = geo.bounding_box((far, max(lngs)), margin_m)[3]
    return south, west, north, east
