"""The public pages: home with search and the place tree, the community list and page."""

import re

import pytest
from django.urls import reverse

from communities.models import Community, ResidentialCompound, Subdistrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_communities(subdistrict, other_district):
    """Enough rows in two districts and several subdistricts that an N+1 query would show."""
    second = Subdistrict.objects.create(district=other_district, code="410311010", name="学府街道")
    communities = Community.objects.bulk_create(
        Community(
            subdistrict=subdistrict if i % 2 else second,
            name=f"测试{i}社区",
            slug=f"ceshi{i}",
            population=1000 + i,
            households=400,
            latitude=34.6,
            longitude=112.45,
        )
        for i in range(30)
    )
    ResidentialCompound.objects.bulk_create(
        ResidentialCompound(
            community=community,
            name=f"测试小区{j}",
            population=200,
            households=80,
            latitude=34.6,
            longitude=112.45,
        )
        for community in communities
        for j in range(5)
    )
    return communities


def test_home_shows_each_district_its_subdistricts_and_communities(client, community_a, compound_b):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "长春市绿园区" in html and "洛阳市洛龙区" in html
    assert "青年路街道" in html and "关林街道" in html
    assert f'href="{community_a.get_absolute_url()}"' in html
    assert 'action="/search/"' in html


def test_home_runs_a_constant_number_of_queries(
    client, many_communities, django_assert_max_num_queries
):
    # The place tree (3), totals (2), the facilities panels (5: categories, counts per
    # category, today's menus, compounds to start "near me" from and their count) and the
    # courses with seats left (1).
    with django_assert_max_num_queries(11):
        response = client.get("/")
    assert response.content.decode().count('class="tree__community"') == 30


def test_community_list_shows_every_community_with_its_compound_count(
    client, many_communities, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = client.get(reverse("communities:list"))
    html = response.content.decode()
    assert all(c.name in html for c in many_communities)
    assert len(re.findall(r'<td class="num" data-label="小区数">5</td>', html)) == 30


def test_community_page_shows_profile_feature_contact_and_compounds(
    client, community_a, compound_a, django_assert_max_num_queries
):
    ResidentialCompound.objects.create(
        community=community_a,
        name="新竹二区",
        population=800,
        households=300,
        latitude=43.88,
        longitude=125.27,
    )
    # The community and its compounds (2), the session-less request's locale (0), and the
    # facilities panels (categories, own facilities, facilities nearby and their further
    # categories).
    with django_assert_max_num_queries(7):
        response = client.get(community_a.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>新竹社区" in html
    assert "特色楼栋" in html and "医养综合体" in html
    assert 'href="tel:0431-85550000"' in html
    assert "新竹一区" in html and "新竹二区" in html
    assert re.search(
        r'<td class="num" data-label="居民">2,?000</td>', html
    )  # the compounds' residents added up


def test_unknown_community_is_404(client, db):
    assert client.get("/communities/no-such-place/").status_code == 404


def test_search_finds_communities_and_compounds_by_name(client, community_a, compound_b):
    html = client.get(reverse("communities:search"), {"q": "新竹"}).content.decode()
    assert community_a.get_absolute_url() in html
    html = client.get(reverse("communities:search"), {"q": "地勘"}).content.decode()
    assert "地勘三院小区" in html and "石油社区" in html


def test_search_finds_communities_by_pinyin(client, community_a):
    html = client.get(reverse("communities:search"), {"q": "xinzhu"}).content.decode()
    assert community_a.get_absolute_url() in html


def test_search_says_when_nothing_matched(client, community_a):
    html = client.get(reverse("communities:search"), {"q": "不存在"}).content.decode()
    assert "没有找到" in html


def test_empty_search_rerenders_with_an_error_summary(client, db):
    response = client.get(reverse("communities:search"), {"q": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_q"' in html
    assert 'aria-invalid="true"' in html


def test_search_query_count_stays_constant(client, many_communities, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(reverse("communities:search"), {"q": "测试"})
    assert response.content.decode().count('class="result-list__item"') == 40  # 20 + 20


def test_htmx_search_returns_only_the_results_fragment(client, community_a):
    response = client.get(
        reverse("communities:search"), {"q": "新竹"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith("<h2>")  # what goes inside the live region, nothing more
    assert "<html" not in html and 'id="results"' not in html
    assert "HX-Request" in response["Vary"]
    assert community_a.get_absolute_url() in html


def test_pages_are_chinese_by_default_whatever_the_browser_asks(client, community_a):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-hans"' in response.content.decode()
    assert "查找" in response.content.decode()


def test_language_switch_gives_english_and_back(client, community_a):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/communities/"})
    assert response.status_code == 302 and response["Location"] == "/communities/"
    assert response.cookies["django_language"]["max-age"] == 365 * 24 * 3600
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html and "Find your community" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans"' in client.get("/").content.decode()


CHINESE_PAGES = ["/", "/communities/", "/search/?q=新竹", "/search/?q=", "/accounts/login/"]


@pytest.mark.parametrize("path", CHINESE_PAGES)
def test_chinese_pages_have_no_untranslated_english(client, community_a, compound_a, path):
    html = client.get(path).content.decode()
    body = html.split("<body>", 1)[1]
    text = re.sub(r"<[^>]+>", " ", body)
    text = text.replace("English", "")  # the language switch names English in English
    assert re.findall(r"[A-Za-z]{4,}", text) == []


def test_elder_mode_is_remembered_in_a_cookie_and_can_be_turned_off(client, community_a):
    response = client.post(reverse("communities:display"), {"elder": "1", "next": "/communities/"})
    assert response.status_code == 302 and response["Location"] == "/communities/"
    assert response.cookies["elder_mode"].value == "1"
    assert response.cookies["elder_mode"]["max-age"] == 365 * 24 * 3600
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans" class="elder">' in html
    assert 'aria-pressed="true"' in html
    client.post(reverse("communities:display"), {"elder": "0", "next": "/"})
    assert 'class="elder"' not in client.get("/").content.decode()


def test_elder_mode_refuses_to_redirect_off_site(client, db):
    response = client.post(
        reverse("communities:display"), {"elder": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_elder_mode_rejects_nonsense(client, db):
    assert client.post(reverse("communities:display"), {"elder": "big"}).status_code == 400


def test_elder_mode_needs_a_post(client, db):
    assert client.get(reverse("communities:display")).status_code == 405


@pytest.mark.parametrize("path", ["/", "/communities/", "/search/?q=新竹"])
def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(client, community_a, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing from another host


def test_every_page_has_one_h1_a_skip_link_and_landmarks(client, community_a):
    for path in ["/", "/communities/", community_a.get_absolute_url(), "/search/"]:
        html = client.get(path).content.decode()
        assert html.count("<h1") == 1, path
        assert 'href="#main"' in html and '<main id="main"' in html
        assert "<header" in html and "<nav" in html and "<footer" in html


def test_a_missing_page_is_a_404_in_the_portals_own_words(client, db):
    response = client.get("/communities/no-such-place/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>找不到这个页面</h1>" in html
    assert 'href="/search/"' in html


def test_home_tree_follows_the_administrative_codes(client, community_a, community_b, subdistrict):
    Subdistrict.objects.create(district=subdistrict.district, code="220106001", name="正阳街道")
    Community.objects.create(
        subdistrict=Subdistrict.objects.get(code="220106001"),
        name="正阳社区",
        latitude=43.9,
        longitude=125.3,
    )
    html = client.get("/").content.decode()
    order = [html.index(name) for name in ["正阳街道", "青年路街道", "关林街道"]]
    assert order == sorted(order)
    assert html.index("长春市绿园区</h3>") < html.index("洛阳市洛龙区</h3>")


def test_a_large_district_is_listed_a_page_at_a_time(client, subdistrict, community_a):
    from communities.views import COMMUNITY_PAGE, HOME_TREE_LIMIT

    Community.objects.bulk_create(
        Community(
            subdistrict=subdistrict,
            name=f"大区社区{n:03d}",
            slug=f"daqu-{n:03d}",
            latitude=43.9,
            longitude=125.3,
        )
        for n in range(HOME_TREE_LIMIT + COMMUNITY_PAGE)
    )
    html = client.get(reverse("communities:list")).content.decode()
    assert "大区社区000" not in html
    assert f'href="?district={subdistrict.district.code}"' in html
    home = client.get("/").content.decode()
    assert f"?subdistrict={subdistrict.code}" in home and "大区社区000" not in home
    first = client.get(reverse("communities:list"), {"district": subdistrict.district.code})
    html = first.content.decode()
    assert "大区社区000" in html and 'rel="next"' in html
    assert html.count('<th scope="row">') == COMMUNITY_PAGE
    last = client.get(
        reverse("communities:list"), {"district": subdistrict.district.code, "page": 2}
    ).content.decode()
    assert "大区社区179" in last and 'rel="prev"' in last
