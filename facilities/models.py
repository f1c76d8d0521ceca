"""Facilities residents walk to, the categories of the 15-minute living circle, opening hours and
canteen menus."""

import re
from datetime import date

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cos, Power, Radians, Sqrt
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from communities.models import (
    Community,
    PinyinSlugMixin,
    PointMixin,
    _point_constraints,
    phone_validator,
)
from facilities import wording
from portal import audit
from portal.lib import geo

_WORD_SPLIT = re.compile(r"[\s,，、;；]+")


class Category(models.Model):
    """A kind of service of the living circle, with the walk within which residents should find
    one. City-wide data: the city administrator edits it, staff only choose from it."""

    class Group(models.TextChoices):
        BASIC = "basic", _("basic public service")
        COMMERCE = "commerce", _("convenience commerce")
        CULTURE = "culture", _("culture and sports")

    class Level(models.IntegerChoices):
        # GB 50180-2018 life circles, as DESIGN.md §3 lays them out.
        FIVE = 5, _("5-minute circle")
        TEN = 10, _("10-minute circle")
        FIFTEEN = 15, _("15-minute circle")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60)
    group = models.CharField(_("group"), max_length=20, choices=Group)
    level = models.PositiveSmallIntegerField(_("walking circle"), choices=Level)
    distance_m = models.PositiveIntegerField(
        _("walking distance (m)"),
        validators=[MinValueValidator(50), MaxValueValidator(5000)],
        help_text=_("Straight-line metres within which residents should find one."),
    )
    words = models.TextField(
        _("everyday words"),
        blank=True,
        help_text=_("Words residents search with, separated by spaces or commas: 吃饭 午饭 助餐."),
    )
    required = models.BooleanField(_("required by the complete-community standard"), default=False)
    icon = models.SlugField(
        _("icon"),
        max_length=40,
        help_text=_("Name of an SVG in static/facilities/icons/, without “.svg”."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(distance_m__gte=50) & Q(distance_m__lte=5000),
                name="facilities_category_distance_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("facilities:search") + f"?category={self.code}"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def icon_url(self) -> str:
        return static(f"facilities/icons/{self.icon}.svg")

    @property
    def word_list(self) -> list[str]:
        return [w for w in _WORD_SPLIT.split(self.words) if w]


class FacilityQuerySet(models.QuerySet):
    # Bulk writes keep the search words too: every writer, fixtures included, goes through here
    # (but for facilities.sheets' own UPDATE, which writes them itself).
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for facility in objs:
            facility.fill_search()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if set(fields) & set(Facility.SEARCHED):
            for facility in objs:
                facility.fill_search()
            fields = [*fields, "search_tokens"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def visible(self) -> "FacilityQuerySet":
        """What residents see: everything but closed-for-good facilities."""
        return self.exclude(status=Facility.Status.CLOSED)

    def operating(self) -> "FacilityQuerySet":
        """Facilities that serve residents today (open, or only closed for a while)."""
        return self.filter(status__in=[Facility.Status.OPEN, Facility.Status.TEMPORARILY_CLOSED])

    def in_category(self, category: Category | int) -> "FacilityQuerySet":
        """Facilities that count for ``category``, as their primary one or a further one."""
        category_id = getattr(category, "pk", category)
        further = Facility.other_categories.through.objects.filter(category_id=category_id)
        return self.filter(Q(category_id=category_id) | Q(pk__in=further.values("facility_id")))

    def accessible(self) -> "FacilityQuerySet":
        return self.filter(step_free_entrance=True)

    def near(self, point: geo.Point, metres: float) -> "FacilityQuerySet":
        """Facilities within ``metres`` (straight line) of ``point``, nearest first, each with
        ``distance`` in metres.

        The bounding box lets the (latitude, longitude) B-tree index pick the few rows near the
        point; the exact distance is then computed for those rows only.
        """
        south, north, west, east = geo.bounding_box(point, metres)
        lat, lng = point
        # The same formula as geo.distance_m, so pages and the database agree to the metre.
        distance = Sqrt(
            Power((F("latitude") - lat) * geo.METRES_PER_DEGREE, 2)
            + Power(
                (F("longitude") - lng)
                * geo.METRES_PER_DEGREE
                * Cos(Radians((F("latitude") + lat) / 2)),
                2,
            )
        )
        return (
            self.filter(
                latitude__gte=south,
                latitude__lte=north,
                longitude__gte=west,
                longitude__lte=east,
            )
            .annotate(distance=distance)
            .filter(distance__lte=metres)
            .order_by("distance", "pk")
        )

    def search(self, text: str, category_ids_for=lambda word: []) -> "FacilityQuerySet":
        """Facilities that match every word of ``text``. A word matches a facility when its
        name, address or operator holds it (characters, pinyin or pinyin initials:
        facilities.wording, through the index), when its community's name does (林园 in
        林园社区), or when the word names a category it counts for (``category_ids_for(word)``:
        the ids of the categories whose names or everyday words match it: 吃饭 → canteens)."""
        words = wording.words(text)
        ids = [list(category_ids_for(word)) for word in words]
        # For each word, the communities it names and the facilities that count for its
        # categories as a further one, read first, all in one query, and given as lists: with
        # every way of matching a plain column or the text index, the planner ORs the indexes.
        parts = []
        for i, word in enumerate(words):
            tag = models.Value(i, output_field=models.IntegerField())
            parts.append(
                Community.objects.filter(Q(name__icontains=word) | Q(slug__icontains=word.lower()))
                .order_by()
                .values_list(tag, models.Value("c"), "pk")
            )
            if ids[i]:
                further = Facility.other_categories.through.objects.filter(category_id__in=ids[i])
                parts.append(further.order_by().values_list(tag, models.Value("f"), "facility_id"))
        found = [[] for _ in words], [[] for _ in words]
        if parts:
            for i, kind, pk in parts[0].union(*parts[1:], all=True).order_by():
                found[kind == "f"][i].append(pk)
        result = self
        for i, word in enumerate(words):
            q = Q(community_id__in=found[0][i])
            if ids[i]:
                q |= Q(category_id__in=ids[i]) | Q(pk__in=found[1][i])
            if raw := wording.query(word):
                q |= Q(search_vector=SearchQuery(raw, search_type="raw", config="simple"))
            result = result.filter(q)
        return result


@audit.track("Facility", exclude=["updated_at", "search_tokens", "search_vector"])
class Facility(PinyinSlugMixin, PointMixin):
    """A place residents go to: a canteen, a health station, a neighbourhood centre …"""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        UNDER_CONSTRUCTION = "building", _("under construction")
        OPEN = "open", _("open")
        TEMPORARILY_CLOSED = "paused", _("temporarily closed")
        CLOSED = "closed", pgettext_lazy("facility status", "closed")

    class HolidayRule(models.TextChoices):
        USUAL = "usual", _("keeps its weekly hours on public holidays")
        CLOSED = (
            "closed",
            _("closed on public holidays; open on swapped working days (调休) with Monday's hours"),
        )
        SUNDAY = (
            "sunday",
            _("Sunday hours on public holidays; Monday's hours on swapped working days (调休)"),
        )

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="facilities", verbose_name=_("community")
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="primary_facilities",
        verbose_name=_("main category"),
    )
    other_categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="further_facilities",
        verbose_name=_("further categories"),
        help_text=_(
            "Other services offered in the same place (a neighbourhood centre counts for several)."
        ),
    )
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(
        _("URL name"),
        max_length=90,
        unique=True,
        blank=True,
        help_text=_("Made from the name's pinyin when left empty."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=20,
        blank=True,
        validators=[phone_validator],
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    planned_opening = models.DateField(_("planned opening"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    floor_area = models.PositiveIntegerField(_("floor area (m²)"), null=True, blank=True)
    seats = models.PositiveIntegerField(_("seats or places"), null=True, blank=True)
    operator = models.CharField(_("operator"), max_length=100, blank=True)
    step_free_entrance = models.BooleanField(_("step-free entrance"), default=False)
    lift = models.BooleanField(_("lift"), default=False)
    accessible_toilet = models.BooleanField(_("accessible toilet"), default=False)
    seating = models.BooleanField(_("seating while waiting"), default=False)
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    price_notes = models.TextField(
        _("prices"),
        blank=True,
        help_text=_("What things cost, and any senior or low-income prices."),
    )
    description = models.TextField(_("description"), blank=True)
    holiday_rule = models.CharField(
        _("public holidays"),
        max_length=10,
        choices=HolidayRule,
        default=HolidayRule.USUAL,
        help_text=_("How China's statutory holidays and swapped working days change the hours."),
    )
    is_demo = models.BooleanField(
        _("demo data"),
        default=False,
        help_text=_("Invented for demonstration; shown with a notice on its page."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # What the finder searches (facilities.wording): kept by save() and by every bulk writer;
    # the database turns it into the indexed text-search vector.
    search_tokens = models.TextField(editable=False, blank=True, default="")
    search_vector = models.GeneratedField(
        expression=SearchVector("search_tokens", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = FacilityQuerySet.as_manager()
    community_path = "community__"
    # What the search words are made of: saving any of these makes them again.
    SEARCHED = ("name", "address", "operator")

    class Meta:
        ordering = ["name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        indexes = [
            # FacilityQuerySet.near(): the bounding box of a walk around a point.
            models.Index(fields=["latitude", "longitude"], name="facilities_facility_latlng"),
            # The community page: its facilities by category.
            models.Index(fields=["community", "category"], name="facilities_facility_comm_cat"),
            # The home page's grid: operating facilities per category, from the index alone.
            models.Index(fields=["category", "status"], name="facilities_facility_cat_status"),
            # The finder's and the open-data API's keyword search.
            GinIndex(fields=["search_vector"], name="facilities_facility_search"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(slug=""), name="facilities_facility_slug_not_empty"
            ),
            models.UniqueConstraint(
                fields=["community", "name"], name="facilities_facility_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(opened_on__isnull=True) | Q(status__in=["open", "paused", "closed"]),
                name="facilities_facility_opened_only_when_built",
                violation_error_message=_(
                    "A facility that is planned or under construction has no opening date yet; "
                    "use the planned opening."
                ),
            ),
            *_point_constraints("facilities_facility"),
        ]

    def __str__(self) -> str:
        return self.name

    def fill_search(self) -> None:
        """Make the search words again from the name, address and operator (bulk writers call
        this before they write; ``save`` does it itself)."""
        self.search_tokens = wording.tokens(self.name, self.address, self.operator)

    def save(self, *args, **kwargs) -> None:
        self.fill_search()
        fields = kwargs.get("update_fields")
        if fields is not None and set(fields) & set(self.SEARCHED):
            kwargs["update_fields"] = {*fields, "search_tokens"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("facilities:detail", kwargs={"slug": self.slug})

    @property
    def serves_meals(self) -> bool:
        """A canteen, as its main category or a further one."""
        return self.category.code == "canteen" or any(
            c.code == "canteen" for c in self.other_categories.all()
        )

    @property
    def is_built(self) -> bool:
        return self.status not in (self.Status.PLANNED, self.Status.UNDER_CONSTRUCTION)

    @property
    def accessibility(self) -> list[str]:
        """The accessibility features it has, as words for the page."""
        fields = ["step_free_entrance", "lift", "accessible_toilet", "seating", "hearing_loop"]
        return [str(self._meta.get_field(f).verbose_name) for f in fields if getattr(self, f)]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


@audit.track("OpeningHours")
class OpeningHours(models.Model):
    """One opening range on a weekday. Several a day are fine (a canteen's lunch and dinner); a
    range that closes at or before it opens runs past midnight (22:00–02:00)."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="hours", verbose_name=_("facility")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("At or before the opening time: closes after midnight.")
    )

    community_path = "facility__community__"

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        indexes = [
            # Open now (facilities/open_now.py): a facility's ranges on one weekday.
            models.Index(fields=["facility", "weekday"], name="facilities_hours_facility_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6),
                name="facilities_openinghours_weekday_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


@audit.track("HoursException")
class HoursException(models.Model):
    """Dates on which the weekly hours do not apply: closed, or open at other times."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("facility")
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(
        _("until"), null=True, blank=True, help_text=_("Leave empty for a single day.")
    )
    closed = models.BooleanField(_("closed all day"), default=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(
        _("reason"), max_length=100, blank=True, help_text=_("Shown to residents, e.g. 设备检修.")
    )

    community_path = "facility__community__"

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("exception to the hours")
        verbose_name_plural = _("exceptions to the hours")
        indexes = [
            # The facility page and "open now": a facility's exceptions from today on.
            models.Index(fields=["facility", "start_date"], name="facilities_exception_from"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed=True) | (Q(opens__isnull=False) & Q(closes__isnull=False)),
                name="facilities_exception_hours_when_open",
                violation_error_message=_(
                    "Give the opening and closing times, or tick “closed all day”."
                ),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="facilities_exception_dates_in_order",
                violation_error_message=_("The last day cannot come before the first."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}{f'–{self.end_date}' if self.end_date else ''}"

    @property
    def last_date(self) -> date:
        return self.end_date or self.start_date


class MealKind(models.TextChoices):
    BREAKFAST = "breakfast", _("breakfast")
    LUNCH = "lunch", _("lunch")
    DINNER = "dinner", _("dinner")


@audit.track("Meal")
class Meal(models.Model):
    """A canteen's meal on one date: what is served and what it costs."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="meals", verbose_name=_("canteen")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("meal"), max_length=10, choices=MealKind)
    dishes = models.TextField(_("dishes"), help_text=_("One dish a line."))
    price = models.DecimalField(
        _("price (yuan)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("The normal price; senior prices by age are set once for the canteen."),
    )

    community_path = "facility__community__"

    class Meta:
        ordering = ["date", "kind"]
        verbose_name = _("meal")
        verbose_name_plural = _("menu")
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "date", "kind"], name="facilities_meal_one_per_kind_and_day"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="facilities_meal_price_gte_0"),
        ]
        indexes = [
            # Today's menus on the home page and the week's on the facility page.
            models.Index(fields=["date", "facility"], name="facilities_meal_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def dish_list(self) -> list[str]:
        return [line.strip() for line in self.dishes.splitlines() if line.strip()]


@audit.track("SeniorPrice")
class SeniorPrice(models.Model):
    """What a meal costs a resident of an age band, as the canteen sets it (e.g. 70–79: 8 yuan)."""

    facility = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        related_name="senior_prices",
        verbose_name=_("canteen"),
    )
    kind = models.CharField(_("meal"), max_length=10, choices=MealKind)
    min_age = models.PositiveSmallIntegerField(
        _("from age"), validators=[MinValueValidator(50), MaxValueValidator(120)]
    )
    max_age = models.PositiveSmallIntegerField(
        _("to age"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(120)],
        help_text=_("Leave empty for “and over”."),
    )
    price = models.DecimalField(
        _("price (yuan)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )

    community_path = "facility__community__"

    class Meta:
        ordering = ["kind", "min_age"]
        verbose_name = _("senior price")
        verbose_name_plural = _("senior prices")
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "kind", "min_age"], name="facilities_seniorprice_unique_band"
            ),
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=F("min_age")),
                name="facilities_seniorprice_ages_in_order",
                violation_error_message=_("The upper age cannot be below the lower one."),
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="facilities_seniorprice_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.band}"

    @property
    def band(self) -> str:
        return f"{self.min_age}–{self.max_age}" if self.max_age else f"{self.min_age}+"

    def covers(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)


@audit.track("FacilityPhoto")
class FacilityPhoto(models.Model):
    """A photo of a facility, stored as re-encoded JPEG renditions without metadata under a
    generated name (facilities/images.py judges and processes every upload)."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="photos", verbose_name=_("facility")
    )
    key = models.CharField(_("file name"), max_length=40, unique=True, editable=False)
    widths = models.CharField(
        _("stored widths"), max_length=40, editable=False, help_text=_("e.g. 480,960,1600")
    )
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    alt_zh = models.CharField(
        _("description (Chinese)"),
        max_length=200,
        help_text=_("What the photo shows, for people who cannot see it: 食堂用餐区，十张桌子."),
    )
    alt_en = models.CharField(_("description (English)"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    community_path = "facility__community__"

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.alt_zh

    @property
    def alt(self) -> str:
        if (get_language() or "").startswith("en") and self.alt_en:
            return self.alt_en
        return self.alt_zh

    @property
    def width_list(self) -> list[int]:
        return [int(w) for w in self.widths.split(",") if w]

    @staticmethod
    def path(key: str, width: int) -> str:
        return f"photos/{key}-{width}.jpg"

    def url(self, width: int | None = None) -> str:
        return default_storage.url(self.path(self.key, width or self.width_list[-1]))

    @property
    def srcset(self) -> str:
        return ", ".join(f"{self.url(w)} {w}w" for w in self.width_list)

    @property
    def small_url(self) -> str:
        return self.url(self.width_list[0])

    @property
    def small_height(self) -> int:
        return round(self.height * self.width_list[0] / self.width)


@audit.track("IdleRoom")
class IdleRoom(PointMixin):
    """闲置用房: an empty room a community could turn into a facility; the candidate sites the
    coverage engine ranks (reports.coverage.best_sites) by the residents each would serve."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="idle_rooms", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80)
    floor_area = models.PositiveIntegerField(
        _("floor area (m²)"),
        help_text=_("Decides which services fit: a canteen needs at least 150 m²."),
    )
    owner = models.CharField(
        _("owner"), max_length=100, blank=True, help_text=_("Who holds the room, e.g. 物业公司.")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    services = models.ManyToManyField(
        Category,
        blank=True,
        related_name="idle_rooms",
        verbose_name=_("services it could take"),
        help_text=_(
            "Leave empty for any service its floor area allows; else the reports suggest it "
            "only for these."
        ),
    )

    community_path = "community__"

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("idle room")
        verbose_name_plural = _("idle rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="facilities_idleroom_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(floor_area__gt=0), name="facilities_idleroom_floor_area_positive"
            ),
            *_point_constraints("facilities_idleroom"),
        ]

    def __str__(self) -> str:
        return self.name
