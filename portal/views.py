from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from communities.models import District


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unreachable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """The load benchmark's floor: one ORM query and one small template, through the same
    middleware as every page. Routed only when BENCH_FLOOR is set (bench/load.py)."""
    return render(request, "bench/floor.html", {"district": District.objects.first()})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's). Resolved per
    request: the icon's hashed name is known only once collectstatic has run."""
    return redirect(static("favicon.svg"))
