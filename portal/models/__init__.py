"""The one shared model. Modules import from here; none defines a second copy of a table."""

from .catalogue import Clinic, Conference
from .funding import BUDGET_CATEGORIES, BudgetLine, FundedItem
from .records import AuditEvent, OutboxMessage, StoredFile
from .users import ROLES, User, UserRole

__all__ = [
    "AuditEvent", "BUDGET_CATEGORIES", "BudgetLine", "Clinic", "Conference", "FundedItem",
    "OutboxMessage", "ROLES", "StoredFile", "User", "UserRole",
]
