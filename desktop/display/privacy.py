"""What a public wall may show: phone numbers masked, complainants never."""
from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def mask_phone(text: str) -> str:
    """Every mobile number in ``text`` as ``138****1234``; other text unchanged."""
    return _PHONE.sub(r"\1****\2", text or "")
