"""Phone numbers: what is accepted, how it is stored, and what users are told when it is wrong."""
from __future__ import annotations

import pytest

from gis.phones import (
    LANDLINE,
    MOBILE,
    PhoneError,
    normalize_phone,
    parse_phone,
    phone_problem,
)

GOOD = [
    ("13812345678", "13812345678", MOBILE),
    ("138 1234 5678", "13812345678", MOBILE),
    ("138-1234-5678", "13812345678", MOBILE),
    ("+86 138 1234 5678", "13812345678", MOBILE),
    ("+8613812345678", "13812345678", MOBILE),
    ("0086 13812345678", "13812345678", MOBILE),
    ("8613812345678", "13812345678", MOBILE),
    ("19912345678", "19912345678", MOBILE),
    ("0356-2123456", "0356-2123456", LANDLINE),
    ("03562123456", "0356-2123456", LANDLINE),
    ("(0356) 212 3456", "0356-2123456", LANDLINE),
    ("（0356）2123456", "0356-2123456", LANDLINE),
    ("010-12345678", "010-12345678", LANDLINE),
    ("01087654321", "010-87654321", LANDLINE),
    ("021-6234567", "021-6234567", LANDLINE),
    ("0755-12345678", "0755-12345678", LANDLINE),
    ("+86 356 2123456", "0356-2123456", LANDLINE),
    ("0356-2123456转801", "0356-2123456转801", LANDLINE),
    ("0356-2123456-801", "0356-2123456转801", LANDLINE),
    ("0356 2123456 ext 12", "0356-2123456转12", LANDLINE),
    ("0356-2123456#12", "0356-2123456转12", LANDLINE),
    ("010 8765 4321 分机 3", "010-87654321转3", LANDLINE),
]

BAD = [
    ("", "为空"),
    ("   ", "为空"),
    ("1381234567", "应为11位数字，实际为10位"),
    ("138123456789", "应为11位数字，实际为12位"),
    ("12812345678", "第二位应为3至9"),
    ("23812345678", "不是有效的电话号码"),
    ("0356-123456", "区号"),
    ("0356-21234567890", "区号"),
    ("2123456", "需带区号"),
    ("12369", "不是有效的电话号码"),
    ("+1 202 555 0100", "不是中国大陆号码"),
    ("138abc45678", "无效字符"),
    ("电话13812345678", "无效字符"),
]


@pytest.mark.parametrize("text, stored, kind", GOOD)
def test_good_numbers_are_normalised(text, stored, kind):
    number = parse_phone(text)
    assert (number.normalized, number.kind) == (stored, kind)
    assert normalize_phone(text) == stored and phone_problem(text) is None
    assert normalize_phone(stored) == stored  # the stored form is stable


@pytest.mark.parametrize("text, says", BAD)
def test_bad_numbers_are_explained_in_chinese(text, says):
    with pytest.raises(PhoneError, match=says):
        parse_phone(text)
    assert says in phone_problem(text)


def test_extension_is_kept_apart():
    assert parse_phone("0356-2123456转801").extension == "801"
    assert parse_phone("13812345678").extension == ""


def test_non_text_is_refused():
    with pytest.raises(PhoneError, match="文字"):
        parse_phone(13812345678)
