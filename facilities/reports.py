"""The officials' coverage reports: the overview, the coverage matrix, a community's compounds,
the gap list, the map with site suggestions, and their XLSX and CSV exports.

Who sees what comes only from ``communities/access.py``: an official their district or
subdistrict, staff their communities, the city administrator everything, anyone else 403. A
community outside the scope is a 404, by any URL.

Speed. The figures (``report_data.Area``) are gathered once per scope under the content version;
each page's body is rendered once per scope, language and choice of controls and kept in the
shared cache beside them, so a repeat request reads the session, the user, the scope and one
cache entry. An edit anywhere moves the content version and both are rebuilt on the next request.

Every control is a plain GET form or link: without JavaScript the page reloads; with htmx the
body is swapped in place (the same partial, ``#body``) and the address follows.
"""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from communities import access
from communities.models import Community
from facilities import area_map, report_data, report_export
from facilities.report_data import Area, Service
from portal import caching

# The bar chart's geometry, in SVG user units: each row a label line above its bar, the share
# written after the bar, so the chart reads without telling colours apart.
CHART_WIDTH = 640
CHART_BAR = 440
CHART_ROW = 56
CHART_LABEL_Y = 18
CHART_BAR_Y = 26
CHART_BAR_HEIGHT = 22

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- the overview's figures ----


@dataclass(frozen=True)
class CategoryRow:
    """One required category's coverage over the whole area, today and with the plan."""

    service: Service
    population: int
    covered: int
    gained: int

    @property
    def code(self) -> str:
        return self.service.code

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def distance_m(self) -> int:
        return self.service.distance_m

    @property
    def minutes(self) -> int:
        return self.service.minutes

    @property
    def uncovered(self) -> int:
        return self.population - self.covered

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.population) if self.population else 0

    @property
    def percent_planned(self) -> int:
        total = self.covered + self.gained
        return round(100 * total / self.population) if self.population else 0


@dataclass(frozen=True)
class Bar:
    """Where the chart draws one category, from the same rounded shares the table shows."""

    row: CategoryRow
    top: int

    @property
    def label_y(self) -> int:
        return self.top + CHART_LABEL_Y

    @property
    def bar_y(self) -> int:
        return self.top + CHART_BAR_Y

    @property
    def text_y(self) -> int:
        return self.bar_y + CHART_BAR_HEIGHT - 5

    @property
    def width(self) -> int:
        return round(CHART_BAR * self.row.percent / 100)

    @property
    def planned_x(self) -> int:
        return self.width

    @property
    def planned_width(self) -> int:
        return round(CHART_BAR * self.row.percent_planned / 100) - self.width

    @property
    def text_x(self) -> int:
        return self.width + self.planned_width + 8


@dataclass(frozen=True)
class CommunityRow:
    name: str
    slug: str
    subdistrict: str
    population: int
    compounds: int
    complete: bool


@dataclass(frozen=True)
class Overview:
    population: int
    compounds: int
    complete: int
    complete_planned: int
    communities: tuple[CommunityRow, ...]
    categories: tuple[CategoryRow, ...]
    progress: tuple[report_data.YearProgress, ...]

    @property
    def chart_height(self) -> int:
        return CHART_ROW * len(self.categories) + 4

    @property
    def bars(self) -> list[Bar]:
        return [Bar(row, i * CHART_ROW) for i, row in enumerate(self.categories)]

    @property
    def progress_totals(self) -> report_data.YearProgress:
        rows = self.progress
        return report_data.YearProgress(
            None,
            sum(r.planned for r in rows),
            sum(r.building for r in rows),
            sum(r.opened for r in rows),
        )


def overview(area: Area) -> Overview:
    now, then = area.totals(False), area.totals(True)
    complete, complete_planned = area.complete(False), area.complete(True)
    figures = area.figures(False)
    counts = area.compound_counts()
    return Overview(
        population=area.population,
        compounds=len(area.homes.ids),
        complete=sum(complete.values()),
        complete_planned=sum(complete_planned.values()),
        communities=tuple(
            CommunityRow(
                name=p.name,
                slug=p.slug,
                subdistrict=p.subdistrict,
                population=next(iter(figures[p.id].values())).population if area.services else 0,
                compounds=counts.get(p.id, 0),
                complete=complete[p.id],
            )
            for p in area.places
        ),
        categories=tuple(
            CategoryRow(
                s,
                now[s.code].population,
                now[s.code].covered,
                then[s.code].covered - now[s.code].covered,
            )
            for s in area.required
        ),
        progress=tuple(area.progress()),
    )


# ---- the controls ----


class ReportForm(forms.Form):
    """The report pages' controls; each page shows the ones it uses. Bad values fall back to
    the defaults, with the field's error shown beside it."""

    plan = forms.BooleanField(
        label=_("Count planned and under-construction facilities as open"), required=False
    )
    service = forms.ChoiceField(label=_("Service"), required=False)
    sort = forms.CharField(required=False, max_length=30)
    order = forms.ChoiceField(choices=[("asc", "asc"), ("desc", "desc")], required=False)
    k = forms.TypedChoiceField(
        label=_("Sites to suggest"),
        choices=[(n, n) for n in range(1, report_data.MAX_PICKS + 1)],
        coerce=int,
        required=False,
        empty_value=report_data.DEFAULT_PICKS,
    )

    def __init__(self, data, services: tuple[Service, ...], *, blank: str = "", **kwargs):
        super().__init__(data, **kwargs)
        choices = [(s.code, s.name) for s in services]
        self.fields["service"].choices = ([("", blank)] if blank else []) + choices
        self.default_service = "" if blank else (services[0].code if services else "")

    def choice(self, name: str):
        """The cleaned value of ``name``, or its default when the form is invalid there."""
        if self.is_bound and self.is_valid():
            value = self.cleaned_data[name]
        else:
            self.is_valid()
            value = self.cleaned_data.get(name) if name not in self.errors else None
        if name == "service":
            return value or self.default_service
        if name == "k":
            return value or report_data.DEFAULT_PICKS
        return value or ("" if name in ("sort", "order") else False)


# ---- shared plumbing ----


def _scope(request: HttpRequest) -> access.Scope:
    scope = access.scope_for(request.user)
    if not scope.reads_anything:
        raise PermissionDenied
    return scope


def _scope_key(scope: access.Scope) -> str:
    parts = (
        scope.everything,
        sorted(scope.community_ids),
        sorted(scope.subdistrict_ids),
        sorted(scope.district_ids),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _area(request: HttpRequest, scope: access.Scope) -> Area:
    return caching.cached(
        "report-area",
        _scope_key(scope),
        build=lambda: report_data.gather(Community.objects.readable_by(request.user)),
    )


def _services(request: HttpRequest, scope: access.Scope) -> tuple[Service, ...]:
    """The categories, for the controls: cached on their own, so a page whose body is cached
    never loads the area."""
    return caching.cached("report-services", build=lambda: _area(request, scope).services)


def _body(request: HttpRequest, scope, name: str, params: dict, template: str, context):
    """The page body: from the shared cache, or rendered from ``context()`` and kept."""
    key = caching.key(
        "report-body",
        name,
        _scope_key(scope),
        get_language(),
        hashlib.sha256(urlencode(sorted(params.items())).encode()).hexdigest()[:32],
    )
    body = cache.get(key)
    if body is None:
        body = render_to_string(f"{template}#body", context(), request)
        cache.set(key, body, caching.TIMEOUT)
    return body


def _page(request, template: str, body: str, **context) -> HttpResponse:
    if request.htmx:
        return HttpResponse(body)
    # The body is this project's own template output, rendered with autoescaping.
    return render(request, template, {"body": mark_safe(body), **context})


def _query(**params) -> str:
    """A query string of the non-default controls."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None, False)})


def _plan_param(plan: bool) -> str:
    return "on" if plan else ""


# ---- the pages ----


@login_required
@require_GET
@vary_on_headers("HX-Request")
def overview_page(request: HttpRequest) -> HttpResponse:
    """Headline figures, coverage per required category today and with the plan, the
    communities meeting the standard, and construction progress."""
    scope = _scope(request)
    template = "facilities/reports/overview.html"

    def context():
        return {
            "report": overview(_area(request, scope)),
            "chart_width": CHART_WIDTH,
            "bar_max": CHART_BAR,
            "bar_height": CHART_BAR_HEIGHT,
        }

    body = _body(request, scope, "overview", {}, template, context)
    return _page(request, template, body, tab="overview")


SORTS = ("name", "population")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def matrix_page(request: HttpRequest) -> HttpResponse:
    """Communities × required services: the share of residents within the walk, sortable."""
    scope = _scope(request)
    services = _services(request, scope)
    form = ReportForm(request.GET, services)
    plan = form.choice("plan")
    sort = form.choice("sort")
    required = [s for s in services if s.required]
    if sort not in SORTS and sort not in {s.code for s in required}:
        sort = ""
    descending = form.choice("order") == "desc"
    template = "facilities/reports/matrix.html"

    def context():
        area = _area(request, scope)
        links = _sort_links(area.required, sort, descending, plan)
        return {
            "rows": area.matrix_rows(plan, sort, descending),
            "columns": links,
            "service_links": [links[s.code] for s in area.required],
            "services": area.required,
            "plan": plan,
            "export_query": _query(plan=_plan_param(plan)),
        }

    params = {"plan": plan, "sort": sort, "desc": descending}
    body = _body(request, scope, "matrix", params, template, context)
    order = "desc" if descending else ""
    return _page(
        request,
        template,
        body,
        tab="matrix",
        form=form,
        plan=plan,
        sort=sort,
        order=order,
        wide=True,
    )


@dataclass(frozen=True)
class SortLink:
    key: str
    label: str
    query: str
    aria_sort: str  # "ascending" | "descending" | "" (not sorted by it)


def _sort_links(required, sort: str, descending: bool, plan: bool) -> dict[str, SortLink]:
    """Each sortable column's link: sorted by it ascending first, then the other way."""
    links = {}
    for key, label in [("name", _("Community")), ("population", _("Residents"))] + [
        (s.code, s.name) for s in required
    ]:
        now = sort == key
        order = "desc" if now and not descending else ""
        if key == "population" and not now:
            order = "desc"  # the biggest first is what one wants from residents
        links[key] = SortLink(
            key,
            str(label),
            _query(plan=_plan_param(plan), sort=key, order=order),
            ("descending" if descending else "ascending") if now else "",
        )
    return links


@login_required
@require_GET
@vary_on_headers("HX-Request")
def community_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One community's drill-down: its coverage per service and each compound's nearest
    facility of every required service, with the walk."""
    scope = _scope(request)
    # 404 outside the scope, by the same rule as the figures.
    place = (
        Community.objects.readable_by(request.user).filter(slug=slug).values_list("name", flat=True)
    )
    name = place.first()
    if name is None:
        raise Http404
    services = _services(request, scope)
    form = ReportForm(request.GET, services)
    plan = form.choice("plan")
    template = "facilities/reports/community.html"

    def context():
        area = _area(request, scope)
        place = area.place(slug)
        if place is None:  # readable, but gathered before it was added: rebuilt next version
            raise Http404
        cells = area.figures(plan)[place.id]
        return {
            "place": place,
            "plan": plan,
            "services": area.required,
            "cells": [(s, cells[s.code]) for s in area.required],
            "complete": area.complete(plan)[place.id],
            "population": next(iter(cells.values())).population if cells else 0,
            "compounds": area.compound_rows(plan, place),
            "export_query": _query(plan=_plan_param(plan)),
        }

    body = _body(request, scope, f"community-{slug}", {"plan": plan}, template, context)
    return _page(
        request, template, body, tab="matrix", form=form, plan=plan, name=name, slug=slug, wide=True
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def gaps_page(request: HttpRequest) -> HttpResponse:
    """Residents beyond each required service's walk, per community, most first."""
    scope = _scope(request)
    services = tuple(s for s in _services(request, scope) if s.required)
    form = ReportForm(request.GET, services, blank=_("Every required service"))
    plan, code = form.choice("plan"), form.choice("service")
    template = "facilities/reports/gaps.html"

    def context():
        area = _area(request, scope)
        gaps = area.gap_rows(plan, code)
        return {
            "gaps": gaps,
            "plan": plan,
            "service": area.service(code) if code else None,
            "residents": sum(g.residents for g in gaps),
            "population": area.population,
            "export_query": _query(plan=_plan_param(plan)),
        }

    body = _body(request, scope, "gaps", {"plan": plan, "service": code}, template, context)
    return _page(request, template, body, tab="gaps", form=form, plan=plan, service=code)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def sites_page(request: HttpRequest) -> HttpResponse:
    """The map for one service (compounds covered or not, its facilities, the idle rooms) and
    the idle rooms that would bring the most residents within the walk, chosen greedily."""
    scope = _scope(request)
    services = _services(request, scope)
    form = ReportForm(request.GET, services)
    plan, code, k = form.choice("plan"), form.choice("service"), form.choice("k")
    template = "facilities/reports/sites.html"

    def context():
        area = _area(request, scope)
        suggestions = area.suggestions(code, plan, k)
        return {
            "suggestions": suggestions,
            "service": suggestions.service,
            "plan": plan,
            "area_map": _map(area, code, plan, suggestions),
            "map_title": _("Map: residents within walking distance of a %(service)s")
            % {"service": suggestions.service.name},
            "export_query": _query(plan=_plan_param(plan), service=code, k=k),
        }

    body = _body(
        request, scope, "sites", {"plan": plan, "service": code, "k": k}, template, context
    )
    return _page(request, template, body, tab="sites", form=form, plan=plan, service=code, k=k)


def _map(area: Area, code: str, plan: bool, suggestions: report_data.Suggestions):
    matrix = area.matrix(plan)
    covered = matrix.covered(code).tolist()
    homes = area.homes
    rank = {s.room.id: s.rank for s in suggestions.picks}
    statuses = report_data.coverage.WITH_PLANNED if plan else report_data.coverage.SERVING
    return area_map.layout(
        [
            area_map.Home(name, lat, lng, pop, ok)
            for name, lat, lng, pop, ok in zip(
                area.home_names,
                homes.lat.tolist(),
                homes.lng.tolist(),
                homes.population.tolist(),
                covered,
                strict=True,
            )
        ],
        [
            area_map.Site(s.name, s.latitude, s.longitude, planned=s.planned)
            for s in area.spots.values()
            if code in s.codes and s.status in statuses and _near(area, s)
        ],
        [area_map.Candidate(r.name, r.latitude, r.longitude, rank.get(r.id)) for r in area.rooms],
        reach_m=suggestions.service.distance_m,
    )


def _near(area: Area, spot: report_data.Spot) -> bool:
    """Whether a facility belongs on the area's map: one of the area's own, or the nearest of
    some compound (across the border)."""
    return spot.community_id in {p.id for p in area.places} or spot.id in area.nearest_ids


# ---- exports ----


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The report as a workbook: summary, matrix, gaps, compounds and suggestions."""
    scope = _scope(request)
    area = _area(request, scope)
    form = ReportForm(request.GET, area.services)
    plan, code, k = form.choice("plan"), form.choice("service"), form.choice("k")
    content = report_export.workbook(area, plan=plan, code=code, k=k, title=_title(area))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename()}.xlsx"'
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One of the report's tables as CSV (UTF-8 with a BOM, for Excel)."""
    if table not in report_export.TABLES:
        raise Http404
    scope = _scope(request)
    area = _area(request, scope)
    form = ReportForm(request.GET, area.services)
    plan, code, k = form.choice("plan"), form.choice("service"), form.choice("k")
    text = report_export.csv_text(area, table, plan=plan, code=code, k=k)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename()}-{table}.csv"'
    return response


def _title(area: Area) -> str:
    from django.utils.translation import gettext

    return gettext("Coverage report")


def _filename() -> str:
    from django.utils import timezone

    return f"coverage-{timezone.localdate():%Y%m%d}"
