"""Street networks made by hand for tests: a few points and the streets between them."""

from django.utils import timezone

from portal.lib import geo
from streets.models import StreetEdge, StreetNetwork, StreetNode


def store_network(district, points, pairs) -> StreetNetwork:
    """A hand-made network: ``points`` (lat, lng) joined by ``pairs`` of their indices."""
    lats = [p[0] for p in points]
    lngs = [p[1] for p in points]
    network = StreetNetwork.objects.create(
        district=district,
        source_name="test.osm.pbf",
        source_sha256="0" * 64,
        imported_at=timezone.now(),
        south=min(lats) - 0.01,
        west=min(lngs) - 0.01,
        north=max(lats) + 0.01,
        east=max(lngs) + 0.01,
        node_count=len(points),
        edge_count=len(pairs),
        length_km=0,
    )
    nodes = StreetNode.objects.bulk_create(
        StreetNode(network=network, osm_id=i + 1, latitude=lat, longitude=lng)
        for i, (lat, lng) in enumerate(points)
    )
    StreetEdge.objects.bulk_create(
        StreetEdge(
            network=network,
            source=nodes[a],
            target=nodes[b],
            length_m=geo.distance_m(points[a], points[b]),
            kind="residential",
        )
        for a, b in pairs
    )
    return network
