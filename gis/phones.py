"""Phone numbers of grid staff: mainland mobiles and landlines with area code.

Numbers are printed on public signs (公示牌) and dialled by the 12369 desk, so they are checked
when entered and stored in one form: mobiles as 11 digits (``13812345678``), landlines as
``区号-号码`` with an optional ``转分机`` (``0356-2123456转801``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MOBILE = "mobile"
LANDLINE = "landline"

# Area codes of three digits: Beijing 010 and the 02x cities; every other area code has four.
_THREE_DIGIT_AREA = re.compile(r"^0(10|2\d)")
_SEPARATORS = re.compile(r"[\s\-－—‐().（）]+")
_ALLOWED = re.compile(r"[\d\s\-－—‐+().（）#转分机extEXT.]+")
_EXTENSION_MARK = re.compile(r"^(?P<main>.+?)-*(?:转|分机|ext\.?|#)-*(?P<ext>\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_COUNTRY = re.compile(r"^(\+|00)86")


class PhoneError(ValueError):
    """Not a usable phone number; the message says what is wrong, in Chinese."""


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    normalized: str
    kind: str  # "mobile" or "landline"
    extension: str = ""


def parse_phone(text: str) -> PhoneNumber:
    """Check and normalise a phone number.

    Accepts ``+86``/``0086``/``86`` before a mobile, spaces, dashes and brackets anywhere, and an
    extension after a landline (``转801``, ``分机801``, ``ext 801``, ``#801``, or ``-801`` after a
    complete number). A landline is an area code (``0`` + 2–3 digits) and 7–8 digits; where the
    writer did not separate them, 010 and 02x are taken as three-digit codes, others as four.

    Raises
    ------
    PhoneError
        With a message saying what is wrong.
    """
    if not isinstance(text, str):
        raise PhoneError(f"电话号码应为文字，收到 {type(text).__name__}")
    raw = text.strip().replace("＋", "+")
    if not raw:
        raise PhoneError("电话号码为空")
    if not _ALLOWED.fullmatch(raw):
        raise PhoneError(f"电话号码“{text}”含有无效字符，只能包含数字、空格、短横线和括号")
    international = bool(_COUNTRY.match(raw))
    body = _COUNTRY.sub("", raw).strip()
    if body.startswith("+"):
        raise PhoneError(f"“{text}”不是中国大陆号码（只接受 +86）")
    digits = re.sub(r"\D", "", body)
    if _MOBILE.match(digits):
        return PhoneNumber(digits, MOBILE)
    if not international and digits.startswith("86") and _MOBILE.match(digits[2:]):
        return PhoneNumber(digits[2:], MOBILE)
    if international and not digits.startswith("0"):
        body = "0" + body  # +86 356 2123456: the trunk 0 is dropped when dialling from abroad
    landline = _landline(body)
    if landline is None:
        raise PhoneError(_explain(re.sub(r"\D", "", body), text))
    return landline


def _landline(body: str) -> PhoneNumber | None:
    groups = [g for g in _SEPARATORS.split(body) if g]
    extension = ""
    marked = _EXTENSION_MARK.match("-".join(groups))
    if marked:
        groups, extension = [g for g in _SEPARATORS.split(marked["main"]) if g], marked["ext"]
    elif len(groups) >= 3 and len(groups[-1]) <= 6 and _split(groups[:-1]) is not None:
        extension, groups = groups[-1], groups[:-1]  # 0356-2123456-801
    split = _split(groups)
    if split is None:
        return None
    area, local = split
    return PhoneNumber(f"{area}-{local}" + (f"转{extension}" if extension else ""), LANDLINE, extension)


def _split(groups: list[str]) -> tuple[str, str] | None:
    """Area code and local number: as the writer grouped them, else by the 010/02x rule."""
    digits = "".join(groups)
    if not digits.isdigit() or not digits.startswith("0"):
        return None
    if len(groups) >= 2 and 3 <= len(groups[0]) <= 4:
        lengths = [len(groups[0])]
    else:
        lengths = [3, 4] if _THREE_DIGIT_AREA.match(digits) else [4, 3]
    for area_len in lengths:
        if 7 <= len(digits) - area_len <= 8:
            return digits[:area_len], digits[area_len:]
    return None


def _explain(digits: str, text: str) -> str:
    if digits.startswith("1") and 9 <= len(digits) <= 13:
        if len(digits) != 11:
            return f"手机号码“{text}”应为11位数字，实际为{len(digits)}位"
        return f"手机号码“{text}”的第二位应为3至9"
    if digits.startswith("0"):
        return (f"固定电话“{text}”格式不正确：应为区号（3至4位，以0开头）加7至8位号码，"
                "如 0356-2123456，分机可写作“转801”")
    return f"“{text}”不是有效的电话号码：手机号为以1开头的11位数字，固定电话需带区号（如 0356-2123456）"


def normalize_phone(text: str) -> str:
    """The stored form of a valid number (raises `PhoneError` otherwise)."""
    return parse_phone(text).normalized


def phone_problem(text: str) -> str | None:
    """None for a valid number, else the Chinese explanation (for form validators)."""
    try:
        parse_phone(text)
    except PhoneError as exc:
        return str(exc)
    return None
