"""Bank details of the people the programme repays: an IBAN with its BIC (checked by schwifty
against each country's rules and check digits), or a UK sort code and account number. Pages
show them masked; only the payments file for the bank holds them whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from .errors import Invalid

SORT_CODE = re.compile(r"\d{6}")
ACCOUNT_NUMBER = re.compile(r"\d{8}")
BANK_FIELDS = ("bank_holder", "bank_iban", "bank_bic", "bank_sort_code", "bank_account_number")


class BankDetailsInvalid(Invalid):
    """What was typed is not a bank account: said beside the field."""


@dataclass(frozen=True)
class BankDetails:
    holder: str | None
    iban: str | None
    bic: str | None
    sort_code: str | None
    account_number: str | None

    def as_fields(self) -> dict[str, str | None]:
        return {"bank_holder": self.holder, "bank_iban": self.iban, "bank_bic": self.bic,
                "bank_sort_code": self.sort_code, "bank_account_number": self.account_number}


def _compact(value: str | None) -> str:
    return re.sub(r"[\s\-.]", "", value or "").upper()


def check(holder: str | None, iban: str | None, bic: str | None, sort_code: str | None,
          account_number: str | None) -> BankDetails:
    """The details in their standard form, or ``BankDetailsInvalid`` naming the field. All empty
    means no details; otherwise a holder and either an IBAN or a sort code and account number."""
    iban, bic, sort_code, account_number = map(_compact, (iban, bic, sort_code, account_number))
    holder = " ".join((holder or "").split()) or None
    if not any((holder, iban, bic, sort_code, account_number)):
        return BankDetails(None, None, None, None, None)
    if not holder:
        raise BankDetailsInvalid(_l("Enter the account holder's name, as the bank knows it."), "bank_holder")
    if iban and (sort_code or account_number):
        raise BankDetailsInvalid(_l("Give either an IBAN or a UK sort code and account number, not both."),
                                 "bank_iban")
    if iban:
        try:
            parsed = IBAN(iban)
        except SchwiftyException:
            raise BankDetailsInvalid(_l("This is not a valid IBAN: check it against your bank statement."),
                                     "bank_iban") from None
        if bic:
            try:
                BIC(bic)
            except SchwiftyException:
                raise BankDetailsInvalid(_l("This is not a valid BIC (SWIFT code): 8 or 11 letters and digits."),
                                         "bank_bic") from None
        elif parsed.country_code != "GB":
            raise BankDetailsInvalid(_l("Enter the bank's BIC (SWIFT code): a payment abroad needs it."), "bank_bic")
        return BankDetails(holder, parsed.compact, bic or None, None, None)
    if not SORT_CODE.fullmatch(sort_code):
        raise BankDetailsInvalid(_l("Enter the sort code: 6 digits, such as 12-34-56."), "bank_sort_code")
    if not ACCOUNT_NUMBER.fullmatch(account_number):
        raise BankDetailsInvalid(_l("Enter the account number: 8 digits."), "bank_account_number")
    return BankDetails(holder, None, bic or None, sort_code, account_number)


def details_of(user: Any) -> BankDetails | None:
    """The user's bank details, if they gave any."""
    if not (user.bank_iban or user.bank_account_number):
        return None
    return BankDetails(user.bank_holder, user.bank_iban, user.bank_bic, user.bank_sort_code, user.bank_account_number)


def masked(details: BankDetails | None) -> str:
    """"GB82 •••• •••• •••• 7654 32" or "12-34-56 ••••5678": enough to recognise, not to copy."""
    if details is None:
        return ""
    if details.iban:
        return f"{details.iban[:4]} •••• {details.iban[-4:]}"
    sort_code = details.sort_code or ""
    return f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]} ••••{(details.account_number or '')[-4:]}"
