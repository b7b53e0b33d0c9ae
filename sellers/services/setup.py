"""Writes for the shop's set-up: profile, addresses, shipping template, payout account."""

import logging
from datetime import datetime, time

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.money import exponent_of
from marketplace.pagecache import storefront_changed
from marketplace.payments.gateway import ConnectedAccount, get_gateway
from marketplace.payments.services import onboarding_permission_register
from marketplace.state import transition
from sellers.models import (
    PAYOUT_ACCOUNT_MACHINE,
    PayoutAccount,
    Seller,
    ShippingTemplate,
    ShopAddress,
)

logger = logging.getLogger(__name__)

MIN_PROCESSING_DAYS = 1
# How long after delivery buyers may ask for a return or refund (Seller.return_window_days, read
# by the returns app): at least a week, at most about three months.
MIN_RETURN_WINDOW_DAYS = 7
MAX_RETURN_WINDOW_DAYS = 90
MAX_PROCESSING_DAYS = 10
# Beyond these, an amount is a typo (an extra zero or two), not a shipping price.
MAX_SHIPPING_FEE_MAJOR = 1_000
MAX_FREE_SHIPPING_THRESHOLD_MAJOR = 100_000

ADDRESS_FIELDS = (
    "contact_name",
    "phone",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
)


class SellerRecordNotFound(DomainError):
    """The id names nothing of this seller's; views answer 404, as for a record that does not exist."""

    code = "not_found"


class InvalidSetup(DomainError):
    """`field` names the model field at fault when there is one, for a form to show it there."""

    code = "invalid_setup"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message, code=code)
        self.field = field


class PayoutAccountMissing(DomainError):
    code = "payout_account_missing"


class PayoutAccountRefused(DomainError):
    code = "payout_account_refused"


def seller_profile_update(
    *,
    seller: Seller,
    description: str,
    message_hours_start: time | None,
    message_hours_end: time | None,
    return_window_days: int | None = None,
) -> Seller:
    """Raises InvalidSetup (nothing written) when only one of the hours is given or they are out
    of order, or the return window is out of range (`seller_profile_check`). Every edit of the
    profile comes here, the admin's too. `return_window_days` None keeps the shop's window."""
    seller_profile_check(
        message_hours_start=message_hours_start,
        message_hours_end=message_hours_end,
        return_window_days=return_window_days,
    )
    seller.description = description.strip()
    seller.message_hours_start = message_hours_start
    seller.message_hours_end = message_hours_end
    fields = ["description", "message_hours_start", "message_hours_end"]
    if return_window_days is not None:
        seller.return_window_days = return_window_days
        fields.append("return_window_days")
    seller.save(update_fields=fields)
    storefront_changed()  # the shop page shows the description, product pages the return window
    return seller


def seller_profile_check(
    *,
    message_hours_start: time | None,
    message_hours_end: time | None,
    return_window_days: int | None = None,
) -> None:
    """The rules of a shop profile; raises InvalidSetup naming the field at fault."""
    if (message_hours_start is None) != (message_hours_end is None):
        raise InvalidSetup(
            "Give both the start and the end of your message hours, or neither.",
            field="message_hours_end" if message_hours_end is None else "message_hours_start",
        )
    if message_hours_start is not None and message_hours_start >= message_hours_end:
        raise InvalidSetup("The end must be after the start.", field="message_hours_end")
    if return_window_days is not None and not (
        MIN_RETURN_WINDOW_DAYS <= return_window_days <= MAX_RETURN_WINDOW_DAYS
    ):
        raise InvalidSetup(
            f"The return window is {MIN_RETURN_WINDOW_DAYS} to {MAX_RETURN_WINDOW_DAYS} days.",
            field="return_window_days",
        )


def shop_address_set(*, seller: Seller, kind: str, **fields) -> ShopAddress:
    """Create or replace the seller's one address of `kind` (ship-from or return)."""
    if kind not in ShopAddress.Kind.values:
        raise InvalidSetup(f"Unknown address kind {kind!r}.")
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise TypeError(f"Unknown address fields: {', '.join(sorted(unknown))}")
    values = {name: (fields.get(name) or "").strip() for name in ADDRESS_FIELDS}
    address, _ = ShopAddress.objects.update_or_create(seller=seller, kind=kind, defaults=values)
    return address


def shop_return_address_copy_from_ship_from(*, seller: Seller) -> ShopAddress:
    """Make the return address a copy of the ship-from address (a copy, not a link: changing one
    later leaves the other as it is). Raises InvalidSetup when there is no ship-from address."""
    ship_from = ShopAddress.objects.filter(seller=seller, kind=ShopAddress.Kind.SHIP_FROM).first()
    if ship_from is None:
        raise InvalidSetup("Add your ship-from address first, then copy it.")
    return shop_address_set(
        seller=seller,
        kind=ShopAddress.Kind.RETURN,
        **{name: getattr(ship_from, name) for name in ADDRESS_FIELDS},
    )


def shipping_template_check(
    *,
    flat_fee_minor: int,
    free_shipping_threshold_minor: int | None,
    processing_days: int,
    currency: str,
) -> None:
    """The rules of a shipping template; raises InvalidSetup naming the field at fault."""
    scale = 10 ** exponent_of(currency)
    if not MIN_PROCESSING_DAYS <= processing_days <= MAX_PROCESSING_DAYS:
        raise InvalidSetup(
            f"Processing time must be {MIN_PROCESSING_DAYS} to {MAX_PROCESSING_DAYS} days.",
            field="processing_days",
        )
    if not 0 <= flat_fee_minor <= MAX_SHIPPING_FEE_MAJOR * scale:
        raise InvalidSetup("The shipping fee is out of range.", field="flat_fee_minor")
    if free_shipping_threshold_minor is not None and not (
        0 <= free_shipping_threshold_minor <= MAX_FREE_SHIPPING_THRESHOLD_MAJOR * scale
    ):
        raise InvalidSetup(
            "The free-shipping threshold is out of range.", field="free_shipping_threshold_minor"
        )


def shipping_template_set(
    *,
    seller: Seller,
    flat_fee_minor: int,
    free_shipping_threshold_minor: int | None,
    processing_days: int,
    currency: str | None = None,
) -> ShippingTemplate:
    """Create or replace the seller's shipping template. Amounts are in the currency's minor unit.

    Raises InvalidSetup (nothing written) for negative or absurd amounts or processing days
    outside 1-10 (`shipping_template_check`). Every edit of a template comes here, the admin's too.
    """
    currency = currency or settings.MARKETPLACE_CURRENCY
    shipping_template_check(
        flat_fee_minor=flat_fee_minor,
        free_shipping_threshold_minor=free_shipping_threshold_minor,
        processing_days=processing_days,
        currency=currency,
    )
    template, _ = ShippingTemplate.objects.update_or_create(
        seller=seller,
        defaults={
            "currency": currency,
            "flat_fee_minor": flat_fee_minor,
            "free_shipping_threshold_minor": free_shipping_threshold_minor,
            "processing_days": processing_days,
        },
    )
    storefront_changed()  # product pages show the shipping fee
    return template


def payout_account_connect(*, seller: Seller, actor, site_root: str) -> str:
    """Open (or reuse) the seller's connected account at the gateway and return the URL where the
    seller finishes onboarding. `site_root` is the scheme and host the gateway sends the seller
    back to ("https://agora.example"), since a provider needs absolute URLs.

    The gateway is called outside any transaction (no lock is held while a provider answers);
    the account's reference is derived from the seller's id, so a retry opens no second account.
    Raises PayoutAccountRefused for anyone but the owner: an onboarding link is a bearer URL for
    entering the bank details of the shop.
    """
    if actor.pk != seller.owner_id:
        raise PayoutAccountRefused(
            "Only the shop's owner can connect the payout account: it is held in the owner's name."
        )
    gateway = get_gateway()
    existing = PayoutAccount.objects.filter(seller=seller).first()
    if existing is not None and existing.gateway == gateway.name:
        external_id = existing.external_id
    else:
        account = gateway.connected_account_create(
            email=seller.contact_email, country=seller.country, reference=f"seller-{seller.pk}"
        )
        external_id = account.external_id
        with transaction.atomic():
            payout_account, _ = PayoutAccount.objects.update_or_create(
                seller=seller,
                defaults={
                    "gateway": gateway.name,
                    "external_id": external_id,
                    "charges_enabled": False,
                    "payouts_enabled": False,
                    "requirements_due": account.requirements_due,
                    "bank_last4": account.bank_last4,
                },
            )
            if payout_account.status != PayoutAccount.Status.ONBOARDING:
                # The account at the gateway used before is replaced: onboarding starts again.
                transition(
                    PAYOUT_ACCOUNT_MACHINE,
                    instance=payout_account,
                    to_status=PayoutAccount.Status.ONBOARDING,
                )
    root = site_root.rstrip("/")
    url = gateway.onboarding_link_create(
        external_id=external_id,
        return_url=root + reverse("seller_center:payout_return"),
        refresh_url=root + reverse("seller_center:payouts"),
    )
    logger.info("Payout onboarding link for seller %s opened by user %s", seller.pk, actor.pk)
    return url


def payout_account_refresh(*, seller: Seller) -> PayoutAccount:
    """Copy the connected account's state from the gateway. Raises PayoutAccountMissing when the
    seller has not started connecting one. The gateway is asked before any lock is taken."""
    payout_account = PayoutAccount.objects.filter(seller=seller).first()
    if payout_account is None:
        raise PayoutAccountMissing("Connect a payout account first.")
    remote = get_gateway().connected_account_retrieve(external_id=payout_account.external_id)
    payout_account_apply_gateway_state(remote=remote, reported_at=timezone.now())
    payout_account.refresh_from_db()
    return payout_account


def payout_account_status_for(remote: ConnectedAccount) -> str:
    """The payout account's status for the gateway's view of it (the rule payout_account_refresh
    in sellers.services.setup applies when it reads the account from the API)."""
    if remote.charges_enabled and remote.payouts_enabled:
        return PayoutAccount.Status.ACTIVE
    if remote.details_submitted:
        # Details were sent but the provider holds the account back (verification, a bad bank).
        return PayoutAccount.Status.RESTRICTED
    return PayoutAccount.Status.ONBOARDING


def payout_account_apply_gateway_state(
    *, remote: ConnectedAccount, reported_at: datetime | None, bank_reported: bool = True
) -> str | None:
    """Copy the gateway's state of a connected account onto our payout account, unless we hold a
    newer one: `reported_at` (when the gateway produced this state) older than the stored
    `gateway_updated_at` changes nothing. `bank_reported=False` keeps the stored bank_last4
    (the state said nothing about the bank account).

    Locks the payout account row. Returns None when applied, else a note saying why not.
    """
    with transaction.atomic():
        account = (
            PayoutAccount.objects.select_for_update().filter(external_id=remote.external_id).first()
        )
        if account is None:
            return f"no payout account {remote.external_id}"
        if (
            reported_at is not None
            and account.gateway_updated_at is not None
            and reported_at < account.gateway_updated_at
        ):
            return "stale: a newer state of the account is already applied"
        fields = {
            "charges_enabled": remote.charges_enabled,
            "payouts_enabled": remote.payouts_enabled,
            "requirements_due": list(remote.requirements_due),
        }
        if bank_reported:
            fields["bank_last4"] = remote.bank_last4
        if reported_at is not None:
            fields["gateway_updated_at"] = reported_at
        status = payout_account_status_for(remote)
        if status != account.status:
            transition(PAYOUT_ACCOUNT_MACHINE, instance=account, to_status=status, fields=fields)
        else:
            for name, value in fields.items():
                setattr(account, name, value)
            account.save(update_fields=[*fields, "updated_at"])
    return None


@onboarding_permission_register
def owner_may_onboard_payout_account(*, user, external_id: str) -> bool:
    """Only the owner of the seller that opened the account may enter its bank details."""
    return PayoutAccount.objects.filter(external_id=external_id, seller__owner=user).exists()
