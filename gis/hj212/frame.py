"""One HJ 212-2017 frame: CRC, parsing into a :class:`Frame`, building frames and data replies.

A frame is ``##`` + 4 decimal digits (byte length of the data segment) + data segment + 4 hex
digits CRC + ``\\r\\n``. The data segment is ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…[;PNUM=…;PNO=…];CP=&&…&&``.

``Flag`` bits follow the standard's table (V5 V4 V3 V2 V1 V0 D A, most significant first):
bit 0 = A (the receiver must answer), bit 1 = D (the frame is one packet of several and carries
PNUM/PNO), bits 2-7 = protocol version (0 = HJ/T 212-2005, 1 = HJ 212-2017). So ``Flag=5`` is
"2017, answer me" and ``Flag=4`` is "2017, no answer".
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

OVERHEAD = 12  # "##" + 4 length digits + 4 CRC digits + CRLF
MAX_SEGMENT = 9999  # four decimal digits
DATA_CNS = {"2011": "real-time", "2051": "minute", "2061": "hourly", "2031": "daily"}
REPLY_CN = "9014"  # 数据应答
FLAG_A = 0b01  # 命令是否应答
FLAG_D = 0b10  # 是否有数据包序号 (PNUM/PNO present)
VERSION_2017 = 1
DEFAULT_FLAG = VERSION_2017 << 2  # 2017, no answer wanted
NUMERIC_FIELDS = {"Rtd": "rtd", "Avg": "avg", "Min": "min", "Max": "max", "Cou": "cou",
                  "ZsRtd": None, "ZsAvg": None, "ZsMin": None, "ZsMax": None}
MAX_MN, MAX_CODE, MAX_FLAG = 32, 16, 4  # the readings table's column widths

# Stricter than float(): float() also takes "nan", "inf" and "1_000", which no device means.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_CP_SPLIT = re.compile(r"[;,]")


class FrameError(ValueError):
    """A frame (or a stretch of the byte stream) is unusable; the message says what is wrong."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC of HJ 212-2017 appendix A over ``data`` (the data segment).

    Not the Modbus CRC: the standard XORs each byte into the register *shifted right by 8*
    (``crc = (crc >> 8) ^ byte``) before the eight shift/XOR-0xA001 rounds. Because the register
    is then below 256, the eight rounds are one table lookup.
    """
    crc = 0xFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


@dataclass(slots=True)
class Pollutant:
    """The values one frame carries for one pollutant code (``a34004-Rtd=35.2,a34004-Flag=N``)."""

    code: str
    rtd: float | None = None
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    cou: float | None = None
    flag: str | None = None
    extra: dict[str, float | str] = field(default_factory=dict)  # ZsRtd, EFlag, SampleTime, Info…


@dataclass(slots=True)
class Frame:
    """A parsed data segment.

    ``cp`` keeps every CP field as sent (text); ``pollutants`` groups the ``<code>-<Field>``
    ones by code in the order sent; ``data_time`` is ``DataTime`` (device local time, naive).
    """

    qn: str | None
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    cp: dict[str, str]
    pollutants: dict[str, Pollutant]
    data_time: datetime | None = None
    pnum: int | None = None
    pno: int | None = None

    @property
    def needs_reply(self) -> bool:
        """Flag bit A: the device waits for an answer (and resends without one)."""
        return bool(self.flag & FLAG_A)

    @property
    def packetised(self) -> bool:
        """Flag bit D: one packet of a split upload, with PNUM (total) and PNO (this one)."""
        return bool(self.flag & FLAG_D)

    @property
    def version(self) -> int:
        """Protocol version bits: 0 = HJ/T 212-2005, 1 = HJ 212-2017."""
        return self.flag >> 2


def parse_frame(raw: bytes | str) -> Frame:
    """Check header, declared length and CRC of one frame, then parse its data segment.

    The trailing ``\\r\\n`` may be missing (frames pasted from logs); everything else is strict.

    Raises
    ------
    FrameError
        Naming the first problem: header, length, CRC, a missing field, DataTime, a value.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    if not raw.startswith(b"##"):
        raise FrameError(f"bad header: a frame starts with '##', got {raw[:8]!r}")
    digits = raw[2:6]
    if len(digits) < 4 or not digits.isdigit():
        raise FrameError(f"bad header: data length {digits!r} is not 4 decimal digits")
    declared = int(digits)
    segment, crc_text = raw[6:-4], raw[-4:]
    if len(raw) < 10 or len(segment) != declared:
        raise FrameError(f"length mismatch: header declares {declared} bytes of data, "
                         f"frame carries {max(len(raw) - 10, 0)}")
    try:
        got = int(crc_text, 16)
    except ValueError:
        raise FrameError(f"bad CRC: {crc_text!r} is not 4 hex digits") from None
    expected = crc16(segment)
    if got != expected:
        raise FrameError(f"bad CRC: expected {expected:04X}, got {crc_text.decode('ascii', 'replace')}")
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError:
        # Some Chinese data loggers send GBK in Info fields; GB18030 is its superset.
        try:
            text = segment.decode("gb18030")
        except UnicodeDecodeError:
            raise FrameError("data segment is neither UTF-8 nor GB18030 text") from None
    return parse_segment(text)


def parse_segment(text: str) -> Frame:
    """Parse a data segment (``QN=…;…;CP=&&…&&``) into a :class:`Frame`.

    Raises
    ------
    FrameError
        Missing CN/MN/CP, bad Flag/PNUM/PNO, bad DataTime, non-numeric pollutant value…
    """
    start = text.find("CP=&&")
    if start < 0:
        raise FrameError("missing CP=&&…&& (command parameters)")
    body = text[start + 5:].rstrip(";")
    if not body.endswith("&&"):
        raise FrameError("CP is not closed with '&&'")
    head: dict[str, str] = {}
    for item in text[:start].split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise FrameError(f"bad field {item!r} in the data segment (expected KEY=value)")
        head[key.strip()] = value.strip()
    cn, mn = head.get("CN", ""), head.get("MN", "")
    if not cn:
        raise FrameError("missing CN (command code)")
    if len(cn) != 4 or not (cn.isascii() and cn.isdigit()):
        raise FrameError(f"bad CN {cn!r}: expected 4 digits")
    if not mn:
        raise FrameError("missing MN (device identifier)")
    if len(mn) > MAX_MN:
        raise FrameError(f"MN {mn[:40]!r} is longer than {MAX_MN} characters")
    flag = _int_field(head, "Flag", 0, 255) or 0  # HJ/T 212-2005 devices may omit it
    cp, pollutants, data_time = parse_cp(body[:-2])
    if cn in DATA_CNS and data_time is None:
        raise FrameError(f"missing DataTime in CP of a CN {cn} ({DATA_CNS[cn]}) data frame")
    return Frame(qn=head.get("QN") or None, st=head.get("ST", ""), cn=cn, pw=head.get("PW", ""), mn=mn,
                 flag=flag, cp=cp, pollutants=pollutants, data_time=data_time,
                 pnum=_int_field(head, "PNUM", 1, 9999), pno=_int_field(head, "PNO", 1, 9999))


def _int_field(head: Mapping[str, str], key: str, low: int, high: int) -> int | None:
    if key not in head:
        return None
    value = head[key]
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise FrameError(f"bad {key} {value!r}: expected an integer {low}-{high}")
    return int(value)


def parse_cp(text: str) -> tuple[dict[str, str], dict[str, Pollutant], datetime | None]:
    """Parse CP content (between the ``&&``): raw fields, pollutant records, DataTime.

    ``;`` separates pollutants and ``,`` the fields of one pollutant, but devices mix them up,
    so either is accepted anywhere.
    """
    cp: dict[str, str] = {}
    pollutants: dict[str, Pollutant] = {}
    data_time = None
    for item in _CP_SPLIT.split(text):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise FrameError(f"bad CP field {item!r}: expected KEY=value")
        cp[key] = value
        if key == "DataTime":
            data_time = parse_data_time(value)
            continue
        code, dash, kind = key.rpartition("-")
        if not dash:
            continue  # a command parameter such as RtdInterval or QnRtn, kept in cp only
        if not code or len(code) > MAX_CODE or not code.replace("_", "").isalnum():
            raise FrameError(f"bad pollutant code {code!r} in {key!r}")
        record = pollutants.get(code)
        if record is None:
            record = pollutants[code] = Pollutant(code)
        if kind in NUMERIC_FIELDS:
            if not _NUMBER.match(value):
                raise FrameError(f"non-numeric value for pollutant {code}: {key}={value!r}")
            attribute = NUMERIC_FIELDS[kind]
            if attribute:
                setattr(record, attribute, float(value))
            else:
                record.extra[kind] = float(value)
        elif kind == "Flag":
            if not value or len(value) > MAX_FLAG:
                raise FrameError(f"bad data flag for pollutant {code}: {value!r}")
            record.flag = value
        else:
            record.extra[kind] = value
    return cp, pollutants, data_time


def parse_data_time(value: str) -> datetime:
    """``yyyyMMddHHmmss`` → naive datetime (HJ 212 times are the device's local time)."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        raise FrameError(f"bad DataTime {value!r}: expected yyyyMMddHHmmss")
    try:  # slicing: a third of strptime's cost, and this runs for every frame
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                        int(value[12:]))
    except ValueError as exc:
        raise FrameError(f"bad DataTime {value!r}: {exc}") from None


def make_qn(now: datetime | None = None) -> str:
    """A request number: the time to the millisecond, ``yyyyMMddHHmmssSSS``."""
    now = now or datetime.now()
    return now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"


def encode_frame(segment: str) -> bytes:
    """Wrap a data segment into a frame: header, length, CRC, CRLF."""
    data = segment.encode("utf-8")
    if len(data) > MAX_SEGMENT:
        raise ValueError(f"data segment of {len(data)} bytes does not fit the 4-digit length field")
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


def build_frame(st: str, cn: str, mn: str, cp_fields: Mapping[str, object] | str, *, qn: str | None = None,
                pw: str = "123456", flag: int = DEFAULT_FLAG, pnum: int | None = None,
                pno: int | None = None) -> bytes:
    """Build a complete frame (for tests and the device simulator).

    Parameters
    ----------
    st, cn, mn
        System code (22 air quality, 32 surface water…), command code, device identifier.
    cp_fields
        ``{"DataTime": datetime, "a34004-Rtd": 35.2, "a34004-Flag": "N", …}`` — fields of one
        pollutant are joined with ``,`` and pollutants with ``;`` — or ready CP text.
    qn
        Request number; ``None`` makes one from the clock, ``""`` leaves QN out.
    flag
        Default 4 (HJ 212-2017, no answer); add 1 (``FLAG_A``) to ask for a reply. Giving
        ``pnum``/``pno`` sets the D bit.
    """
    head = []
    if qn != "":
        head.append(f"QN={qn or make_qn()}")
    if pnum is not None:
        flag |= FLAG_D
    head += [f"ST={st}", f"CN={cn}", f"PW={pw}", f"MN={mn}", f"Flag={flag}"]
    if pnum is not None:
        head += [f"PNUM={pnum}", f"PNO={pno or 1}"]
    cp = cp_fields if isinstance(cp_fields, str) else format_cp(cp_fields)
    return encode_frame(";".join(head) + f";CP=&&{cp}&&")


def format_cp(fields: Mapping[str, object]) -> str:
    """``{"DataTime": …, "a34004-Rtd": 1, "a34004-Flag": "N", "a21026-Rtd": 2}`` → CP text."""
    groups: dict[str, list[str]] = {}
    for key, value in fields.items():
        groups.setdefault(key.rpartition("-")[0] or key, []).append(f"{key}={_format_value(value)}")
    return ";".join(",".join(items) for items in groups.values())


def _format_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send {value!r} in HJ 212")
        return repr(value)  # shortest text that reads back as the same float
    return str(value)


def build_reply(frame: Frame) -> bytes:
    """The data answer (CN 9014 数据应答) to an upload that asked for one.

    As in the standard's appendix C: ST=91 (system interaction), the upload's QN, PW and MN, the
    upload's version bits with A and D cleared, and an empty CP (``CP=&&&&``). QnRtn belongs to
    the request answer (CN 9011) and ExeRtn to the execution result (CN 9012), not to 9014.
    """
    head = [f"QN={frame.qn}"] if frame.qn else []
    head += ["ST=91", f"CN={REPLY_CN}", f"PW={frame.pw}", f"MN={frame.mn}",
             f"Flag={frame.flag & ~(FLAG_A | FLAG_D) & 0xFF}"]
    return encode_frame(";".join(head) + ";CP=&&&&")
