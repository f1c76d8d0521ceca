"""python manage.py import_streets FILE.osm.pbf --district CODE"""

from django.core.management.base import BaseCommand, CommandError

from communities.models import District
from streets import loader


class Command(BaseCommand):
    help = (
        "Make an OpenStreetMap extract (.osm.pbf) a district's walkable street network, "
        "replacing the one it had; a file that cannot be used changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="an OpenStreetMap extract (.osm.pbf)")
        parser.add_argument("--district", required=True, help="the district's 6-digit code")
        parser.add_argument("--demo", action="store_true", help="mark the network as demo data")

    def handle(self, *args, file: str, district: str, demo: bool, **options):
        found = District.objects.filter(code=district).first()
        if found is None:
            raise CommandError(f"No district has the code {district}.")
        try:
            done = loader.import_file(file, found, demo=demo)
        except loader.ImportRefused as refused:
            raise CommandError(str(refused)) from None
        network = done.network
        report = network.report
        self.stdout.write(
            f"{found}: {network.node_count:,} nodes, {network.edge_count:,} edges, "
            f"{network.length_km:,.1f} km of walkable streets from {network.source_name}"
            + (" (replacing the previous network)" if done.replaced else "")
        )
        kept = ", ".join(f"{k} {n}" for k, n in report["ways_kept"].items())
        left = ", ".join(f"{k} {n}" for k, n in report["ways_left"].items()) or "none"
        self.stdout.write(f"  ways kept: {kept}")
        self.stdout.write(f"  ways left out (not walked on): {left}")
        self.stdout.write(
            f"  left out: {report['segments_outside']:,} segments outside the district and its "
            f"{loader.MARGIN_M:,} m margin; {report['nodes_in_smaller_pieces']:,} nodes in "
            f"{report['pieces'] - 1:,} pieces not joined to the rest"
        )
