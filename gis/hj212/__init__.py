"""HJ 212-2017 (污染物在线监控（监测）系统数据传输标准): frames, stream splitting, TCP receiver.

``frame`` parses and builds single frames (CRC, data answers); ``stream`` cuts a TCP byte
stream into frames; ``receiver`` is the asyncio server and ``writer`` its batched, off-loop
database writer; ``readings`` reads stored readings back grouped per station and time, with
AQI. Nothing here imports Qt.
"""
from __future__ import annotations

from gis.hj212.frame import (
    DATA_CNS, Frame, FrameError, Pollutant, build_frame, build_reply, crc16, parse_frame, parse_segment,
)
from gis.hj212.stream import FrameSplitter

__all__ = ["DATA_CNS", "Frame", "FrameError", "FrameSplitter", "Pollutant", "build_frame", "build_reply",
           "crc16", "parse_frame", "parse_segment"]
