"""Writes for the local test-mode gateway, and the hook that says who may onboard an account.

Payments sits below sellers in the dependency order, so it cannot look up which seller owns a
connected account. The app that opens accounts registers a check instead
(`onboarding_permission_register`); with no check registered, nobody may complete onboarding.
"""

import re
from collections.abc import Callable

from django.db import transaction

from marketplace.errors import DomainError
from marketplace.payments.models import LocalConnectedAccount

# The test bank account number shown on the onboarding page; any 8-17 digits work.
TEST_ACCOUNT_NUMBER = "000123456789"
# ASCII digits only: \d would also accept Arabic-Indic and other digits.
ACCOUNT_NUMBER_PATTERN = re.compile(r"^[0-9]{8,17}$")

OnboardingPermission = Callable[..., bool]  # (*, user, external_id) -> bool
_onboarding_permissions: list[OnboardingPermission] = []


class LocalAccountNotFound(DomainError):
    code = "local_account_not_found"


class InvalidBankDetails(DomainError):
    code = "invalid_bank_details"


def onboarding_permission_register(check: OnboardingPermission) -> OnboardingPermission:
    """Register `check(*, user, external_id) -> bool`. Registering the same check twice is a no-op
    (modules can be imported more than once in tests)."""
    if check not in _onboarding_permissions:
        _onboarding_permissions.append(check)
    return check


def local_onboarding_allowed(*, user, external_id: str) -> bool:
    if not user.is_authenticated:
        return False
    return any(check(user=user, external_id=external_id) for check in _onboarding_permissions)


def local_account_complete_onboarding(
    *, external_id: str, holder: str, account_number: str
) -> LocalConnectedAccount:
    """Record test bank details on a local connected account, which enables charges and payouts.

    Raises InvalidBankDetails (nothing written) for an empty holder or a number that is not 8-17
    digits, and LocalAccountNotFound for an unknown account. Only the last four digits are kept.
    """
    holder = " ".join((holder or "").split())
    account_number = (account_number or "").strip()
    if not holder:
        raise InvalidBankDetails("Enter the account holder's name.")
    if not ACCOUNT_NUMBER_PATTERN.match(account_number):
        raise InvalidBankDetails("The account number must be 8 to 17 digits, with no spaces.")
    with transaction.atomic():
        account = (
            LocalConnectedAccount.objects.select_for_update()
            .filter(external_id=external_id)
            .first()
        )
        if account is None:
            raise LocalAccountNotFound("There is no such test account.")
        account.details_submitted = True
        account.bank_account_holder = holder[:120]
        account.bank_last4 = account_number[-4:]
        account.save(update_fields=["details_submitted", "bank_account_holder", "bank_last4"])
    return account
