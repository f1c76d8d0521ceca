"""The officials' coverage reports: the overview, the coverage matrix, a community's compounds,
the gap list, the map with site suggestions, and their XLSX and CSV exports.

Who sees what comes only from ``communities/access.py``: an official their district or
subdistrict, staff their communities, the city administrator everything, anyone else 403. A
community outside the scope is a 404, by any URL.

Speed. The figures (``report_data.Area``) are gathered once per scope under the content version;
each page's body is rendered once per scope, language and choice of controls, and the whole page
once per address and display mode, all kept in the shared cache, so a repeat request reads the
session, the user, the scope and two cache entries. An edit anywhere moves the content version
and everything is rebuilt on the next request.

Courses and wishes. The pages that show them (the overview, the matrix, a community's page and
the exports holding the matrix) also read ``report_data.read_demand_mark()`` on every request,
one query of index lookups, and keep their entries under it too: enrolments do not move the
content version, so this is what makes the next page view after an enrolment, a new wish or a
supporter show it. The figures themselves are read again once per scope and mark
(``report_data.read_demand``, five queries) and put into the cached area; the coverage is not
touched.

Every control is a plain GET form or link: without JavaScript the page reloads; with htmx the
body is swapped in place (the same partial, ``#body``) and the address follows.
"""

import dataclasses
import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from communities import access
from communities.models import Community
from portal import caching
from portal.lib import geo
from reports import area_map, report_data, report_export
from reports.report_data import Area, Service
from streets import network

# The bar chart's geometry, in SVG user units: each row a label line above its bar, the share
# written after the bar, so the chart reads without telling colours apart.
CHART_WIDTH = 640
CHART_BAR = 440
CHART_ROW = 56
CHART_LABEL_Y = 18
CHART_BAR_Y = 26
CHART_BAR_HEIGHT = 22

# Construction progress shows this many years one by one, and the years before summed.
PROGRESS_YEARS = 5

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- the overview's figures ----


@dataclass(frozen=True)
class CategoryRow:
    """One required category's coverage over the whole area, today and with the plan."""

    service: Service
    population: int
    covered: int
    gained: int
    line_covered: int | None = None  # by straight line, beside walking figures
    detour: float | None = None  # the median walk over the straight line to the nearest

    @property
    def line_percent(self) -> int | None:
        if self.line_covered is None:
            return None
        return round(100 * self.line_covered / self.population) if self.population else 0

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
    demand: report_data.Demand


@dataclass(frozen=True)
class Overview:
    population: int
    compounds: int
    complete: int
    complete_planned: int
    communities: tuple[CommunityRow, ...]
    categories: tuple[CategoryRow, ...]
    progress: tuple[report_data.YearProgress, ...]
    demand: report_data.Demand  # the area's, summed
    busiest: tuple[report_data.DemandRow, ...]  # where most people wait, first

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
    line = area.line_totals(False)
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
                demand=area.demand_of(p.id),
            )
            for p in area.places
        ),
        categories=tuple(
            CategoryRow(
                s,
                now[s.code].population,
                now[s.code].covered,
                then[s.code].covered - now[s.code].covered,
                line[s.code].covered if line is not None else None,
                area.detour(s.code),
            )
            for s in area.required
        ),
        progress=tuple(area.progress(since=timezone.localdate().year - PROGRESS_YEARS + 1)),
        demand=area.demand_total(),
        busiest=tuple(area.demand_rows(False, DEMAND_SHOWN)),
    )


@dataclass(frozen=True)
class Measure:
    """How the page's distances were measured, for the line above its figures."""

    walks: bool  # along streets, where a network is loaded
    straight_chosen: bool  # straight lines asked for, though streets are there
    networks: tuple[report_data.Network, ...]
    partly: bool  # some of the area's districts have no network: straight lines there

    @classmethod
    def of(cls, area: Area) -> "Measure":
        districts = {int(d) for d in np.unique(area.homes.district)}
        return cls(
            area.walks,
            area.straight,
            area.networks,
            bool(area.networks) and bool(districts - {n.district_id for n in area.networks}),
        )


# ---- the controls ----


class ReportForm(forms.Form):
    """The report pages' controls; each page shows the ones it uses. Bad values fall back to
    the defaults, with a note above the controls."""

    plan = forms.BooleanField(
        label=_("Count planned and under-construction facilities as open"), required=False
    )
    straight = forms.BooleanField(
        label=_("Measure by straight line instead, to compare"), required=False
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
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data, services: tuple[Service, ...], *, blank: str = "", **kwargs):
        super().__init__(data, **kwargs)
        choices = [(s.code, s.name) for s in services]
        self.fields["service"].choices = ([("", blank)] if blank else []) + choices
        self.default_service = "" if blank else (services[0].code if services else "")

    def choices(self) -> "Choices":
        """The cleaned controls, each one that is not valid at its default."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return Choices(
            plan=bool(data.get("plan")),
            straight=bool(data.get("straight")),
            service=data.get("service") or self.default_service,
            sort=data.get("sort") or "",
            descending=data.get("order") == "desc",
            k=data.get("k") or report_data.DEFAULT_PICKS,
            page=data.get("page") or 1,
        )


@dataclass(frozen=True)
class Choices:
    plan: bool
    service: str
    sort: str
    descending: bool
    k: int
    page: int = 1
    straight: bool = False

    def query(self, *names: str, **override) -> str:
        """A query string of the named controls (non-default ones only), with overrides."""
        values = {
            "plan": "on" if self.plan else "",
            "straight": "on" if self.straight else "",
            "service": self.service,
            "sort": self.sort,
            "order": "desc" if self.descending else "",
            "k": self.k if self.k != report_data.DEFAULT_PICKS else "",
        }
        chosen = {n: values[n] for n in names} | override
        return urlencode({k: v for k, v in chosen.items() if v not in ("", None)})


# The query parameters the pages read: a cache key holds them as asked for, cut short, so a page
# whose body is cached never needs the categories to validate them first.
CONTROLS = ("plan", "straight", "service", "sort", "order", "k", "page")

# A city's matrix comes in pages of this many communities; the gap list shows this many of the
# largest gaps (the exports hold every row).
MATRIX_PAGE = 100
GAPS_SHOWN = 200
# The overview names this many communities where most people wait for a class or a wish.
DEMAND_SHOWN = 10


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


# The areas this process read last, by token: an area in the shared cache never changes under
# its token, so a process that has it need not unpickle it again (a district's takes 40 ms, the
# city's 0.35 s).
_KEPT: OrderedDict[str, Area] = OrderedDict()
_KEPT_SIZE = 4
_KEPT_LOCK = threading.Lock()


def _stored(token: str | None, *, own: bool = False) -> Area | None:
    """The area stored under ``token``; ``own`` for a copy of one's own (to change in place)."""
    if token is None:
        return None
    if not own:
        with _KEPT_LOCK:
            if token in _KEPT:
                _KEPT.move_to_end(token)
                return _KEPT[token]
    area = cache.get(f"report-area-data:{report_data.STORED_FORMAT}:{token}")
    if area is not None and not own:
        _keep(token, area)
    return area


def _keep(token: str, area: Area) -> None:
    with _KEPT_LOCK:
        _KEPT[token] = area
        _KEPT.move_to_end(token)
        while len(_KEPT) > _KEPT_SIZE:
            _KEPT.popitem(last=False)


def _area(request: HttpRequest, scope: access.Scope, mark: tuple | None = None) -> Area:
    """The scope's area under the current content version. After an edit, the last one made is
    kept when nothing it shows changed (report_data.unchanged: a menu, a course, a wish), else
    brought up to date (report_data.refresh: only compounds near a changed facility are
    recomputed); gathered anew only when that cannot be done.

    Areas are stored once each under a token; the content version and the scope point at one
    (``report-area-token``), and so does the scope's last (``report-area-last-token``). A
    process keeps the last few it read (``_KEPT``).

    With ``mark`` (report_data.read_demand_mark), the area's course and wish figures are those
    of that mark: read again when they are older, once per scope and mark, and cached apart from
    the area, which is large and need not be written again for them."""
    scope_key = _scope_key(scope)
    pointer = caching.key("report-area-token", report_data.STORED_FORMAT, scope_key)
    last_pointer = f"report-area-last-token:{report_data.STORED_FORMAT}:{scope_key}"
    token = cache.get(pointer)
    area = _stored(token)
    if area is None:
        last_token = cache.get(last_pointer)
        last = _stored(last_token)
        if last is not None and report_data.unchanged(last):
            area, token = last, last_token
        else:
            # Refreshed in place: on a copy of its own, never the one this process keeps.
            own = _stored(last_token, own=True) if last is not None else None
            area = report_data.refresh(own) if own is not None else None
            if area is None:
                area = report_data.gather(Community.objects.readable_by(request.user))
            token = uuid.uuid4().hex
            cache.set(
                f"report-area-data:{report_data.STORED_FORMAT}:{token}", area, caching.TIMEOUT
            )
            _keep(token, area)
            cache.set(last_pointer, token, caching.TIMEOUT)
        cache.set(pointer, token, caching.TIMEOUT)
    if mark is not None and area.demand_mark != mark:
        demand = caching.cached(
            "report-demand",
            scope_key,
            _mark_key(mark),
            build=lambda: report_data.read_demand(p.id for p in area.places),
        )
        # A copy: the area itself is shared by the process's threads.
        area = dataclasses.replace(area, demand=demand, demand_mark=mark)
    return area


def _mark_key(mark: tuple | None) -> str:
    return "-".join(map(str, mark)) if mark is not None else ""


def _key(request: HttpRequest, scope: access.Scope, name: str, *more) -> str:
    asked = urlencode([(n, request.GET.get(n, "")[:40]) for n in CONTROLS if n in request.GET])
    return caching.key(
        name,
        _scope_key(scope),
        get_language(),
        hashlib.sha256(asked.encode()).hexdigest()[:32],
        *more,
    )


@dataclass(frozen=True)
class Page:
    """How one report page is made: its template, which controls it shows, and ``build(area,
    choices)``, which returns the body's context and the shell's (the heading's) own."""

    name: str
    template: str
    tab: str
    build: object
    controls: tuple[str, ...] = ()  # of "service", "k" (and "plan", "sort" shown or kept)
    required_only: bool = False  # the service choice lists required categories only
    blank: str = ""  # the service choice's "any" option
    wide: bool = False  # prints in landscape
    demand: bool = False  # shows course and wish figures: kept under their mark too


def _show(request: HttpRequest, page: Page, *args) -> HttpResponse:
    """The page from the shared cache, or made and kept.

    Two levels: the whole page's HTML per address, elder mode and htmx (it holds nothing
    personal: the report pages have no form that posts, and the shell's links are the same for
    every signed-in user), and beneath it the entry of body, categories and heading per scope,
    language and controls, which the elder-mode and htmx variants share. A repeat request reads
    the session, the user, the scope, the content version and the page (and, on a page with
    courses and wishes, their mark): no figures, no template."""
    scope = _scope(request)
    mark = report_data.read_demand_mark() if page.demand else None
    variant = "htmx" if request.htmx else "elder" if _elder(request) else "plain"
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    page_key = _key(
        request, scope, f"report-page-{page.name}", variant, path, _mark_key(mark), *args
    )
    html = cache.get(page_key)
    if html is not None:
        return HttpResponse(html)
    key = _key(request, scope, f"report-{page.name}", _mark_key(mark), *args)
    entry = cache.get(key)
    if entry is None:
        area = _area(request, scope, mark)
        services = area.required if page.required_only else area.services
        choices = ReportForm(request.GET, services, blank=page.blank).choices()
        area = area.measured(choices.straight)
        context, shell = page.build(area, choices, *args)
        context["measure"] = Measure.of(area)
        context["straight"] = choices.straight
        body = render_to_string(f"{page.template}#body", context, request)
        entry = {
            "body": body,
            "services": services,
            "choices": choices,
            "shell": shell,
            "can_walk": bool(area.networks),
        }
        cache.set(key, entry, caching.TIMEOUT)
    if request.htmx:
        response = HttpResponse(entry["body"])
    else:
        choices = entry["choices"]
        form = ReportForm(request.GET, entry["services"], blank=page.blank)
        form.is_valid()  # for the note on choices that could not be used
        response = render(
            request,
            page.template,
            {
                # The body is this project's own template output, rendered with autoescaping.
                "body": mark_safe(entry["body"]),
                "form": form,
                "tab": page.tab,
                "wide": page.wide,
                "plan": choices.plan,
                "straight": choices.straight,
                "can_walk": entry.get("can_walk", False),
                "service": choices.service if "service" in page.controls else None,
                "k": choices.k if "k" in page.controls else None,
                "sort": choices.sort,
                "order": "desc" if choices.descending else "",
                **entry["shell"],
            },
        )
    cache.set(page_key, response.content, caching.TIMEOUT)
    return response


def _elder(request: HttpRequest) -> bool:
    return request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1"


def _report_view(page: Page):
    @login_required
    @require_GET
    @vary_on_headers("HX-Request")
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return _show(request, page, *args, *kwargs.values())

    view.__name__ = f"{page.name}_page"
    view.__doc__ = page.build.__doc__
    return view


# ---- the pages ----


def _overview(area: Area, choices: Choices):
    """Headline figures, coverage per required category today and with the plan, the
    communities meeting the standard, and construction progress."""
    return {
        "report": overview(area),
        "listed": MATRIX_PAGE,
        "chart_width": CHART_WIDTH,
        "bar_max": CHART_BAR,
        "bar_height": CHART_BAR_HEIGHT,
    }, {}


SORTS = ("name", "population", "waiting", "wishes")
# Columns whose first click sorts largest first.
LARGEST_FIRST = ("population", "waiting", "wishes")


def _matrix(area: Area, choices: Choices):
    """Communities × required services: the share of residents within the walk, sortable."""
    sort = choices.sort
    if sort not in SORTS and sort not in {s.code for s in area.required}:
        sort = ""
    links = _sort_links(area.required, sort, choices.descending, choices)
    rows = area.matrix_rows(choices.plan, sort, choices.descending)
    page = Paginator(rows, MATRIX_PAGE).get_page(choices.page)
    return {
        "rows": page.object_list,
        "page": page if page.paginator.num_pages > 1 else None,
        "page_query": choices.query("plan", "straight", "sort", "order"),
        "columns": links,
        "service_links": [links[s.code] for s in area.required],
        "demand_links": [links["waiting"], links["wishes"]],
        "services": area.required,
        "plan": choices.plan,
        "export_query": choices.query("plan", "straight"),
    }, {}


@dataclass(frozen=True)
class SortLink:
    key: str
    label: str
    query: str
    aria_sort: str  # "ascending" | "descending" | "" (not sorted by it)


def _sort_links(required, sort: str, descending: bool, choices: Choices) -> dict[str, SortLink]:
    """Each sortable column's link: sorted by it ascending first (residents, people waiting and
    wishes: largest first), then the other way."""
    links = {}
    for key, label in [
        ("name", _("Community")),
        ("population", _("Residents")),
        ("waiting", _("On waiting lists")),
        ("wishes", _("Open wishes")),
    ] + [(s.code, s.name) for s in required]:
        now = sort == key
        order = "desc" if now and not descending else ""
        if key in LARGEST_FIRST and not now:
            order = "desc"
        links[key] = SortLink(
            key,
            str(label),
            choices.query("plan", "straight", sort=key, order=order),
            ("descending" if descending else "ascending") if now else "",
        )
    return links


def _community(area: Area, choices: Choices, slug: str):
    """One community's drill-down: its coverage per service and each compound's nearest
    facility of every required service, with the walk."""
    place = area.place(slug)
    if place is None:  # outside the scope (or not there at all): the same answer
        raise Http404
    cells = area.figures(choices.plan)[place.id]
    demand = area.demand_of(place.id)
    # The map's service: the one chosen, else the required one leaving most residents out.
    service = area.service(choices.service) if choices.service else None
    if service is None and area.required:
        service = max(
            area.required, key=lambda s: (cells[s.code].uncovered, -area.required.index(s))
        )
    return {
        "service": service,
        "area_map": _community_map(area, place, service.code, choices.plan) if service else None,
        "map_title": _("%(service)s within walking distance of %(community)s's compounds")
        % {"service": service.name, "community": place.name}
        if service
        else "",
        "place": place,
        "plan": choices.plan,
        "services": area.required,
        "cells": [(s, cells[s.code]) for s in area.required],
        "complete": area.complete(choices.plan)[place.id],
        "population": next(iter(cells.values())).population if cells else 0,
        "compounds": area.compound_rows(choices.plan, place),
        "off_streets": area.off_streets(place),
        "export_query": choices.query("plan", "straight"),
        "demand": demand,
        "wishes": [
            WishRow(wish, tuple(Named(area.service(c), cells[c]) for c in wish.codes if c in cells))
            for wish in demand.top
        ],
        "wished_gaps": _wished_gaps(area, demand, cells),
    }, {"name": place.name, "slug": place.slug}


@dataclass(frozen=True)
class Named:
    """A service a wish names, and how the community stands for it."""

    service: Service
    cell: report_data.Cell


@dataclass(frozen=True)
class WishRow:
    wish: report_data.WishItem
    named: tuple[Named, ...]


def _wished_gaps(area: Area, demand: report_data.Demand, cells) -> list[Named]:
    """The services the community's top wishes name that leave some of its residents beyond
    the walk, in the categories' order."""
    named = {code for wish in demand.top for code in wish.codes}
    return [
        Named(s, cells[s.code])
        for s in area.services
        if s.code in named and cells[s.code].uncovered
    ]


def _gaps(area: Area, choices: Choices):
    """Residents beyond each required service's walk, per community, most first."""
    gaps = area.gap_rows(choices.plan, choices.service)
    return {
        "gaps": gaps[:GAPS_SHOWN],
        "gap_count": len(gaps),
        "plan": choices.plan,
        "service": area.service(choices.service) if choices.service else None,
        "residents": sum(g.residents for g in gaps),
        "population": area.population,
        "export_query": choices.query("plan", "straight", "service"),
    }, {}


def _sites(area: Area, choices: Choices):
    """The map for one service (compounds covered or not, its facilities, the idle rooms) and
    the idle rooms that would bring the most residents within the walk, chosen greedily."""
    suggestions = area.suggestions(choices.service, choices.plan, choices.k)
    names = {p.id: p.name for p in area.places}
    return {
        "suggestions": suggestions,
        "service": suggestions.service,
        "plan": choices.plan,
        "area_map": _map(area, choices.service, choices.plan, suggestions),
        "map_title": _("Map: residents within walking distance of a %(service)s")
        % {"service": suggestions.service.name},
        "export_query": choices.query("plan", "straight", "service", "k"),
        "rooms": [
            (room, names[room.community_id], room.floor_area >= suggestions.min_floor_area)
            for room in area.rooms
        ],
    }, {}


overview_page = _report_view(
    Page("overview", "reports/overview.html", "overview", _overview, demand=True)
)
matrix_page = _report_view(
    Page("matrix", "reports/matrix.html", "matrix", _matrix, wide=True, demand=True)
)
community_page = _report_view(
    Page(
        "community",
        "reports/community.html",
        "matrix",
        _community,
        controls=("service",),
        required_only=True,
        blank=_("The service leaving most residents out"),
        wide=True,
        demand=True,
    )
)
gaps_page = _report_view(
    Page(
        "gaps",
        "reports/gaps.html",
        "gaps",
        _gaps,
        controls=("service",),
        required_only=True,
        blank=_("Every required service"),
    )
)
sites_page = _report_view(
    Page("sites", "reports/sites.html", "sites", _sites, controls=("service", "k"))
)


def _map(area: Area, code: str, plan: bool, suggestions: report_data.Suggestions):
    """The sites page's map: the area's compounds, or for a city (more than
    area_map.GROUP_ABOVE of them) its communities, without the streets."""
    matrix = area.matrix(plan)
    covered = matrix.covered(code)
    homes = area.homes
    rank = {s.room.id: s.rank for s in suggestions.picks}
    statuses = report_data.coverage.WITH_PLANNED if plan else report_data.coverage.SERVING
    ours = {p.id for p in area.places}
    # The area's own facilities of the service, and those across its border that are some
    # compound's nearest.
    sites = [
        area_map.Site(s.name, s.latitude, s.longitude, planned=s.planned)
        for s in area.spots.values()
        if code in s.codes
        and s.status in statuses
        and (s.community_id in ours or s.id in area.nearest_ids)
    ]
    candidates = [
        area_map.Candidate(r.name, r.latitude, r.longitude, rank.get(r.id)) for r in area.rooms
    ]
    reach_m = suggestions.service.distance_m
    if len(homes.ids) > area_map.GROUP_ABOVE:
        return area_map.layout(
            [],
            sites,
            candidates,
            reach_m=reach_m,
            barriers=_barriers(area),
            groups=_groups(area, covered),
        )
    return area_map.layout(
        [
            area_map.Home(name, lat, lng, pop, ok)
            for name, lat, lng, pop, ok in zip(
                area.home_names,
                homes.lat.tolist(),
                homes.lng.tolist(),
                homes.population.tolist(),
                covered.tolist(),
                strict=True,
            )
        ],
        sites,
        candidates,
        reach_m=reach_m,
        streets=_street_lines(area, homes.lat, homes.lng),
        barriers=_barriers(area),
    )


def _groups(area: Area, covered: np.ndarray) -> list[area_map.Group]:
    """Each community of the area as one circle of a city's map: at its residents' centre (its
    compounds' where it has no residents), with its residents and those of them ``covered``,
    counted as the report's figures count them."""
    homes = area.homes
    ids, where = np.unique(homes.community, return_inverse=True)
    n = len(ids)
    people = np.bincount(where, weights=homes.population, minlength=n)
    within = np.bincount(where, weights=homes.population * covered, minlength=n)
    weight = np.where(people[where] > 0, homes.population, 1)
    total = np.bincount(where, weights=weight, minlength=n)
    lat = np.bincount(where, weights=weight * homes.lat, minlength=n) / total
    lng = np.bincount(where, weights=weight * homes.lng, minlength=n) / total
    names = {p.id: p.name for p in area.places}
    return [
        area_map.Group(names.get(c, ""), y, x, round(p), round(w))
        for c, y, x, p, w in zip(
            ids.tolist(), lat.tolist(), lng.tolist(), people.tolist(), within.tolist(), strict=True
        )
    ]


# A map draws at most this many street segments (main roads first): a district's every lane
# would weigh more than the rest of the page.
STREET_BUDGET = 2500
# And at most this many walks.
WALKS_DRAWN = 40


def _street_lines(area: Area, lat: np.ndarray, lng: np.ndarray) -> list[area_map.Line]:
    """The streets of the area's networks around the given points, for a map."""
    if not area.walks or not len(lat):
        return []
    pad = 300 / geo.METRES_PER_DEGREE
    south, north = float(lat.min()) - pad, float(lat.max()) + pad
    west, east = float(lng.min()) - pad * 1.5, float(lng.max()) + pad * 1.5
    lines = []
    streets = network.load_streets(n.district_id for n in area.networks)
    budget = STREET_BUDGET
    for walked in streets.values():
        edges, major = walked.segments_in(south, west, north, east, budget)
        budget -= len(edges)
        for e, big in zip(edges.tolist(), major.tolist(), strict=True):
            a, b = walked.source[e], walked.target[e]
            lines.append(
                area_map.Line(((walked.lat[a], walked.lng[a]), (walked.lat[b], walked.lng[b])), big)
            )
    return lines


def _barriers(area: Area) -> list[tuple[str, area_map.Line]]:
    """The railways and rivers the area's networks record, for its maps."""
    if not area.walks:
        return []
    return [
        (kind, area_map.Line(points, label=name))
        for n in area.networks
        for kind, name, points in n.barriers
    ]


def _walk_lines(area: Area, rows: list[int], code: str, plan: bool) -> list[area_map.Line]:
    """The walk along the streets from each of the compounds at ``rows`` that is beyond the
    walking distance of ``code`` (but has a facility within reach) to its nearest facility: from
    its best gate to the facility's door."""
    if not area.walks:
        return []
    matrix = area.matrix(plan)
    line = area.line_matrix(plan)
    homes = area.homes
    covered = matrix.covered(code)
    streets = network.load_streets(n.district_id for n in area.networks)
    starts = homes.starts()
    # Beyond twice the walk the engine names no nearest facility: the walk drawn is then the one
    # to the nearest by straight line, however long (up to five walks).
    reach = 5 * (area.service(code).distance_m if area.service(code) else 0)
    lines = []
    for row in rows:
        fid = int(matrix.nearest[code][row])
        if fid < 0 and line is not None:
            fid = int(line.nearest[code][row])
        walked = streets.get(int(homes.district[row]))
        spot = area.spots.get(fid)
        if covered[row] or fid < 0 or walked is None or spot is None or len(lines) >= WALKS_DRAWN:
            continue
        mine = starts.home == row
        gates = walked.place(starts.lat[mine], starts.lng[mine])
        door = walked.place(np.array([spot.latitude]), np.array([spot.longitude]))
        metres = [
            float(walked.walk(_one(gates, i), door, reach)[0]) for i in range(len(gates.edge))
        ]
        best = int(np.argmin(metres))
        if not np.isfinite(metres[best]):
            continue
        nodes = walked.path(_one(gates, best), door, reach)
        if nodes is None:
            continue
        gate = (float(starts.lat[mine][best]), float(starts.lng[mine][best]))
        points = [
            gate,
            _spot(walked, gates, best),
            *((float(walked.lat[n]), float(walked.lng[n])) for n in nodes),
            _spot(walked, door, 0),
            (spot.latitude, spot.longitude),
        ]
        name = area.home_names[row]
        label = _("%(compound)s to %(facility)s: %(metres)s m on foot") % {
            "compound": name,
            "facility": spot.name,
            "metres": f"{metres[best]:,.0f}",
        }
        lines.append(area_map.Line(tuple(points), label=label))
    return lines


def _one(placed: network.Placed, i: int) -> network.Placed:
    return network.Placed(
        placed.edge[i : i + 1], placed.along[i : i + 1], placed.offset_m[i : i + 1]
    )


def _spot(walked: network.Streets, placed: network.Placed, i: int) -> tuple[float, float]:
    """Where the ``i``-th placed point meets its street."""
    e, t = int(placed.edge[i]), float(placed.along[i])
    a, b = walked.source[e], walked.target[e]
    return (
        float(walked.lat[a] + t * (walked.lat[b] - walked.lat[a])),
        float(walked.lng[a] + t * (walked.lng[b] - walked.lng[a])),
    )


def _community_map(area: Area, place, code: str, plan: bool):
    """One service's map of a community: its compounds, covered or not, the facilities nearest to
    them or in the community, the streets, and each uncovered compound's walk."""
    matrix = area.matrix(plan)
    homes = area.homes
    rows = np.flatnonzero(homes.community == place.id)
    covered = matrix.covered(code)
    nearest = {int(matrix.nearest[code][r]) for r in rows.tolist()}
    statuses = report_data.coverage.WITH_PLANNED if plan else report_data.coverage.SERVING
    sites = [
        s
        for s in area.spots.values()
        if code in s.codes
        and s.status in statuses
        and (s.community_id == place.id or s.id in nearest)
    ]
    lat = np.concatenate([homes.lat[rows], [s.latitude for s in sites]])
    lng = np.concatenate([homes.lng[rows], [s.longitude for s in sites]])
    return area_map.layout(
        [
            area_map.Home(
                area.home_names[r],
                float(homes.lat[r]),
                float(homes.lng[r]),
                int(homes.population[r]),
                bool(covered[r]),
            )
            for r in rows.tolist()
        ],
        [area_map.Site(s.name, s.latitude, s.longitude, planned=s.planned) for s in sites],
        streets=_street_lines(area, lat, lng),
        walks=_walk_lines(area, rows.tolist(), code, plan),
        barriers=_barriers(area),
    )


# ---- exports ----


def _export(request: HttpRequest, name: str, make, demand: bool = False) -> bytes | str:
    """An export's content, cached like the pages (under today's date too: it is dated; and
    under the course and wish figures' mark when it holds them)."""
    scope = _scope(request)
    mark = report_data.read_demand_mark() if demand else None
    key = _key(request, scope, f"report-{name}", timezone.localdate().isoformat(), _mark_key(mark))
    content = cache.get(key)
    if content is None:
        area = _area(request, scope, mark)
        choices = ReportForm(request.GET, area.services).choices()
        content = make(area.measured(choices.straight), choices)
        cache.set(key, content, caching.TIMEOUT)
    return content


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The report as a workbook: summary, matrix, gaps, compounds and suggestions."""

    def make(area: Area, c: Choices) -> bytes:
        title = gettext("%(area)s coverage report") % {"area": area.label}
        return report_export.workbook(area, plan=c.plan, code=c.service, k=c.k, title=title)

    response = HttpResponse(_export(request, "xlsx", make, demand=True), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename()}.xlsx"'
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest, table: str) -> StreamingHttpResponse:
    """One of the report's tables as CSV (UTF-8 with a BOM, for Excel), streamed as its rows are
    made from the cached area: the city's compound table is 200,000 rows."""
    if table not in report_export.TABLES:
        raise Http404
    scope = _scope(request)
    demand = table in report_export.WITH_DEMAND
    area = _area(request, scope, report_data.read_demand_mark() if demand else None)
    choices = ReportForm(request.GET, area.services).choices()
    chunks = report_export.csv_chunks(
        area.measured(choices.straight), table, plan=choices.plan, code=choices.service, k=choices.k
    )
    response = StreamingHttpResponse(
        _in_language(get_language(), chunks), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename()}-{table}.csv"'
    return response


def _in_language(language: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, each made in ``language``: a streamed response is read after the view has
    returned (by another thread, under ASGI), whatever language is active there."""
    while True:
        with translation.override(language):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _filename() -> str:
    return f"coverage-{timezone.localdate():%Y%m%d}"
