"""Expert visits: a funded item with its programme of activities and its outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import BaseModel
from .funding import FundedItem

VISIT_STATES = ("planned", "confirmed", "completed", "cancelled")
ACTIVITY_KINDS = ("consultation", "lecture", "master_class", "joint_surgery")


class ExpertVisit(FundedItem):
    """A leading specialist's visit to a partner clinic. The expert is the beneficiary."""

    __tablename__ = "expert_visits"
    FUNDED_STATES = ("confirmed", "completed")
    __table_args__ = (CheckConstraint("departure_on >= arrival_on", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(ForeignKey("funded_items.id", ondelete="CASCADE"), primary_key=True)
    host_clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    arrival_on: Mapped[dt.date] = mapped_column()
    departure_on: Mapped[dt.date] = mapped_column()
    purpose: Mapped[str] = mapped_column(Text)
    purpose_ru: Mapped[str | None] = mapped_column(Text)  # for the bilingual invitation letter
    # Outcomes, recorded after the visit; they feed the impact figures.
    patients_consulted: Mapped[int | None] = mapped_column()
    doctors_trained: Mapped[int | None] = mapped_column()
    operations_performed: Mapped[int | None] = mapped_column()
    outcome_notes: Mapped[str | None] = mapped_column(Text)

    host_clinic = relationship("Clinic", lazy="joined", innerjoin=True)
    activities: Mapped[list[VisitActivity]] = relationship(
        back_populates="visit", cascade="all, delete-orphan",
        order_by="(VisitActivity.day, VisitActivity.position, VisitActivity.id)")

    __mapper_args__: Any = {"polymorphic_identity": "expert_visit", "polymorphic_load": "selectin"}

    @property
    def expert(self) -> Any:
        return self.beneficiary

    @property
    def display_name(self) -> str:
        return self.name_for(self.beneficiary.name if self.beneficiary else None, self.host_clinic.name,
                             self.arrival_on)

    @staticmethod
    def name_for(expert: str | None, clinic: str, arrival_on: dt.date) -> str:
        """A visit's name from its columns: for lists read straight from a query."""
        return f"{expert or '?'} · {clinic} ({arrival_on:%d.%m.%Y})"


class VisitActivity(BaseModel):
    __tablename__ = "visit_activities"
    __table_args__ = (
        CheckConstraint("kind IN ('consultation', 'lecture', 'master_class', 'joint_surgery')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("expert_visits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[dt.date] = mapped_column()
    starts_at: Mapped[dt.time | None] = mapped_column()
    ends_at: Mapped[dt.time | None] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    title_ru: Mapped[str | None] = mapped_column(String(300))  # for the Russian half of the invitation
    place: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)  # order within the day

    visit: Mapped[ExpertVisit] = relationship(back_populates="activities")
