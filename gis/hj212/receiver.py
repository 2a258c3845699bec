"""The HJ 212 TCP receiver: many devices at once, readings batched into the workspace.

Each connection has its own task and :class:`~gis.hj212.stream.FrameSplitter`; a bad frame
is logged and counted and the connection carries on, other connections never notice. Parsed
readings go to a :class:`~gis.hj212.writer.ReadingWriter`, which writes them in batches on its
own thread, so the event loop never blocks on the database.

A frame that asks for an answer (Flag bit A) is answered only once its rows are committed: a
reply means "stored". If the write fails the device gets no reply and, as the standard
requires of it, sends the data again.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import asdict, dataclass
from datetime import datetime

from gis.hj212.frame import DATA_CNS, Frame, FrameError, build_reply, parse_frame
from gis.hj212.stream import DEFAULT_MAX_SEGMENT, FrameSplitter
from gis.hj212.writer import ReadingWriter
from gis.storage.store import Store

log = logging.getLogger(__name__)
LOGGED_ERRORS_PER_CONNECTION = 3  # then one summary at close: a junk sender must not flood the log
MAX_UNREAD_REPLIES = 1 << 20  # a peer that never reads its replies is cut off past 1 MB


@dataclass
class ReceiverStats:
    """Counters since start; only the event loop writes them."""

    connections: int = 0  # open now
    connections_total: int = 0
    frames_ok: int = 0  # header, length and CRC good, content parsed
    frames_bad: int = 0  # rejected by the splitter or the parser (including junk runs)
    frames_other: int = 0  # good frames whose CN is not stored (heartbeats, 2081 restart time…)
    readings_stored: int = 0
    readings_failed: int = 0  # rows of batches the database refused (no reply: the device resends)
    replies_sent: int = 0
    unknown_mns: int = 0  # devices whose MN is in no stations row; their rows have station_id NULL

    def snapshot(self) -> dict[str, int]:
        return asdict(self)

    def line(self) -> str:
        return ("connections {connections} (total {connections_total}), frames ok {frames_ok} "
                "bad {frames_bad} other {frames_other}, readings stored {readings_stored} "
                "failed {readings_failed}, replies {replies_sent}, unknown MNs {unknown_mns}"
                ).format(**self.snapshot())


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    label: str
    errors: int = 0


def reading_rows(frame: Frame, received_at: datetime) -> list[dict]:
    """One ``readings`` row per pollutant code (station_id is filled in by the writer)."""
    return [{"station_id": None, "mn": frame.mn, "cn": frame.cn, "data_time": frame.data_time,
             "pollutant": p.code, "rtd": p.rtd, "avg": p.avg, "min": p.min, "max": p.max, "flag": p.flag,
             "received_at": received_at} for p in frame.pollutants.values()]


class Hj212Receiver:
    """``asyncio`` TCP server storing HJ 212 data frames (CN 2011/2051/2061/2031) in ``readings``.

    Use ``async with Hj212Receiver(store, port=0) as receiver:`` (``receiver.port`` is the bound
    port) or ``await start()`` … ``await stop()``; ``stop`` flushes every pending row.

    Parameters
    ----------
    store
        The open workspace; the receiver does not close it.
    host, port
        Where to listen; port 0 picks a free port (read ``port`` after ``start``).
    max_segment
        Largest data segment accepted (see :class:`~gis.hj212.stream.FrameSplitter`).
    **writer_options
        ``flush_interval``, ``batch_rows``, ``max_pending_rows``, ``refresh_interval`` of
        :class:`~gis.hj212.writer.ReadingWriter`.
    """

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 9212, *,
                 max_segment: int = DEFAULT_MAX_SEGMENT, **writer_options):
        self.store, self.host, self.port, self.max_segment = store, host, port, max_segment
        self.store_writer = ReadingWriter(store, **writer_options)
        self._stats = ReceiverStats()
        self._connections: dict[asyncio.Task, _Connection] = {}
        self._server: asyncio.Server | None = None
        self._closing = False

    @property
    def stats(self) -> ReceiverStats:
        """The counters (live object; ``unknown_mns`` is brought up to date on each access)."""
        self._stats.unknown_mns = len(self.store_writer.unknown)
        return self._stats

    async def __aenter__(self) -> Hj212Receiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    async def start(self) -> None:
        """Read the station map, bind the port (raises ``OSError`` if taken) and start serving."""
        await self.store_writer.start()
        try:
            self._server = await asyncio.start_server(self._serve_client, self.host, self.port)
        except BaseException:
            await self.store_writer.close()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("HJ 212 receiver listening on %s:%d, writing to %s", self.host, self.port, self.store.display_name)

    async def stop(self) -> None:
        """Stop accepting and reading, write everything pending, answer it, close connections."""
        if self._server is None or self._closing:
            return
        self._closing = True
        self._server.close()
        # End each connection's read loop with an EOF rather than cancel(): what was already
        # received still gets parsed and stored, and (Python 3.12.1) a cancelled client task
        # makes asyncio log a spurious error.
        for connection in self._connections.values():
            connection.writer.transport.pause_reading()
            connection.reader.feed_eof()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self.store_writer.close()
        for connection in self._connections.values():
            connection.writer.close()  # after the final flush, so its replies go out first
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        except TimeoutError:
            for connection in self._connections.values():
                connection.writer.transport.abort()
        self._connections.clear()
        log.info("HJ 212 receiver stopped: %s", self.stats.line())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every row received so far is written (for tests and benchmarks)."""
        await self.store_writer.drain(timeout)

    # -- connections ---------------------------------------------------------------------------

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        connection = _Connection(reader, writer, f"{peer[0]}:{peer[1]}" if peer else "?")
        if self._closing:  # accepted just before stop() closed the server
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:  # devices sit on one connection for months; notice when the far end is gone
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        task = asyncio.current_task()
        self._connections[task] = connection
        self._stats.connections += 1
        self._stats.connections_total += 1
        splitter = FrameSplitter(self.max_segment)
        try:
            while data := await reader.read(65536):
                for item in splitter.feed(data):
                    if isinstance(item, FrameError):
                        self._reject(connection, item)
                        continue
                    try:
                        frame = parse_frame(item)
                    except FrameError as exc:
                        self._reject(connection, exc)
                        continue
                    await self._accept(frame, connection)
        except ConnectionError as exc:
            log.info("%s: connection lost (%s)", connection.label, exc)
        except Exception:  # a bug must cost this connection only
            log.exception("%s: unexpected error, closing the connection", connection.label)
        finally:
            self._stats.connections -= 1
            if connection.errors > LOGGED_ERRORS_PER_CONNECTION:
                log.warning("%s: %d bad frames in all", connection.label, connection.errors)
            if not self._closing:  # at shutdown stop() closes it after the final replies
                self._connections.pop(task, None)
                writer.close()

    def _reject(self, connection: _Connection, error: FrameError) -> None:
        self._stats.frames_bad += 1
        connection.errors += 1
        if connection.errors <= LOGGED_ERRORS_PER_CONNECTION:
            log.warning("%s: %s", connection.label, error)

    async def _accept(self, frame: Frame, connection: _Connection) -> None:
        self._stats.frames_ok += 1
        # Answer uploads (CN 2xxx/3xxx) only; answering a 9xxx answer could start a ping-pong.
        reply = build_reply(frame) if frame.needs_reply and frame.cn[0] in "23" else None
        if frame.cn not in DATA_CNS:
            self._stats.frames_other += 1
            self._send(connection, reply)
            return
        if self.store_writer.note_mn(frame.mn):
            log.warning("unknown MN %s (from %s): no stations row has it; its readings are kept with "
                        "station_id NULL and assigned once the station is added", frame.mn, connection.label)
        rows = reading_rows(frame, datetime.now())
        if not rows:
            self._send(connection, reply)
            return
        await self.store_writer.put(rows, lambda ok: self._stored(len(rows), ok, connection, reply))

    def _stored(self, count: int, ok: bool, connection: _Connection, reply: bytes | None) -> None:
        # Only now is the reply due: it tells the device its data is safe. None if refused, so it resends.
        if ok:
            self._stats.readings_stored += count
            self._send(connection, reply)
        else:
            self._stats.readings_failed += count

    def _send(self, connection: _Connection | None, reply: bytes | None) -> None:
        if connection is None or reply is None or connection.writer.is_closing():
            return
        if connection.writer.transport.get_write_buffer_size() > MAX_UNREAD_REPLIES:
            log.warning("%s: does not read its replies, disconnecting", connection.label)
            connection.writer.transport.abort()
            return
        connection.writer.write(reply)
        self._stats.replies_sent += 1
