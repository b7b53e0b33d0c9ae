"""Checkout: reserve stock and create one order per seller, then take one payment for all of them
(docs/architecture.md, "Orders and checkout").

0. The cart is claimed: a buyer has at most one checkout waiting for its payment (a database
   constraint). The same checkout page submitted again (its `submit_token`) answers with the
   checkout it placed; a new checkout first releases the buyer's earlier failed one.
1. In one transaction: lock the buyer's cart row (a buyer's checkouts run one after the other),
   lock the cart's SKUs in id order, refuse the whole checkout when any is not for sale or short
   of stock or when the total is not the one the shopper was shown (nothing written), take the
   stock with F(), create the Checkout and one unpaid Order per seller with copied lines and
   audit rows.
2. After that commits, holding no locks: one gateway payment for the checkout's total.
3. On success, in one transaction: checkout paid, orders on hold, one ledger posting per order,
   cart emptied; emails after commit. On a decline or an unreachable gateway the checkout is
   failed with a message for the shopper and checkout_retry_payment can try again with a new
   idempotency key; a decline cuts the reservation to CHECKOUT_DECLINED_HOLD_MINUTES, and
   CHECKOUT_MAX_DECLINES declines release it at once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Least
from django.utils import timezone

from catalog.models import SKU
from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.journal import journal_order_paid
from marketplace.ledger.services import ledger_accounts_ensure
from marketplace.money import Money
from marketplace.notifications.services import notify_many
from marketplace.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentResult,
    get_gateway,
)
from marketplace.state import StaleTransition, transition, transition_many
from orders.models import (
    CHECKOUT_MACHINE,
    ORDER_MACHINE,
    BuyerAddress,
    Cart,
    CartLine,
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusEvent,
)
from orders.selectors import seller_shipping_template, shipping_fee_minor
from orders.services.commission import CommissionRates, commission_for_lines
from orders.services.refunds import LATE_PAYMENT_MESSAGE, order_split, refund_late_payment
from orders.services.reservations import checkouts_release
from orders.services.stock import (
    sku_is_buyable,
    stock_decrement,
    stock_lock_skus,
    stock_refresh_products,
)

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "We could not reach the payment service. Nothing was charged and your items are reserved: "
    "please try again in a moment."
)
ERROR_MESSAGE = (
    "The payment could not be processed. Nothing was charged; please try again or use another card."
)
# The payment came after the reservation expired: it is refunded automatically
# (orders.services.refunds.refund_late_payment), and the shopper is told so.
EXPIRED_WHILE_PAYING = LATE_PAYMENT_MESSAGE


REPLACED_MESSAGE = "Replaced by a newer checkout: the items were released."


class SoldOut(DomainError):
    code = "sold_out"


class EmptyCart(DomainError):
    code = "empty_cart"


class PriceChanged(DomainError):
    """The total is not the one the shopper was shown (a price or a shipping fee changed)."""

    code = "price_changed"

    def __init__(self, message: str, *, total_minor: int):
        super().__init__(message)
        self.total_minor = total_minor


class CheckoutInProgress(DomainError):
    """Another checkout of this buyer is waiting for its payment (another tab, or a payment the
    provider is still confirming); `checkout` is that one."""

    code = "checkout_in_progress"

    def __init__(self, message: str, *, checkout: Checkout):
        super().__init__(message)
        self.checkout = checkout


class _AlreadyPlaced(Exception):
    """Raised inside the reservation, before anything is written, when this submit was placed."""

    def __init__(self, checkout: Checkout):
        self.checkout = checkout


class _LatePayment(Exception):
    """Raised inside the payment's transaction when an order of the checkout expired before the
    payment was recorded: the transaction rolls back, then the payment is refunded."""


class _FailedCheckoutInTheWay(Exception):
    """Raised inside the reservation, before anything is written: the buyer's failed checkout
    still holds the cart and must be released first (outside this transaction: releasing locks
    other SKU rows, which must not be taken before the cart's in id order)."""

    def __init__(self, checkout: Checkout):
        self.checkout = checkout


def cancel_window() -> timedelta:
    """How long after paying the buyer may cancel at once, free of charge."""
    return timedelta(minutes=settings.ORDER_CANCEL_WINDOW_MINUTES)


def _expiry_delta() -> timedelta:
    return timedelta(minutes=settings.ORDER_UNPAID_EXPIRY_MINUTES)


def checkout_for_submit_token(*, buyer, submit_token: str | None) -> Checkout | None:
    """The checkout that this buyer's checkout page (its token) already placed, if any, marked
    `replayed`."""
    if not submit_token:
        return None
    checkout = Checkout.objects.filter(buyer=buyer, submit_token=submit_token).first()
    if checkout is not None:
        checkout.replayed = True
    return checkout


def checkout_place(
    *,
    buyer,
    address: BuyerAddress,
    payment_method: str,
    submit_token: str | None = None,
    expected_total_minor: int | None = None,
) -> Checkout:
    """Reserve the buyer's cart and pay for it. Returns the Checkout: `paid`, `failed` with
    `failure_message` for the shopper (then retry with checkout_retry_payment), `open` while the
    provider confirms the payment, or `expired` when declines released the items.

    `submit_token` identifies the checkout page: the same token again (a double-click, a resubmit)
    returns the checkout it placed, whatever its state, with `replayed` set, and charges nothing
    more.
    `expected_total_minor` is the total the shopper was shown; None skips the check (callers
    with no page, such as the demo data).

    Raises, before anything is written: EmptyCart; SoldOut ("Sold out: <title>", code sold_out;
    "No longer for sale: ...", code not_buyable); PriceChanged (with the new total);
    CheckoutInProgress (with the buyer's checkout that is waiting for its payment)."""
    for _ in range(2):
        try:
            checkout, orders, sold_out_product_ids = _reserve(
                buyer=buyer,
                address=address,
                submit_token=submit_token,
                expected_total_minor=expected_total_minor,
            )
        except _AlreadyPlaced as placed:
            placed.checkout.replayed = True
            return placed.checkout
        except _FailedCheckoutInTheWay as failed:
            # A new checkout replaces the buyer's failed one: its orders are cancelled and its
            # stock goes back, so one buyer never holds two reservations (each declined card
            # would otherwise add one). Then reserve again.
            checkouts_release(checkout_ids=[failed.checkout.id], message=REPLACED_MESSAGE)
            continue
        except IntegrityError:
            # Two submits passed the claim check at once (SQLite has no row lock on the cart):
            # the database let only one claim the cart. Answer with that one.
            earlier = checkout_for_submit_token(buyer=buyer, submit_token=submit_token)
            if earlier is not None:
                return earlier
            waiting = _waiting_checkout(buyer=buyer)
            if waiting is None:
                raise
            raise _in_progress(waiting) from None
        break
    else:
        raise _in_progress(_waiting_checkout(buyer=buyer))
    if sold_out_product_ids:
        stock_refresh_products(product_ids=sold_out_product_ids)
    return _pay(checkout=checkout, payment_method=payment_method, orders=orders)


def _waiting_checkout(*, buyer) -> Checkout | None:
    return Checkout.objects.filter(
        buyer=buyer, status__in=[CheckoutStatus.OPEN, CheckoutStatus.FAILED]
    ).first()


def _in_progress(checkout: Checkout) -> CheckoutInProgress:
    return CheckoutInProgress(
        "You have a checkout waiting for its payment: it is shown below.", checkout=checkout
    )


def checkout_retry_payment(*, checkout: Checkout, payment_method: str) -> Checkout:
    """Try the payment of a failed checkout again, with a new idempotency key. Raises DomainError
    when the checkout is not waiting for payment or its orders expired."""
    checkout.refresh_from_db()
    if checkout.status == CheckoutStatus.PAID:
        raise DomainError("This checkout is already paid.", code="already_paid")
    if checkout.status != CheckoutStatus.FAILED:
        raise DomainError("This checkout can no longer be paid.", code="not_payable")
    now = timezone.now()
    orders = list(checkout.orders.values_list("status", "expires_at"))
    if any(status != OrderStatus.UNPAID or expires_at <= now for status, expires_at in orders):
        raise DomainError(
            "The reservation for this checkout expired. Add the items to your cart again.",
            code="checkout_expired",
        )
    return _pay(checkout=checkout, payment_method=payment_method)


def _address_fields(address: BuyerAddress) -> dict:
    return {
        "ship_name": address.name,
        "ship_line1": address.line1,
        "ship_line2": address.line2,
        "ship_city": address.city,
        "ship_region": address.region,
        "ship_postal_code": address.postal_code,
        "ship_country": address.country,
        "ship_phone": address.phone,
    }


@transaction.atomic
def _reserve(
    *, buyer, address: BuyerAddress, submit_token: str | None, expected_total_minor: int | None
) -> tuple[Checkout, list[Order], list[int]]:
    now = timezone.now()
    currency = settings.MARKETPLACE_CURRENCY
    # The cart row lock makes one buyer's checkouts run one after the other: a second submit
    # waits here until the first has committed its checkout, then finds it below.
    cart = Cart.objects.select_for_update().filter(user=buyer).first()
    if cart is None:
        raise EmptyCart("Your cart is empty.")
    holds_the_cart = Q(status__in=[CheckoutStatus.OPEN, CheckoutStatus.FAILED])
    if submit_token:
        holds_the_cart |= Q(submit_token=submit_token)
    # At most two: the one this page placed, and the one waiting for its payment.
    claims = list(Checkout.objects.filter(holds_the_cart, buyer=buyer)[:2])
    claims.sort(key=lambda checkout: not (submit_token and checkout.submit_token == submit_token))
    claim = claims[0] if claims else None
    if claim is not None:
        if submit_token and claim.submit_token == submit_token:
            raise _AlreadyPlaced(claim)
        if claim.status == CheckoutStatus.FAILED:
            raise _FailedCheckoutInTheWay(claim)
        # Open: its payment is under way (another tab, or the provider is still confirming).
        raise _in_progress(claim)
    # The cart's SKUs with the wanted quantity, locked in id order, in one query.
    cart_quantity = CartLine.objects.filter(cart=cart, sku_id=OuterRef("id")).values("quantity")
    cart_skus = SKU.objects.filter(
        id__in=CartLine.objects.filter(cart=cart).values("sku_id")
    ).annotate(wanted=Subquery(cart_quantity))
    # A line removed while we waited for the lock has no quantity any more: leave it out.
    skus = [sku for sku in stock_lock_skus(skus=cart_skus) if sku.wanted]
    if not skus:
        raise EmptyCart("Your cart is empty.")
    for sku in skus:
        if not sku_is_buyable(sku):
            raise SoldOut(
                f"No longer for sale: {sku.product.title}. Remove it from your cart to continue.",
                code="not_buyable",
            )
        if sku.stock_on_hand < sku.wanted:
            raise SoldOut(f"Sold out: {sku.product.title}", code="sold_out")

    rates = CommissionRates(now=now)
    stock_decrement(quantities={sku.id: sku.wanted for sku in skus})
    sold_out_product_ids = [sku.product_id for sku in skus if sku.stock_on_hand == sku.wanted]
    by_seller: dict[int, list] = {}
    for sku in skus:
        by_seller.setdefault(sku.product.seller_id, []).append(sku)

    orders, lines_by_seller = [], {}
    for seller_id, seller_skus in by_seller.items():
        seller = seller_skus[0].product.seller
        lines = []
        for sku in seller_skus:
            quantity = sku.wanted
            lines.append(
                OrderLine(
                    sku=sku,
                    product_id_copy=sku.product_id,
                    product_title=sku.product.title,
                    sku_code=sku.seller_sku,
                    option_label=sku.option_label,
                    unit_price_minor=sku.price_minor,
                    quantity=quantity,
                    line_total_minor=sku.price_minor * quantity,
                    commission_bps=rates.rate_for_category(sku.product.category_id),
                )
            )
        subtotal = sum(line.line_total_minor for line in lines)
        shipping = shipping_fee_minor(
            template=seller_shipping_template(seller), subtotal_minor=subtotal
        )
        commission, rate_bps = commission_for_lines(
            (line.line_total_minor, line.commission_bps) for line in lines
        )
        orders.append(
            Order(
                buyer=buyer,
                seller=seller,
                status=OrderStatus.UNPAID,
                subtotal_minor=subtotal,
                shipping_minor=shipping,
                total_minor=subtotal + shipping,
                commission_bps=rate_bps,
                commission_minor=commission,
                currency=currency,
                expires_at=now + _expiry_delta(),
                return_window_days=seller.return_window_days,
                created_at=now,
                **_address_fields(address),
            )
        )
        lines_by_seller[seller_id] = lines

    total_minor = sum(order.total_minor for order in orders)
    if expected_total_minor is not None and total_minor != expected_total_minor:
        # Charge only what the shopper saw: stop before taking anything (the atomic block rolls
        # back the stock taken above) and show the new total for confirmation.
        raise PriceChanged(
            f"The total changed from {Money(expected_total_minor, currency)} to "
            f"{Money(total_minor, currency)} since this page was shown (a price or a shipping "
            "fee changed). Check the order summary and place the order again.",
            total_minor=total_minor,
        )
    checkout = Checkout.objects.create(
        buyer=buyer,
        total_minor=total_minor,
        currency=currency,
        created_at=now,
        submit_token=submit_token or None,
    )
    for order in orders:
        order.checkout = checkout
    Order.objects.bulk_create(orders)
    all_lines = []
    for order in orders:
        for line in lines_by_seller[order.seller_id]:
            line.order = order
            all_lines.append(line)
    OrderLine.objects.bulk_create(all_lines)
    for order in orders:
        order.placed_lines = lines_by_seller[order.seller_id]
    OrderStatusEvent.objects.bulk_create(
        OrderStatusEvent(
            order=order,
            from_status="",
            to_status=OrderStatus.UNPAID,
            actor=buyer,
            message="Order placed.",
            created_at=now,
        )
        for order in orders
    )
    return checkout, orders, sold_out_product_ids


def _pay(*, checkout: Checkout, payment_method: str, orders: list[Order] | None = None) -> Checkout:
    """One payment attempt. `orders` are the checkout's orders just placed (with `placed_lines`),
    to spare reading them again; None for a retry."""
    attempt = checkout.payment_attempts + 1
    key = f"payment:checkout:{checkout.id}"
    if attempt > 1:
        key = f"{key}:attempt-{attempt}"
        # Claim the attempt: two concurrent retries of one checkout cannot both charge. (The first
        # attempt needs no claim: nobody else knows the checkout yet.)
        try:
            transition(
                CHECKOUT_MACHINE,
                pk=checkout.id,
                from_status=CheckoutStatus.FAILED,
                to_status=CheckoutStatus.OPEN,
                where=Q(payment_attempts=checkout.payment_attempts),
                fields={"payment_attempts": attempt, "idempotency_key": key},
            )
        except StaleTransition:
            raise DomainError(
                "This checkout is already being paid.", code="payment_in_progress"
            ) from None
        checkout.status = CheckoutStatus.OPEN
    checkout.payment_attempts, checkout.idempotency_key = attempt, key

    # No transaction and no locks are held here: the provider may take seconds to answer.
    try:
        result = get_gateway().payment_create(
            amount_minor=checkout.total_minor,
            currency=checkout.currency,
            transfer_group=f"checkout-{checkout.id}",
            idempotency_key=key,
            payment_method=payment_method.replace(" ", ""),
            description=f"{settings.MARKETPLACE_NAME} checkout {checkout.id}",
            metadata={"checkout_id": str(checkout.id)},
        )
    except PaymentDeclined as declined:
        return checkout_mark_failed(
            checkout=checkout,
            message=declined.message,
            payment_id=declined.payment_id,
            declined=True,
        )
    except GatewayUnavailable:
        return checkout_mark_failed(checkout=checkout, message=UNAVAILABLE_MESSAGE)
    except GatewayError:
        logger.exception("payment for checkout %s refused by the gateway", checkout.id)
        return checkout_mark_failed(checkout=checkout, message=ERROR_MESSAGE)
    if result.status == "succeeded":
        return checkout_mark_paid(checkout=checkout, payment=result, orders=orders)
    if result.status == "failed":
        return checkout_mark_failed(
            checkout=checkout,
            message=result.failure_message or ERROR_MESSAGE,
            payment_id=result.id,
            declined=True,
        )
    # processing / requires_action: the gateway's webhook finishes it.
    Checkout.objects.filter(id=checkout.id).update(
        gateway_payment_id=result.id, idempotency_key=key, payment_attempts=attempt
    )
    checkout.gateway_payment_id = result.id
    return checkout


def checkout_mark_failed(
    *, checkout: Checkout, message: str, payment_id: str = "", declined: bool = False
) -> Checkout:
    """Record a failed attempt (open -> failed, compare-and-swap): the orders stay unpaid with
    their stock reserved and the shopper may retry.

    A decline (`declined`: the card was refused, not the provider unreachable) cuts what is left
    of the reservation to CHECKOUT_DECLINED_HOLD_MINUTES, and the CHECKOUT_MAX_DECLINES-th decline
    releases it at once (the checkout expires), so a declined card cannot keep stock from other
    shoppers for the whole expiry."""
    now = timezone.now()
    with transaction.atomic():
        moved = transition_many(
            CHECKOUT_MACHINE,
            pks=[checkout.id],
            from_status=CheckoutStatus.OPEN,
            to_status=CheckoutStatus.FAILED,
            fields={
                "failure_message": message[:300],
                "gateway_payment_id": payment_id,
                "idempotency_key": checkout.idempotency_key,
                "payment_attempts": checkout.payment_attempts,
                "declines": F("declines") + (1 if declined else 0),
            },
            now=now,
        )
        if moved and declined:
            declines = Checkout.objects.filter(id=checkout.id).values_list("declines", flat=True)[0]
            if declines < settings.CHECKOUT_MAX_DECLINES:
                hold_until = now + timedelta(minutes=settings.CHECKOUT_DECLINED_HOLD_MINUTES)
                Order.objects.filter(checkout_id=checkout.id, status=OrderStatus.UNPAID).update(
                    expires_at=Least(F("expires_at"), hold_until)
                )
    checkout.status, checkout.failure_message = CheckoutStatus.FAILED, message[:300]
    checkout.gateway_payment_id = payment_id
    if moved and declined and declines >= settings.CHECKOUT_MAX_DECLINES:
        message = (
            f"{message} After {declines} declined payments your items were released: check your "
            "card details and place the order again from your cart."
        )[:300]
        checkouts_release(checkout_ids=[checkout.id], message=message)
        checkout.status, checkout.failure_message = CheckoutStatus.EXPIRED, message
    return checkout


def checkout_mark_paid(
    *, checkout: Checkout, payment: PaymentResult, orders: list[Order] | None = None
) -> Checkout:
    """Record a successful payment: checkout paid, each order on hold, the ledger posted per
    order, the bought lines removed from the cart; emails after commit. Idempotent: a second call
    (a webhook after the synchronous answer) changes nothing. `orders`: the checkout's orders
    with `placed_lines` when the caller has them in memory.

    A payment that comes after an order of the checkout expired (a retry started seconds before
    the expiry, a payment confirmed late) is not recorded: its stock is gone. The money was
    taken, so it goes back: the checkout's remaining orders are released and the whole payment is
    refunded automatically (refund_late_payment, once whatever calls it); then DomainError
    `checkout_expired` tells the shopper so."""
    try:
        return _record_payment(checkout=checkout, payment=payment, orders=orders)
    except _LatePayment:
        _refund_late_payment(checkout=checkout, payment=payment)
        raise DomainError(EXPIRED_WHILE_PAYING, code="checkout_expired") from None


def _refund_late_payment(*, checkout: Checkout, payment: PaymentResult) -> None:
    # The expiry job cancels a checkout's orders one by one: the payment may have landed between
    # two of them. The ones left will not be paid now (their time is up too): release them, so
    # the checkout expires and the whole payment goes back.
    checkouts_release(checkout_ids=[checkout.id], message=EXPIRED_WHILE_PAYING)
    refund_late_payment(checkout_id=checkout.id, payment_id=payment.id)
    checkout.refresh_from_db()


def _record_payment(
    *, checkout: Checkout, payment: PaymentResult, orders: list[Order] | None
) -> Checkout:
    now = timezone.now()
    window = cancel_window()
    with transaction.atomic():
        paid = transition_many(
            CHECKOUT_MACHINE,
            pks=[checkout.id],
            from_status=[CheckoutStatus.OPEN, CheckoutStatus.FAILED],
            to_status=CheckoutStatus.PAID,
            fields={
                "paid_at": now,
                "gateway_payment_id": payment.id,
                "idempotency_key": checkout.idempotency_key,
                "payment_attempts": checkout.payment_attempts,
                "failure_message": "",
            },
            now=now,
        )
        if not paid:
            checkout.refresh_from_db()
            if checkout.status == CheckoutStatus.EXPIRED:
                raise _LatePayment
            return checkout  # already paid
        if orders is None:
            # Every order of the checkout, whatever its status: one that expired meanwhile must
            # count as not moved below, or its share of the payment would be kept unnoticed.
            orders = list(
                Order.objects.filter(checkout=checkout)
                .select_related("seller__owner")
                .prefetch_related("lines")
                .order_by("id")
            )
            for order in orders:
                order.placed_lines = list(order.lines.all())
        moved = transition_many(
            ORDER_MACHINE,
            pks=[order.id for order in orders],
            from_status=OrderStatus.UNPAID,
            to_status=OrderStatus.ON_HOLD,
            message="Payment received.",
            fields={"paid_at": now, "cancel_window_ends_at": now + window},
            now=now,
        )
        if len(moved) != len(orders):
            # An order expired between the reservation and the payment: its stock is gone, so
            # refuse to record the payment (the caller refunds it and tells the shopper). The
            # rollback takes the moves and audit rows above with it.
            raise _LatePayment
        # One round trip for the accounts every posting below needs, instead of one per posting
        # (ledger_post creates any still missing itself; this only saves queries).
        ledger_accounts_ensure(
            [accounts.gateway_cash(checkout.currency)]
            + [accounts.platform_commission_pending(checkout.currency)]
            + [accounts.seller_pending(order.seller_id, order.currency) for order in orders]
        )
        for order in orders:
            order.status, order.paid_at = OrderStatus.ON_HOLD, now
            order.cancel_window_ends_at = now + window
            journal_order_paid(seller_order_id=order.id, split=order_split(order))
        bought = {line.sku_id for order in orders for line in order.placed_lines if line.sku_id}
        CartLine.objects.filter(cart__user_id=checkout.buyer_id, sku_id__in=bought).delete()
        _notify_paid(checkout=checkout, orders=orders)
    checkout.status, checkout.paid_at, checkout.gateway_payment_id = (
        CheckoutStatus.PAID,
        now,
        payment.id,
    )
    return checkout


def _notify_paid(*, checkout: Checkout, orders: list[Order]) -> None:
    """The buyer's confirmation and one new-order email per seller, in the payment's transaction,
    from what the payment step has in memory (three queries whatever the number of sellers)."""
    buyer = checkout.buyer
    order_contexts = [
        {
            "number": order.number,
            "shop_name": order.seller.shop_name,
            "total": str(Money(order.total_minor, order.currency)),
            "ship_name": order.ship_name,
            "ship_one_line": order.ship_one_line,
            "lines": [
                {
                    "quantity": line.quantity,
                    "product_title": line.product_title,
                    "sku_code": line.sku_code,
                    "option_label": line.option_label,
                }
                for line in order.placed_lines
            ],
        }
        for order in orders
    ]
    buyer_notice = {
        "kind": "order.paid.buyer",
        "key": f"checkout-paid:{checkout.pk}:buyer",
        "to_email": buyer.email,
        "user": buyer,
        "about": f"checkout:{checkout.pk}",
        "subject_template": "orders/email/buyer_confirmation_subject.txt",
        "body_template": "orders/email/buyer_confirmation.txt",
        "context": {
            "total": str(Money(checkout.total_minor, checkout.currency)),
            "orders": order_contexts,
        },
    }
    seller_notices = [
        {
            "kind": "order.paid.seller",
            "key": f"order-paid:{order.pk}:seller",
            "to_email": order.seller.contact_email,
            "about": f"order:{order.pk}",
            "subject_template": "orders/email/seller_new_order_subject.txt",
            "body_template": "orders/email/seller_new_order.txt",
            "context": {"order": order_context},
        }
        for order, order_context in zip(orders, order_contexts, strict=True)
    ]
    notify_many([buyer_notice, *seller_notices])
