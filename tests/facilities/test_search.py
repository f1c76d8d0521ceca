"""Keyword search through the index: several words narrow the result, pinyin and its initials
find names, a whole spoken sentence still finds its service, and the open-data API searches the
same way."""

import re

import pytest

from facilities import wording
from facilities.models import Facility
from tests.facilities.conftest import category, place

pytestmark = pytest.mark.django_db

SEARCH = "/facilities/"


def names(response) -> set[str]:
    html = response.content.decode()
    return set(re.findall(r'class="facility-card__name"><a href="[^"]+">([^<]+)</a>', html))


@pytest.fixture
def canteens(compound_a, compound_b):
    """A canteen in each community (新竹社区, 石油社区), a supermarket in 新竹社区."""
    return (
        place(compound_a, community=compound_a.community, category=category("canteen"),
              name="新竹社区长者食堂", address="青年路8号"),
        place(compound_b, community=compound_b.community, category=category("canteen"),
              name="石油社区长者食堂", address="关林路1号"),
        place(compound_a, community=compound_a.community, category=category("supermarket"),
              name="便民超市", operator="ABC物业"),
    )  # fmt: skip


def test_several_words_narrow_the_result(client, canteens):
    assert names(client.get(SEARCH, {"q": "食堂"})) == {"新竹社区长者食堂", "石油社区长者食堂"}
    # The second word is a community's name: that community's canteens only.
    assert names(client.get(SEARCH, {"q": "食堂 新竹"})) == {"新竹社区长者食堂"}
    assert names(client.get(SEARCH, {"q": "石油　食堂"})) == {"石油社区长者食堂"}  # 全角空格
    # Its pinyin does the same, and a word that matches nothing leaves nothing.
    assert names(client.get(SEARCH, {"q": "食堂 shiyou"})) == {"石油社区长者食堂"}
    assert names(client.get(SEARCH, {"q": "食堂 火星"})) == set()


def test_pinyin_initials_find_what_input_methods_teach(client, canteens):
    assert names(client.get(SEARCH, {"q": "st"})) == {"新竹社区长者食堂", "石油社区长者食堂"}
    assert names(client.get(SEARCH, {"q": "bmcs"})) == {"便民超市"}
    assert names(client.get(SEARCH, {"q": "shitang"})) == {"新竹社区长者食堂", "石油社区长者食堂"}
    # The address and the operator are searched too.
    assert names(client.get(SEARCH, {"q": "关林路"})) == {"石油社区长者食堂"}
    assert names(client.get(SEARCH, {"q": "abc"})) == {"便民超市"}


def test_a_whole_spoken_sentence_still_finds_its_service(client, canteens):
    assert names(client.get(SEARCH, {"q": "我想找个吃饭的地方"})) == {
        "新竹社区长者食堂",
        "石油社区长者食堂",
    }


def test_the_search_words_follow_every_way_a_facility_is_written(canteens):
    canteen = canteens[0]
    canteen.name = "竹园食堂"
    canteen.save(update_fields=["name"])
    canteen.refresh_from_db()
    assert "zhuyuanshitang" in canteen.search_tokens.split()
    Facility.objects.bulk_update([canteen], ["address"])  # a bulk writer's way
    # However written, the stored words are the ones made from the fields.
    for facility in Facility.objects.all():
        expected = wording.tokens(facility.name, facility.address, facility.operator)
        assert facility.search_tokens == expected


def test_the_search_uses_the_index(canteens):
    """With the planner kept off sequential scans (as it is at city scale), the words are
    looked up in the GIN index."""
    from django.db import connection

    found = Facility.objects.search("食堂")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = found.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "facilities_facility_search" in plan


def test_the_open_data_api_searches_the_same_way(client, canteens):
    from opendata import hsds
    from tests.opendata.conftest import walk

    found = {item["id"] for item in walk(client, "services", {"search": "食堂 新竹"})}
    assert found == {hsds.facility_service_id(canteens[0].pk)}
    found = {item["id"] for item in walk(client, "services", {"search": "st"})}
    assert found == {hsds.facility_service_id(c.pk) for c in canteens[:2]}


@pytest.fixture
def city_scale(monkeypatch):
    """The finder as it is with a city's thousands of communities: subdistrict first."""
    from facilities import views

    monkeypatch.setattr(views, "COMMUNITY_OPTION_LIMIT", 1)


def options(html: str, select: str) -> list[str]:
    body = re.search(rf'<select[^>]*id="{select}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r"<option[^>]*>([^<]*)</option>", body.group(1)) if body else []


def test_at_city_scale_the_community_is_chosen_subdistrict_first(client, canteens, city_scale):
    html = client.get(SEARCH).content.decode()
    assert options(html, "id_area") == ["全部街道", "青年路街道", "关林街道"]
    assert options(html, "id_community") == ["请先选择街道"]
    html = client.get(SEARCH, {"area": "220106005"}).content.decode()
    assert options(html, "id_community") == ["全部社区", "新竹社区"]
    # An old link names the community alone: its subdistrict is chosen with it.
    response = client.get(SEARCH, {"community": "shiyou"})
    html = response.content.decode()
    assert re.search(r'<option value="410311004" selected>关林街道</option>', html)
    assert names(response) == {"石油社区长者食堂"}


def test_changing_the_subdistrict_lets_the_old_community_go(client, canteens, city_scale):
    """The results come as a fragment, with the community list of the new subdistrict swapped
    into the page's select; the community of the old subdistrict is dropped, not refused."""
    response = client.get(
        SEARCH, {"area": "220106005", "community": "shiyou"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'class="field-error"' not in html
    assert names(response) == {"新竹社区长者食堂", "便民超市"}
    # The whole select (its options swapped alone would lose which one is chosen).
    swapped = re.search(
        r'<select class="form__select" name="community" id="id_community" '
        r'hx-swap-oob="outerHTML">(.*?)</select>',
        html,
        re.S,
    )
    assert swapped is not None and "新竹社区" in swapped.group(1)
    assert "石油社区" not in swapped.group(1)
    assert " selected" not in swapped.group(1)  # the old community let go: "all" is chosen
