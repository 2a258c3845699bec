"""Cutting a TCP byte stream into HJ 212 frames.

TCP delivers bytes, not frames: one read may hold half a frame, three frames, or a device's
boot banner followed by a frame. :class:`FrameSplitter` keeps what it cannot use yet and hands
back whole frames (still unchecked: CRC and content are ``parse_frame``'s job) or a
:class:`~gis.hj212.frame.FrameError` for each stretch it had to throw away.
"""
from __future__ import annotations

from gis.hj212.frame import OVERHEAD, FrameError

HEADER = b"##"
CRLF = b"\r\n"
DEFAULT_MAX_SEGMENT = 4096  # the standard allows 1024; real loggers send more, nobody sends 4 KB


class FrameSplitter:
    """Incremental splitter: ``feed(bytes) -> list[bytes | FrameError]``.

    The declared length finds the end of a frame; the ``\\r\\n`` that must sit there confirms it.
    A CR LF earlier than the declared end (the frame is shorter than it claims) ends the frame
    at once rather than swallowing the start of the next one. After any error the splitter
    resynchronises on the next ``##``.

    Memory is bounded: what stays buffered between calls is at most one incomplete frame of
    ``max_segment + 12`` bytes (a larger declared length is rejected up front) or one ``#``,
    so a device sending endless junk costs nothing.

    Parameters
    ----------
    max_segment
        Largest data segment accepted; a header declaring more is reported and skipped.
    """

    def __init__(self, max_segment: int = DEFAULT_MAX_SEGMENT):
        self.max_segment = max_segment
        self._buffer = bytearray()
        # True while skipping the tail of a frame already reported: no second error for it.
        self._quiet = False

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Add bytes from the stream; return the complete frames and errors, in stream order."""
        buf = self._buffer
        buf += data
        out: list[bytes | FrameError] = []
        pos = 0  # consumed prefix; deleted once at the end instead of memmoving per frame
        while True:
            start = buf.find(HEADER, pos)
            if start < 0:
                # Keep a trailing "#": it may be the first half of the next header.
                end = len(buf) - 1 if buf.endswith(b"#") else len(buf)
                self._junk(out, end - pos)
                pos = max(pos, end)
                break
            while start + 2 < len(buf) and buf[start + 2] == 0x23:  # "###0101": junk ending in "#"
                start += 1
            self._junk(out, start - pos)
            self._quiet = False
            pos = start
            if len(buf) - pos < 6:
                break
            digits = bytes(buf[pos + 2:pos + 6])
            if not digits.isdigit():
                out.append(FrameError(f"bad header: data length {digits!r} is not 4 decimal digits"))
                pos += 1  # resynchronise on the next "##"
                self._quiet = True
                continue
            declared = int(digits)
            if declared > self.max_segment:
                out.append(FrameError(f"bad header: declared data length {declared} exceeds the "
                                      f"{self.max_segment}-byte limit; skipped"))
                pos += 1  # resynchronise on the next "##"
                self._quiet = True
                continue
            total = declared + OVERHEAD
            early = buf.find(CRLF, pos + 6, min(len(buf), pos + total - 1))
            if early >= 0:
                out.append(FrameError(f"length mismatch: header declares {declared} bytes of data, "
                                      f"frame carries {max(early - pos - 10, 0)}"))
                pos = early + 2
                continue
            if len(buf) - pos < total:
                break
            if buf[pos + total - 2:pos + total] != CRLF:
                out.append(FrameError(f"length mismatch: header declares {declared} bytes of data "
                                      "but no CR LF follows them"))
                pos += 1  # resynchronise on the next "##"
                self._quiet = True
                continue
            out.append(bytes(buf[pos:pos + total]))
            pos += total
        del buf[:pos]
        return out

    def _junk(self, out: list, count: int) -> None:
        if count > 0 and not self._quiet:
            out.append(FrameError(f"{count} bytes of junk outside any frame skipped"))
