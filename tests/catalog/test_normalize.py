"""Title normalisation on Korean and English offer titles (pure module, no database)."""

import pytest

from catalog.normalize import Segmenter, title_normalize


@pytest.fixture(scope="module", autouse=True)
def _brands():
    Segmenter.add_brands(["삼다수"])


def test_korean_noise_units_and_pack_size():
    first = title_normalize("[무료배송] 제주 삼다수 2L 12개입")
    second = title_normalize("삼다수 2L x 12병 당일발송")
    assert first.attributes == second.attributes == {"volume_ml": 2000.0, "count": 12}
    assert "무료배송" in first.noise and "당일발송" in second.noise
    assert "삼다수" in first.tokens and "삼다수" in second.tokens  # the brand stays one word
    assert "무료배송" not in first.text


@pytest.mark.parametrize(
    ("title", "attributes"),
    [
        ("코카콜라 500ml 2+1", {"volume_ml": 500.0, "count": 3}),
        ("햇반 210g 18입", {"weight_g": 210.0, "count": 18}),
        ("쌀 1kg 3팩", {"weight_g": 1000.0, "count": 3}),
        ("생수 2,000ml", {"volume_ml": 2000.0}),
        ("SanDisk Extreme 128GB", {"storage_gb": 128.0}),
    ],
)
def test_units_and_pack_sizes(title, attributes):
    assert title_normalize(title).attributes == attributes


def test_model_numbers_kept_whole():
    mouse = title_normalize("【특가】 로지텍 무선마우스 SK-M1600B 화이트")
    assert mouse.model_numbers == ["SKM1600B"]
    assert mouse.options == {"colour": "white"}
    assert title_normalize("K98M 키보드").model_numbers == ["K98M"]
    tv = title_normalize('Samsung 55" 1080p LCD TV LN55A650 Black')
    assert tv.model_numbers == ["LN55A650"]  # 1080p is a quantity, not a model
    assert tv.options == {"colour": "black"}
    assert tv.tokens[:2] == ["samsung", "55"]


def test_edition_and_platform_options():
    title = title_normalize("Adobe Photoshop Elements 8 Mac Upgrade")
    assert title.options == {"platform": "mac", "edition": "upgrade"}


def test_empty_and_huge_titles_do_not_fail():
    assert title_normalize("").tokens == []
    huge = title_normalize("가" * 10_000)
    assert len(huge.text) <= 500
