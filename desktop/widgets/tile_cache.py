"""Tiles on disk: one folder per source, size-limited, least recently used go first.

Plain files (``<root>/<source>/<z>/<x>/<y>``) rather than one database: worker
threads read and write them without sharing a connection, and a user can delete the
folder at any time. Reading a tile touches its modification time, so the oldest
mtime is the least recently *used* tile; when the total passes ``max_bytes`` the
oldest files are removed until it is back under 90 %. No Qt here.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
LOW_WATER = 0.9  # evict down to this share of the limit, so eviction is not run for every write


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("EnvGrid", appauthor=False)) / "tiles"


class TileDiskCache:
    def __init__(self, root: str | Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._size: int | None = None  # counted on the first write, in whatever thread does it
        self._warned = False
        self.evictions = 0

    def path(self, source: str, z: int, x: int, y: int) -> Path:
        return self.root / source / str(z) / str(x) / str(y)

    def get(self, source: str, z: int, x: int, y: int) -> bytes | None:
        path = self.path(source, z, x, y)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            os.utime(path)  # used now: last to be evicted
        except OSError:
            pass
        return data

    def put(self, source: str, z: int, x: int, y: int, data: bytes) -> None:
        path = self.path(source, z, x, y)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            old = path.stat().st_size if path.exists() else 0
            tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # readers never see half a tile
        except OSError as exc:  # a full or read-only disk costs the cache, never the map
            if not self._warned:
                self._warned = True
                log.warning("tile cache %s not writable: %s", self.root, exc)
            return
        with self._lock:
            if self._size is None:
                self._size = self._count()
            else:
                self._size += len(data) - old
            if self._size > self.max_bytes:
                self._evict(int(self.max_bytes * LOW_WATER))

    def size_bytes(self) -> int:
        with self._lock:
            if self._size is None:
                self._size = self._count()
            return self._size

    def clear(self, source: str | None = None) -> None:
        import shutil

        with self._lock:
            shutil.rmtree(self.root / source if source else self.root, ignore_errors=True)
            self._size = None

    def _files(self):
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                yield stat.st_mtime, stat.st_size, path

    def _count(self) -> int:
        return sum(size for _, size, _ in self._files())

    def _evict(self, target: int) -> None:
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        for _mtime, size, path in files:
            if total <= target:
                break
            try:
                os.remove(path)
            except OSError:
                continue
            total -= size
            self.evictions += 1
        self._size = total
