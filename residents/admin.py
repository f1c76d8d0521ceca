"""Residents in the back office: staff register someone at the desk (代办), correct a name, a
birth year or a compound, and reset a forgotten password.

Staff see the residents they look after (communities.access.residents): those living in one of
their compounds and those holding a place in one of their classes. The mobile number shows masked
here as everywhere but the roster; a full number typed into the search finds its owner. What staff
do to an account goes into the audit trail by id only (residents/audit.py); the admin's own log,
which would keep the resident's name after the account is deleted, is not written.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from communities import access
from communities.admin import CommunityScopedAdmin
from communities.models import ResidentialCompound
from courses.models import Enrolment
from residents import audit as account_trail
from residents.forms import FIRST_BIRTH_YEAR, normalise_phone
from residents.models import Resident, mobile_validator, one_time_password


def holds_a_role(user) -> bool:
    """Staff, officials and administrators: their passwords are not reset from a resident's
    page, or keeping a community would be enough to take over a wider account."""
    return user.is_staff or user.is_superuser or user.memberships.exists()


class ResidentForm(forms.ModelForm):
    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if not FIRST_BIRTH_YEAR <= year <= this_year:
            raise forms.ValidationError(
                _("Enter a birth year between %(first)s and %(last)s, such as 1958."),
                code="range",
                params={"first": FIRST_BIRTH_YEAR, "last": this_year},
            )
        return year


class ResidentAddForm(ResidentForm):
    """Registering someone at the desk: their number becomes their sign-in name."""

    phone = forms.CharField(
        label=capfirst(gettext_lazy("mobile number")),
        max_length=20,
        # The staff member's browser should not offer numbers typed for other people.
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=gettext_lazy("11 digits, such as 13812341234. It becomes their sign-in name."),
    )

    class Meta:
        model = Resident
        fields = ["phone", "name", "birth_year", "compound"]

    def clean_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data["phone"])
        mobile_validator(phone)
        taken = (
            get_user_model().objects.filter(username__iexact=phone).exists()
            or Resident.objects.filter(phone=phone).exists()
        )
        if taken:
            raise forms.ValidationError(
                _(
                    "This mobile number has an account already. Search the list for the number "
                    "to find the person."
                ),
                code="taken",
            )
        return phone


class ResidentChangeForm(ResidentForm):
    class Meta:
        model = Resident
        fields = ["name", "birth_year", "compound"]


@admin.register(Resident)
class ResidentAdmin(CommunityScopedAdmin):
    list_display = ["name", "mobile", "birth_year", "compound", "created_at"]
    list_select_related = ["compound"]
    search_fields = ["name"]
    search_help_text = gettext_lazy("Search by name, or by the full 11-digit mobile number.")
    change_form_template = "admin/residents/resident/change_form.html"

    # Which residents: not a community_path (CommunityScopedAdmin's rule) but the people one looks
    # after, living in a compound or taking a class.
    def get_queryset(self, request):
        return access.residents(admin.ModelAdmin.get_queryset(self, request), request.user)

    def get_search_results(self, request, queryset, search_term):
        # A whole number finds its owner; parts of numbers find nobody (no guessing by digits).
        number = normalise_phone(search_term)
        if number.isdigit() and len(number) == 11:
            return queryset.filter(phone=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=gettext_lazy("mobile number"))
    def mobile(self, obj: Resident) -> str:
        return obj.masked_phone

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["phone", "name", "birth_year", "compound"]
        return ["name", "mobile", "birth_year", "compound", "created_at", "privacy_accepted_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["mobile", "created_at", "privacy_accepted_at"]
        # Someone from another community's compound, taking one of our classes: where they live
        # is theirs and that community's to say, and our list of compounds would not hold it.
        if obj.compound_id and not self._keeps_compound(request, obj):
            readonly.append("compound")
        return readonly

    def _keeps_compound(self, request, obj: Resident) -> bool:
        if not hasattr(obj, "_compound_kept"):
            compound = ResidentialCompound.objects.filter(pk=obj.compound_id)
            obj._compound_kept = access.editable(compound, request.user).exists()
        return obj._compound_kept

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "compound":
            # Choosing where someone lives, not editing compounds: no pop-up links beside it.
            widget = field.widget
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ResidentChangeForm if obj else ResidentAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None):
        """Staff change (and reset the password of) only the residents living in a compound they
        keep. A place in one of their classes lets them see someone, not take over the account:
        the desk enrols people from anywhere, by mobile number. Someone with no compound belongs
        to the community whose classes hold all their places."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or access.scope_for(request.user).everything:
            return True
        if obj.compound_id:
            return self._keeps_compound(request, obj)
        places = Enrolment.objects.filter(user_id=obj.user_id, status__in=Enrolment.LIVE)
        return (
            places.exists()
            and not places.exclude(
                pk__in=access.editable(places, request.user).values("pk")
            ).exists()
        )

    def has_delete_permission(self, request, obj=None):
        # Deleting an account is the resident's own decision (residents.privacy).
        return False

    def may_reset_password(self, request, obj: Resident) -> bool:
        return self.has_change_permission(request, obj) and not holds_a_role(obj.user)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            if form.changed_data:
                account_trail.record(obj.user, account_trail.DETAILS_CORRECTED)
            return
        password = one_time_password()
        obj.user = get_user_model().objects.create_user(username=obj.phone, password=password)
        super().save_model(request, obj, form, change)
        account_trail.record(obj.user, account_trail.REGISTERED_AT_DESK)
        self.message_user(
            request,
            _(
                "A new account was made. Give %(name)s this password to sign in with "
                "their mobile number (it is shown only now): %(password)s"
            )
            % {"name": obj.name, "password": password},
            messages.WARNING,
        )

    # The admin's own log keeps each object's name as text, in a table nobody prunes; the
    # account's trail (residents/audit.py) records these changes by id instead.
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["account_history"] = account_trail.history(obj, request.user)
            context["may_reset_password"] = self.may_reset_password(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        """The account's trail (the profile itself is not in the audit trail)."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %s") % obj,
            "subtitle": None,
            "original": obj,
            "opts": self.opts,
            "account_history": account_trail.history(obj, request.user, limit=200),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/residents/resident/history.html", context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.reset_password_view),
                name="residents_resident_password",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_http_methods(["GET", "POST"]))
    def reset_password_view(self, request, object_id):
        """A new one-time password for a resident who forgot theirs. Setting it signs them out
        everywhere: each session keeps a hash of the password it signed in with."""
        resident = self.get_object(request, unquote(object_id))  # 404 outside the scope
        if not self.may_reset_password(request, resident):
            raise PermissionDenied
        if request.method == "POST":
            password = one_time_password()
            with transaction.atomic():
                user = get_user_model().objects.select_for_update().get(pk=resident.user_id)
                user.set_password(password)
                user.save(update_fields=["password"])
                account_trail.record(user, account_trail.PASSWORD_RESET)
            self.message_user(
                request,
                _(
                    "The password of %(name)s was reset, and they were signed out everywhere. "
                    "Give them the new password (it is shown only now): %(password)s"
                )
                % {"name": resident.name, "password": password},
                messages.WARNING,
            )
            return redirect(reverse("admin:residents_resident_change", args=[resident.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reset the password of %s") % resident,
            "subtitle": None,
            "opts": self.opts,
            "original": resident,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/residents/resident/reset_password.html", context)
