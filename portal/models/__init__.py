"""The one shared model. Modules import from here; none defines a second copy of a table."""

from .applications import (
    APPLICATION_STATES,
    DOCUMENT_KINDS,
    PARTICIPATION,
    SHARING_METHODS,
    VISA_OUTCOMES,
    Application,
    ApplicationComment,
    ApplicationDocument,
    ConferenceReport,
)
from .catalogue import Clinic, Conference
from .donors import (
    ACKNOWLEDGEMENT_CHANNELS,
    CLAIM_STATES,
    CONTACT_PREFERENCES,
    DONATION_METHODS,
    DONOR_KINDS,
    Acknowledgement,
    AcknowledgementBatch,
    Donation,
    DonationAllocation,
    DonationImport,
    DonationRefund,
    Donor,
    GiftAidAdjustment,
    GiftAidAggregate,
    GiftAidClaim,
    GiftAidClaimLine,
    GiftAidDeclaration,
    TaxYear,
)
from .expenses import LINE_STATES, PAYMENT_METHODS, ExpenseClaim, ExpenseLine, Payment, ProgrammeBudget
from .funding import BUDGET_CATEGORIES, BudgetLine, FundedItem
from .history import HISTORY_KINDS, HistoricalRecord, HistoryImport
from .letters import LETTER_STATES, Letter, LetterCounter, OrganisationSettings, SigningCertificate
from .money import ExchangeRate
from .operations import BACKUP_STATES, Backup, Heartbeat
from .records import JOB_STATES, AuditEvent, DataExport, DataGeneration, Job, OutboxMessage, SensitiveRead, StoredFile
from .users import RETAINED_PASSPORT_FIELDS, ROLES, User, UserRole
from .visits import ACTIVITY_KINDS, VISIT_STATES, ExpertVisit, VisitActivity

__all__ = [
    "ACKNOWLEDGEMENT_CHANNELS", "CONTACT_PREFERENCES", "DONATION_METHODS", "DONOR_KINDS", "Acknowledgement",
    "AcknowledgementBatch", "Donation", "DonationAllocation", "DonationImport", "Donor", "GiftAidDeclaration",
    "CLAIM_STATES", "DonationRefund", "GiftAidAdjustment", "GiftAidAggregate", "GiftAidClaim", "GiftAidClaimLine",
    "TaxYear",
    "ACTIVITY_KINDS", "VISIT_STATES", "ExpertVisit", "VisitActivity",
    "LINE_STATES", "PAYMENT_METHODS", "ExpenseClaim", "ExpenseLine", "Payment", "ProgrammeBudget",
    "Application", "APPLICATION_STATES", "ApplicationComment", "ApplicationDocument", "AuditEvent", "DataGeneration",
    "Job", "JOB_STATES", "DataExport", "HISTORY_KINDS", "HistoricalRecord", "HistoryImport",
    "BUDGET_CATEGORIES", "BudgetLine", "Clinic", "Conference", "ConferenceReport", "DOCUMENT_KINDS",
    "ExchangeRate", "FundedItem", "Letter", "LetterCounter", "LETTER_STATES", "OrganisationSettings",
    "SigningCertificate",
    "OutboxMessage", "PARTICIPATION", "RETAINED_PASSPORT_FIELDS", "SensitiveRead",
    "ROLES", "SHARING_METHODS", "StoredFile", "User", "UserRole",
    "VISA_OUTCOMES", "BACKUP_STATES", "Backup", "Heartbeat",
]
