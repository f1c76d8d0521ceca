"""Storing a district's street network: read the extract (``streets.osm``), then replace the
district's network in one transaction, so a file that fails leaves the previous one untouched.

Nodes and edges go in with PostgreSQL's COPY: a city's network is hundreds of thousands of rows.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, District, ResidentialCompound
from streets import osm
from streets.models import StreetEdge, StreetNetwork, StreetNode

# Facilities and compounds this far beyond the district's outermost ones still count: a canteen
# across the border is as near as one inside it.
MARGIN_M = 2000


class ImportRefused(Exception):
    """The file cannot give this district a network; the message says why, in the user's
    language. Nothing was changed."""


@dataclass(frozen=True)
class Imported:
    network: StreetNetwork
    replaced: bool  # a previous network of the district was replaced


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def district_box(district: District, margin_m: float = MARGIN_M) -> osm.Box:
    """The district's communities and compounds, and ``margin_m`` around them."""
    points = list(
        ResidentialCompound.objects.filter(community__subdistrict__district=district).values_list(
            "latitude", "longitude"
        )
    )
    points += Community.objects.filter(
        subdistrict__district=district, latitude__isnull=False, longitude__isnull=False
    ).values_list("latitude", "longitude")
    if not points:
        raise ImportRefused(
            _("%(district)s has no communities or compounds with a point yet: add them first.")
            % {"district": district}
        )
    return osm.extent(points, margin_m)


def source_date(path: str) -> datetime | None:
    """The extract's own timestamp from its header, where it records one."""
    import osmium

    try:
        reader = osmium.io.Reader(path, osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
        finally:
            reader.close()
    except RuntimeError:
        return None
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def import_file(path: str, district: District, *, demo: bool = False) -> Imported:
    """Read ``path`` and make it ``district``'s network, replacing any before it."""
    if not Path(path).is_file():
        raise ImportRefused(_("There is no file %(file)s.") % {"file": path})
    box = district_box(district)
    try:
        network = osm.read(path, box)
    except osm.NotReadable:
        raise ImportRefused(
            _(
                "%(file)s cannot be read as an OpenStreetMap extract (.osm.pbf): it is another "
                "kind of file, or it is cut short. Download it again."
            )
            % {"file": Path(path).name}
        ) from None
    if network.edges == 0:
        raise ImportRefused(
            _(
                "%(file)s has no street people walk on inside %(district)s and the %(margin)s m "
                "around it: is it the extract of another place?"
            )
            % {"file": Path(path).name, "district": district, "margin": f"{MARGIN_M:,}"}
        )
    south, west, north, east = box
    report = {
        "ways_kept": dict(network.report.ways_kept.most_common()),
        "ways_left": dict(network.report.ways_left.most_common()),
        "segments_outside": network.report.edges_outside,
        "pieces": network.report.pieces,
        "nodes_in_smaller_pieces": network.report.nodes_in_smaller_pieces,
    }
    with transaction.atomic():
        replaced, _counts = StreetNetwork.objects.filter(district=district).delete()
        made = StreetNetwork.objects.create(
            district=district,
            source_name=Path(path).name[:200],
            source_date=source_date(path),
            source_sha256=sha256_of(path),
            imported_at=timezone.now(),
            south=south,
            west=west,
            north=north,
            east=east,
            node_count=network.nodes,
            edge_count=network.edges,
            length_km=float(network.length_m.sum()) / 1000,
            report=report,
            is_demo=demo,
        )
        _store(made, network)
    return Imported(made, bool(replaced))


def _store(made: StreetNetwork, network: osm.Network) -> None:
    nodes, edges = StreetNode._meta.db_table, StreetEdge._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f'COPY "{nodes}" (network_id, osm_id, latitude, longitude) FROM STDIN'
        ) as copy:
            for osm_id, lat, lng in zip(
                network.osm_ids.tolist(), network.lat.tolist(), network.lng.tolist(), strict=True
            ):
                copy.write_row((made.pk, osm_id, lat, lng))
        cursor.execute(f'SELECT osm_id, id FROM "{nodes}" WHERE network_id = %s', [made.pk])
        ids = dict(cursor.fetchall())
        node_ids = [ids[o] for o in network.osm_ids.tolist()]
        with cursor.cursor.copy(
            f'COPY "{edges}" (network_id, source_id, target_id, length_m, kind) FROM STDIN'
        ) as copy:
            for a, b, metres, kind in zip(
                network.source.tolist(),
                network.target.tolist(),
                network.length_m.tolist(),
                network.kind,
                strict=True,
            ):
                copy.write_row((made.pk, node_ids[a], node_ids[b], metres, kind))
