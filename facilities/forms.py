from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

DISTANCES = [300, 500, 1000, 2000]


class FacilitySearchForm(forms.Form):
    """The query string of /facilities/: every filter lives in the URL, so a search can be shared,
    bookmarked and gone back to. Choices are filled in by the view from one query each."""

    q = forms.CharField(
        label=_("What are you looking for?"),
        required=False,
        max_length=50,
        strip=True,
        error_messages={"max_length": _("Use at most %(limit_value)d characters.")},
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    # At city scale the community is chosen in two steps: its subdistrict (街道), then it.
    area = forms.CharField(label=_("Subdistrict"), required=False, max_length=12)
    community = forms.SlugField(label=_("Community"), required=False)
    near = forms.TypedChoiceField(
        label=_("Near my residential compound"), required=False, coerce=int, empty_value=None
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    distance = forms.TypedChoiceField(
        label=_("Within"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("the category's walking distance"))]
        + [(str(m), _("%(metres)s m") % {"metres": m}) for m in DISTANCES],
    )
    open_now = forms.BooleanField(label=pgettext_lazy("filter", "Open now"), required=False)
    accessible = forms.BooleanField(
        label=pgettext_lazy("filter", "Step-free entrance"), required=False
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, categories, community_slugs, compounds):
        """``categories``: (code, name) pairs; ``community_slugs``: the communities one may pick;
        ``compounds``: (group name, [(id, name), …]) pairs, as Django's grouped choices. The two
        long lists are drawn by the template from prepared rows, not by Django's widgets, which
        are slow for thousands of options."""
        super().__init__(data)
        self.community_slugs = community_slugs
        for name in ("category", "distance"):
            self.fields[name].widget.attrs["class"] = "form__select"
        self.fields["category"].choices = [("", _("All categories")), *categories]
        self.fields["near"].choices = [("", _("Not near anywhere in particular")), *compounds]
        self.fields["near"].error_messages["invalid_choice"] = _(
            "Choose your compound from the list; pick your community first to shorten it."
        )

    def clean_community(self) -> str:
        slug = self.cleaned_data["community"]
        if slug and slug not in self.community_slugs:
            raise forms.ValidationError(_("Choose a community from the list."))
        return slug

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise forms.ValidationError(_("A point needs both a latitude and a longitude."))
        return data
