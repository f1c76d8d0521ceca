"""Storing a district's street network: read the extract (``streets.osm``), then replace the
district's network in one transaction, so a file that fails leaves the previous one untouched.
``replace_network`` is that replacing, for an extract and a generated network alike;
``load_generated`` gives a district without an extract a generated network (``streets.generated``)
and its compounds their gates, changing nothing where both are as planned already.

Nodes and edges go in with PostgreSQL's COPY: a city's network is hundreds of thousands of rows.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, CompoundGate, District, ResidentialCompound
from streets import generated, osm
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
    made, replaced = replace_network(
        district,
        network,
        source_name=Path(path).name[:200],
        source_sha256=sha256_of(path),
        source_date=source_date(path),
        box=box,
        report=import_report(network.report),
        demo=demo,
    )
    return Imported(made, replaced)


def import_report(report: osm.Report) -> dict:
    """What an extract's import kept and left out, as the network's ``report`` records it."""
    return {
        "ways_kept": dict(report.ways_kept.most_common()),
        "ways_left": dict(report.ways_left.most_common()),
        "segments_outside": report.edges_outside,
        "pieces": report.pieces,
        "nodes_in_smaller_pieces": report.nodes_in_smaller_pieces,
    }


def replace_network(
    district: District,
    network: osm.Network,
    *,
    source_name: str,
    source_sha256: str,
    source_date: datetime | None,
    box: osm.Box,
    report: dict,
    demo: bool = False,
) -> tuple[StreetNetwork, bool]:
    """Make ``network`` the district's, in one transaction: the previous one (if any) goes, the
    new one is stored whole. Returns the stored network and whether one was replaced."""
    south, west, north, east = box
    with transaction.atomic():
        replaced = delete_network(district)
        made = StreetNetwork.objects.create(
            district=district,
            source_name=source_name,
            source_date=source_date,
            source_sha256=source_sha256,
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
    return made, replaced


def delete_network(district: District) -> bool:
    """Delete the district's network, if it has one; whether it had.

    Edges and nodes go in one statement each: left to the ORM's cascade, a city's hundreds of
    thousands of nodes would be fetched into memory first, one object each."""
    found = StreetNetwork.objects.filter(district=district).first()
    if found is None:
        return False
    nodes, edges = StreetNode._meta.db_table, StreetEdge._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{edges}" WHERE network_id = %s', [found.pk])
        cursor.execute(f'DELETE FROM "{nodes}" WHERE network_id = %s', [found.pk])
        found.delete()
    return True


def _store(made: StreetNetwork, network: osm.Network) -> None:
    nodes, edges = StreetNode._meta.db_table, StreetEdge._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f'COPY "{nodes}" (network_id, osm_id, latitude, longitude) FROM STDIN (FORMAT BINARY)'
        ) as copy:
            copy.write(COPY_HEADER)
            copy.write(
                _binary_rows(
                    (made.pk, ">i8"),
                    (network.osm_ids, ">i8"),
                    (network.lat, ">f8"),
                    (network.lng, ">f8"),
                )
            )
            copy.write(COPY_TRAILER)
        cursor.execute(f'SELECT osm_id, id FROM "{nodes}" WHERE network_id = %s', [made.pk])
        stored = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
        order = np.argsort(stored[:, 0])
        node_ids = stored[order[np.searchsorted(stored[order, 0], network.osm_ids)], 1]
        kinds = np.array(network.kind, dtype=object)
        with cursor.cursor.copy(
            f'COPY "{edges}" (network_id, source_id, target_id, length_m, kind) '
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(COPY_HEADER)
            # A kind at a time: its rows all have the same width.
            for kind in sorted(set(network.kind)):
                rows = np.flatnonzero(kinds == kind)
                text = kind.encode()
                copy.write(
                    _binary_rows(
                        (made.pk, ">i8"),
                        (node_ids[network.source[rows]], ">i8"),
                        (node_ids[network.target[rows]], ">i8"),
                        (network.length_m[rows], ">f8"),
                        (np.full(len(rows), text), f"S{len(text)}"),
                    )
                )
            copy.write(COPY_TRAILER)


# PostgreSQL's binary COPY format: a signature, no flags, no header extension; then rows; then -1.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"


def _binary_rows(*columns: tuple) -> bytes:
    """Rows of binary COPY from columns of fixed width ((values, big-endian numpy type) each):
    a row is its number of fields, then each field's byte length and bytes. Built by numpy in
    one go: a city's network is a million rows, which one ``write_row`` each took seconds for."""
    count = max(np.size(values) for values, _type in columns)
    layout = [("fields", ">i2")]
    for k, (_values, type_) in enumerate(columns):
        layout += [(f"size{k}", ">i4"), (f"value{k}", type_)]
    rows = np.empty(count, dtype=layout)
    rows["fields"] = len(columns)
    for k, (values, type_) in enumerate(columns):
        rows[f"size{k}"] = np.dtype(type_).itemsize
        rows[f"value{k}"] = values
    return rows.tobytes()


@dataclass(frozen=True)
class GateChanges:
    created: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class GeneratedNetwork:
    """What ``load_generated`` did for a district."""

    network: StreetNetwork
    stored: bool  # False: the district kept the network it had (the same one, or an import)
    imported: bool  # the district has an imported extract, which stays, and no gates were made
    gates: int  # gates planned for its compounds
    changes: GateChanges


def load_generated(
    district: District, *, seed, barriers=(), piece_m: float | None = None
) -> GeneratedNetwork:
    """Give ``district`` a generated network (demo data) and each of its compounds the gates
    planned on it, as one transaction of the caller's.

    Found by their natural keys and compared, so a second run with the same data writes
    nothing: a network with the same checksum is kept; gates are found by compound and name
    (北门, 南门, 东门, 西门) and moved to the planned point, and such gates no longer planned go;
    gates under other names (ones staff added) are left alone. A district with an imported
    extract keeps it, and gets no generated gates."""
    current = StreetNetwork.objects.filter(district=district).first()
    if current is not None and not current.report.get("generated"):
        return GeneratedNetwork(
            current, stored=False, imported=True, gates=0, changes=GateChanges()
        )
    box = district_box(district)
    made = generated.generate(box, seed=seed, barriers=barriers, piece_m=piece_m)
    if current is not None and current.source_sha256 == made.sha256:
        network, stored = current, False
    else:
        network, _replaced = replace_network(
            district,
            made.network,
            source_name=generated.SOURCE_NAME,
            source_sha256=made.sha256,
            source_date=None,
            box=box,
            report=made.report,
            demo=True,
        )
        stored = True
    compounds = list(
        ResidentialCompound.objects.filter(community__subdistrict__district=district)
        .order_by("pk")
        .values_list("pk", "community__name", "name", "latitude", "longitude")
    )
    plans = generated.plan_gates(
        made.network,
        [(f"{community}/{name}", lat, lng) for _pk, community, name, lat, lng in compounds],
        seed=seed,
        barriers=barriers,
    )
    planned = {row[0]: plan for row, plan in zip(compounds, plans, strict=True)}
    changes = _sync_gates(district, planned)
    return GeneratedNetwork(network, stored, False, sum(map(len, plans)), changes)


def _sync_gates(district: District, planned: dict[int, tuple[generated.Gate, ...]]) -> GateChanges:
    """Bring the generated gates of the district's compounds to ``planned``, in a fixed number
    of queries. A gate named for a side (北门 …) is the generator's: moved to the planned point,
    or deleted where no longer planned; other names are staff's, and left alone."""
    existing: dict[tuple[int, str], CompoundGate] = {}
    for gate in CompoundGate.objects.filter(
        compound__community__subdistrict__district=district, name__in=generated.GATE_NAMES
    ).order_by("-pk"):
        existing[(gate.compound_id, gate.name)] = gate  # of two with one name, the first
    wanted = {(compound, gate.name): gate for compound, gates in planned.items() for gate in gates}
    to_create, to_update = [], []
    for (compound, name), plan in wanted.items():
        gate = existing.get((compound, name))
        if gate is None:
            to_create.append(
                CompoundGate(
                    compound_id=compound,
                    name=name,
                    latitude=plan.latitude,
                    longitude=plan.longitude,
                )
            )
        elif (gate.latitude, gate.longitude) != (plan.latitude, plan.longitude):
            gate.latitude, gate.longitude = plan.latitude, plan.longitude
            to_update.append(gate)
    stale = [g.pk for key, g in existing.items() if key not in wanted]
    if stale:
        CompoundGate.objects.filter(pk__in=stale).delete()
    CompoundGate.objects.bulk_create(to_create, batch_size=5000)
    CompoundGate.objects.bulk_update(to_update, ["latitude", "longitude"], batch_size=5000)
    return GateChanges(len(to_create), len(to_update), len(stale))
