from django import forms
from django.utils.translation import gettext_lazy as _

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
    community = forms.ChoiceField(label=_("Community"), required=False)
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
    open_now = forms.BooleanField(label=_("Open now"), required=False)
    accessible = forms.BooleanField(label=_("Step-free entrance"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, categories, communities, compounds):
        """``categories``: (code, name) pairs; ``communities``: (slug, name) pairs;
        ``compounds``: (group name, [(id, name), …]) pairs, as Django's grouped choices."""
        super().__init__(data)
        for name in ("category", "community", "distance"):
            self.fields[name].widget.attrs["class"] = "form__select"
        self.fields["category"].choices = [("", _("All categories")), *categories]
        self.fields["community"].choices = [("", _("All communities")), *communities]
        self.fields["near"].choices = [("", _("Not near anywhere in particular")), *compounds]
        self.fields["near"].error_messages["invalid_choice"] = _(
            "Choose your compound from the list; pick your community first to shorten it."
        )

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise forms.ValidationError(_("A point needs both a latitude and a longitude."))
        return data
