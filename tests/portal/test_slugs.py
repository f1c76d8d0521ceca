import pytest

from portal.lib.slugs import pinyin_slug, unique_slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("林园社区", "linyuan"),
        ("大学城社区", "daxuecheng"),
        ("地勘三院小区", "dikansanyuan"),
        ("青年路街道", "qingnianlu"),
        ("6·Da七彩城", "6daqicaicheng"),
        ("社区", "shequ"),  # a suffix alone is kept rather than leaving nothing
        ("！！", "place"),
    ],
)
def test_chinese_names_become_readable_non_empty_slugs(name, slug):
    assert pinyin_slug(name) == slug


def test_unique_slug_counts_up_past_taken_ones():
    taken = {"linyuan", "linyuan-2"}
    assert unique_slug("linyuan", taken.__contains__) == "linyuan-3"
    assert unique_slug("leifeng", taken.__contains__) == "leifeng"
