"""Checkout: reserve stock and create one order per seller, then take one payment for all of them
(DESIGN.md sections 7 and 8).

1. In one transaction: lock the cart's SKUs in id order, refuse the whole checkout when any is not
   for sale or short of stock (nothing written), take the stock with F(), create the Checkout and
   one unpaid Order per seller with copied lines and audit rows.
2. After that commits, holding no locks: one gateway payment for the checkout's total.
3. On success, in one transaction: checkout paid, orders on hold, one ledger posting per order,
   cart emptied; emails after commit. On a decline or an unreachable gateway the checkout is
   failed with a message for the shopper, the orders stay unpaid with their stock reserved until
   they expire, and checkout_retry_payment can try again with a new idempotency key.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.models import SKU
from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.journal import OrderSplit, journal_order_paid
from marketplace.ledger.services import ledger_accounts_ensure
from marketplace.money import Money
from marketplace.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentResult,
    get_gateway,
)
from orders.models import (
    BuyerAddress,
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
from orders.services.stock import (
    sku_is_buyable,
    stock_decrement,
    stock_lock_skus,
    stock_refresh_products,
    stock_release,
)
from orders.services.transitions import order_check_transition

logger = logging.getLogger(__name__)

CANCEL_WINDOW = timedelta(hours=1)
UNAVAILABLE_MESSAGE = (
    "We could not reach the payment service. Nothing was charged and your items are reserved: "
    "please try again in a moment."
)
ERROR_MESSAGE = (
    "The payment could not be processed. Nothing was charged; please try again or use another card."
)
EXPIRED_WHILE_PAYING = (
    "Your reservation expired while the payment went through. Please contact support for a refund."
)


class SoldOut(DomainError):
    code = "sold_out"


class EmptyCart(DomainError):
    code = "empty_cart"


def _expiry_delta() -> timedelta:
    return timedelta(minutes=settings.ORDER_UNPAID_EXPIRY_MINUTES)


def checkout_place(*, buyer, address: BuyerAddress, payment_method: str) -> Checkout:
    """Reserve the buyer's cart and pay for it. Returns the Checkout: `paid`, or `failed` with
    `failure_message` for the shopper (then retry with checkout_retry_payment).

    Raises EmptyCart, or SoldOut ("Sold out: <title>", code sold_out; "No longer for sale: ...",
    code not_buyable) before anything is written."""
    checkout, orders, sold_out_product_ids = _reserve(buyer=buyer, address=address)
    if sold_out_product_ids:
        stock_refresh_products(product_ids=sold_out_product_ids)
    return _pay(checkout=checkout, payment_method=payment_method, orders=orders)


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
def _reserve(*, buyer, address: BuyerAddress) -> tuple[Checkout, list[Order], list[int]]:
    now = timezone.now()
    currency = settings.MARKETPLACE_CURRENCY
    # The cart's SKUs with the wanted quantity, locked in id order, in one query.
    cart_quantity = CartLine.objects.filter(cart__user=buyer, sku_id=OuterRef("id")).values(
        "quantity"
    )
    cart_skus = SKU.objects.filter(
        id__in=CartLine.objects.filter(cart__user=buyer).values("sku_id")
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
                created_at=now,
                **_address_fields(address),
            )
        )
        lines_by_seller[seller_id] = lines

    checkout = Checkout.objects.create(
        buyer=buyer,
        total_minor=sum(order.total_minor for order in orders),
        currency=currency,
        created_at=now,
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
        claimed = Checkout.objects.filter(
            id=checkout.id,
            payment_attempts=checkout.payment_attempts,
            status=CheckoutStatus.FAILED,
        ).update(payment_attempts=attempt, idempotency_key=key, status=CheckoutStatus.OPEN)
        if claimed != 1:
            raise DomainError("This checkout is already being paid.", code="payment_in_progress")
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
            checkout=checkout, message=declined.message, payment_id=declined.payment_id
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
        )
    # processing / requires_action: the gateway's webhook finishes it.
    Checkout.objects.filter(id=checkout.id).update(
        gateway_payment_id=result.id, idempotency_key=key, payment_attempts=attempt
    )
    checkout.gateway_payment_id = result.id
    return checkout


def checkout_mark_failed(*, checkout: Checkout, message: str, payment_id: str = "") -> Checkout:
    """Record a failed attempt (open -> failed, compare-and-swap): the orders stay unpaid with
    their stock reserved until they expire; the shopper may retry."""
    Checkout.objects.filter(id=checkout.id, status=CheckoutStatus.OPEN).update(
        status=CheckoutStatus.FAILED,
        failure_message=message[:300],
        gateway_payment_id=payment_id,
        idempotency_key=checkout.idempotency_key,
        payment_attempts=checkout.payment_attempts,
    )
    checkout.status, checkout.failure_message = CheckoutStatus.FAILED, message[:300]
    checkout.gateway_payment_id = payment_id
    return checkout


def checkout_mark_paid(
    *, checkout: Checkout, payment: PaymentResult, orders: list[Order] | None = None
) -> Checkout:
    """Record a successful payment: checkout paid, each order on hold, the ledger posted per
    order, the bought lines removed from the cart; emails after commit. Idempotent: a second call
    (a webhook after the synchronous answer) changes nothing. `orders`: the checkout's orders
    with `placed_lines` when the caller has them in memory."""
    now = timezone.now()
    order_check_transition(from_status=OrderStatus.UNPAID, to_status=OrderStatus.ON_HOLD)
    with transaction.atomic():
        updated = Checkout.objects.filter(
            Q(status=CheckoutStatus.OPEN) | Q(status=CheckoutStatus.FAILED), id=checkout.id
        ).update(
            status=CheckoutStatus.PAID,
            paid_at=now,
            gateway_payment_id=payment.id,
            idempotency_key=checkout.idempotency_key,
            payment_attempts=checkout.payment_attempts,
            failure_message="",
        )
        if updated != 1:
            checkout.refresh_from_db()
            if checkout.status == CheckoutStatus.EXPIRED:
                raise DomainError(EXPIRED_WHILE_PAYING, code="checkout_expired")
            return checkout  # already paid
        if orders is None:
            orders = list(
                Order.objects.filter(checkout=checkout, status=OrderStatus.UNPAID)
                .select_related("seller__owner")
                .prefetch_related("lines")
                .order_by("id")
            )
            for order in orders:
                order.placed_lines = list(order.lines.all())
        moved = Order.objects.filter(
            id__in=[order.id for order in orders], status=OrderStatus.UNPAID
        ).update(status=OrderStatus.ON_HOLD, paid_at=now, cancel_window_ends_at=now + CANCEL_WINDOW)
        if moved != len(orders):
            # An order expired between the reservation and the payment: its stock is gone, so
            # refuse to record the payment (the shopper is told; the charge needs a refund).
            raise DomainError(EXPIRED_WHILE_PAYING, code="checkout_expired")
        OrderStatusEvent.objects.bulk_create(
            OrderStatusEvent(
                order=order,
                from_status=OrderStatus.UNPAID,
                to_status=OrderStatus.ON_HOLD,
                message="Payment received.",
                created_at=now,
            )
            for order in orders
        )
        # One round trip for the accounts every posting below needs, instead of one per posting
        # (ledger_post creates any still missing itself; this only saves queries).
        ledger_accounts_ensure(
            [accounts.gateway_cash(checkout.currency)]
            + [accounts.platform_commission_pending(checkout.currency)]
            + [accounts.seller_pending(order.seller_id, order.currency) for order in orders]
        )
        for order in orders:
            order.status, order.paid_at = OrderStatus.ON_HOLD, now
            order.cancel_window_ends_at = now + CANCEL_WINDOW
            journal_order_paid(
                seller_order_id=order.id,
                split=OrderSplit(
                    seller_id=order.seller_id,
                    total=Money(order.total_minor, order.currency),
                    commission=Money(order.commission_minor, order.currency),
                ),
            )
        bought = {line.sku_id for order in orders for line in order.placed_lines if line.sku_id}
        CartLine.objects.filter(cart__user_id=checkout.buyer_id, sku_id__in=bought).delete()
        buyer_email = checkout.buyer.email
        transaction.on_commit(
            lambda: _send_paid_emails(checkout=checkout, buyer_email=buyer_email, orders=orders)
        )
    checkout.status, checkout.paid_at, checkout.gateway_payment_id = (
        CheckoutStatus.PAID,
        now,
        payment.id,
    )
    return checkout


def _send_paid_emails(*, checkout: Checkout, buyer_email: str, orders: list[Order]) -> None:
    """From what the payment step has in memory: sending reads nothing more."""
    context = {
        "checkout": checkout,
        "orders": orders,
        "total": Money(checkout.total_minor, checkout.currency),
        "site_name": settings.MARKETPLACE_NAME,
    }
    send_mail(
        subject=f"Your {settings.MARKETPLACE_NAME} order is confirmed",
        message=render_to_string("orders/email/buyer_confirmation.txt", context),
        from_email=None,
        recipient_list=[buyer_email],
    )
    for order in orders:
        send_mail(
            subject=f"New order {order.number} to ship",
            message=render_to_string(
                "orders/email/seller_new_order.txt",
                {
                    **context,
                    "order": order,
                    "order_total": Money(order.total_minor, order.currency),
                },
            ),
            from_email=None,
            recipient_list=[order.seller.contact_email],
        )


def orders_expire_unpaid(*, now=None) -> int:
    """Cancel every unpaid order past its expiry and give its stock back, once: each order moves
    with a compare-and-swap on its status, so a second run (or a parallel worker) finds nothing
    to do. Returns how many orders expired."""
    now = now or timezone.now()
    order_check_transition(from_status=OrderStatus.UNPAID, to_status=OrderStatus.CANCELLED)
    candidate_ids = list(
        Order.objects.filter(status=OrderStatus.UNPAID, expires_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)
    )
    expired, product_ids = 0, set()
    for order_id in candidate_ids:
        with transaction.atomic():
            taken = Order.objects.filter(
                id=order_id, status=OrderStatus.UNPAID, expires_at__lte=now
            ).update(status=OrderStatus.CANCELLED)
            if taken != 1:
                continue
            expired += 1
            quantities: dict[int, int] = {}
            for sku_id, product_id, quantity in OrderLine.objects.filter(
                order_id=order_id, sku__isnull=False
            ).values_list("sku_id", "product_id_copy", "quantity"):
                quantities[sku_id] = quantities.get(sku_id, 0) + quantity
                product_ids.add(product_id)
            stock_release(quantities=quantities)
            OrderStatusEvent.objects.create(
                order_id=order_id,
                from_status=OrderStatus.UNPAID,
                to_status=OrderStatus.CANCELLED,
                message="Not paid in time: cancelled and the items released.",
                created_at=now,
            )
            checkout_id = Order.objects.filter(id=order_id).values_list("checkout_id", flat=True)[0]
            if not Order.objects.filter(
                checkout_id=checkout_id, status=OrderStatus.UNPAID
            ).exists():
                Checkout.objects.filter(
                    id=checkout_id, status__in=[CheckoutStatus.OPEN, CheckoutStatus.FAILED]
                ).update(status=CheckoutStatus.EXPIRED)
    if product_ids:
        stock_refresh_products(product_ids=[pid for pid in product_ids if pid])
    return expired
