from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.timezone import localdate
from django.utils.translation import gettext_lazy as _

from communities import access
from communities.admin import CommunityScopedAdmin
from communities.points import PointAdmin, PointForm
from communities.sheet_admin import SheetAdmin
from facilities import images, menus, photos, room_sheets, sheets
from facilities.models import (
    Category,
    Facility,
    FacilityPhoto,
    HoursException,
    IdleRoom,
    Meal,
    OpeningHours,
    SeniorPrice,
)
from portal import caching

# A week back is enough to correct last week's menu; older meals stay in the Meal list.
MEALS_SHOWN_FROM_DAYS_AGO = 7

_SMALL_TEXTAREA = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 30})}}


def _keeps_everything(request) -> bool:
    return access.scope_for(request.user).everything


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """City-wide data: the city administrator edits it; staff, who only choose from it, may at
    most read it, whatever permissions their group happens to hold."""

    list_display = ["code", "name_zh", "name_en", "group", "level", "distance_m", "required"]
    list_editable = ["distance_m"]
    list_filter = ["group", "level", "required"]
    search_fields = ["code", "name_zh", "name_en", "words"]
    fields = [
        "code",
        "name_zh",
        "name_en",
        "group",
        "level",
        "distance_m",
        "required",
        "words",
        "icon",
        "sort_order",
    ]

    def has_add_permission(self, request):
        return _keeps_everything(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _keeps_everything(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _keeps_everything(request) and super().has_delete_permission(request, obj)


class ScopedInline:
    """Inline rows of the communities the user keeps only. The parent is already out of reach,
    but the formset's queryset is what decides which posted row ids may be touched, so it is
    cut by the same rule rather than trusted to the parent."""

    def get_queryset(self, request):
        return access.editable(super().get_queryset(request), request.user)


class ClosureForm(forms.Form):
    start_date = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("reason"),
        max_length=100,
        help_text=_("Shown to residents, e.g. 设备检修."),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("start_date"), data.get("end_date")
        if first and last and last < first:
            self.add_error("end_date", _("The last day cannot come before the first."))
        return data


class PhotoForm(forms.ModelForm):
    """A photo's alt text, and its file when new or replaced. The file is judged by decoding it
    (facilities/images.py); nothing is stored unless the whole form is valid."""

    upload = forms.FileField(
        label=_("photo file"),
        required=False,
        help_text=_("A JPEG, PNG or WebP photo of at most 15 MB. Location data is removed."),
    )

    class Meta:
        model = FacilityPhoto
        fields = ["upload", "alt_zh", "alt_en", "sort_order"]

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        self.processed = None
        if upload is None:
            if not self.instance.pk and self.has_changed():
                self.add_error("upload", _("Choose a photo file."))
            return data
        if upload.size > images.MAX_BYTES:
            self.add_error("upload", images.RefusedImage("too_big").message)
            return data
        try:
            self.processed = images.process(upload.read())
        except images.RefusedImage as refused:
            self.add_error("upload", refused.message)
        return data

    def save(self, commit=True):
        photo = super().save(commit=False)
        if self.processed is not None:
            photos.store(photo, self.processed)
        if commit:
            photo.save()
        return photo


class PhotoInline(ScopedInline, admin.StackedInline):
    model = FacilityPhoto
    form = PhotoForm
    fields = ["preview", "upload", "alt_zh", "alt_en", "sort_order"]
    readonly_fields = ["preview"]
    extra = 1

    @admin.display(description=_("photo"))
    def preview(self, obj: FacilityPhoto) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" width="240" height="{}">',
            obj.small_url,
            obj.alt,
            round(240 * obj.height / obj.width),
        )


class OpeningHoursInline(ScopedInline, admin.TabularInline):
    model = OpeningHours
    fields = ["weekday", "opens", "closes"]
    extra = 0


class HoursExceptionInline(ScopedInline, admin.TabularInline):
    model = HoursException
    fields = ["start_date", "end_date", "closed", "opens", "closes", "note"]
    extra = 0


class SeniorPriceInline(ScopedInline, admin.TabularInline):
    model = SeniorPrice
    fields = ["kind", "min_age", "max_age", "price"]
    extra = 0


class MealInline(ScopedInline, admin.TabularInline):
    model = Meal
    fields = ["date", "kind", "dishes", "price"]
    extra = 0
    formfield_overrides = _SMALL_TEXTAREA

    def get_queryset(self, request):
        # Menus pile up day after day; the facility form shows the recent and coming ones.
        since = localdate() - timedelta(days=MEALS_SHOWN_FROM_DAYS_AGO)
        return super().get_queryset(request).filter(date__gte=since).order_by("date", "kind")


class FacilityForm(PointForm):
    def clean_slug(self) -> str | None:
        # Facility.save() makes the slug from the name when there is none. Left as "", the
        # not-empty constraint would refuse the form before save() could; None is skipped by that
        # check and by the uniqueness check alike, and save() fills it in.
        return self.cleaned_data["slug"] or None


@admin.register(Facility)
class FacilityAdmin(PointAdmin, SheetAdmin, CommunityScopedAdmin):
    sheet = sheets.KIND
    form = FacilityForm
    list_display = ["name", "category", "community", "status", "address", "is_demo"]
    list_filter = [
        "category",
        "status",
        "is_demo",
        "community__subdistrict__district",
        "community",
    ]
    list_select_related = ["category", "community"]
    search_fields = ["name", "slug", "address", "operator", "community__name"]
    readonly_fields = ["updated_at", "point_map"]
    actions = ["copy_menus_to_next_week", "close_for_a_while"]

    @admin.action(description=_("Close for a while (residents see it)"), permissions=["change"])
    def close_for_a_while(self, request, queryset):
        """Asks for the dates, then records the closure as an exception to the hours of each
        chosen facility (of the user's own communities: ``queryset`` is already cut)."""
        form = ClosureForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            HoursException.objects.bulk_create(
                HoursException(
                    facility=facility,
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    closed=True,
                    note=data["note"],
                )
                for facility in queryset
            )
            caching.bump_content()  # bulk_create sends no signals
            self.message_user(
                request,
                _("%(count)d facilities closed from %(first)s to %(last)s.")
                % {
                    "count": queryset.count(),
                    "first": data["start_date"],
                    "last": data["end_date"],
                },
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/facilities/close_for_a_while.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Close for a while"),
                "form": form,
                "facilities": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Copy this week's menus to next week"), permissions=["change"])
    def copy_menus_to_next_week(self, request, queryset):
        # ``queryset`` is the changelist's, already cut to the user's communities: ids of other
        # communities' facilities posted by hand are simply not in it.
        copied, kept = menus.copy_week(queryset, localdate())
        self.message_user(
            request,
            _("Copied %(copied)d meals to next week; %(kept)d were there already.")
            % {"copied": copied, "kept": kept},
            messages.SUCCESS,
        )

    inlines = [
        PhotoInline,
        OpeningHoursInline,
        HoursExceptionInline,
        SeniorPriceInline,
        MealInline,
    ]

    def get_inlines(self, request, obj):
        # Menus and senior meal prices belong to canteens; other facilities keep a short form.
        if obj is not None and not obj.serves_meals:
            return [PhotoInline, OpeningHoursInline, HoursExceptionInline]
        return self.inlines

    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "other_categories"]}),
        (
            _("Where"),
            {
                "fields": [
                    "community",
                    "address",
                    "phone",
                    "point_system",
                    "latitude",
                    "longitude",
                    "point_map",
                ]
            },
        ),
        (
            _("Status and dates"),
            {"fields": ["status", "planned_opening", "opened_on", "updated_at"]},
        ),
        (_("Capacity and operator"), {"fields": ["floor_area", "seats", "operator"]}),
        (
            _("Accessibility"),
            {
                "fields": [
                    "step_free_entrance",
                    "lift",
                    "accessible_toilet",
                    "seating",
                    "hearing_loop",
                ]
            },
        ),
        (_("Prices and description"), {"fields": ["price_notes", "description"]}),
        (_("Public holidays"), {"fields": ["holiday_rule"]}),
        (_("Demo data"), {"fields": ["is_demo"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The URL and the demo flag are the city's to decide, as for communities.
        if _keeps_everything(request):
            return self.readonly_fields
        return [*self.readonly_fields, "slug", "is_demo"]

    def get_list_filter(self, request):
        # Staff see one community: filtering by district or community would offer them nothing.
        if _keeps_everything(request):
            return self.list_filter
        return ["category", "status", "is_demo"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "other_categories":
            # Eighteen ticks read better than a multi-select that needs Ctrl held down.
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class UpcomingFilter(admin.SimpleListFilter):
    """Today and later, or what is over; the date field is named differently per model."""

    title = _("when")
    parameter_name = "when"
    date_field = "date"

    def lookups(self, request, model_admin):
        return [("upcoming", _("from today on")), ("past", _("past"))]

    def queryset(self, request, queryset):
        today = localdate()
        if self.value() == "upcoming":
            return queryset.filter(**{f"{self.date_field}__gte": today})
        if self.value() == "past":
            return queryset.filter(**{f"{self.date_field}__lt": today})
        return queryset


class ExceptionUpcomingFilter(UpcomingFilter):
    def queryset(self, request, queryset):
        # A stretch of days that began yesterday is still coming up until its last day.
        today = localdate()
        if self.value() == "upcoming":
            return queryset.filter(models.Q(end_date__gte=today) | models.Q(start_date__gte=today))
        if self.value() == "past":
            return queryset.exclude(models.Q(end_date__gte=today) | models.Q(start_date__gte=today))
        return queryset


# RelatedOnlyFieldListFilter draws its choices from this admin's scoped queryset, so staff are
# offered the facilities of their own community and never learn the names of others.
_FACILITY_FILTER = ("facility", admin.RelatedOnlyFieldListFilter)


@admin.register(HoursException)
class HoursExceptionAdmin(CommunityScopedAdmin):
    list_display = ["facility", "start_date", "end_date", "closed", "opens", "closes", "note"]
    list_filter = [ExceptionUpcomingFilter, _FACILITY_FILTER, "closed"]
    list_select_related = ["facility"]
    search_fields = ["facility__name", "note"]
    fields = ["facility", "start_date", "end_date", "closed", "opens", "closes", "note"]


@admin.register(Meal)
class MealAdmin(CommunityScopedAdmin):
    list_display = ["date", "kind", "facility", "price", "dishes_in_one_line"]
    list_filter = [UpcomingFilter, _FACILITY_FILTER, "kind"]
    list_select_related = ["facility"]
    search_fields = ["facility__name", "dishes"]
    fields = ["facility", "date", "kind", "dishes", "price"]
    formfield_overrides = _SMALL_TEXTAREA

    @admin.display(description=_("dishes"))
    def dishes_in_one_line(self, obj: Meal) -> str:
        return "、".join(obj.dish_list)


@admin.register(IdleRoom)
class IdleRoomAdmin(SheetAdmin, PointAdmin, CommunityScopedAdmin):
    sheet = room_sheets.KIND
    list_display = ["name", "community", "floor_area", "owner", "available_from"]
    list_filter = ["community__subdistrict__district", "available_from"]
    search_fields = ["name", "owner", "community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]
    formfield_overrides = _SMALL_TEXTAREA
    fields = [
        "name",
        "community",
        "floor_area",
        "owner",
        "available_from",
        "services",
        "notes",
        "address",
        "point_system",
        "latitude",
        "longitude",
        "point_map",
    ]
    readonly_fields = ["point_map"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "services":
            # Ticks, as for a facility's further categories.
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)
