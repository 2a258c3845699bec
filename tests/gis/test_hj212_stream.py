"""Splitting a TCP byte stream into frames: cuts anywhere, several per read, junk, lies about length."""
from __future__ import annotations

import pytest

from gis.hj212.frame import FrameError, build_frame, parse_frame
from gis.hj212.stream import FrameSplitter


def frame(n: int, mn: str = "AIR-1") -> bytes:
    return build_frame("22", "2011", mn, {"DataTime": f"202401010000{n % 60:02d}", "a34004-Rtd": n,
                                          "a34004-Flag": "N", "a21026-Rtd": n / 10},
                       qn=f"2024010100000{n:04d}")


FRAMES = [frame(1), frame(2), frame(3)]
STREAM = b"".join(FRAMES)


def split(*chunks: bytes, splitter: FrameSplitter | None = None) -> tuple[list[bytes], list[FrameError]]:
    splitter = splitter or FrameSplitter()
    items = [item for chunk in chunks for item in splitter.feed(chunk)]
    return [i for i in items if isinstance(i, bytes)], [i for i in items if isinstance(i, FrameError)]


def test_three_frames_in_one_read():
    assert split(STREAM) == (FRAMES, [])


def test_a_cut_at_every_byte_position():
    for cut in range(len(STREAM) + 1):
        assert split(STREAM[:cut], STREAM[cut:]) == (FRAMES, []), cut


def test_two_cuts_around_every_frame_boundary_and_byte_by_byte():
    for first in range(0, len(STREAM), 7):
        for second in range(first, len(STREAM) + 1, 13):
            assert split(STREAM[:first], STREAM[first:second], STREAM[second:])[0] == FRAMES
    splitter = FrameSplitter()
    assert split(*(STREAM[i:i + 1] for i in range(len(STREAM))), splitter=splitter) == (FRAMES, [])
    assert splitter.buffered == 0


def test_junk_between_frames_is_one_error_per_run_and_frames_survive():
    stream = b"AT+BOOT OK\r\n" + FRAMES[0] + b"\x00\xff#garbage#" + FRAMES[1] + b"\r\n\r\n" + FRAMES[2] + b"tail"
    frames, errors = split(stream)
    assert frames == FRAMES
    assert [str(e) for e in errors] == ["12 bytes of junk outside any frame skipped",
                                        "11 bytes of junk outside any frame skipped",
                                        "4 bytes of junk outside any frame skipped",
                                        "4 bytes of junk outside any frame skipped"]
    for cut in range(len(stream) + 1):
        assert split(stream[:cut], stream[cut:])[0] == FRAMES, cut


def test_a_half_header_at_the_end_of_a_read_is_kept():
    splitter = FrameSplitter()
    assert split(b"junk#", splitter=splitter)[0] == []
    assert splitter.buffered == 1
    assert split(FRAMES[0][1:], splitter=splitter)[0] == [FRAMES[0]]


def test_absurd_declared_length_is_skipped_and_the_next_frame_found():
    frames, errors = split(b"##9000" + b"x" * 50 + FRAMES[0], splitter=FrameSplitter(max_segment=4096))
    assert frames == [FRAMES[0]]
    assert len(errors) == 1 and "declared data length 9000 exceeds the 4096-byte limit" in str(errors[0])


def test_bad_length_digits_are_one_error():
    frames, errors = split(b"##12ab;QN=1;CN=2011&&ABCD\r\n" + FRAMES[1])
    assert frames == [FRAMES[1]]
    assert [str(e) for e in errors] == ["bad header: data length b'12ab' is not 4 decimal digits"]


def test_frame_shorter_than_declared_does_not_swallow_the_next():
    short = b"##0300" + FRAMES[0][6:]  # claims 300 bytes, carries fewer, ends in CR LF
    for stream in (short + FRAMES[1], FRAMES[0] + short + FRAMES[1] + FRAMES[2]):
        frames, errors = split(stream)
        assert frames == [f for f in FRAMES if f in stream and f != short]
        assert len(errors) == 1 and "length mismatch: header declares 300 bytes" in str(errors[0])
    # Also when the CR LF arrives in a later read than the header.
    frames, errors = split(short[:40], short[40:], FRAMES[1])
    assert frames == [FRAMES[1]] and len(errors) == 1


def test_frame_longer_than_declared_is_one_error():
    declared = int(FRAMES[0][2:6]) - 20
    long = b"##%04d" % declared + FRAMES[0][6:]
    frames, errors = split(long + FRAMES[1])
    assert frames == [FRAMES[1]]
    assert len(errors) == 1 and "no CR LF follows them" in str(errors[0])


def test_frames_that_pass_the_splitter_may_still_fail_their_crc():
    bad = FRAMES[0][:-6] + b"0000\r\n"
    frames, errors = split(bad + FRAMES[1])
    assert frames == [bad, FRAMES[1]] and errors == []
    with pytest.raises(FrameError, match="bad CRC"):
        parse_frame(frames[0])


def test_buffer_stays_bounded_under_endless_junk():
    splitter = FrameSplitter(max_segment=1024)
    junk = bytes(range(256)).replace(b"#", b"") * 256  # 64 KB without a header
    for _ in range(160):  # 10 MB
        frames, errors = split(junk, splitter=splitter)
        assert frames == [] and len(errors) == 1
        assert splitter.buffered <= 1
    # An honest-looking header that never ends: held back at most one maximal frame.
    split(b"##1024" + b"y" * 5000, splitter=splitter)
    assert splitter.buffered <= 1024 + 12
    for _ in range(10):
        split(junk, splitter=splitter)
        assert splitter.buffered <= 1024 + 12
    assert split(FRAMES[0], splitter=splitter)[0] == [FRAMES[0]]
