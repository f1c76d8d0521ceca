"""Residents' course pages: the list of classes, a course's page, applying and cancelling (with a
confirmation step each), /me/ and its private calendar feed.

Every write goes through ``courses.enrolment``; the views gather what the templates show in a
fixed number of queries (a course page adds the enrolment rules' own few per class for the
signed-in visitor).
"""

from dataclasses import dataclass
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from communities.models import Community
from courses import calendar, enrolment, lottery
from courses.forms import CourseFilterForm
from courses.models import Course, CourseClass, Enrolment
from portal import caching, personal
from portal.lib import ratelimit
from residents.models import Resident, new_token

PAGE_SIZE = 50
Status = Enrolment.Status


# ---- shared pieces ----


def classes_with_waiting() -> QuerySet[CourseClass]:
    """Classes with what their rows show: course, term, community, venue and draw joined, and how
    many wait (``waiting``) and have applied for a draw (``applied``) counted in the same query."""
    return CourseClass.objects.select_related(
        "course__term__community", "facility", "draw"
    ).annotate(
        waiting=Count("enrolments", filter=Q(enrolments__status=Status.WAITLISTED)),
        applied=Count("enrolments", filter=Q(enrolments__status=Status.APPLIED)),
    )


def with_commitment(classes: QuerySet[CourseClass]) -> QuerySet[CourseClass]:
    """Classes with their lottery's commitment joined; its secret stays in the database (and out
    of every cached copy) until the draw reveals it."""
    return classes.select_related("commitment").defer("commitment__secret")


def current(classes: QuerySet[CourseClass], today) -> QuerySet[CourseClass]:
    """Classes of terms that have not ended."""
    return classes.filter(course__term__ends_on__gte=today)


def mine(request: HttpRequest) -> QuerySet[Enrolment]:
    """The signed-in person's live enrolments: the only ones their pages may reach."""
    return Enrolment.objects.filter(user=request.user, status__in=Enrolment.LIVE)


def _class_name(course_class: CourseClass) -> str:
    if course_class.level:
        return f"{course_class.course.name} {course_class.level}"
    return course_class.course.name


@dataclass(frozen=True)
class ClassRow:
    """A class on a course's page, with where the visitor stands."""

    course_class: CourseClass
    held: Enrolment | None = None  # the visitor's own live enrolment
    position: int | None = None  # on the waiting list
    refusal: enrolment.Refusal | None = None


# ---- pages ----


@require_GET
@vary_on_headers("HX-Request")  # the page and its fragment must not share a cache entry
@caching.public_page
def course_list(request: HttpRequest) -> HttpResponse:
    """The list is nobody's own: its results, and the page's whole body around them, are
    rendered once a minute per address for everyone (visitors and residents alike); a signed-in
    resident's page only wraps it in their own header."""
    form = None

    def filters() -> CourseFilterForm:
        nonlocal form
        if form is None:
            communities = list(
                Community.objects.filter(terms__ends_on__gte=timezone.localdate())
                .distinct()
                .order_by("name")
                .values_list("slug", "name")
            )
            form = CourseFilterForm(request.GET, communities=communities)
        return form

    def results() -> str:
        context = _results(filters(), request)
        return render_to_string("courses/list.html#results", context, request)

    html = caching.shared_fragment(request, "course-results", results)
    if request.htmx:
        return HttpResponse(html)

    def body() -> str:
        context = {"form": filters(), "results": html}
        return render_to_string("courses/list.html#body", context, request)

    shared = caching.shared_fragment(request, "course-list", body)
    return render(request, "courses/list.html", {"body": shared})


def _results(form: CourseFilterForm, request: HttpRequest) -> dict:
    groups, page = [], None
    if form.is_valid():
        data = form.cleaned_data
        classes = current(classes_with_waiting(), timezone.localdate())
        if data["audience"]:
            classes = classes.filter(course__audience=data["audience"])
        if data["subject"]:
            classes = classes.filter(course__subject=data["subject"])
        if data["community"]:
            classes = classes.filter(course__term__community__slug=data["community"])
        if data["weekday"] is not None:
            classes = classes.filter(weekday=data["weekday"])
        if data["seats"]:
            classes = classes.filter(enrolled_count__lt=F("capacity"), cancelled_at__isnull=True)
        classes = classes.order_by(
            "course__name", "course_id", "weekday", "starts_at", "level", "pk"
        )
        page = Paginator(classes, PAGE_SIZE).get_page(data["page"] or 1)
        groups = [
            (course, list(rows))
            for course, rows in groupby(page.object_list, key=lambda c: c.course)
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return {"groups": groups, "page": page, "page_query": query.urlencode()}


def _course_classes(slug: str) -> tuple[Course | None, list[CourseClass]]:
    """A course and its classes with their seats: the same for everyone, so read once a minute,
    and again as soon as anyone enrols or cancels (courses.enrolment restamps it)."""

    def read() -> tuple[Course | None, list[CourseClass]]:
        course = Course.objects.select_related("term__community").filter(slug=slug).first()
        if course is None:
            return None, []
        classes = with_commitment(classes_with_waiting()).filter(course=course)
        return course, list(classes.order_by("weekday", "starts_at", "level", "pk"))

    key = slug[:100]
    seats = caching.stamp(enrolment.seats_stamp(key))
    return caching.this_minute("course-classes", key, seats, build=read)


def _seats(request: HttpRequest, slug: str) -> list[str]:
    return [enrolment.seats_stamp(slug[:100])]


@require_GET
@caching.public_page(stamps=_seats)
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A course's page: the same for everyone, kept until its seats or the content change; where
    I stand in each class is my own part (``class-you``)."""
    course, classes = _course_classes(slug)
    if course is None:
        raise Http404
    return render(
        request,
        "courses/detail.html",
        {"course": course, "term": course.term, "classes": classes},
    )


# ---- my parts of the shared course pages (portal/personal.py) ----


@personal.part("class-you")
def _class_you(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """My cell in each class's row: enrolled, waiting (and where), applied, why I may not, or
    the button; for a visitor none (the column is mine only). Kept per person and course for
    the minute, until my enrolments or the course's seats move (their stamps)."""
    user = request.user
    if not user.is_authenticated:
        return dict.fromkeys(keys, "")
    cells = {}
    for slug in {key.rpartition(":")[0] for key in keys}:
        cells |= caching.this_minute_under(
            "class-you",
            user.pk,
            slug,
            get_language(),
            stamps=[enrolment.person_stamp(user.pk), enrolment.seats_stamp(slug)],
            build=lambda slug=slug: _class_cells(user, slug),
        )
    return {key: cells.get(key, "") for key in keys}


def _class_cells(user, slug: str) -> dict[str, str]:
    course, classes = _course_classes(slug)
    facts = enrolment.Facts.of(user)
    refusals = enrolment.check_many(user, classes, timezone.now(), facts)
    rows = []
    for course_class in classes:
        held = facts.held.get(course_class.pk)
        if held:
            rows.append(ClassRow(course_class, held, enrolment.waitlist_position(held)))
        else:
            rows.append(ClassRow(course_class, refusal=refusals[course_class.pk]))
    html = personal.render_each("courses/personal/class_you.html", {"course": course}, rows)
    return {f"{slug}:{row.course_class.pk}": cell for row, cell in zip(rows, html, strict=True)}


@personal.part("class-you-heading")
def _class_you_heading(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    html = format_html('<th scope="col">{}</th>', _("You")) if request.user.is_authenticated else ""
    return dict.fromkeys(keys, html)


@personal.part("course-sign-in")
def _course_sign_in(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    html = personal.render(
        "courses/personal/sign_in.html",
        {"signed_in": request.user.is_authenticated, "path": request.path},
    )
    return dict.fromkeys(keys, html)


@personal.part("my-classes-link")
def _my_classes_link(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    html = (
        format_html(
            '<p><a class="my-classes-link" href="{}">{}</a></p>',
            reverse("me:home"),
            _("My classes"),
        )
        if request.user.is_authenticated
        else ""
    )
    return dict.fromkeys(keys, html)


# Enrolments and cancellations per account and per client address in an hour: a term's choices
# with second thoughts fit easily; a script churning a waiting list does not.
CHANGES_PER_ACCOUNT = 30
CHANGES_PER_ADDRESS = 300
CHANGES_WINDOW = 3600


def _within_allowance(request: HttpRequest) -> bool:
    if ratelimit.allowed(
        request,
        "enrolment",
        per_account=CHANGES_PER_ACCOUNT,
        per_address=CHANGES_PER_ADDRESS,
        window=CHANGES_WINDOW,
    ):
        return True
    messages.error(
        request,
        _(
            "Too many enrolments and cancellations in the last hour. Wait an hour, or ask "
            "your community office to help at the desk."
        ),
    )
    return False


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    course_class = get_object_or_404(classes_with_waiting(), pk=pk)
    course = course_class.course
    if request.method == "POST":
        if not _within_allowance(request):
            return redirect("courses:detail", slug=course.slug)
        try:
            made = enrolment.enrol(request.user, course_class)
        except enrolment.Refused as refused:
            messages.error(request, str(refused.refusal.message))
            return redirect("courses:detail", slug=course.slug)
        name = _class_name(course_class)
        if made.status == Status.ENROLLED:
            messages.success(request, _("You are enrolled in %(name)s.") % {"name": name})
        elif made.status == Status.APPLIED:
            closes = timezone.localtime(course.term.registration_closes)
            messages.success(
                request,
                _(
                    "You have applied for %(name)s (application number %(number)s). Seats are "
                    "drawn by lot after registration closes on %(date)s; the result will show "
                    "here."
                )
                % {"name": name, "number": made.pk, "date": f"{closes:%Y-%m-%d %H:%M}"},
            )
        else:
            messages.success(
                request,
                _("You are number %(n)s on the waiting list for %(name)s.")
                % {"n": enrolment.waitlist_position(made), "name": name},
            )
        return redirect("me:home")
    return render(
        request,
        "courses/enrol.html",
        {
            "course": course,
            "term": course.term,
            "course_class": course_class,
            "refusal": enrolment.check(request.user, course_class),
            # Where the waiting list would put me now: after everyone already waiting.
            "position": course_class.waiting + 1,
        },
    )


@require_GET
# Its rows mark my own applications: signed-in people get their own rendering.
@caching.public_page(shared=False)
def draw(request: HttpRequest, pk: int) -> HttpResponse:
    """A lottery class's draw, public: before it, the commitment and when the draw will be;
    after it, who got a seat and the waiting list by application number, with the revealed
    secret and each step to check it (courses.lottery)."""
    course_class = get_object_or_404(
        with_commitment(classes_with_waiting()).filter(allocation=CourseClass.Allocation.LOTTERY),
        pk=pk,
    )
    term = course_class.course.term
    made = getattr(course_class, "draw", None)
    commitment = getattr(course_class, "commitment", None)
    results, mine_, check = [], set(), None
    if made:
        seats = made.seats
        results = [
            (place, number, None if place <= seats else place - seats)
            for place, number in enumerate(made.applications, start=1)
        ]
        if request.user.is_authenticated:
            mine_ = set(
                Enrolment.objects.filter(user=request.user, pk__in=made.applications).values_list(
                    "pk", flat=True
                )
            )
        example = results[0][1] if results else 1
        check = {
            # The exact text whose SHA-256 is the seed (draws with a commitment only).
            "seed_text": lottery.seed_text(made.secret, made.applications)
            if made.committed
            else "",
            "example": example,
            "example_text": f"{made.seed}:{example}",
        }
    return render(
        request,
        "courses/draw.html",
        {
            "course_class": course_class,
            "course": course_class.course,
            "term": term,
            "draw": made,
            "commitment": commitment,
            # Made after the first person could apply: it cannot show the secret came first.
            "late": commitment is not None and commitment.committed_at > term.first_opening,
            "results": results,
            "mine": mine_,
            "check": check,
        },
    )


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """My classes, applications and waiting lists, and my calendar address: kept for the minute
    until one of my enrolments or my profile changes (my stamp); where I wait and the form's
    token are my parts, filled in per request."""
    user = request.user

    def build() -> str:
        resident = Resident.objects.filter(user=user).first()
        enrolments = list(
            mine(request)
            .filter(course_class__course__term__ends_on__gte=timezone.localdate())
            .select_related("course_class__course__term__community", "course_class__facility")
            .order_by("course_class__weekday", "course_class__starts_at", "pk")
        )
        feed_url = webcal_url = None
        if resident:
            feed_url = request.build_absolute_uri(
                reverse("me:calendar", kwargs={"token": resident.calendar_token})
            )
            webcal_url = "webcal://" + feed_url.split("://", 1)[1]
        context = {
            "resident": resident,
            "enrolled": [e for e in enrolments if e.status == Status.ENROLLED],
            "applied": [e for e in enrolments if e.status == Status.APPLIED],
            "waiting": [e for e in enrolments if e.status == Status.WAITLISTED],
            "feed_url": feed_url,
            "webcal_url": webcal_url,
        }
        html = render_to_string("courses/me.html#body", context, request)
        return personal.shared(html.encode()).decode()

    body = caching.this_minute_under(
        "me",
        user.pk,
        get_language(),
        request.get_host(),
        stamps=[enrolment.person_stamp(user.pk)],
        build=build,
    )
    return render(request, "courses/me.html", {"body": mark_safe(body)})  # our own rendering


@personal.part("waiting-place")
def _waiting_place(request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """Where I stand on each waiting list: it moves as others give up their places."""
    mine_ = mine(request).filter(pk__in=[int(key) for key in keys]) if keys else []
    places = {str(e.pk): enrolment.waitlist_position(e) for e in mine_}
    return {
        key: _("You are number %(n)s on the waiting list.") % {"n": places[key]}
        if places.get(key)
        else ""
        for key in keys
    }


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    mine_ = get_object_or_404(
        mine(request).select_related(
            "course_class__course__term__community", "course_class__facility"
        ),
        pk=pk,
    )
    name = _class_name(mine_.course_class)
    if request.method == "POST":
        if not _within_allowance(request):
            return redirect("me:home")
        enrolment.cancel(mine_)
        if mine_.status == Status.ENROLLED:
            text = _("You have given up your place in %(name)s.")
        elif mine_.status == Status.APPLIED:
            text = _("You have withdrawn your application for %(name)s.")
        else:
            text = _("You have left the waiting list for %(name)s.")
        messages.success(request, text % {"name": name})
        return redirect("me:home")
    return render(
        request,
        "courses/cancel.html",
        {
            "enrolment": mine_,
            "course_class": mine_.course_class,
            "position": enrolment.waitlist_position(mine_),
            "applied": mine_.status == Status.APPLIED,
            "others_waiting": mine_.status == Status.ENROLLED
            and mine_.course_class.enrolments.filter(status=Status.WAITLISTED).exists(),
        },
    )


@login_required
@require_POST
def new_calendar_address(request: HttpRequest) -> HttpResponse:
    resident = get_object_or_404(Resident, user=request.user)
    resident.calendar_token = new_token()
    resident.save(update_fields=["calendar_token"])
    messages.success(
        request,
        _("Your calendar has a new address. The old one no longer works: use the new one."),
    )
    return redirect(reverse("me:home") + "#calendar")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private feed: the token in the address is the only key, so a wrong one is a 404 and
    the answer is never cached by anything shared."""
    resident = Resident.objects.filter(calendar_token=token).select_related("user").first()
    if resident is None:
        raise Http404
    host = request.get_host().split(":", 1)[0]
    rows = (
        Enrolment.objects.filter(user=resident.user, status=Status.ENROLLED)
        .select_related("course_class__course", "course_class__facility")
        .order_by("pk")
    )
    meetings = [
        calendar.Meeting(
            uid=f"enrolment-{e.pk}@{host}",
            summary=_class_name(e.course_class),
            location=" ".join(
                part for part in (e.course_class.facility.name, e.course_class.room) if part
            ),
            weekday=e.course_class.weekday,
            starts_at=e.course_class.starts_at,
            ends_at=e.course_class.ends_at,
            first_date=e.course_class.first_date,
            last_date=e.course_class.last_date,
            description=_("Teacher: %(name)s") % {"name": e.course_class.teacher}
            if e.course_class.teacher
            else "",
        )
        for e in rows
    ]
    body = calendar.feed(meetings, name=_("My classes"), now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
