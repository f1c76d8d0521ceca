"""Staff keep only their own community's facilities, hours and menus in the admin, whatever URL,
form, inline row or list filter they use; categories are the city administrator's."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils.timezone import localdate

from communities.models import Membership
from communities.roles import sync_user
from facilities.admin import HoursExceptionInline, OpeningHoursInline
from facilities.models import (
    Category,
    Facility,
    HoursException,
    Meal,
    OpeningHours,
    Weekday,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def url(model, view: str, *args) -> str:
    return reverse(f"admin:facilities_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """The POST a browser would send back from a rendered admin add or change page, untouched:
    the main form, every inline form and the management forms."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue  # an empty field or an unticked box sends nothing
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else value
    return data


@pytest.fixture
def canteen_category(db) -> Category:
    return Category.objects.get(code="canteen")


@pytest.fixture
def facility_a(community_a, canteen_category) -> Facility:
    facility = Facility.objects.create(
        community=community_a,
        category=canteen_category,
        name="新竹长者食堂",
        address="青年路90号",
        latitude=43.8805,
        longitude=125.2705,
    )
    OpeningHours.objects.create(
        facility=facility, weekday=Weekday.MONDAY, opens=time(11), closes=time(13)
    )
    return facility


@pytest.fixture
def facility_b(community_b, canteen_category) -> Facility:
    facility = Facility.objects.create(
        community=community_b,
        category=canteen_category,
        name="石油社区助餐点",
        latitude=34.6005,
        longitude=112.4505,
    )
    OpeningHours.objects.create(
        facility=facility, weekday=Weekday.MONDAY, opens=time(10), closes=time(14)
    )
    return facility


@pytest.fixture
def exception_a(facility_a) -> HoursException:
    return HoursException.objects.create(
        facility=facility_a, start_date=localdate() + timedelta(days=3), note="设备检修"
    )


@pytest.fixture
def exception_b(facility_b) -> HoursException:
    return HoursException.objects.create(
        facility=facility_b, start_date=localdate() + timedelta(days=3), note="消防演练"
    )


@pytest.fixture
def meal_b(facility_b) -> Meal:
    return Meal.objects.create(
        facility=facility_b, date=localdate(), kind="lunch", dishes="红烧肉\n米饭", price=12
    )


class TestFacilityList:
    def test_staff_list_shows_only_their_own_facilities(self, staff_a, facility_a, facility_b):
        response = client_for(staff_a).get(url(Facility, "changelist"))
        assert response.status_code == 200
        assert list(response.context["cl"].queryset) == [facility_a]
        assert "石油社区助餐点" not in response.content.decode()

    def test_city_admin_lists_every_facility(self, city_admin, facility_a, facility_b):
        response = client_for(city_admin).get(url(Facility, "changelist"))
        assert set(response.context["cl"].queryset) == {facility_a, facility_b}

    def test_staff_are_not_offered_community_or_district_filters(self, staff_a, facility_a):
        response = client_for(staff_a).get(url(Facility, "changelist"))
        paths = [spec.field_path for spec in response.context["cl"].filter_specs]
        assert paths == ["category", "status", "is_demo"]

    def test_city_admin_may_filter_by_community(self, city_admin, facility_a, facility_b):
        response = client_for(city_admin).get(
            url(Facility, "changelist"), {"community__id__exact": facility_b.community_id}
        )
        assert list(response.context["cl"].queryset) == [facility_b]

    def test_the_list_costs_the_same_queries_for_many_facilities(
        self, staff_a, community_a, canteen_category, django_assert_max_num_queries
    ):
        for n in range(30):
            Facility.objects.create(
                community=community_a,
                category=canteen_category,
                name=f"食堂{n}",
                latitude=43.88,
                longitude=125.27,
            )
        client = client_for(staff_a)
        with django_assert_max_num_queries(15):
            response = client.get(url(Facility, "changelist"))
        assert response.context["cl"].result_count == 30


class TestFacilityChange:
    def test_staff_change_their_own_facility_with_its_inlines(self, staff_a, facility_a):
        client = client_for(staff_a)
        page = client.get(url(Facility, "change", facility_a.pk))
        assert page.status_code == 200
        data = form_data(page)
        data["seats"] = 40
        data["lift"] = "on"
        data["hours-0-closes"] = "13:30"
        data |= {
            "exceptions-TOTAL_FORMS": 1,
            "exceptions-0-start_date": (localdate() + timedelta(days=1)).isoformat(),
            "exceptions-0-closed": "on",
            "exceptions-0-note": "端午节",
            "senior_prices-TOTAL_FORMS": 1,
            "senior_prices-0-kind": "lunch",
            "senior_prices-0-min_age": 70,
            "senior_prices-0-price": "8.00",
        }
        response = client.post(url(Facility, "change", facility_a.pk), data)
        assert response.status_code == 302
        facility_a.refresh_from_db()
        assert facility_a.seats == 40
        assert facility_a.lift
        assert facility_a.hours.get().closes == time(13, 30)
        assert facility_a.exceptions.get().note == "端午节"
        assert facility_a.senior_prices.get().price == Decimal("8.00")

    def test_an_untouched_change_form_saves_as_it_was(self, staff_a, facility_a):
        # Proves form_data() rebuilds a complete POST, which the tests below depend on.
        client = client_for(staff_a)
        data = form_data(client.get(url(Facility, "change", facility_a.pk)))
        response = client.post(url(Facility, "change", facility_a.pk), data)
        assert response.status_code == 302
        assert facility_a.hours.count() == 1

    def test_staff_cannot_edit_the_slug_or_the_demo_flag(self, staff_a, facility_a):
        client = client_for(staff_a)
        data = form_data(client.get(url(Facility, "change", facility_a.pk)))
        assert "slug" not in data
        data |= {"slug": "hijacked", "is_demo": "on"}
        assert client.post(url(Facility, "change", facility_a.pk), data).status_code == 302
        facility_a.refresh_from_db()
        assert facility_a.slug != "hijacked"
        assert not facility_a.is_demo

    def test_further_categories_are_ticked_as_checkboxes(self, staff_a, facility_a):
        client = client_for(staff_a)
        page = client.get(url(Facility, "change", facility_a.pk))
        assert 'type="checkbox" name="other_categories"' in page.content.decode()
        data = form_data(page)
        pharmacy = Category.objects.get(code="pharmacy")
        data["other_categories"] = [pharmacy.pk]
        assert client.post(url(Facility, "change", facility_a.pk), data).status_code == 302
        assert list(facility_a.other_categories.all()) == [pharmacy]

    @pytest.mark.parametrize("view", ["change", "delete", "history"])
    def test_staff_get_404_for_another_communitys_facility(self, staff_a, facility_b, view):
        response = client_for(staff_a).get(url(Facility, view, facility_b.pk))
        assert response.status_code == 404

    def test_staff_cannot_post_changes_to_another_communitys_facility(
        self, staff_a, staff_b, facility_b
    ):
        # The data is what staff of B would send, so only the scope can refuse it.
        data = form_data(client_for(staff_b).get(url(Facility, "change", facility_b.pk)))
        data["name"] = "改名"
        response = client_for(staff_a).post(url(Facility, "change", facility_b.pk), data)
        assert response.status_code == 404
        facility_b.refresh_from_db()
        assert facility_b.name == "石油社区助餐点"

    def test_staff_cannot_delete_another_communitys_facility(self, staff_a, facility_b):
        response = client_for(staff_a).post(url(Facility, "delete", facility_b.pk), {"post": "yes"})
        assert response.status_code == 404
        assert Facility.objects.filter(pk=facility_b.pk).exists()

    def test_crafted_inline_ids_cannot_touch_another_facilitys_rows(
        self, staff_a, facility_a, facility_b
    ):
        client = client_for(staff_a)
        data = form_data(client.get(url(Facility, "change", facility_a.pk)))
        theirs = facility_b.hours.get()
        # Point A's one hours row at B's row, change it, and ask for it to be deleted too.
        data |= {"hours-0-id": theirs.pk, "hours-0-closes": "23:00", "hours-0-DELETE": "on"}
        data |= {
            "exceptions-TOTAL_FORMS": 1,
            "exceptions-INITIAL_FORMS": 1,
            "exceptions-0-id": HoursException.objects.create(
                facility=facility_b, start_date=localdate(), note="消防演练"
            ).pk,
            "exceptions-0-start_date": localdate().isoformat(),
            "exceptions-0-closed": "on",
            "exceptions-0-note": "被改了",
        }
        response = client.post(url(Facility, "change", facility_a.pk), data)
        # A valid form, so the save runs: the rows outside the formset's queryset are skipped.
        assert response.status_code == 302
        theirs.refresh_from_db()
        assert theirs.facility == facility_b
        assert theirs.closes == time(14)
        assert facility_b.exceptions.get().note == "消防演练"
        assert not facility_a.exceptions.exists()
        assert facility_a.hours.get().closes == time(13)


class TestInlineScope:
    @pytest.mark.parametrize("inline", [OpeningHoursInline, HoursExceptionInline])
    def test_inline_rows_are_cut_to_the_staff_members_community(
        self, staff_a, facility_a, facility_b, exception_a, exception_b, inline
    ):
        # Django's formset narrows the rows to the parent as well; this is the second lock.
        request = RequestFactory().get("/")
        request.user = staff_a
        rows = inline(Facility, admin.site).get_queryset(request)
        assert {row.facility for row in rows} == {facility_a}


class TestFacilityAdd:
    def test_staff_add_a_facility_in_their_community_and_get_a_slug(
        self, staff_a, community_a, canteen_category
    ):
        client = client_for(staff_a)
        page = client.get(url(Facility, "add"))
        assert page.context["adminform"].form.fields["community"].initial == community_a.pk
        assert list(page.context["adminform"].form.fields["community"].queryset) == [community_a]
        data = form_data(page)
        data |= {
            "community": community_a.pk,
            "category": canteen_category.pk,
            "name": "青年路助餐点",
            "latitude": 43.881,
            "longitude": 125.272,
        }
        response = client.post(url(Facility, "add"), data)
        assert response.status_code == 302
        assert Facility.objects.get(name="青年路助餐点").slug == "qingnianluzhucandian"

    def test_city_admin_may_leave_the_slug_empty(self, city_admin, community_b, canteen_category):
        client = client_for(city_admin)
        data = form_data(client.get(url(Facility, "add")))
        data |= {
            "community": community_b.pk,
            "category": canteen_category.pk,
            "name": "石油社区食堂",
            "slug": "",
            "latitude": 34.6,
            "longitude": 112.45,
        }
        response = client.post(url(Facility, "add"), data)
        assert response.status_code == 302
        assert Facility.objects.get(name="石油社区食堂").slug == "shiyoushequshitang"

    def test_staff_cannot_add_a_facility_to_another_community(
        self, staff_a, community_b, canteen_category
    ):
        client = client_for(staff_a)
        data = form_data(client.get(url(Facility, "add")))
        data |= {
            "community": community_b.pk,
            "category": canteen_category.pk,
            "name": "偷偷加的食堂",
            "latitude": 34.6,
            "longitude": 112.45,
        }
        response = client.post(url(Facility, "add"), data)
        assert response.status_code == 200  # the form re-renders with an error
        assert response.context["adminform"].form.errors["community"]
        assert not Facility.objects.filter(name="偷偷加的食堂").exists()


class TestMealsInline:
    def test_it_shows_meals_from_a_week_ago_on_in_date_order(self, staff_a, facility_a):
        today = localdate()
        for days, kind in [(3, "lunch"), (-8, "lunch"), (-7, "dinner"), (0, "breakfast")]:
            Meal.objects.create(
                facility=facility_a,
                date=today + timedelta(days=days),
                kind=kind,
                dishes="米饭",
                price=10,
            )
        page = client_for(staff_a).get(url(Facility, "change", facility_a.pk))
        meals = next(
            f.formset for f in page.context["inline_admin_formsets"] if f.formset.model is Meal
        )
        shown = [(form.instance.date - today).days for form in meals.forms]
        assert shown == [-7, 0, 3]


class TestExceptionsAndMeals:
    def test_staff_list_only_their_own_exceptions(self, staff_a, exception_a, exception_b):
        response = client_for(staff_a).get(url(HoursException, "changelist"))
        assert response.status_code == 200
        assert list(response.context["cl"].queryset) == [exception_a]

    def test_upcoming_filter_keeps_a_stretch_that_has_not_ended(self, staff_a, facility_a):
        today = localdate()
        running = HoursException.objects.create(
            facility=facility_a, start_date=today - timedelta(days=2), end_date=today
        )
        HoursException.objects.create(facility=facility_a, start_date=today - timedelta(days=1))
        response = client_for(staff_a).get(url(HoursException, "changelist"), {"when": "upcoming"})
        assert list(response.context["cl"].queryset) == [running]

    @pytest.mark.parametrize("model", [HoursException, Meal])
    def test_the_facility_choices_are_their_own_facilities(
        self, staff_a, facility_a, facility_b, model
    ):
        response = client_for(staff_a).get(url(model, "add"))
        assert response.status_code == 200
        choices = response.context["adminform"].form.fields["facility"].queryset
        assert list(choices) == [facility_a]
        assert "石油社区助餐点" not in response.content.decode()

    def test_staff_cannot_add_an_exception_to_another_communitys_facility(
        self, staff_a, facility_b
    ):
        response = client_for(staff_a).post(
            url(HoursException, "add"),
            {"facility": facility_b.pk, "start_date": localdate().isoformat(), "closed": "on"},
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["facility"]
        assert not facility_b.exceptions.exists()

    @pytest.mark.parametrize("model", [HoursException, Meal])
    def test_the_facility_filter_names_only_their_own_facilities(
        self, staff_a, exception_a, exception_b, meal_b, model
    ):
        # The filter only shows with two facilities to choose from, so A gets a second one.
        second = Facility.objects.create(
            community=exception_a.facility.community,
            category=exception_a.facility.category,
            name="青年路助餐点",
            latitude=43.88,
            longitude=125.27,
        )
        for facility in (exception_a.facility, second):
            HoursException.objects.create(facility=facility, start_date=localdate())
            Meal.objects.create(
                facility=facility, date=localdate(), kind="lunch", dishes="面条", price=9
            )
        response = client_for(staff_a).get(url(model, "changelist"))
        facility_filter = next(
            spec
            for spec in response.context["cl"].filter_specs
            if getattr(spec, "field_path", "") == "facility"
        )
        names = sorted(name for _pk, name in facility_filter.lookup_choices)
        assert names == sorted(["新竹长者食堂", "青年路助餐点"])
        assert "石油社区助餐点" not in response.content.decode()

    def test_staff_delete_their_own_exception(self, staff_a, exception_a):
        response = client_for(staff_a).post(
            url(HoursException, "delete", exception_a.pk), {"post": "yes"}
        )
        assert response.status_code == 302
        assert not HoursException.objects.filter(pk=exception_a.pk).exists()

    def test_another_communitys_exception_is_404_and_stays(self, staff_a, exception_b):
        client = client_for(staff_a)
        assert client.get(url(HoursException, "change", exception_b.pk)).status_code == 404
        response = client.post(url(HoursException, "delete", exception_b.pk), {"post": "yes"})
        assert response.status_code == 404
        assert HoursException.objects.filter(pk=exception_b.pk).exists()

    def test_the_delete_action_ignores_another_communitys_rows(
        self, staff_a, exception_a, exception_b
    ):
        response = client_for(staff_a).post(
            url(HoursException, "changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [exception_a.pk, exception_b.pk],
                "post": "yes",
            },
        )
        assert response.status_code == 302
        assert list(HoursException.objects.all()) == [exception_b]

    def test_another_communitys_meal_is_404(self, staff_a, meal_b):
        response = client_for(staff_a).get(url(Meal, "change", meal_b.pk))
        assert response.status_code == 404


class TestCategories:
    def test_staff_may_read_the_categories(self, staff_a):
        response = client_for(staff_a).get(url(Category, "changelist"))
        assert response.status_code == 200
        assert response.context["cl"].result_count == 18
        assert not response.context["cl"].formset  # no editable distances for staff

    def test_staff_cannot_add_change_or_delete_a_category(self, staff_a, canteen_category):
        client = client_for(staff_a)
        assert client.get(url(Category, "add")).status_code == 403
        response = client.post(url(Category, "add"), {"code": "x", "name_zh": "新", "level": 5})
        assert response.status_code == 403
        response = client.post(
            url(Category, "change", canteen_category.pk),
            {
                "code": "canteen",
                "name_zh": "改名",
                "name_en": "x",
                "group": "basic",
                "level": 5,
                "distance_m": 100,
                "icon": "canteen",
                "sort_order": 0,
            },
        )
        assert response.status_code == 403
        assert (
            client.post(url(Category, "delete", canteen_category.pk), {"post": "yes"}).status_code
            == 403
        )
        canteen_category.refresh_from_db()
        assert canteen_category.name_zh != "改名"
        assert Category.objects.filter(code="canteen").exists()
        assert not Category.objects.filter(code="x").exists()

    def test_a_stray_permission_does_not_let_staff_edit_categories(self, staff_a, canteen_category):
        # The city's data stays the city's even if someone hands staff the permission by hand.
        from django.contrib.auth.models import Permission

        staff_a.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["add_category", "change_category", "delete_category"]
            )
        )
        client = client_for(staff_a)
        assert client.get(url(Category, "add")).status_code == 403
        assert (
            client.post(url(Category, "delete", canteen_category.pk), {"post": "yes"}).status_code
            == 403
        )
        assert Category.objects.filter(pk=canteen_category.pk).exists()

    def test_staff_cannot_bulk_edit_distances(self, staff_a, canteen_category):
        before = canteen_category.distance_m
        response = client_for(staff_a).post(
            url(Category, "changelist"),
            {
                "form-TOTAL_FORMS": 1,
                "form-INITIAL_FORMS": 1,
                "form-0-id": canteen_category.pk,
                "form-0-distance_m": 60,
                "_save": "Save",
            },
        )
        assert response.status_code == 403
        canteen_category.refresh_from_db()
        assert canteen_category.distance_m == before

    def test_staff_offered_no_add_link_for_categories_on_the_facility_form(self, staff_a):
        response = client_for(staff_a).get(url(Facility, "add"))
        assert reverse("admin:facilities_category_add") not in response.content.decode()

    def test_city_admin_changes_a_category(self, city_admin, canteen_category):
        client = client_for(city_admin)
        data = form_data(client.get(url(Category, "change", canteen_category.pk)))
        data["distance_m"] = 400
        assert client.post(url(Category, "change", canteen_category.pk), data).status_code == 302
        canteen_category.refresh_from_db()
        assert canteen_category.distance_m == 400

    def test_a_city_administrator_without_superuser_rights_may_edit_too(
        self, resident, canteen_category
    ):
        Membership.objects.create(user=resident, role=Membership.Role.CITY_ADMIN)
        sync_user(resident)
        client = client_for(resident)
        data = form_data(client.get(url(Category, "change", canteen_category.pk)))
        data["distance_m"] = 450
        assert client.post(url(Category, "change", canteen_category.pk), data).status_code == 302
        canteen_category.refresh_from_db()
        assert canteen_category.distance_m == 450


class TestWhoReachesTheFacilityAdmin:
    def test_official_and_resident_are_sent_to_sign_in(self, official, resident, facility_a):
        for user in (official, resident):
            response = client_for(user).get(url(Facility, "change", facility_a.pk))
            assert response.status_code == 302
            assert reverse("admin:login") in response["Location"]

    def test_anonymous_visitor_is_sent_to_sign_in(self, client, facility_a):
        response = client.get(url(Facility, "changelist"))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]

    def test_staff_hold_the_facility_permissions(self, staff_a):
        assert staff_a.has_perm("facilities.change_meal")
        assert staff_a.has_perm("facilities.view_category")
        assert not staff_a.has_perm("facilities.change_category")
