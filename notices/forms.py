"""The account page's choice of messages (notices.views.choices)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notices.models import Channel, Choice, Topic


class ChoiceForm(forms.ModelForm):
    """Topic by topic: by SMS, by email or not at all; in which language; and the email address
    that email goes to. SMS is offered only to someone with a mobile number here (a resident),
    the staff digest only to staff."""

    email = forms.EmailField(
        label=_("Email address for messages"),
        required=False,
        help_text=_("Only needed if you choose email above."),
    )

    class Meta:
        model = Choice
        fields = ["seats", "classes", "wishes", "digest", "language"]
        widgets = dict.fromkeys(["seats", "classes", "wishes", "digest"], forms.RadioSelect)

    def __init__(self, *args, has_phone: bool, is_staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.user.email
        self.topics = [Topic.SEATS, Topic.CLASSES, Topic.WISHES]
        if is_staff:
            self.topics.append(Topic.DIGEST)
        else:
            del self.fields["digest"]
        offered = [(v, label) for v, label in Channel.choices if has_phone or v != Channel.SMS]
        for topic in self.topics:
            self.fields[topic].choices = offered
            if not has_phone and self.initial.get(topic) == Channel.SMS:
                self.initial[topic] = Channel.EMAIL if self.instance.user.email else Channel.OFF

    def clean(self):
        data = super().clean()
        wants_email = any(data.get(topic) == Channel.EMAIL for topic in self.topics)
        if wants_email and not data.get("email"):
            self.add_error("email", _("Give an email address, or choose another way to be told."))
        return data

    def save(self, commit=True):
        choice = super().save(commit=False)
        user = choice.user
        if self.cleaned_data.get("email", "") != user.email:
            user.email = self.cleaned_data.get("email", "")
            user.save(update_fields=["email"])
        choice.save()
        return choice
