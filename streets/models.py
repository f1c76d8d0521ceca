"""A district's walkable street network, as one OpenStreetMap extract gave it.

One network per district: a re-import replaces it whole, in one transaction (``streets.loader``).
Nodes and edges are written in bulk and read in bulk by the coverage engine; nothing edits them
one by one, so they carry no audit trail of their own: the network row records where they came
from (the file's name, date and SHA-256) and when.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StreetNetwork(models.Model):
    district = models.OneToOneField(
        "communities.District",
        on_delete=models.CASCADE,
        related_name="street_network",
        verbose_name=_("district"),
    )
    source_name = models.CharField(_("source file"), max_length=200)
    source_date = models.DateTimeField(
        _("data as of"),
        null=True,
        blank=True,
        help_text=_("The extract's own timestamp, where the file records one."),
    )
    source_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    imported_at = models.DateTimeField(_("imported"))
    # The box the network was cut to: the district's communities and compounds and a margin.
    south = models.FloatField()
    west = models.FloatField()
    north = models.FloatField()
    east = models.FloatField()
    node_count = models.PositiveIntegerField(_("nodes"))
    edge_count = models.PositiveIntegerField(_("edges"))
    length_km = models.FloatField(_("length (km)"))
    report = models.JSONField(
        _("what was left out"), default=dict, help_text=_("Ways kept and left out, by kind.")
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("street network")
        verbose_name_plural = _("street networks")
        constraints = [
            models.CheckConstraint(
                condition=Q(south__lt=models.F("north")) & Q(west__lt=models.F("east")),
                name="streets_streetnetwork_box_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.source_name}"


class StreetNode(models.Model):
    network = models.ForeignKey(StreetNetwork, on_delete=models.CASCADE, related_name="nodes")
    osm_id = models.BigIntegerField()
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        constraints = [
            # Also the index the engine reads a network's nodes by.
            models.UniqueConstraint(
                fields=["network", "osm_id"], name="streets_streetnode_one_per_osm_node"
            ),
        ]

    def __str__(self) -> str:
        return f"node {self.osm_id}"


class StreetEdge(models.Model):
    """An undirected piece of a walked way between two consecutive nodes."""

    network = models.ForeignKey(StreetNetwork, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(StreetNode, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(StreetNode, on_delete=models.CASCADE, related_name="+")
    length_m = models.FloatField()
    kind = models.CharField(max_length=32)  # the way's highway value: footway, residential …

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(length_m__gte=0), name="streets_streetedge_length_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="streets_streetedge_no_loop"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.length_m:.0f} m"
