from django import forms
from django.utils.translation import gettext_lazy as _


class SearchForm(forms.Form):
    """The home page's search box; validates the query string of /search/."""

    q = forms.CharField(
        label=_("Search communities and residential compounds"),
        max_length=50,
        strip=True,
        error_messages={
            "required": _("Type part of a name, for example 林园 or 地勘."),
            "max_length": _("Use at most %(limit_value)d characters."),
        },
    )


class DisplayForm(forms.Form):
    """Elder mode on or off; see views.set_display."""

    elder = forms.ChoiceField(choices=[("1", "on"), ("0", "off")])
    next = forms.CharField(required=False)
