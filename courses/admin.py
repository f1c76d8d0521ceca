"""Courses in the back office, scoped like everything else (communities.access): staff keep their
own community's terms, courses and classes, and see who is in each class."""

from functools import partial

from django.contrib import admin, messages
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from communities import access
from communities.admin import CommunityScopedAdmin
from courses import attendance, desk, enrolment, lottery
from courses.models import Course, CourseClass, Draw, DrawCommitment, Enrolment, Term
from facilities.admin import ScopedInline
from facilities.models import Facility
from residents.models import shown


@admin.register(Term)
class TermAdmin(CommunityScopedAdmin):
    list_display = [
        "__str__",
        "community",
        "priority_opens",
        "registration_opens",
        "registration_closes",
        "class_limit",
    ]
    list_filter = ["year", "season", "community__subdistrict__district"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]


class ClassInline(ScopedInline, admin.TabularInline):
    model = CourseClass
    extra = 0
    fields = [
        "level",
        "weekday",
        "starts_at",
        "ends_at",
        "first_date",
        "last_date",
        "facility",
        "room",
        "teacher",
        "capacity",
        "min_age",
        "max_age",
        "allocation",
        "enrolled_count",
    ]
    readonly_fields = ["enrolled_count"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "facility":
            kwargs["queryset"] = access.editable(Facility.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Course)
class CourseAdmin(CommunityScopedAdmin):
    list_display = ["name", "term", "subject", "audience", "fee"]
    list_filter = ["subject", "audience", "term__year", "term__season"]
    search_fields = ["name", "provider"]
    list_select_related = ["term__community"]
    inlines = [ClassInline]
    exclude = ["slug"]


class EnrolmentInline(ScopedInline, admin.TabularInline):
    """The class's roster and waiting list, in order. Changes go through courses.enrolment (the
    list's cancel action), never by editing rows here."""

    model = Enrolment
    extra = 0
    fields = ["resident", "status", "draw_rank", "created_at", "enrolled_at", "by_staff"]
    readonly_fields = fields
    can_delete = False
    ordering = Enrolment.QUEUE

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user__resident", "course_class__course", "by_staff")
        )

    @admin.display(description=_("resident"))
    def resident(self, obj):
        return shown(obj.user)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CourseClass)
class CourseClassAdmin(CommunityScopedAdmin):
    list_display = [
        "__str__",
        "facility",
        "capacity",
        "enrolled_count",
        "allocation",
        "teacher",
        "cancelled_at",
    ]
    list_filter = ["weekday", "allocation", "course__subject", "course__term__year"]
    actions = ["draw_lots", "cancel_classes"]
    search_fields = ["course__name", "teacher", "level"]
    list_select_related = ["course", "facility"]
    readonly_fields = ["enrolled_count", "published_commitment", "cancelled_at"]
    inlines = [EnrolmentInline]
    change_form_template = "admin/courses/courseclass/change_form.html"

    @admin.display(description=_("commitment (SHA-256)"))
    def published_commitment(self, obj):
        """What the class's pages publish; the secret behind it is not read here."""
        if obj is None or obj.pk is None:
            return "—"
        published = (
            DrawCommitment.objects.filter(course_class=obj).only("digest", "committed_at").first()
        )
        if published is None:
            return "—"
        return f"{published.digest} ({timezone.localtime(published.committed_at):%Y-%m-%d %H:%M})"

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(partial(function, model_admin=self))

        return [
            path("<path:object_id>/desk/", view(desk.desk), name="courses_courseclass_desk"),
            path(
                "<path:object_id>/roster.xlsx",
                view(desk.roster),
                name="courses_courseclass_roster",
            ),
            path(
                "<path:object_id>/attendance/",
                view(attendance.overview),
                name="courses_courseclass_attendance",
            ),
            path(
                "<path:object_id>/attendance/<str:day>/",
                view(attendance.meeting),
                name="courses_courseclass_attendance_meeting",
            ),
            *super().get_urls(),
        ]

    @admin.action(
        description=_("Draw lots now (lottery classes whose registration has closed)"),
        permissions=["change"],
    )
    def draw_lots(self, request, queryset):
        made, early = 0, []
        for course_class in queryset.filter(allocation=CourseClass.Allocation.LOTTERY):
            if not self.has_change_permission(request, course_class):
                continue
            try:
                lottery.draw(course_class)
            except lottery.NotYet:
                early.append(str(course_class))
            else:
                made += 1
        if made:
            self.message_user(
                request,
                ngettext("%(n)s class drawn.", "%(n)s classes drawn.", made) % {"n": made},
                messages.SUCCESS,
            )
        if early:
            self.message_user(
                request,
                _("Not drawn, registration is still open: %(classes)s")
                % {"classes": "、".join(early)},
                messages.WARNING,
            )
        if not made and not early:
            self.message_user(
                request, _("None of the chosen classes gives its seats by lottery."), messages.INFO
            )

    @admin.action(
        description=_("Cancel the class (everyone in it is told by message)"),
        permissions=["change"],
    )
    def cancel_classes(self, request, queryset):
        classes = people = 0
        for course_class in queryset.filter(cancelled_at__isnull=True):
            if not self.has_change_permission(request, course_class):
                continue
            people += enrolment.cancel_class(course_class)
            classes += 1
        self.message_user(
            request,
            ngettext(
                "%(n)s class cancelled; %(people)s people will be told.",
                "%(n)s classes cancelled; %(people)s people will be told.",
                classes,
            )
            % {"n": classes, "people": people},
            messages.SUCCESS if classes else messages.INFO,
        )


@admin.register(Draw)
class DrawAdmin(CommunityScopedAdmin):
    """Draws are made by courses.lottery and kept as they were: read only, for every role."""

    list_display = ["course_class", "drawn_at", "seats", "seed"]
    list_select_related = ["course_class__course"]
    readonly_fields = [
        "course_class",
        "commitment",
        "secret",
        "seed",
        "drawn_at",
        "seats",
        "applications",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrolment)
class EnrolmentAdmin(CommunityScopedAdmin):
    list_display = ["resident", "course_class", "status", "created_at", "enrolled_at", "by_staff"]
    list_filter = ["status"]
    list_select_related = ["user__resident", "course_class__course", "by_staff"]

    @admin.display(description=_("resident"), ordering="user__resident__name")
    def resident(self, obj):
        return shown(obj.user)

    actions = ["cancel_enrolments"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Cancel (a freed seat goes to the first person waiting)"))
    def cancel_enrolments(self, request, queryset):
        promoted = 0
        for row in queryset.filter(status__in=Enrolment.LIVE).order_by("id"):
            promoted += enrolment.cancel(row) is not None
        self.message_user(
            request,
            ngettext(
                "Cancelled; %(n)s person moved up from the waiting list.",
                "Cancelled; %(n)s people moved up from the waiting list.",
                promoted,
            )
            % {"n": promoted},
            messages.SUCCESS,
        )
