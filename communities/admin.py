from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from communities import access, community_sheets, roles, two_factor
from communities import sheets as compound_sheet
from communities.models import (
    Community,
    CompoundGate,
    District,
    Membership,
    ResidentialCompound,
    Subdistrict,
)
from communities.points import PointAdmin, PointForm
from communities.sheet_admin import SheetAdmin
from communities.signin import AdminSignInForm
from portal import audit

admin.site.site_header = _("Complete Community Portal · back office")
admin.site.site_title = _("Complete Community Portal")
admin.site.index_title = _("Keep your community's data correct")
admin.site.login_form = AdminSignInForm

# django-otp's own device pages would show the authenticators' secret keys; a lost phone is
# handled by the "reset two-step sign-in" action on memberships instead.
for _device_model in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    from django.apps import apps

    if admin.site.is_registered(apps.get_model(_device_model)):
        admin.site.unregister(apps.get_model(_device_model))


class CommunityScopedAdmin(admin.ModelAdmin):
    """Staff see and change only their own community's rows, by list, by URL and by the choices
    offered in foreign-key fields. A row outside the scope is a 404, never a redirect that
    confirms it exists."""

    def get_queryset(self, request):
        return access.editable(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("There is no such record in your community."))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "community_path"):
            choices = access.editable(related._default_manager.all(), request.user)
            kwargs["queryset"] = choices
            if related is Community:
                # Staff of one community should not have to pick it every time.
                only = list(choices[:2])
                if len(only) == 1:
                    kwargs["initial"] = only[0].pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def history_view(self, request, object_id, extra_context=None):
        """The audit trail of the row (portal/audit.py) in place of the admin's own log, which
        misses every change not made through an admin form."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": audit.history_of(obj),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "city", "province"]
    search_fields = ["name", "code", "city"]


@admin.register(Subdistrict)
class SubdistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "district"]
    list_filter = ["district"]
    list_select_related = ["district"]
    search_fields = ["name", "code"]


class LabelledRows(BaseInlineFormSet):
    """The rows of a tabular inline with every field named for assistive technology: the admin
    heads the columns with <th>, and no <label> names the fields of a row (axe: label,
    select-name). Each is named by its field's label and its row ("gate 2: latitude"), the
    "delete" box too."""

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        kind = self.model._meta.verbose_name
        if index is None:  # the blank row "Add another" copies
            row = _("new %(kind)s") % {"kind": kind}
        else:
            row = _("%(kind)s %(n)s") % {"kind": kind, "n": index + 1}
        for field in form.fields.values():
            name = _("%(row)s: %(field)s") % {"row": row, "field": field.label}
            field.widget.attrs.setdefault("aria-label", name)


class CompoundInline(admin.TabularInline):
    model = ResidentialCompound
    form = PointForm
    formset = LabelledRows
    fields = ["name", "population", "households", "point_system", "latitude", "longitude"]
    extra = 0


@admin.register(Community)
class CommunityAdmin(SheetAdmin, PointAdmin, CommunityScopedAdmin):
    sheet = community_sheets.KIND
    list_display = [
        "name",
        "subdistrict",
        "district_name",
        "population",
        "households",
        "compound_count",
        "is_demo",
    ]
    list_filter = ["subdistrict__district", "is_demo"]
    list_select_related = ["subdistrict__district"]
    search_fields = ["name", "slug", "feature"]
    inlines = [CompoundInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "subdistrict", "feature", "description"]}),
        (_("Residents"), {"fields": ["population", "households"]}),
        (
            _("Office"),
            {
                "fields": [
                    "office_address",
                    "phone",
                    "point_system",
                    "latitude",
                    "longitude",
                    "point_map",
                ]
            },
        ),
        (_("Demo data"), {"fields": ["is_demo", "demo_note"]}),
    ]
    readonly_fields = ["point_map"]

    def get_queryset(self, request):
        # Meta.ordering does not apply to GROUP BY queries, so it is repeated here.
        return (
            super()
            .get_queryset(request)
            .annotate(_compounds=Count("compounds"))
            .order_by(*Community._meta.ordering)
        )

    def get_readonly_fields(self, request, obj=None):
        # Where a community sits and its URL are the city's to decide, not the community's.
        if access.scope_for(request.user).everything:
            return self.readonly_fields
        return [*self.readonly_fields, "slug", "subdistrict", "is_demo", "demo_note"]

    @admin.display(description=_("district"), ordering="subdistrict__district__code")
    def district_name(self, obj: Community) -> str:
        return obj.subdistrict.district.name

    @admin.display(description=_("compounds"), ordering="_compounds")
    def compound_count(self, obj: Community) -> int:
        return obj._compounds


class GateInline(admin.TabularInline):
    """Where the compound opens to the street: the walks of the coverage reports start here."""

    model = CompoundGate
    form = PointForm
    formset = LabelledRows
    fields = ["name", "point_system", "latitude", "longitude"]
    extra = 0


@admin.register(ResidentialCompound)
class ResidentialCompoundAdmin(SheetAdmin, PointAdmin, CommunityScopedAdmin):
    sheet = compound_sheet.KIND
    list_display = ["name", "community", "population", "households", "is_demo"]
    list_filter = ["community__subdistrict__district", "is_demo"]
    list_select_related = ["community"]
    search_fields = ["name", "community__name"]
    # A plain select: staff are offered their own community only, so there is nothing to search.
    fields = [
        "name",
        "community",
        "population",
        "households",
        "point_system",
        "latitude",
        "longitude",
        "point_map",
        "is_demo",
    ]
    readonly_fields = ["point_map"]
    inlines = [GateInline]

    def get_readonly_fields(self, request, obj=None):
        if access.scope_for(request.user).everything:
            return self.readonly_fields
        return [*self.readonly_fields, "is_demo"]

    def get_list_filter(self, request):
        # Filtering by district means nothing to staff who see one community.
        return self.list_filter if access.scope_for(request.user).everything else ["is_demo"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "community", "subdistrict", "district"]
    list_filter = ["role"]
    list_select_related = ["user", "community", "subdistrict", "district"]
    search_fields = ["user__username", "community__name"]
    autocomplete_fields = ["user", "community", "subdistrict", "district"]
    actions = ["reset_two_step"]

    @admin.action(
        description=_("Reset two-step sign-in of the selected people (lost phone)"),
        permissions=["change"],
    )
    def reset_two_step(self, request, queryset):
        """The people set up a new authenticator at their next sign-in; their recovery codes
        stop working."""
        users = {m.user for m in queryset.select_related("user")}
        for user in users:
            two_factor.turn_off(user)
        self.message_user(
            request,
            _("Two-step sign-in was reset for %(count)d people.") % {"count": len(users)},
        )

    # A membership decides back-office access: keep is_staff and the groups in step with it.
    def save_model(self, request, obj, form, change):
        previous = Membership.objects.filter(pk=obj.pk).values_list("user", flat=True).first()
        super().save_model(request, obj, form, change)
        roles.sync_user(obj.user)
        if previous and previous != obj.user_id:
            roles.sync_user(get_user_model().objects.get(pk=previous))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        roles.sync_user(obj.user)

    def delete_queryset(self, request, queryset):
        users = {m.user for m in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in users:
            roles.sync_user(user)
