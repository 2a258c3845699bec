"""What a seat types into the case forms, checked and normalised: coordinates and phone numbers.

Plain Python (no Qt) so the rules are tested on their own. Every error message is one
sentence in Chinese that says what is expected, with an example, because it is shown
as it is under the field.
"""
from __future__ import annotations

import re

COORDINATE_HINT = "例如 112.85, 35.50 或 112°51′00″E 35°30′00″N"

# Full-width punctuation and typographic primes, as Chinese input methods produce them.
_NORMALISE = str.maketrans({"，": ",", "；": ";", "、": ",", "：": ":", "（": "(", "）": ")", "－": "-",
                            "′": "'", "’": "'", "‘": "'", "″": '"', "”": '"', "“": '"', "º": "°",
                            "˚": "°", "　": " "})
for _i in range(10):
    _NORMALISE[0xFF10 + _i] = str(_i)  # full-width digits
_NORMALISE[0xFF0E] = "."

_PRE = r"(?P<pre>东经|西经|北纬|南纬|[NSEWnsew])?\s*"
_POST = r"(?:\s*(?P<post>东经|西经|北纬|南纬|[NSEWnsew])(?![\d.]))?"
_DMS = re.compile(_PRE + r"(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*"
                  r"(?:(?P<min>\d+(?:\.\d+)?)\s*(?:'|分)\s*)?"
                  r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|''|秒)\s*)?" + _POST)
_DECIMAL = re.compile(_PRE + r"(?P<deg>[-+]?\d+(?:\.\d+)?)" + _POST)
_SEPARATORS = re.compile(r"[\s,;/|]+")
_HEMISPHERES = {"东经": ("lon", 1), "e": ("lon", 1), "西经": ("lon", -1), "w": ("lon", -1),
                "北纬": ("lat", 1), "n": ("lat", 1), "南纬": ("lat", -1), "s": ("lat", -1)}


def _components(text: str) -> list[tuple[float, str | None, int]]:
    """(value, 'lon'/'lat'/None, sign) for each number group in ``text``."""
    found = []
    pos = _skip(text, 0)
    while pos < len(text):
        match = _DMS.match(text, pos) or _DECIMAL.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"无法识别「{text[pos:pos + 12]}」；请输入经纬度，{COORDINATE_HINT}")
        groups = match.groupdict()
        minutes, seconds = float(groups.get("min") or 0), float(groups.get("sec") or 0)
        if minutes >= 60 or seconds >= 60:
            raise ValueError(f"「{match.group(0).strip()}」中的分、秒应小于 60")
        value = float(match["deg"])
        value = (abs(value) + minutes / 60 + seconds / 3600) * (-1 if value < 0 else 1)
        labels = {_HEMISPHERES[h.lower()] for h in (match["pre"], match["post"]) if h}
        if len(labels) > 1:
            raise ValueError(f"「{match.group(0).strip()}」同时标了两个方向")
        axis, sign = labels.pop() if labels else (None, 1)
        found.append((value, axis, sign))
        pos = _skip(text, match.end())
    return found


def _skip(text: str, pos: int) -> int:
    separator = _SEPARATORS.match(text, pos)
    return separator.end() if separator else pos


def parse_lonlat(text: str) -> tuple[float, float]:
    """Longitude and latitude from what a seat typed or pasted.

    Accepts decimal degrees (``112.85, 35.5``, ``112.85 35.5``, full-width commas) and
    degrees-minutes-seconds (``112°51'0"E 35°30'0"N``, ``东经112度51分 北纬35度30分``).
    With N/S/E/W (or 东经/北纬) the order is free; without, the order is longitude then
    latitude, except that ``35.5, 112.85`` (a latitude first, as phones copy it) is
    recognised because a longitude in China is always above 90.

    Raises
    ------
    ValueError
        With a message for the user that says what is wrong and gives an example.
    """
    cleaned = (text or "").translate(_NORMALISE).strip()
    if not cleaned:
        raise ValueError(f"请输入经纬度，{COORDINATE_HINT}")
    parts = _components(cleaned)
    if len(parts) != 2:
        raise ValueError(f"需要经度和纬度两个数，识别到 {len(parts)} 个；{COORDINATE_HINT}")
    (a, axis_a, sign_a), (b, axis_b, sign_b) = parts
    if axis_a and axis_b:
        if axis_a == axis_b:
            raise ValueError("两个数都标成了" + ("经度" if axis_a == "lon" else "纬度"))
        lon, lat = (a * sign_a, b * sign_b) if axis_a == "lon" else (b * sign_b, a * sign_a)
    elif axis_a or axis_b:
        known, axis, sign, other = (a, axis_a, sign_a, b) if axis_a else (b, axis_b, sign_b, a)
        lon, lat = (known * sign, other) if axis == "lon" else (other, known * sign)
    else:
        lon, lat = (b, a) if abs(a) <= 90 < abs(b) else (a, b)
    if not -180 <= lon <= 180:
        raise ValueError(f"经度 {lon:g} 超出范围（-180 ~ 180）")
    if not -90 <= lat <= 90:
        raise ValueError(f"纬度 {lat:g} 超出范围（-90 ~ 90）")
    return lon, lat


def format_decimal(lon: float, lat: float) -> str:
    return f"{lon:.6f}, {lat:.6f}"


def _dms(value: float, positive: str, negative: str) -> str:
    total = round(abs(value) * 3600, 1)
    degrees, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes):02d}′{seconds:04.1f}″{positive if value >= 0 else negative}"


def format_dms(lon: float, lat: float) -> str:
    """``112°51′00.0″E 35°30′00.0″N`` (0.1″ ≈ 3 m)."""
    return f"{_dms(lon, 'E', 'W')} {_dms(lat, 'N', 'S')}"


# -- phone numbers ------------------------------------------------------------------------
PHONE_EXAMPLE = "手机如 13812345678，座机需带区号，如 0356-2021234"
_PHONE_CHARS = re.compile(r"^[\d\s\-()+]*(?:(?:转|分机|ext\.?|#)\s*\d{1,6})?$", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|#)\s*(\d{1,6})$", re.IGNORECASE)
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _split_phone(text: str) -> tuple[str, str]:
    cleaned = (text or "").translate(_NORMALISE).strip()
    extension = ""
    match = _EXTENSION.search(cleaned)
    if match:
        extension, cleaned = match.group(1), cleaned[:match.start()]
    digits = re.sub(r"[\s\-()]", "", cleaned)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits, extension


def _area_code_length(digits: str) -> int:
    # 010 (Beijing) and 020–029 are three digits; every other area code has four.
    return 3 if digits[:2] in ("01", "02") else 4


def check_phone(text: str) -> str:
    """An error message for a phone number a seat typed, or "" when it is fine (or empty).

    Mainland mobile numbers are ``1[3-9]`` plus 9 digits (an optional +86 is dropped);
    landlines need their area code: 3 digits (010, 02x) + 8, or 4 digits + 7 or 8.
    """
    cleaned = (text or "").translate(_NORMALISE).strip()
    if not cleaned:
        return ""
    if not _PHONE_CHARS.match(cleaned):
        return "电话号码只能包含数字、空格、短横线和括号；" + PHONE_EXAMPLE
    digits, extension = _split_phone(cleaned)
    if not digits.isdigit():
        return "电话号码只能包含数字、空格、短横线和括号；" + PHONE_EXAMPLE
    if digits.startswith("1"):
        if extension:
            return "手机号码不能带分机号"
        if len(digits) != 11:
            return f"手机号码应为 11 位数字（如 13812345678），现在是 {len(digits)} 位"
        if not MOBILE.match(digits):
            return "手机号码第二位应为 3–9（如 13812345678）"
        return ""
    if digits.startswith("0"):
        area = _area_code_length(digits)
        local = digits[area:]
        allowed = (8,) if area == 3 else (7, 8)
        example = f"{digits[:area]}-{'62345678' if area == 3 else '2021234'}"
        if len(local) not in allowed:
            wanted = "8 位" if area == 3 else "7–8 位"
            return f"座机号码应为区号 {digits[:area]} 加 {wanted}号码（如 {example}），现在区号后是 {len(local)} 位"
        if local.startswith(("0", "1")):
            return f"座机号码区号后的号码不以 0 或 1 开头（如 {example}）"
        return ""
    return "座机号码需带区号（如 0356-2021234）；手机号码为 1 开头的 11 位数字"


def normalize_phone(text: str) -> str:
    """The stored form of a valid number: ``13812345678``, ``0356-2021234``, ``010-12345678转123``."""
    if not (text or "").strip():
        return ""
    digits, extension = _split_phone(text)
    if digits.startswith("0"):
        area = _area_code_length(digits)
        digits = f"{digits[:area]}-{digits[area:]}"
    return digits + (f"转{extension}" if extension else "")
