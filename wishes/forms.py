from django import forms
from django.core.cache import cache
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from wishes.models import POST_WINDOW, POSTS_PER_ACCOUNT, Wish

# Wishes from one address per posting window. Higher than the per-account limit: a community
# centre's computer or a family's router is one address for many people.
POSTS_PER_ADDRESS = 20


def _capitalised(choices):
    """Choices as options in a select, starting with a capital (the labels run in sentences)."""
    return [(value, capfirst(label)) for value, label in choices]


class WishFilterForm(forms.Form):
    """The query string of /wishes/: every filter lives in the URL, so a list can be shared and
    gone back to. The community select is drawn by the template from prepared rows."""

    community = forms.SlugField(label=_("Community"), required=False)
    kind = forms.ChoiceField(
        label=_("Wished for"),
        required=False,
        choices=[("", _("Anything")), *_capitalised(Wish.Kind.choices)],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            *[(v, capfirst(label)) for v, label in Wish.Status.choices],
        ],
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("support", _("Most supported first")), ("newest", _("Newest first"))],
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data):
        super().__init__(data)
        for name in ("kind", "status", "sort"):
            self.fields[name].widget.attrs["class"] = "form__select"
            self.fields[name].error_messages["invalid_choice"] = _("Choose one from the list.")

    def clean_community(self) -> str:
        slug = self.cleaned_data["community"]
        if slug and not Community.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("Choose a community from the list."))
        return slug

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "support"


def _address_key(address: str) -> str:
    return f"wish-posts:{address}"


def address_posts(address: str) -> int:
    return cache.get(_address_key(address), 0)


def count_address_post(address: str) -> None:
    """One more wish from ``address``; the count lapses POST_WINDOW after the first."""
    key = _address_key(address)
    window = int(POST_WINDOW.total_seconds())
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


class WishForm(forms.ModelForm):
    """A new wish. Refused, with what to do instead, once the account or the address has posted
    its allowance for the day (the account from its wishes in the database, the address from a
    count in the shared cache)."""

    too_many_for_account = _(
        "You have posted %(limit)d wishes in the last day. Add your support to a wish that is "
        "already there, or post again tomorrow."
    )
    too_many_for_address = _(
        "Too many wishes have been posted from this connection today. Please try again tomorrow, "
        "or ask your community office."
    )

    class Meta:
        model = Wish
        fields = ["community", "kind", "category", "title", "text"]
        widgets = {"kind": forms.RadioSelect, "text": forms.Textarea(attrs={"rows": 6})}
        labels = {
            "community": _("Community"),
            "kind": _("What do you wish for?"),
            "category": _("Which service is it? (if one fits)"),
            "title": _("Your wish in a few words"),
            "text": _("Tell us more"),
        }
        help_texts = {
            "category": _("Leave it as it is if none fits: the office will read your words."),
            "title": _("For example: 书法班, 理发点, 上门助浴."),
            "text": _(
                "Who would use it, how often, and where it would help. At most 500 characters. "
                "Do not write phone numbers or addresses: everyone can read this."
            ),
        }
        error_messages = {
            "community": {
                "required": _("Choose your community."),
                "invalid_choice": _("Choose a community from the list."),
            },
            "kind": {"required": _("Choose what you wish for: a course, a facility or a service.")},
            "category": {"invalid_choice": _("Choose a service from the list.")},
            "title": {
                "required": _("Write your wish in a few words."),
                "max_length": _("Use at most %(limit_value)d characters for the title."),
            },
            "text": {
                "required": _("Tell us a little more about your wish."),
                "max_length": _("Use at most %(limit_value)d characters."),
            },
        }

    def __init__(self, *args, user, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.address = address
        self.fields["community"].queryset = Community.objects.all()
        self.fields["kind"].choices = Wish.Kind.choices  # radios need no empty choice
        self.fields["category"].empty_label = _("None of these / I am not sure")

    def clean(self):
        data = super().clean()
        if Wish.objects.posted_recently_by(self.user).count() >= POSTS_PER_ACCOUNT:
            raise forms.ValidationError(
                self.too_many_for_account,
                code="throttled",
                params={"limit": POSTS_PER_ACCOUNT},
            )
        if address_posts(self.address) >= POSTS_PER_ADDRESS:
            raise forms.ValidationError(self.too_many_for_address, code="throttled")
        return data

    def save(self, commit: bool = True) -> Wish:
        wish = Wish.post(author=self.user, **{f: self.cleaned_data[f] for f in self._meta.fields})
        count_address_post(self.address)
        self.instance = wish
        return wish
