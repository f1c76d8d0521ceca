"""The places of the lists kept in Excel (``portal.lib.sheets``): the communities a user keeps, as
a sheet names them, and whether a point lies in its district. Here, not in ``portal``, because
both read the place hierarchy and its scope."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, Min, Q
from django.utils.translation import gettext

from communities import access, points
from communities.models import Community, District, ResidentialCompound
from portal.lib import coords
from portal.lib.sheets import FILL_IN, POINT, RowPlan


def not_yours(community_name: str) -> str:
    return gettext("This community is not yours to change: %(community)s") % {
        "community": community_name
    }


class Communities:
    """The communities a user keeps, loaded once, and the sheet's words for them: a URL name
    (slug), or a name unique among them."""

    def __init__(self, user) -> None:
        self.by_pk = {
            c.pk: c
            for c in access.editable(
                Community.objects.select_related("subdistrict__district"), user
            )
        }
        self._by_slug = {c.slug: c for c in self.by_pk.values()}
        self._by_name: dict[str, list] = {}
        for c in self.by_pk.values():
            self._by_name.setdefault(c.name, []).append(c)
        self._elsewhere: set[str] = set()

    def label(self, community_id: int) -> str:
        """The community's name, or its slug where two of the user's communities share it."""
        community = self.by_pk[community_id]
        return community.name if len(self._by_name[community.name]) == 1 else community.slug

    def lookup(self, text: str):
        """(community, ambiguous) for a cell."""
        if text in self._by_slug:
            return self._by_slug[text], False
        named = self._by_name.get(text, [])
        return (named[0] if len(named) == 1 else None), len(named) > 1

    def learn_elsewhere(self, texts: Iterable[str]) -> None:
        """Which of ``texts`` name communities outside the user's scope (one query): to tell
        "not yours" from "no such thing". Community names are public."""
        unknown = {t for t in texts if t and self.lookup(t) == (None, False)}
        if unknown:
            found = Community.objects.filter(Q(name__in=unknown) | Q(slug__in=unknown))
            self._elsewhere = {text for pair in found.values_list("name", "slug") for text in pair}

    def read(self, row: RowPlan, key: str = "community"):
        """The community a row names in column ``key``; the only one, for staff of one
        community, when it names none; else a problem on the row."""
        text = row.cells[key]
        if not text:
            if len(self.by_pk) == 1:
                return next(iter(self.by_pk.values()))
            row.bad(key, str(FILL_IN))
            return None
        community, ambiguous = self.lookup(text)
        if ambiguous:
            row.bad(
                key,
                gettext(
                    "Several of your communities are called “%(name)s”: write the community's "
                    "URL name instead, as an export does."
                )
                % {"name": text},
            )
        elif community is None and text in self._elsewhere:
            row.bad(key, not_yours(text))
        elif community is None:
            row.bad(key, gettext("There is no community called “%(name)s”.") % {"name": text})
        return community


class PointCheck:
    """Whether points lie in their district, for every district a sheet names, in two queries.

    A district has no boundary in the database: its communities and compounds stand for it.
    A point within ``margin_m`` of the box around them is in the district (facilities stand on
    its edge); one outside is refused with its likely cause (``coords.likely_cause``: latitude
    and longitude swapped, another coordinate system, or simply elsewhere). A district with no
    places yet has no box, and its points are only required to lie in China."""

    def __init__(self, district_ids: Iterable[int], margin_m: float) -> None:
        self.margin_m = margin_m
        self.names = dict(
            District.objects.filter(pk__in=set(district_ids)).values_list("pk", "name")
        )
        corners: dict[int, list[float]] = {}
        wanted = set(district_ids)
        for model, path in (
            (Community, "subdistrict__district"),
            (ResidentialCompound, "community__subdistrict__district"),
        ):
            if not wanted:
                break
            extremes = (
                model.objects.filter(**{f"{path}__in": wanted})
                .values(path)
                .annotate(
                    s=Min("latitude"), n=Max("latitude"), w=Min("longitude"), e=Max("longitude")
                )
            )
            for e in extremes:
                box = corners.setdefault(e[path], [e["s"], e["w"], e["n"], e["e"]])
                box[:] = [
                    min(box[0], e["s"]),
                    min(box[1], e["w"]),
                    max(box[2], e["n"]),
                    max(box[3], e["e"]),
                ]
        self.bounds = {pk: coords.Bounds(*box) for pk, box in corners.items()}

    def problem(self, district_id: int, lat: float, lng: float, system: str) -> str | None:
        """None for a point (given in ``system``) in the district, else what went wrong."""
        why = self._why(district_id, lat, lng, system)
        if why is None:
            return None
        return gettext("Not in %(district)s: %(why)s") % {
            "district": self.names.get(district_id, ""),
            "why": why,
        }

    def _why(self, district_id: int, lat: float, lng: float, system: str) -> str | None:
        bounds = self.bounds.get(district_id)
        if bounds is None:
            return self.in_china(lat, lng, system)
        return points.refusal(lat, lng, system, bounds, self.margin_m)

    @staticmethod
    def in_china(lat: float, lng: float, system: str) -> str | None:
        if coords.in_china(lat, lng):
            return None
        values = {"lat": lat, "lng": lng, "given": coords.System(system).label}
        if coords.in_china(lng, lat):
            return coords.SWAPPED % values
        return coords.OUTSIDE % values


def match_by_id(row: RowPlan, places: Communities, existing, *, unknown: str) -> None:
    """The row's community and the row of the database it changes, for lists keyed by id (编号):
    by its id, else by its community and name. ``existing`` holds the user's rows ``by_id`` and
    ``by_pair`` (community id, name), and ``outside`` (id → community name) for ids of rows
    elsewhere; ``unknown`` is the translated message for an id nobody has, with ``%(key)s``."""
    key = row.cells["id"]
    if key:
        row.existing = existing.by_id.get(int(key)) if key.isdigit() else None
        if key.isdigit() and int(key) in existing.outside:
            row.bad("id", not_yours(existing.outside[int(key)]))
        elif row.existing is None:
            row.bad("id", unknown % {"key": key})
    if row.cells["community"] or row.existing is None:
        row.community = places.read(row)
    else:
        row.community = places.by_pk.get(row.existing.community_id)
    if row.existing is None and not key and row.community is not None:
        row.existing = existing.by_pair.get((row.community.pk, row.name))


def check_moved_points(rows: Iterable[RowPlan], saved, margin_m: float) -> None:
    """New or moved points must lie in their community's district: each row's point as given
    (``row.given``) for the object ``saved(row)`` would save. A point left as it was is not judged
    again: an import should not fail over a place nobody touched."""
    judged = []
    for row in rows:
        before, after = row.existing, saved(row)
        if row.community is None or row.given is None:
            continue
        if before is None or (before.latitude, before.longitude, before.community_id) != (
            after.latitude,
            after.longitude,
            after.community_id,
        ):
            judged.append(row)
    if not judged:
        return
    check = PointCheck({r.community.subdistrict.district_id for r in judged}, margin_m)
    for row in judged:
        if problem := check.problem(row.community.subdistrict.district_id, *row.given):
            row.bad(POINT, problem)
