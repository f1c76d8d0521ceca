"""Points in the back office, as people have them: every form for a point (a community's office,
a compound, a gate, a facility, an idle room) reads its numbers in the coordinate system chosen
beside them and stores WGS-84 (``portal.lib.coords``), and shows them under a map to pick from.

- ``PointForm``: the model form of a ``PointMixin`` model. An existing point is shown in the
  system it was given in, and a form sent back untouched keeps the stored numbers to the last bit;
  a new or moved point outside its district is refused with what most likely went wrong.
- ``district_bounds``: the box around a district's communities and compounds.
- ``PointAdmin``: for a ``ModelAdmin`` of such a model, the form and ``point_map``, a read-only
  field to list under the point's fields (and in ``readonly_fields``): the map of the object's
  community (``map_html``), which ``static/communities/point-map.js`` turns clicks into points on.
- ``draw_maps_with``: the map shows the community's streets and facilities, which this floor knows
  nothing of, so the facilities app hands over the function that draws it when it starts.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.db.models import Max, Min
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from communities.models import Community, ResidentialCompound
from portal.lib import coords
from portal.lib.coords import Bounds, System

# How far beyond the box around its district's communities and compounds a point may lie. The
# facilities that serve a district's edge lie up to 600 m outside that box in the demo districts
# (a health centre across the boundary road). What went wrong with a point farther out is asked
# of likely_cause with its own narrow margin, as the sheet importer does: within a margin this
# wide a second system's reading often fits as well, and the nearer one it would name is then as
# often the wrong one. So a GCJ-02 point typed as GPS is refused only where it lands beyond this
# (GCJ-02 moves a point about 585 m in 长春 and 洛阳): the choice of system beside the fields is
# what prevents the others.
DISTRICT_MARGIN_M = 800

# A point converted back from the numbers a form showed lands this close to the stored one (the
# numbers are shown to 8 decimals, the conversions agree to 1e-9°): closer than this it is the
# same point, about a centimetre, and the stored numbers are kept as they are.
SAME_POINT_DEG = 1e-7
SHOWN_DECIMALS = 8

POINT_FIELDS = ("latitude", "longitude", "point_system")


def district_bounds(district_id: int, leave_out=None) -> Bounds | None:
    """The box around the points of the district's communities and compounds, without
    ``leave_out`` (the community or compound being edited, whose own point may be the wrong one);
    None when there are none. Two queries."""
    communities = Community.objects.filter(subdistrict__district_id=district_id)
    compounds = ResidentialCompound.objects.filter(community__subdistrict__district_id=district_id)
    if isinstance(leave_out, Community) and leave_out.pk:
        communities = communities.exclude(pk=leave_out.pk)
    if isinstance(leave_out, ResidentialCompound) and leave_out.pk:
        compounds = compounds.exclude(pk=leave_out.pk)
    corners = []
    for places in (communities, compounds):
        box = places.aggregate(
            south=Min("latitude"),
            west=Min("longitude"),
            north=Max("latitude"),
            east=Max("longitude"),
        )
        if box["south"] is not None:
            corners += [(box["south"], box["west"]), (box["north"], box["east"])]
    return Bounds.around(corners) if corners else None


def refusal(
    lat: float, lng: float, system: str, bounds: Bounds, margin_m: float = DISTRICT_MARGIN_M
) -> str | None:
    """None for a point (given in ``system``) within ``margin_m`` of its district's ``bounds``,
    else what most likely went wrong with it, for the admin forms and the sheets alike."""
    if bounds.enlarged(margin_m).contains(coords.to_wgs84(lat, lng, system)):
        return None
    # Beyond the margin the point is beyond likely_cause's own, narrower one: it has an answer.
    return coords.likely_cause(lat, lng, system, bounds)


class PointForm(forms.ModelForm):
    """The form of a point model, for the admin and its inlines alike: ``latitude`` and
    ``longitude`` as given in ``point_system``, stored in WGS-84. Leaving ``point_system`` out of
    the data reads the numbers in the system they were shown in (the object's own; WGS-84 for a
    new one)."""

    class Media:
        js = [forms.Script("communities/point-map.js", defer=True)]
        css = {"all": ["css/admin-point-map.css"]}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_point = None
        if not set(POINT_FIELDS) <= set(self.fields):
            return
        self.fields["point_system"].required = False
        instance = self.instance
        if instance.pk is None or instance.latitude is None or instance.longitude is None:
            return
        self.stored_point = instance.point
        if instance.point_system != System.WGS84:
            shown = coords.from_wgs84(*instance.point, instance.point_system)
            self.initial["latitude"], self.initial["longitude"] = (
                round(value, SHOWN_DECIMALS) for value in shown
            )

    def clean(self):
        data = super().clean()
        if not set(POINT_FIELDS) <= set(self.fields):
            return data
        lat, lng = data.get("latitude"), data.get("longitude")
        if lat is None or lng is None:
            return data
        system = data.get("point_system") or self.instance.point_system or System.WGS84
        data["point_system"] = system
        point = coords.to_wgs84(lat, lng, system)
        stored = self.stored_point
        if stored and all(abs(a - b) <= SAME_POINT_DEG for a, b in zip(point, stored, strict=True)):
            data["latitude"], data["longitude"] = stored
            return data
        data["latitude"], data["longitude"] = point
        if cause := self._likely_cause(lat, lng, system):
            self.add_error("latitude", cause)
        return data

    def _likely_cause(self, lat: float, lng: float, system: str) -> str | None:
        district_id = self._district_id()
        if district_id is None:
            return None
        bounds = district_bounds(district_id, leave_out=self.instance)
        if bounds is None:
            return None  # a district with no places yet: nothing to judge by
        return refusal(lat, lng, system, bounds)

    def _district_id(self) -> int | None:
        """The district of the community the object belongs to, by the model's
        ``community_path``, the first step as the form has it (a community chosen anew, or the
        compound a gate row belongs to)."""
        steps = [step for step in self.instance.community_path.split("__") if step]
        place = self.instance
        for n, step in enumerate([*steps, "subdistrict"]):
            if n == 0 and self.cleaned_data.get(step) is not None:
                place = self.cleaned_data[step]
            else:
                place = getattr(place, step, None)
            if place is None:
                return None
        return place.district_id


# The function that draws the map of a community for a point's form: (community, the object)
# → a facilities.maps.MapView, registered by the facilities app (see the module's docstring).
_draw_map: Callable | None = None


def draw_maps_with(draw: Callable) -> None:
    global _draw_map
    _draw_map = draw


def community_of(obj) -> Community | None:
    """The community ``obj`` belongs to, by its model's ``community_path``."""
    place = obj
    for step in (s for s in obj.community_path.split("__") if s):
        place = getattr(place, step, None)
        if place is None:
            return None
    return place


def map_html(obj) -> str:
    """The map under a saved object's point fields, or a line saying when it will be there."""
    community = community_of(obj) if obj is not None and obj.pk is not None else None
    if community is None or _draw_map is None:
        return render_to_string("admin/includes/point_map.html", {"map": None})
    return render_to_string(
        "admin/includes/point_map.html",
        {"map": _draw_map(community, obj), "community": community, "object": obj},
    )


class PointAdmin:
    """Mixed into the ``ModelAdmin`` of a point model, before its base: ``PointForm``, and the
    map as the read-only field ``point_map``."""

    form = PointForm

    @admin.display(description=_("map"))
    def point_map(self, obj) -> str:
        return map_html(obj)
