"""The place hierarchy (district → subdistrict → community → residential compound) and who may
act on which part of it."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.lib.coords import System
from portal.lib.slugs import pinyin_slug, unique_slug

# Landline and mobile numbers as people write them: 0431-85550000, 138 0000 0000, +86 …
phone_validator = RegexValidator(
    r"^[0-9+\- ]{5,20}$", _("Enter a phone number of digits, spaces, + or -.")
)


class PointMixin(models.Model):
    """A WGS-84 point, and the coordinate system it was given in (``point_system``): staff copy
    points from map apps that give GCJ-02 or BD-09, which forms and imports convert to WGS-84 on
    the way in (``portal.lib.coords``) and give back in the same system on the way out."""

    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    point_system = models.CharField(
        _("coordinates given in"),
        max_length=5,
        choices=System,
        default=System.WGS84,
        help_text=_("The map app the point came from; it is stored converted to WGS-84."),
    )

    class Meta:
        abstract = True

    @property
    def point(self) -> tuple[float, float]:
        return (self.latitude, self.longitude)


def _point_constraints(prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(latitude__gte=-90) & Q(latitude__lte=90),
            name=f"{prefix}_latitude_range",
        ),
        models.CheckConstraint(
            condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
            name=f"{prefix}_longitude_range",
        ),
    ]


class PinyinSlugMixin(models.Model):
    """A readable URL name (``slug``) made from the ``name``'s pinyin when left empty:
    林园社区 → ``linyuan``, with ``-2``, ``-3`` … where another row has it already."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.fill_slug()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Forms validate constraints (slug not empty) before save(): the slug must exist by then.
        self.fill_slug()

    def fill_slug(self) -> None:
        if not self.slug and self.name:
            others = type(self)._default_manager.exclude(pk=self.pk)
            self.slug = unique_slug(
                pinyin_slug(self.name), lambda s: others.filter(slug=s).exists()
            )


class District(models.Model):
    """区: a county-level division with its 6-digit statistical code (绿园区 220106)."""

    code = models.CharField(
        _("administrative code"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^\d{6}$", _("Enter the 6-digit administrative code."))],
    )
    name = models.CharField(_("name"), max_length=50)
    city = models.CharField(_("city"), max_length=50)
    city_code = models.CharField(_("city code"), max_length=4)
    province = models.CharField(_("province"), max_length=50)
    province_code = models.CharField(_("province code"), max_length=2)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return f"{self.city}{self.name}"


class Subdistrict(models.Model):
    """街道 (or 镇 / development zone) with its 9-digit statistical code."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="subdistricts", verbose_name=_("district")
    )
    code = models.CharField(
        _("administrative code"),
        max_length=9,
        unique=True,
        validators=[RegexValidator(r"^\d{9}$", _("Enter the 9-digit administrative code."))],
    )
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["code"]
        verbose_name = _("subdistrict")
        verbose_name_plural = _("subdistricts")

    def __str__(self) -> str:
        return self.name


class CommunityQuerySet(models.QuerySet):
    def editable_by(self, user) -> "CommunityQuerySet":
        from communities.access import editable

        return editable(self, user)

    def readable_by(self, user) -> "CommunityQuerySet":
        from communities.access import readable

        return readable(self, user)

    def search(self, text: str) -> "CommunityQuerySet":
        return self.filter(
            Q(name__icontains=text) | Q(feature__icontains=text) | Q(slug__icontains=text)
        )


@audit.track("Community")
class Community(PinyinSlugMixin, PointMixin):
    """社区: the unit that staff keep and reports are drawn for."""

    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        related_name="communities",
        verbose_name=_("subdistrict"),
    )
    name = models.CharField(_("name"), max_length=50)
    slug = models.SlugField(
        _("URL name"),
        max_length=70,
        unique=True,
        blank=True,
        help_text=_("Made from the name's pinyin when left empty."),
    )
    population = models.PositiveIntegerField(_("population"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)
    feature = models.CharField(
        _("feature"),
        max_length=100,
        blank=True,
        help_text=_("The community's own emphasis in a few words (一社区一策), e.g. 四多三高."),
    )
    description = models.TextField(_("description"), blank=True)
    office_address = models.CharField(_("office address"), max_length=200, blank=True)
    phone = models.CharField(
        _("office phone"),
        max_length=20,
        blank=True,
        validators=[phone_validator],
    )
    is_demo = models.BooleanField(
        _("demo data"),
        default=False,
        help_text=_("Invented for demonstration; shown with a notice on every page."),
    )
    demo_note = models.CharField(
        _("note on the demo data"),
        max_length=200,
        blank=True,
        help_text=_("What is assumed rather than known, e.g. an assumed subdistrict."),
    )

    objects = CommunityQuerySet.as_manager()
    community_path = ""  # how communities.access reaches Community from this model

    class Meta:
        ordering = ["subdistrict__code", "name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [
            models.UniqueConstraint(
                fields=["subdistrict", "name"], name="communities_community_unique_name"
            ),
            models.CheckConstraint(
                condition=~Q(slug=""), name="communities_community_slug_not_empty"
            ),
            *_point_constraints("communities_community"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communities:detail", kwargs={"slug": self.slug})


class CompoundQuerySet(models.QuerySet):
    def search(self, text: str) -> "CompoundQuerySet":
        return self.filter(name__icontains=text)


@audit.track("ResidentialCompound")
class ResidentialCompound(PointMixin):
    """小区: where residents live; the demand points of every coverage figure."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="compounds", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80)
    address = models.CharField(_("address"), max_length=200, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)
    is_demo = models.BooleanField(_("demo data"), default=False)

    objects = CompoundQuerySet.as_manager()
    community_path = "community__"

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("residential compound")
        verbose_name_plural = _("residential compounds")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="communities_compound_unique_name"
            ),
            *_point_constraints("communities_compound"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return self.community.get_absolute_url() + f"#compound-{self.pk}"


@audit.track("CompoundGate")
class CompoundGate(PointMixin):
    """小区出入口: where a compound opens to the street, so where its residents' walks start.
    A compound without gates is walked from its own point."""

    compound = models.ForeignKey(
        ResidentialCompound,
        on_delete=models.CASCADE,
        related_name="gates",
        verbose_name=_("residential compound"),
    )
    name = models.CharField(
        _("name"), max_length=40, blank=True, help_text=_("For example 北门 or 东侧人行门.")
    )

    community_path = "compound__community__"

    class Meta:
        ordering = ["compound", "name", "id"]
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        constraints = [*_point_constraints("communities_compoundgate")]

    def __str__(self) -> str:
        return f"{self.compound} · {self.name}" if self.name else str(self.compound)


class Membership(models.Model):
    """Who may do what, where. One user may hold several memberships.

    - community staff: keep one community's data (``community`` set);
    - official: read reports for a subdistrict or a district (exactly one of them set);
    - city administrator: everything (no area).
    """

    class Role(models.TextChoices):
        STAFF = "staff", _("community staff")
        OFFICIAL = "official", _("official")
        CITY_ADMIN = "city_admin", _("city administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role)
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("community"),
    )
    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("subdistrict"),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("district"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                name="communities_membership_area_fits_role",
                condition=(
                    Q(
                        role="staff",
                        community__isnull=False,
                        subdistrict__isnull=True,
                        district__isnull=True,
                    )
                    | Q(
                        role="official",
                        community__isnull=True,
                        subdistrict__isnull=False,
                        district__isnull=True,
                    )
                    | Q(
                        role="official",
                        community__isnull=True,
                        subdistrict__isnull=True,
                        district__isnull=False,
                    )
                    | Q(
                        role="city_admin",
                        community__isnull=True,
                        subdistrict__isnull=True,
                        district__isnull=True,
                    )
                ),
                violation_error_message=_(
                    "Staff need a community, officials a subdistrict or a district, and city "
                    "administrators no area."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "community", "subdistrict", "district"],
                nulls_distinct=False,
                name="communities_membership_unique",
            ),
        ]

    def __str__(self) -> str:
        area = self.community or self.subdistrict or self.district or _("all districts")
        return f"{self.user} · {self.get_role_display()} · {area}"


class SignInFailure(models.Model):
    """A failed sign-in, kept for a short while to slow down password guessing
    (communities.signin)."""

    username = models.CharField(_("username"), max_length=150)
    # The client address (portal.lib.http.client_address), "" when unknown.
    address = models.CharField(_("address"), max_length=45, blank=True, default="")
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            # throttled(): recent failures for one username.
            models.Index(Upper("username"), "at", name="communities_signin_user_at"),
            # throttled(): recent failures from one address.
            models.Index(fields=["address", "at"], name="communities_signin_addr_at"),
            # record_failure(): dropping rows older than the window.
            models.Index(fields=["at"], name="communities_signin_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.at:%Y-%m-%d %H:%M}"
