import re

from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from communities.models import District
from portal import outage


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        if outage.unreachable(error):
            outage.noticed()  # the next requests answer 503 at once (portal/outage.py)
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


PHOTO_NAME = re.compile(r"^[0-9a-f]{32}-[0-9]{2,4}\.jpg$")


@require_GET
def photo(request: HttpRequest, name: str) -> HttpResponse:
    """A facility photo from the local media folder (object storage serves its own URLs).
    Only the generated names of re-encoded JPEGs exist here, and they always go out as
    image/jpeg with nosniff (SecurityMiddleware), so nothing stored can be taken for a page."""
    path = f"photos/{name}"
    if not PHOTO_NAME.match(name) or not default_storage.exists(path):
        raise Http404
    response = FileResponse(default_storage.open(path), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # names never repeat
    return response
