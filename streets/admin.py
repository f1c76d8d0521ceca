"""Street networks in the back office.

The city administrator imports a district's network from an OpenStreetMap extract (the "import
an extract" page: the same ``streets.loader.import_file`` as ``manage.py import_streets``), reads
what each import kept and left out, and removes a network. Staff read their own district's
network, read-only: the walks of the coverage reports follow its streets. Nodes and edges are
not admin models: a city's network has hundreds of thousands of them, written and read in bulk.
"""

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities import access
from communities.models import District
from streets import loader
from streets.models import StreetNetwork

logger = logging.getLogger(__name__)

# An extract cut to one city is tens of megabytes; a whole province's, hundreds.
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024


class ImportForm(forms.Form):
    district = forms.ModelChoiceField(
        label=_("district"),
        queryset=District.objects.order_by("code"),
        help_text=_(
            "The district whose network the extract becomes. Its previous network, if any, is "
            "replaced only once the new one is read."
        ),
    )
    extract = forms.FileField(
        label=_("OpenStreetMap extract"),
        help_text=_(
            "An .osm.pbf file that covers the district and its surroundings, for example a "
            "city's extract from download.geofabrik.de or extract.bbbike.org."
        ),
        widget=forms.FileInput(attrs={"accept": ".pbf"}),
    )

    def clean_extract(self):
        upload = self.cleaned_data["extract"]
        if not upload.name.lower().endswith(".pbf"):
            raise forms.ValidationError(
                _("Choose an OpenStreetMap extract in the .osm.pbf format (not .osm or .osm.bz2).")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 1 GB: download the extract of the city, not the region.")
            )
        return upload


@dataclass(frozen=True)
class WayKind:
    kind: str  # OpenStreetMap's highway value: footway, residential …
    kept: int
    left: int


@dataclass(frozen=True)
class Report:
    """What an import kept and left out, as the change page shows it."""

    kinds: list[WayKind]
    segments_outside: int
    pieces_left: int  # pieces not joined to the largest one, which alone is kept
    nodes_in_smaller_pieces: int


def read_report(report: dict) -> Report | None:
    """The loader's report (``StreetNetwork.report``) as rows, kinds with most ways first."""
    if not report:
        return None
    kept, left = report.get("ways_kept", {}), report.get("ways_left", {})
    kinds = [WayKind(kind, kept.get(kind, 0), left.get(kind, 0)) for kind in {**kept, **left}]
    kinds.sort(key=lambda k: (-k.kept, -k.left, k.kind))
    return Report(
        kinds=kinds,
        segments_outside=report.get("segments_outside", 0),
        pieces_left=max(report.get("pieces", 1) - 1, 0),
        nodes_in_smaller_pieces=report.get("nodes_in_smaller_pieces", 0),
    )


@admin.register(StreetNetwork)
class StreetNetworkAdmin(admin.ModelAdmin):
    list_display = [
        "district",
        "source_name",
        "source_date",
        "imported_at",
        "node_count",
        "edge_count",
        "length",
        "is_demo",
    ]
    list_filter = ["is_demo"]
    list_select_related = ["district"]
    search_fields = ["district__name", "district__code", "source_name"]
    ordering = ["district__code"]
    fieldsets = [
        (None, {"fields": ["district_name", "is_demo"]}),
        (_("Source"), {"fields": ["source_name", "source_date", "source_sha256", "imported_at"]}),
        (_("Network"), {"fields": ["node_count", "edge_count", "length", "box"]}),
    ]
    readonly_fields = ["district_name", "length", "box"]

    # ---- who may do what: the city administrator imports and removes; staff read theirs ----

    def get_queryset(self, request):
        return access.district_wide(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("There is no such street network in your district."))
        return obj

    def has_add_permission(self, request):
        return False  # a network comes from an extract: the import page

    def has_change_permission(self, request, obj=None):
        return False  # nothing in it is typed: import the extract again instead

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._city(request)

    def has_import_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}") and self._city(
            request
        )

    @staticmethod
    def _city(request) -> bool:
        return access.scope_for(request.user).everything

    # ---- the list and the change page ----

    @admin.display(description=_("district"))
    def district_name(self, obj: StreetNetwork) -> str:
        # Not the district field itself, which the page would link to the district's admin
        # page: the city administrator's alone.
        return str(obj.district)

    @admin.display(description=_("length (km)"), ordering="length_km")
    def length(self, obj: StreetNetwork) -> str:
        return number_format(obj.length_km, 1, force_grouping=True)

    @admin.display(description=_("box it was cut to"))
    def box(self, obj: StreetNetwork) -> str:
        sides = {"south": obj.south, "north": obj.north, "west": obj.west, "east": obj.east}
        return gettext("latitude %(south)s to %(north)s, longitude %(west)s to %(east)s") % {
            side: number_format(value, 4) for side, value in sides.items()
        }

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "report": read_report(obj.report),
            "margin": number_format(loader.MARGIN_M, force_grouping=True),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # ---- removing: the confirmation names how much goes, not every node ----

    def get_deleted_objects(self, objs, request):
        networks = list(objs)
        summary = {
            StreetNetwork._meta.verbose_name_plural: len(networks),
            gettext("nodes"): sum(n.node_count for n in networks),
            gettext("edges"): sum(n.edge_count for n in networks),
        }
        return [str(n) for n in networks], summary, set(), []

    # The loader's removal: nodes and edges in one statement each, not one object per node.
    def delete_model(self, request, obj):
        loader.delete_network(obj.district)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for network in queryset.select_related("district"):
            loader.delete_network(network.district)

    # ---- importing an extract ----

    def get_urls(self):
        # Ahead of the admin's own URLs, whose "<object_id>/" would take "import/" otherwise.
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="streets_streetnetwork_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload an extract for a district; a file that cannot be used changes nothing and the
        form says why."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if request.method == "GET":
            return self._import_page(request, ImportForm())
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._import_page(request, form)
        district = form.cleaned_data["district"]
        try:
            with transaction.atomic():
                # One import of a district at a time: a second waits, then replaces the first.
                District.objects.select_for_update(no_key=True).get(pk=district.pk)
                previous = StreetNetwork.objects.filter(district=district).first()
                done = self._import(form.cleaned_data["extract"], district)
                network = done.network
                self._log(request, network, previous)
        except loader.ImportRefused as refused:
            form.add_error(None, str(refused))
            return self._import_page(request, form)
        logger.info(
            "street network of %s imported from %s by %s: %d nodes, %d edges",
            district.code,
            network.source_name,
            request.user,
            network.node_count,
            network.edge_count,
        )
        messages.success(request, self._summary(network, done.replaced))
        return redirect("admin:streets_streetnetwork_change", network.pk)

    @staticmethod
    def _import(upload, district: District) -> loader.Imported:
        """The upload written to a file of its own name (the network records it) in a directory
        of its own, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="streets-") as directory:
            path = Path(directory) / Path(upload.name).name
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            return loader.import_file(str(path), district)

    def _log(self, request, network: StreetNetwork, previous: StreetNetwork | None) -> None:
        """The admin's log: the removal of the network replaced, then the new one, with what
        was read (each network's history page shows its own)."""
        if previous is not None:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=[previous],
                action_flag=DELETION,
                change_message=gettext("Replaced by an import of %(file)s.")
                % {"file": network.source_name},
                single_object=True,
            )
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[network],
            action_flag=ADDITION,
            change_message=self._summary(network, previous is not None),
            single_object=True,
        )

    @staticmethod
    def _summary(network: StreetNetwork, replaced: bool) -> str:
        values = {
            "district": network.district,
            "file": network.source_name,
            "nodes": number_format(network.node_count, force_grouping=True),
            "edges": number_format(network.edge_count, force_grouping=True),
            "km": number_format(network.length_km, 1, force_grouping=True),
        }
        if replaced:
            text = gettext(
                "Imported %(file)s as the street network of %(district)s: %(nodes)s nodes, "
                "%(edges)s edges, %(km)s km of walkable streets. It replaces the previous network."
            )
        else:
            text = gettext(
                "Imported %(file)s as the street network of %(district)s: %(nodes)s nodes, "
                "%(edges)s edges, %(km)s km of walkable streets."
            )
        return text % values

    def _import_page(self, request, form: ImportForm) -> TemplateResponse:
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/streets/streetnetwork/import.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Import an OpenStreetMap extract"),
                "opts": self.opts,
                "form": form,
                "margin": number_format(loader.MARGIN_M, force_grouping=True),
            },
        )
