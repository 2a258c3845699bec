"""HJ 212-2017 frames: CRC against the standard's examples, parsing, building, every error kind."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from gis.hj212.frame import (
    DEFAULT_FLAG, FLAG_A, Frame, FrameError, build_frame, build_reply, crc16, encode_frame, format_cp, make_qn,
    parse_frame, parse_segment,
)

# HJ 212-2017 appendix A (CRC example) and appendix C (a data answer), as published.
STANDARD_FRAME = (b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
                  b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n")
STANDARD_ANSWER = (b"##0087QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
                   b"Flag=4;CP=&&&&C241\r\n")
# A HJ/T 212-2005-style upload (no QN, no Flag) from a public parser's tests, lower-case CRC.
OLD_STYLE_FRAME = (b"##0178ST=32;CN=2011;PW=123456;MN=0873HHMZWSLH02;CP=&&DataTime=20160103133030;"
                   b"060-Rtd=3.0943,060-Flag=N;011-Rtd=18.0412,011-Flag=N;001-Rtd=8.2137,001-Flag=N;"
                   b"B01-Rtd=10.9890,B01-Flag=N&&a9c1\r\n")


def crc16_by_the_book(data: bytes) -> int:
    """DOMAIN.md's description, bit by bit, to check the table-driven version against."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            carry = crc & 1
            crc >>= 1
            if carry:
                crc ^= 0xA001
    return crc


@pytest.mark.parametrize(("frame", "crc"), [(STANDARD_FRAME, 0x1C80), (STANDARD_ANSWER, 0xC241),
                                            (OLD_STYLE_FRAME, 0xA9C1)])
def test_crc_of_published_frames(frame, crc):
    segment = frame[6:-6]
    assert int(frame[2:6]) == len(segment)
    assert crc16(segment) == crc
    assert crc16_by_the_book(segment) == crc


def test_crc_is_not_modbus_and_matches_the_bitwise_definition():
    rng = random.Random(212)
    for size in (0, 1, 2, 7, 100, 1024):
        data = bytes(rng.randrange(256) for _ in range(size))
        assert crc16(data) == crc16_by_the_book(data)
    assert crc16(b"") == 0xFFFF
    assert crc16(b"123456789") != 0x4B37  # the Modbus CRC of the check string


def test_parse_the_standards_example():
    frame = parse_frame(STANDARD_FRAME)
    assert (frame.qn, frame.st, frame.cn, frame.pw, frame.mn, frame.flag) == (
        "20160801085857223", "32", "1062", "100000", "010000A8900016F000169DC0", 5)
    assert frame.cp == {"RtdInterval": "30"}
    assert frame.pollutants == {} and frame.data_time is None
    assert frame.needs_reply and not frame.packetised and frame.version == 1


def test_parse_old_style_frame_without_qn_and_flag():
    frame = parse_frame(OLD_STYLE_FRAME)
    assert frame.qn is None and frame.flag == 0 and not frame.needs_reply and frame.version == 0
    assert frame.data_time == datetime(2016, 1, 3, 13, 30, 30)
    assert list(frame.pollutants) == ["060", "011", "001", "B01"]
    assert frame.pollutants["B01"].rtd == 10.989 and frame.pollutants["B01"].flag == "N"


def test_reply_is_the_standards_data_answer():
    upload = build_frame("32", "2011", "010000A8900016F000169DC0", {"DataTime": "20160801085000", "w01018-Rtd": 1},
                         qn="20160801085000001", flag=5)
    assert build_reply(parse_frame(upload)) == STANDARD_ANSWER
    reply = parse_frame(STANDARD_ANSWER)
    assert (reply.cn, reply.st, reply.cp, reply.needs_reply) == ("9014", "91", {}, False)


def test_reply_keeps_version_and_clears_answer_and_packet_bits():
    packet = parse_frame(build_frame("22", "2011", "M1", {"DataTime": "20240101000000"}, flag=7, pnum=2, pno=1))
    assert packet.packetised and (packet.pnum, packet.pno) == (2, 1)
    reply = parse_frame(build_reply(packet))
    assert reply.flag == 4 and reply.qn == packet.qn
    no_qn = parse_frame(build_frame("22", "2011", "M1", {"DataTime": "20240101000000"}, qn="", flag=1))
    assert b"QN=" not in build_reply(no_qn) and parse_frame(build_reply(no_qn)).flag == 0


@pytest.mark.parametrize(("flag", "reply", "packetised", "version"), [
    (0, False, False, 0), (1, True, False, 0), (4, False, False, 1), (5, True, False, 1),
    (6, False, True, 1), (7, True, True, 1), (9, True, False, 2)])
def test_flag_bits(flag, reply, packetised, version):
    frame = Frame(None, "22", "2011", "", "M", flag, {}, {})
    assert (frame.needs_reply, frame.packetised, frame.version) == (reply, packetised, version)


def test_build_parse_round_trip_all_data_kinds():
    at = datetime(2024, 5, 1, 8, 0, 0)
    fields = {"DataTime": at, "a34004-Avg": 35.2, "a34004-Min": 0.1 + 0.2, "a34004-Max": 1e-7,
              "a34004-Cou": 12, "a34004-Flag": "N", "a21026-Avg": -3.5, "a21026-ZsAvg": 4.25,
              "a21026-Flag": "D", "a21026-SampleTime": "20240501075500", "RtdInterval": 30}
    raw = build_frame("22", "2061", "AIR-0001", fields, qn="20240501080000123", pw="654321", flag=5)
    frame = parse_frame(raw)
    assert (frame.qn, frame.st, frame.cn, frame.pw, frame.mn, frame.flag, frame.data_time) == (
        "20240501080000123", "22", "2061", "654321", "AIR-0001", 5, at)
    pm = frame.pollutants["a34004"]
    assert (pm.avg, pm.min, pm.max, pm.cou, pm.flag, pm.rtd) == (35.2, 0.1 + 0.2, 1e-7, 12.0, "N", None)
    so2 = frame.pollutants["a21026"]
    assert (so2.avg, so2.flag, so2.extra) == (-3.5, "D", {"ZsAvg": 4.25, "SampleTime": "20240501075500"})
    assert frame.cp["RtdInterval"] == "30"
    # One pollutant's fields joined by ",", pollutants by ";".
    assert b"a34004-Flag=N;a21026-Avg=-3.5," in raw
    assert parse_frame(raw.decode("ascii").rstrip("\r\n")) == frame  # text, without CRLF


def test_separators_are_accepted_anywhere():
    all_semicolons = parse_segment("ST=22;CN=2011;MN=M;CP=&&DataTime=20240101000000;a34004-Rtd=1;a34004-Flag=N;"
                                   "a21026-Rtd=2&&")
    all_commas = parse_segment("ST=22;CN=2011;MN=M;CP=&&DataTime=20240101000000,a34004-Rtd=1,a34004-Flag=N,"
                               "a21026-Rtd=2&&")
    assert all_semicolons.pollutants == all_commas.pollutants
    assert all_commas.pollutants["a34004"].flag == "N" and all_commas.pollutants["a21026"].rtd == 2.0


def test_build_frame_defaults():
    frame = parse_frame(build_frame("22", "2011", "M", {"DataTime": "20240101000000"}))
    assert frame.flag == DEFAULT_FLAG and not frame.needs_reply and frame.pw == "123456"
    assert len(frame.qn) == 17 and frame.qn.isdigit()
    assert make_qn(datetime(2024, 1, 2, 3, 4, 5, 678901)) == "20240102030405678"
    assert format_cp({"DataTime": "x", "a-Rtd": 1, "a-Flag": "N", "b-Rtd": 2.5}) == "DataTime=x;a-Rtd=1,a-Flag=N;b-Rtd=2.5"
    with pytest.raises(ValueError, match="4-digit"):
        encode_frame("x" * 10_000)
    with pytest.raises(ValueError, match="nan"):
        build_frame("22", "2011", "M", {"a34004-Rtd": float("nan")})


def test_gbk_text_in_an_info_field_is_decoded():
    segment = "ST=32;CN=3020;MN=M;CP=&&DataTime=20240101000000;i12001-Info=设备正常&&".encode("gbk")
    raw = b"##%04d%s%04X\r\n" % (len(segment), segment, crc16(segment))
    assert parse_frame(raw).pollutants["i12001"].extra["Info"] == "设备正常"


def _framed(segment: str) -> bytes:
    return encode_frame(segment)


GOOD = "QN=20240101000000000;ST=22;CN=2011;PW=123456;MN=M1;Flag=5;CP=&&DataTime=20240101000000;a34004-Rtd=35.2&&"


@pytest.mark.parametrize(("raw", "message"), [
    (b"#!0101" + _framed(GOOD)[6:], r"bad header: a frame starts with '##'"),
    (b"##01a1" + _framed(GOOD)[6:], r"bad header: data length b'01a1' is not 4 decimal digits"),
    (b"##0999" + _framed(GOOD)[6:], r"length mismatch: header declares 999 bytes of data, frame carries 1\d\d"),
    (_framed(GOOD)[:-6] + b"0000\r\n", r"bad CRC: expected [0-9A-F]{4}, got 0000"),
    (_framed(GOOD)[:-6] + b"zz12\r\n", r"bad CRC: b'zz12' is not 4 hex digits"),
    (_framed(GOOD.replace("MN=M1;", "")), r"missing MN"),
    (_framed(GOOD.replace("MN=M1;", "MN=;")), r"missing MN"),
    (_framed(GOOD.replace("MN=M1;", "MN=" + "9" * 33 + ";")), r"MN '9+' is longer than 32"),
    (_framed(GOOD.replace("CN=2011;", "")), r"missing CN"),
    (_framed(GOOD.replace("CN=2011;", "CN=20x1;")), r"bad CN '20x1'"),
    (_framed(GOOD.replace("Flag=5;", "Flag=x;")), r"bad Flag 'x'"),
    (_framed(GOOD.replace("Flag=5;", "Flag=5;PNUM=0;PNO=1;")), r"bad PNUM '0'"),
    (_framed(GOOD.replace("PW=123456;", "PW123456;")), r"bad field 'PW123456'"),
    (_framed(GOOD.split(";CP=")[0]), r"missing CP"),
    (_framed(GOOD[:-2]), r"CP is not closed"),
    (_framed(GOOD.replace("DataTime=20240101000000;", "")), r"missing DataTime in CP of a CN 2011"),
    (_framed(GOOD.replace("DataTime=20240101000000", "DataTime=2024-01-01")), r"bad DataTime '2024-01-01'"),
    (_framed(GOOD.replace("DataTime=20240101000000", "DataTime=20241301000000")), r"bad DataTime '20241301000000'"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004-Rtd=35,2x")), r"non-numeric value for pollutant a34004: "
                                                                    r"a34004-Rtd='35'|bad CP field '2x'"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004-Rtd=abc")), r"non-numeric value for pollutant a34004: "
                                                                  r"a34004-Rtd='abc'"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a21026-Avg=nan")), r"non-numeric value for pollutant a21026"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004-Rtd=")), r"non-numeric value for pollutant a34004"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004-Rtd=1,a34004-Flag=NORMAL")), r"bad data flag for pollutant a34004"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004a34004a34004-Rtd=1")), r"bad pollutant code 'a34004a34004a34004'"),
    (_framed(GOOD.replace("a34004-Rtd=35.2", "a34004-Rtd")), r"bad CP field 'a34004-Rtd'"),
    (b"\xff\xfe" * 3, r"bad header"),
])
def test_every_error_names_the_problem(raw, message):
    with pytest.raises(FrameError, match=message):
        parse_frame(raw)


def test_flag_a_constant_matches_the_standard_examples():
    assert parse_frame(STANDARD_FRAME).flag & FLAG_A
    assert not parse_frame(STANDARD_ANSWER).flag & FLAG_A
