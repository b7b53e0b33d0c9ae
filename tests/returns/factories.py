"""Orders ready for after-sales, and requests in each state, built through the services people
use (orders' shipping and tracking, returns' requests)."""

from datetime import timedelta

from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services.fulfilment import PackageInput, order_ship
from orders.services.tracking import tracking_poll_due
from returns.models import RequestKind, RequestReason, ReturnRequest
from returns.services.requests import return_request_create
from tests.orders.factories import ready_to_ship

_numbers = iter(range(10**9, 10**10))


def demo_tracking_number() -> str:
    """A fresh Agora Demo Post number (the demo carrier delivers it two hours after shipment)."""
    return f"DP{next(_numbers)}"


def delivered_order(seller, *lines: tuple[int, int], buyer=None, shipped_at=None) -> Order:
    """An order of `seller` (one line per (price_minor, quantity); one $25.00 line by default)
    shipped with the demo carrier and delivered by the tracking job."""
    order = ready_to_ship(seller, *lines, buyer=buyer)
    order_ship(
        order_id=order.pk,
        seller=seller,
        actor=None,
        packages=[PackageInput(carrier="demo", tracking_number=demo_tracking_number(), lines=None)],
    )
    shipped_at = shipped_at or timezone.now() - timedelta(days=1)
    order.shipments.update(created_at=shipped_at)
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED, order.status
    return order


def return_request(
    order: Order,
    *,
    kind=RequestKind.RETURN_AND_REFUND,
    reason=RequestReason.DAMAGED,
    quantities: dict[int, int] | None = None,
    now=None,
) -> ReturnRequest:
    """The buyer's request about every unit of every line (or `quantities`)."""
    if quantities is None:
        quantities = {line.pk: line.quantity for line in order.lines.all()}
    return return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind=kind,
        reason=reason,
        description="The box was crushed.",
        quantities=quantities,
        now=now,
    )


# --- Requests further along, each step through the service people use (tests/returns/test_*) ---


def awaiting_shipment(order: Order, *, quantities=None, now=None) -> ReturnRequest:
    """A return and refund request the seller approved: waiting for the buyer's parcel."""
    from returns.services.requests import return_approve

    request = return_request(order, quantities=quantities, now=now)
    return return_approve(request_id=request.pk, seller=order.seller, now=now)


def shipped_back(order: Order, *, quantities=None, now=None, tracking_number=None):
    """An approved return the buyer sent back at `now` with the demo carrier (which delivers it
    two hours later)."""
    from returns.services.shipping import return_ship_back

    request = awaiting_shipment(order, quantities=quantities, now=now)
    return_ship_back(
        request_id=request.pk,
        buyer=order.buyer,
        carrier="demo",
        tracking_number=tracking_number or demo_tracking_number(),
        now=now,
    )
    request.refresh_from_db()
    return request


def return_parcel_delivered(request: ReturnRequest) -> ReturnRequest:
    """Run the tracking job three hours after the return parcel was shipped: the demo carrier
    has delivered it by then."""
    shipped_at = request.return_shipment.created_at
    tracking_poll_due(now=shipped_at + timedelta(hours=3), min_interval=timedelta(0))
    request.refresh_from_db()
    return request


def rejected_request(
    order: Order, *, kind=RequestKind.RETURN_AND_REFUND, quantities=None, now=None
):
    """A request the seller rejected (with a reason); escalatable for RETURN_ESCALATION_DAYS."""
    from returns.services.requests import return_reject

    request = return_request(order, kind=kind, quantities=quantities, now=now)
    return return_reject(
        request_id=request.pk,
        seller=order.seller,
        actor=order.seller.owner,
        reason_text="The photos show wear from use.",
        now=now,
    )


def offered_request(order: Order, *, amount_minor: int, quantities=None, now=None):
    """A refund-only request the seller answered with a partial offer of `amount_minor`."""
    from returns.services.requests import return_offer_partial

    request = return_request(order, kind=RequestKind.REFUND_ONLY, quantities=quantities, now=now)
    return return_offer_partial(
        request_id=request.pk,
        seller=order.seller,
        actor=order.seller.owner,
        amount_minor=amount_minor,
        now=now,
    )


def disputed_request(order: Order, *, quantities=None, now=None) -> ReturnRequest:
    """A rejected request the buyer escalated: in dispute, its Dispute open."""
    from returns.models import Party
    from returns.services.disputes import return_escalate

    request = rejected_request(order, quantities=quantities, now=now)
    return return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="It arrived broken; the seller says otherwise.",
        now=now,
    )


def balance_minor(account: tuple[str, str]) -> int:
    """A ledger account's balance in minor units (marketplace.ledger.accounts names them)."""
    from marketplace.ledger.services import ledger_balance

    return ledger_balance(account).amount_minor
