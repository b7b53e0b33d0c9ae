from celery import shared_task
from django.conf import settings

from orders.services.cancellations import cancellations_auto_approve
from orders.services.deadlines import orders_auto_complete, orders_cancel_missed_ship_by
from orders.services.fulfilment import orders_release_for_shipment
from orders.services.refunds import late_payments_sweep, refund_attempt, refunds_retry
from orders.services.reservations import orders_expire_unpaid
from orders.services.settlement import orders_settle_due
from orders.services.tracking import tracking_poll_due


@shared_task
def expire_unpaid_orders() -> int:
    """Every minute: cancel unpaid orders past their expiry and release their stock. Safe to run
    twice or in parallel (each order moves with a compare-and-swap)."""
    return orders_expire_unpaid()


@shared_task
def cancel_missed_ship_by() -> int:
    """Every 5 minutes: cancel orders not shipped by their deadline (orders.services.deadlines).
    Safe to run twice or in parallel."""
    return len(orders_cancel_missed_ship_by())


@shared_task
def auto_complete_orders() -> int:
    """Every hour: complete delivered orders once their after-sales time has passed."""
    return len(orders_auto_complete())


@shared_task
def poll_tracking() -> dict[str, int]:
    """Every minute: ask the carriers about the open parcels due a look and record their events.
    Safe to run twice or in parallel (each parcel is claimed before its carrier is asked, and each
    event is recorded once)."""
    return tracking_poll_due(batch_size=settings.TRACKING_POLL_BATCH_SIZE)


@shared_task
def release_orders_for_shipment() -> int:
    """Every minute: orders whose free cancellation window has passed start waiting for shipment,
    with their ship-by and deliver-by dates (orders.services.fulfilment). Safe to run twice or in
    parallel (one conditional UPDATE moves each order once)."""
    return len(orders_release_for_shipment())


@shared_task
def attempt_refund(refund_id: int) -> str:
    """After a cancellation commits: ask the gateway for the refund (orders.services.refunds).
    A redelivered job does nothing once the refund succeeded; the same key refunds once."""
    return refund_attempt(refund_id=refund_id).status


@shared_task
def retry_refunds() -> int:
    """Every 10 minutes: try failed refunds again with their key (and pending ones never tried)."""
    return len(refunds_retry())


@shared_task
def auto_approve_cancellations() -> int:
    """Every 5 minutes: approve the cancellation requests their seller did not answer in time.
    Safe to run twice or in parallel (each request and order moves with a compare-and-swap)."""
    return len(cancellations_auto_approve())


@shared_task
def refund_late_payments() -> int:
    """Every 10 minutes: the backstop for payments that succeeded after their checkout expired.
    The retry path (checkout_mark_paid) and the `payment_intent.succeeded` webhook refund them as
    they find them; this asks the gateway about recently expired checkouts that hold a payment id
    and have no late-payment refund (orders.services.refunds.late_payments_sweep). Safe to run
    twice or in parallel (one refund per order, under the checkout's row lock)."""
    return len(late_payments_sweep())


@shared_task
def settle_due_orders() -> int:
    """Every 30 minutes: completed orders past the hold period release their money to the seller
    (available) and the platform (commission earned), in batches (orders.services.settlement).
    Safe to run twice or in parallel."""
    return orders_settle_due()
