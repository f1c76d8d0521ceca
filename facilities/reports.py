"""The officials' coverage reports: figures for the area a user may read, and the pages.

The coverage engine is fed only the districts of the communities the user may read (residents
near a district's edge walk to facilities across it, and ``coverage.load`` keeps every facility
for that reason); only the readable communities are then reported. The figures are cached per
scope under the content version, so an edit anywhere makes them a miss on the next request.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from communities import access
from communities.models import Community
from facilities import coverage
from facilities.models import Category
from portal import caching
from portal.lib import geo

# The bar chart's geometry, in SVG user units: each row a label line above its bar, the share
# written after the bar, so the chart reads without telling colours apart.
CHART_WIDTH = 640
CHART_BAR = 440
CHART_ROW = 56
CHART_LABEL_Y = 18
CHART_BAR_Y = 26
CHART_BAR_HEIGHT = 22


@dataclass(frozen=True)
class CategoryRow:
    """One required category's coverage over the whole area, today and with the plan."""

    code: str
    name_zh: str
    name_en: str
    distance_m: int
    population: int
    covered: int
    gained: int

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def minutes(self) -> int:
        return geo.walking_minutes(self.distance_m)

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
    communities: tuple[CommunityRow, ...]
    categories: tuple[CategoryRow, ...]

    @property
    def chart_height(self) -> int:
        return CHART_ROW * len(self.categories) + 4

    @property
    def bars(self) -> list[Bar]:
        return [Bar(row, i * CHART_ROW) for i, row in enumerate(self.categories)]


def overview(communities) -> Overview:
    """Coverage of ``communities`` (a queryset, already scoped), in six queries."""
    communities = list(
        communities.order_by(
            "subdistrict__district__code", "subdistrict__code", "name"
        ).values_list("id", "name", "slug", "subdistrict__name", "subdistrict__district_id")
    )
    homes, sites, circles = coverage.load(sorted({row[4] for row in communities}))
    required = [c for c in circles if c.required]
    change = coverage.what_if(homes, sites, required)
    figures = change.now.rollup("community")
    gained = change.gained("community")
    complete = change.now.complete_communities()
    compounds = dict(zip(*np.unique(homes.community, return_counts=True), strict=True))

    readable = [row for row in communities if row[0] in figures]
    names = {
        code: (zh, en)
        for code, zh, en in Category.objects.filter(required=True).values_list(
            "code", "name_zh", "name_en"
        )
    }
    population = sum(figures[row[0]].population for row in readable)
    return Overview(
        population=population,
        compounds=sum(int(compounds[row[0]]) for row in readable),
        complete=sum(complete[row[0]] for row in readable),
        communities=tuple(
            CommunityRow(
                name=name,
                slug=slug,
                subdistrict=subdistrict,
                population=figures[cid].population if cid in figures else 0,
                compounds=int(compounds.get(cid, 0)),
                complete=complete.get(cid, False),
            )
            for cid, name, slug, subdistrict, _district in communities
        ),
        categories=tuple(
            CategoryRow(
                code=c.code,
                name_zh=names[c.code][0],
                name_en=names[c.code][1],
                distance_m=c.distance_m,
                population=population,
                covered=sum(figures[row[0]].covered[c.code] for row in readable),
                gained=sum(gained[row[0]][c.code] for row in readable),
            )
            for c in required
        ),
    )


def _scope_key(scope: access.Scope) -> str:
    parts = (
        scope.everything,
        sorted(scope.community_ids),
        sorted(scope.subdistrict_ids),
        sorted(scope.district_ids),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@login_required
@require_GET
def overview_page(request: HttpRequest) -> HttpResponse:
    """Headline figures and coverage per required category for the area the user may read."""
    scope = access.scope_for(request.user)
    if not scope.reads_anything:
        raise PermissionDenied
    report = caching.cached(
        "report-overview",
        _scope_key(scope),
        build=lambda: overview(Community.objects.readable_by(request.user)),
    )
    return render(
        request,
        "facilities/reports/overview.html",
        {
            "report": report,
            "chart_width": CHART_WIDTH,
            "bar_max": CHART_BAR,
            "bar_height": CHART_BAR_HEIGHT,
        },
    )
