from django import forms
from django.utils.translation import gettext_lazy as _

from courses.models import Course, Weekday


class CourseFilterForm(forms.Form):
    """The query string of /courses/: every filter lives in the URL, so a list can be shared and
    gone back to. The communities to pick from are those with a current term (from the view)."""

    audience = forms.ChoiceField(
        label=_("For"), required=False, choices=[("", _("Everyone")), *Course.Audience.choices]
    )
    subject = forms.ChoiceField(
        label=_("Subject"),
        required=False,
        choices=[("", _("All subjects")), *Course.Subject.choices],
    )
    community = forms.ChoiceField(label=_("Community"), required=False)
    weekday = forms.TypedChoiceField(
        label=_("Day"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any day")), *Weekday.choices],
    )
    seats = forms.BooleanField(label=_("Only classes with seats left"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, communities: list[tuple[str, str]]):
        """``communities``: (slug, name) pairs."""
        super().__init__(data)
        self.fields["community"].choices = [("", _("All communities")), *communities]
        for name in ("audience", "subject", "community", "weekday"):
            self.fields[name].widget.attrs["class"] = "form__select"
            self.fields[name].error_messages["invalid_choice"] = _("Choose one from the list.")
