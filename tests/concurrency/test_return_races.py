"""Returns acted on from several places at once, with real threads on PostgreSQL: a
double-clicked accept, the seller and the deadline job together, two tabs asking about the same
line, two staff deciding one dispute, a double-clicked receipt. One transition, one refund, one
restock each time; the second caller is answered or refused, never a deadlock or a 500."""

from datetime import timedelta

import pytest

from catalog.models import SKU
from marketplace.errors import DomainError
from marketplace.ledger.models import LedgerTransaction
from orders.models import Refund
from returns.models import (
    Dispute,
    DisputeStatus,
    RequestKind,
    RequestReason,
    ReturnRequest,
    ReturnStatus,
    ReturnStatusEvent,
)
from returns.services.deadlines import returns_auto_approve
from returns.services.disputes import dispute_decide
from returns.services.requests import (
    LineAlreadyRequested,
    return_approve,
    return_offer_accept,
    return_request_create,
    return_withdraw,
)
from returns.services.shipping import return_confirm_receipt
from tests.accounts.factories import StaffUserFactory
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.returns.factories import (
    delivered_order,
    disputed_request,
    offered_request,
    return_parcel_delivered,
    return_request,
    shipped_back,
)

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def outcome(call):
    """The call's result, or the domain error it raised (run_at_once fails on anything else)."""
    try:
        return call()
    except DomainError as error:
        return error


def moves_to(request, status) -> int:
    return ReturnStatusEvent.objects.filter(request=request, to_status=status).count()


def assert_refunded_once(request, amount_minor):
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert Refund.objects.filter(order=request.order).count() == 1
    assert request.refund.amount_minor == amount_minor
    assert LedgerTransaction.objects.filter(kind="order_refunded").count() == 1
    assert moves_to(request, ReturnStatus.REFUNDED) == 1


def test_an_offer_accepted_twice_at_once_refunds_once(seller):
    order = delivered_order(seller, (2500, 1))
    request = offered_request(order, amount_minor=900)

    results = run_at_once(
        2, lambda i: return_offer_accept(request_id=request.pk, buyer=order.buyer)
    )

    assert [result.status for result in results] == [ReturnStatus.REFUNDED] * 2
    assert_refunded_once(request, 900)
    assert moves_to(request, ReturnStatus.ACCEPTED) == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (RequestKind.REFUND_ONLY, ReturnStatus.REFUNDED),
        (RequestKind.RETURN_AND_REFUND, ReturnStatus.AWAITING_BUYER_SHIPMENT),
    ],
)
def test_the_seller_approving_while_the_job_approves_moves_the_request_once(seller, kind, status):
    order = delivered_order(seller, (2500, 2))
    request = return_request(order, kind=kind)
    late = request.respond_by + timedelta(minutes=1)

    def act(index):
        if index == 0:
            return outcome(lambda: return_approve(request_id=request.pk, seller=seller, now=late))
        return outcome(lambda: returns_auto_approve(now=late))

    results = run_at_once(2, act)

    assert not any(isinstance(result, DomainError) for result in results), results
    request.refresh_from_db()
    assert request.status == status
    assert moves_to(request, ReturnStatus.APPROVED) == 1
    assert moves_to(request, status) == 1
    expected_refunds = 1 if kind == RequestKind.REFUND_ONLY else 0
    assert Refund.objects.filter(order=order).count() == expected_refunds


def test_two_requests_on_the_same_line_at_once_create_one(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()

    results = run_at_once(
        2,
        lambda i: outcome(
            lambda: return_request_create(
                order_id=order.pk,
                buyer=order.buyer,
                kind=RequestKind.RETURN_AND_REFUND,
                reason=RequestReason.DAMAGED,
                quantities={line.pk: 1 + i},
            )
        ),
    )

    created = [r for r in results if isinstance(r, ReturnRequest)]
    refused = [r for r in results if isinstance(r, LineAlreadyRequested)]
    assert len(created) == len(refused) == 1, results
    assert refused[0].request_id == created[0].pk
    assert ReturnRequest.objects.get() == created[0]


def test_two_staff_deciding_one_dispute_at_once_decide_it_once(seller):
    order = delivered_order(seller, (2500, 1))
    request = disputed_request(order)
    dispute = request.dispute
    staff = [StaffUserFactory(), StaffUserFactory()]

    results = run_at_once(
        2,
        lambda i: outcome(
            lambda: dispute_decide(
                dispute_id=dispute.pk, staff=staff[i], for_buyer=i == 0, note=f"Decision {i}."
            )
        ),
    )

    decided = [r for r in results if isinstance(r, Dispute)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(decided) == len(refused) == 1, results
    assert refused[0].code == "already_decided"
    dispute.refresh_from_db()
    request.refresh_from_db()
    if dispute.status == DisputeStatus.DECIDED_FOR_BUYER:
        assert_refunded_once(request, 2500)
    else:
        assert request.status == ReturnStatus.CLOSED
        assert not Refund.objects.exists()
    assert dispute.decided_by == decided[0].decided_by


def test_receipt_confirmed_twice_at_once_refunds_and_restocks_once(seller):
    order = delivered_order(seller, (2500, 2))
    sku_id = order.lines.get().sku_id
    stock = SKU.objects.get(pk=sku_id).stock_on_hand
    request = return_parcel_delivered(shipped_back(order))

    results = run_at_once(
        2,
        lambda i: return_confirm_receipt(request_id=request.pk, seller=seller, actor=seller.owner),
    )

    assert len(results) == 2
    assert_refunded_once(request, 5000)
    assert moves_to(request, ReturnStatus.RECEIVED) == 1
    assert SKU.objects.get(pk=sku_id).stock_on_hand == stock + 2


def test_the_buyer_withdrawing_while_the_seller_approves_leaves_one_of_them(seller):
    order = delivered_order(seller)
    request = return_request(order, kind=RequestKind.REFUND_ONLY)

    def act(index):
        if index == 0:
            return outcome(lambda: return_withdraw(request_id=request.pk, buyer=order.buyer))
        return outcome(lambda: return_approve(request_id=request.pk, seller=seller))

    results = run_at_once(2, act)

    request.refresh_from_db()
    assert request.status in (ReturnStatus.WITHDRAWN, ReturnStatus.REFUNDED)
    assert sum(isinstance(result, DomainError) for result in results) == 1, results
    assert Refund.objects.count() == (1 if request.status == ReturnStatus.REFUNDED else 0)
    assert ReturnStatusEvent.objects.filter(request=request).count() == (
        2 if request.status == ReturnStatus.REFUNDED else 1
    )
