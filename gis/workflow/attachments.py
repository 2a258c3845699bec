"""Photos and documents of a case: stored in the database with their SHA-256, never changed.

The ``attachments`` table is append-only (triggers, migration 0002), like the event trail:
a photo that proved a rectification must still be there at the quarterly assessment.
"""
from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from gis.storage.schema import attachments as T
from gis.workflow.transitions import WorkflowError

MAX_BYTES = 50 * 1024 * 1024  # a phone video is not a photo; keep the workspace file sane


class AttachmentCorrupt(WorkflowError):
    """The stored bytes no longer match the SHA-256 recorded with them."""


@dataclass(frozen=True, slots=True)
class NewAttachment:
    filename: str
    data: bytes
    mime: str = ""

    @classmethod
    def from_path(cls, path: str | Path) -> NewAttachment:
        """Read a file; raises OSError with the path when it cannot be read."""
        path = Path(path)
        return cls(path.name, path.read_bytes())


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    case_id: int
    event_id: int | None
    filename: str
    mime: str
    sha256: str
    size: int
    created_at: datetime


def check_attachments(files: Sequence[NewAttachment]) -> None:
    for item in files:
        if not item.filename.strip():
            raise WorkflowError("附件缺少文件名")
        if not item.data:
            raise WorkflowError(f"附件 {item.filename} 是空文件")
        if len(item.data) > MAX_BYTES:
            raise WorkflowError(f"附件 {item.filename} 超过 {MAX_BYTES // (1024 * 1024)} MB")


def insert_attachments(connection: Connection, case_id: int, event_id: int | None,
                       files: Sequence[NewAttachment], now: datetime) -> list[int]:
    """Store ``files`` for the case (and the event they document); the caller owns the transaction."""
    if not files:
        return []
    check_attachments(files)
    rows = [{"case_id": case_id, "event_id": event_id, "filename": f.filename[:260],
             "mime": f.mime or mimetypes.guess_type(f.filename)[0] or "application/octet-stream",
             "sha256": hashlib.sha256(f.data).hexdigest(), "size": len(f.data), "data": f.data,
             "created_at": now} for f in files]
    result = connection.execute(T.insert().returning(T.c.id, sort_by_parameter_order=True), rows)
    return [r.id for r in result]


_INFO = (T.c.id, T.c.case_id, T.c.event_id, T.c.filename, T.c.mime, T.c.sha256, T.c.size, T.c.created_at)


def read_attachment_infos(connection: Connection, case_id: int) -> list[AttachmentInfo]:
    """A case's attachments without their bytes, in upload order."""
    query = select(*_INFO).where(T.c.case_id == case_id).order_by(T.c.id)
    return [AttachmentInfo(**row._mapping) for row in connection.execute(query)]


def read_attachment(connection: Connection, attachment_id: int) -> tuple[AttachmentInfo, bytes]:
    """One attachment with its bytes, checked against the stored SHA-256.

    Raises
    ------
    AttachmentCorrupt
        The bytes do not hash to the recorded value.
    WorkflowError
        No such attachment.
    """
    row = connection.execute(select(*_INFO, T.c.data).where(T.c.id == attachment_id)).first()
    if row is None:
        raise WorkflowError(f"附件 {attachment_id} 不存在")
    info = AttachmentInfo(*row[:-1])
    data = bytes(row.data)
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise AttachmentCorrupt(f"附件 {info.filename}（{attachment_id}）校验失败：SHA-256 与记录不符")
    return info, data
