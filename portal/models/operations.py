"""What operating the portal needs to remember: when each service was last seen alive, and
the backups taken."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import BaseModel
from .types import UTCDateTime, utcnow

BACKUP_STATES = ("ok", "failed")


class Heartbeat(BaseModel):
    """A service's last sign of life (the task consumer writes ``consumer`` every periodic
    round); ``/healthz`` reads it."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Backup(BaseModel):
    """A backup taken (by the schedule or by hand): where it went and whether it completed."""

    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="ok")
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # "manual" or "scheduled"
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
