"""A resident's account: the few things a workflow needs (DESIGN.md §3 "Residents").

The sign-in name of a resident's ``User`` is their mobile number; this profile holds it again as
the number the roster shows, with the birth year (for classes' age limits), the compound they live
in (optional) and when they accepted the privacy notice.

The profile itself is kept out of the audit trail: its personal fields must be gone once the
account is deleted, and the trail is append-only. What staff do to an account (registering someone
at the desk, resetting a password, correcting details) goes into ``AccountEvent``, which holds
user ids and nothing else (residents/audit.py).
"""

import secrets

import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import ResidentialCompound

# A mainland mobile number: 11 digits starting 1[3-9].
mobile_validator = RegexValidator(
    r"^1[3-9][0-9]{9}$", _("Enter an 11-digit mainland mobile number, such as 13812341234.")
)


def mask(phone: str) -> str:
    """138****1234: how a number shows everywhere but the roster that needs it."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def shown(user) -> str:
    """How a person shows in the back office: a resident by name and masked number (their
    sign-in name is their full number), anyone else by their sign-in name."""
    resident = getattr(user, "resident", None)
    if resident is not None:
        return str(resident)
    name = user.get_username()
    return mask(name) if name.isdigit() and len(name) == 11 else name


def new_token() -> str:
    return secrets.token_urlsafe(24)


ONE_TIME_PASSWORD_DIGITS = 8


def one_time_password() -> str:
    """A password staff read out to a resident (at the desk, or after a reset): eight digits,
    easy to type on a phone; sign-in throttling keeps guessing out of reach."""
    return "".join(secrets.choice("0123456789") for _ in range(ONE_TIME_PASSWORD_DIGITS))


class Resident(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="resident",
        verbose_name=_("user"),
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    phone = models.CharField(
        _("mobile number"), max_length=11, unique=True, validators=[mobile_validator]
    )
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    compound = models.ForeignKey(
        ResidentialCompound,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("residential compound"),
    )
    privacy_accepted_at = models.DateTimeField(_("privacy notice accepted"), default=timezone.now)
    # The private address of the resident's calendar feed; a new one revokes the old.
    calendar_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9][0-9]{9}$"), name="residents_resident_mobile"
            ),
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900) & Q(birth_year__lte=2100),
                name="residents_resident_birth_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_phone})"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)

    def age_in(self, year: int) -> int:
        """Age reached during ``year`` (a birth year is all that is kept)."""
        return year - self.birth_year


class AccountEvent(
    pghistory.create_event_model(
        get_user_model(),
        pghistory.ManualEvent("registered_at_desk"),
        pghistory.ManualEvent("password_reset_by_staff"),
        pghistory.ManualEvent("details_corrected_by_staff"),
        # The account's id and nothing more: no name, number or birth year may outlive the
        # account in a table that refuses deletes. The staff member is in the context.
        fields=["id"],
        # Unconstrained and DO_NOTHING: deleting the account leaves its events (and their id).
        obj_field=pghistory.ObjForeignKey(related_name="account_events"),
        append_only=True,
        model_name="AccountEventBase",
        app_label="residents",
        meta={"verbose_name": _("account event"), "verbose_name_plural": _("account events")},
    )
):
    """Something staff did to a resident's account (residents/audit.py records and reads these)."""
