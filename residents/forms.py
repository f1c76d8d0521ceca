"""A resident's own forms: registering with a mobile number, and re-entering the password to
delete the account."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import ResidentialCompound
from residents.models import Resident, mobile_validator

FIRST_BIRTH_YEAR = 1900
PHONE_TAKEN = _(
    "This mobile number is registered already. Sign in with it, or ask your community office "
    "for help if you forgot the password."
)


def normalise_phone(value: str) -> str:
    """What people type around a number: spaces, hyphens, a +86 or 0086 country code."""
    digits = "".join(value.split()).replace("-", "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


class RegistrationForm(forms.Form):
    """Name, mobile number (the sign-in name), password twice, birth year, an optional compound
    and the privacy notice. The compound list is drawn by the template from prepared rows (see
    residents.views), so the field here takes the submitted id and looks it up."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=50,
        error_messages={
            "required": _("Enter your name."),
            "max_length": _("Use at most %(limit_value)d characters for your name."),
        },
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        error_messages={
            "required": _("Enter your mobile number."),
            "max_length": _("Enter an 11-digit mainland mobile number, such as 13812341234."),
        },
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        error_messages={"required": _("Enter a password.")},
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        error_messages={"required": _("Enter the same password again.")},
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        error_messages={
            "required": _("Enter the year you were born, such as 1958."),
            "invalid": _("Enter the year you were born as four digits, such as 1958."),
        },
    )
    community = forms.SlugField(label=_("Your community"), required=False)
    compound = forms.IntegerField(
        label=_("Your residential compound (optional)"),
        required=False,
        error_messages={"invalid": _("Choose your compound from the list, or leave it empty.")},
    )
    privacy = forms.BooleanField(
        label=_("I have read the privacy notice and agree to it."),
        error_messages={
            "required": _(
                "Tick the box to accept the privacy notice: we cannot register you without it."
            )
        },
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data["phone"])
        mobile_validator(phone)
        taken = (
            get_user_model().objects.filter(username__iexact=phone).exists()
            or Resident.objects.filter(phone=phone).exists()
        )
        if taken:
            raise forms.ValidationError(PHONE_TAKEN, code="taken")
        return phone

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if not FIRST_BIRTH_YEAR <= year <= this_year:
            raise forms.ValidationError(
                _("Enter the year you were born, between %(first)s and %(last)s."),
                code="range",
                params={"first": FIRST_BIRTH_YEAR, "last": this_year},
            )
        return year

    def clean_compound(self) -> ResidentialCompound | None:
        pk = self.cleaned_data["compound"]
        if pk is None:
            return None
        compound = ResidentialCompound.objects.filter(pk=pk).first()
        if compound is None:
            raise forms.ValidationError(
                _("Choose your compound from the list, or leave it empty."), code="invalid"
            )
        return compound

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error(
                "password2",
                forms.ValidationError(
                    _("The two passwords differ. Enter the same password twice."),
                    code="mismatch",
                ),
            )
        elif password1:
            # The similarity check compares the password with the number and the name.
            user = get_user_model()(username=data.get("phone", ""), first_name=data.get("name", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        error_messages={"required": _("Enter your password to confirm.")},
    )

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("That is not your password. Nothing was deleted; try again."), code="wrong"
            )
        return password
