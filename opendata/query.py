"""The open-data API's query parameters and page envelope.

Every list reads its query string through one form: a value that is not valid (a page that is
not a number, too many per page, a malformed date, a NUL byte, a latitude off the globe) becomes
a ``Problem`` that the views answer as 400 with the reasons, never a 500.
"""

import math
from collections.abc import Callable, Sequence

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from communities.models import ResidentialCompound

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_PROXIMITY_M = 20_000
MAX_SEARCH = 100


class Problem(Exception):
    """An answer other than 200: its status, a sentence, and the fields at fault."""

    def __init__(self, status: int, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


class Query(forms.Form):
    """The query parameters of every list; each list uses those that make sense for it."""

    search = forms.CharField(required=False, max_length=MAX_SEARCH)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    per_page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PER_PAGE)
    taxonomy_term_id = forms.UUIDField(required=False)
    taxonomy_id = forms.UUIDField(required=False)
    organization_id = forms.UUIDField(required=False)
    modified_after = forms.DateTimeField(required=False)
    proximity = forms.FloatField(required=False, min_value=1, max_value=MAX_PROXIMITY_M)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    # Bounded like the database's bigint, so a huge id is a bad parameter, not a database error.
    compound = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def clean(self) -> dict:
        """``point``: the (latitude, longitude) that ``proximity`` counts from, if any."""
        data = super().clean()
        lat, lng, compound = data.get("lat"), data.get("lng"), data.get("compound")
        if (lat is None) != (lng is None):
            raise ValidationError(_("Give lat and lng together."))
        point = None
        if compound is not None:
            if lat is not None:
                raise ValidationError(_("Give a point (lat and lng) or a compound, not both."))
            point = (
                ResidentialCompound.objects.filter(pk=compound)
                .values_list("latitude", "longitude")
                .first()
            )
            if point is None:
                self.add_error("compound", _("No residential compound has this id."))
        elif lat is not None:
            point = (lat, lng)
        if point is not None and not data.get("proximity"):
            self.add_error("proximity", _("Give the distance in metres from the point."))
        if data.get("proximity") and point is None and "compound" not in self.errors:
            self.add_error("proximity", _("Give the point: lat and lng, or compound."))
        data["point"] = point
        return data


def parse(request: HttpRequest) -> dict:
    form = Query(request.GET)
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        raise Problem(400, _("Some query parameters are not valid."), fields)
    return form.cleaned_data


class Chained:
    """Querysets one after another, as one sequence that ``paged`` can count and cut: each part
    is counted and sliced in the database, so a page reads its own rows only. ``shape`` (one
    function a part) turns each part's rows into the page's items."""

    def __init__(self, *parts: QuerySet, shape: Sequence[Callable]) -> None:
        self.parts, self.shape = parts, shape
        self.counts: list[int] | None = None

    def __len__(self) -> int:
        if self.counts is None:
            self.counts = [part.count() for part in self.parts]
        return sum(self.counts)

    def __getitem__(self, page: slice) -> list:
        len(self)
        start, stop, items = page.start or 0, page.stop, []
        for part, count, shape in zip(self.parts, self.counts, self.shape, strict=True):
            if start < count and stop > 0:
                items += [shape(row) for row in part[max(start, 0) : min(stop, count)]]
            start, stop = start - count, stop - count
        return items


def paged(query: dict, items: Sequence | QuerySet, render: Callable[[list], list[dict]]) -> dict:
    """The standard's page envelope around one page of ``items``, rendered; a page past the end
    is empty."""
    size = query["per_page"] or DEFAULT_PER_PAGE
    number = query["page"] or 1
    total = items.count() if isinstance(items, QuerySet) else len(items)
    start = (number - 1) * size
    contents = render(list(items[start : start + size])) if start < total else []
    pages = math.ceil(total / size)
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": not contents,
        "contents": contents,
    }
