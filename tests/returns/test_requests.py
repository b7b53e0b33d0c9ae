"""The returns services, step by step: asking, answering, offers, withdrawal, escalation and the
marketplace's decision, the return parcel and its receipt; each refusal writes nothing. Also the
emails each step stores, the order completing only once nothing is open, and the ledger
(docs/architecture.md, "Returns, refunds and disputes"; issue 11)."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from catalog.models import SKU
from marketplace.ledger import accounts
from marketplace.ledger.journal import journal_order_settled, journal_seller_payout_created
from marketplace.ledger.models import LedgerEntry
from marketplace.money import Money
from marketplace.notifications.models import Notification
from orders.models import (
    Order,
    OrderStatus,
    OrderStatusEvent,
    Refund,
    RefundLine,
    RefundReason,
    Shipment,
    ShipmentDirection,
    ShipmentStatus,
)
from orders.services.deadlines import orders_auto_complete
from orders.services.refunds import order_split
from returns.models import (
    Dispute,
    DisputeStatus,
    Party,
    RequestKind,
    RequestReason,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
    ReturnStatusEvent,
)
from returns.services.common import ReturnNotFound, ReturnRefused
from returns.services.disputes import dispute_add_statement, dispute_decide, return_escalate
from returns.services.requests import (
    LineAlreadyRequested,
    return_approve,
    return_offer_accept,
    return_offer_decline,
    return_offer_partial,
    return_reject,
    return_request_create,
    return_withdraw,
)
from returns.services.shipping import (
    return_confirm_receipt,
    return_report_problem,
    return_ship_back,
)
from tests.accounts.factories import UserFactory
from tests.orders.factories import UPS, ShippingTemplateFactory, ready_to_ship
from tests.returns.factories import (
    awaiting_shipment,
    balance_minor,
    delivered_order,
    demo_tracking_number,
    disputed_request,
    offered_request,
    rejected_request,
    return_parcel_delivered,
    shipped_back,
)
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def create(order, *, kind=RequestKind.RETURN_AND_REFUND, reason=RequestReason.DAMAGED, **kwargs):
    kwargs.setdefault("quantities", {line.pk: line.quantity for line in order.lines.all()})
    return return_request_create(
        order_id=order.pk, buyer=order.buyer, kind=kind, reason=reason, **kwargs
    )


def refused(code, call, **kwargs):
    """`call(**kwargs)` is refused with `code`."""
    with pytest.raises(ReturnRefused) as error:
        call(**kwargs)
    assert error.value.code == code, error.value
    return error.value


def statuses(request) -> list[tuple[str, str]]:
    return list(
        ReturnStatusEvent.objects.filter(request=request)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


def held_lines(request) -> list[bool]:
    return list(
        ReturnRequestLine.objects.filter(request=request)
        .order_by("id")
        .values_list("holds_line", flat=True)
    )


def reload(request) -> ReturnRequest:
    request.refresh_from_db()
    return request


# --- The buyer asks ----------------------------------------------------------------------------


def test_a_request_inside_the_window_holds_its_lines_and_waits_for_the_seller(seller):
    order = delivered_order(seller, (2500, 2), (1000, 1))
    first, second = order.lines.order_by("id")
    now = timezone.now()

    request = create(
        order,
        quantities={first.pk: 1, second.pk: 1},
        description="  Cracked\x00 lid  ",
        now=now,
    )

    assert request.status == ReturnStatus.REQUESTED
    assert (request.seller, request.buyer) == (seller, order.buyer)
    assert request.requested_amount_minor == 2500 + 1000
    assert request.description == "Cracked lid"
    assert request.respond_by == now + timedelta(hours=48)
    lines = list(request.lines.order_by("order_line_id"))
    assert [(line.order_line_id, line.quantity, line.amount_minor) for line in lines] == [
        (first.pk, 1, 2500),
        (second.pk, 1, 1000),
    ]
    assert held_lines(request) == [True, True]


def test_the_last_moment_of_the_window_is_inside_and_the_next_is_outside(seller):
    order = delivered_order(seller)
    ends = order.delivered_at + timedelta(days=seller.return_window_days)

    error = refused("window_closed", create, order=order, now=ends + timedelta(seconds=1))
    assert "return window" in str(error)
    assert not ReturnRequest.objects.exists()

    assert create(order, now=ends).status == ReturnStatus.REQUESTED


def test_the_window_is_the_shops_own(seller):
    seller.return_window_days = 30
    seller.save(update_fields=["return_window_days"])
    order = delivered_order(seller)

    assert create(order, now=order.delivered_at + 29 * DAY).pk


@pytest.mark.parametrize("shipped", [False, True], ids=["awaiting_shipment", "in_transit"])
def test_an_order_not_delivered_yet_is_refused(seller, shipped):
    order = ready_to_ship(seller)
    if shipped:
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.IN_TRANSIT)

    refused("not_delivered", create, order=order)

    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize(
    ("kind", "reason", "code"),
    [
        (RequestKind.REFUND_ONLY, RequestReason.CHANGED_MIND, "invalid_reason"),
        (RequestKind.REFUND_ONLY, RequestReason.WRONG_ITEM, "invalid_reason"),
        (RequestKind.RETURN_AND_REFUND, RequestReason.NOT_RECEIVED, "invalid_reason"),
        (RequestKind.RETURN_AND_REFUND, "made_up", "invalid_reason"),
        ("exchange", RequestReason.DAMAGED, "invalid_kind"),
    ],
)
def test_a_reason_that_does_not_fit_the_kind_is_refused(seller, kind, reason, code):
    order = delivered_order(seller)

    refused(code, create, order=order, kind=kind, reason=reason)

    assert not ReturnRequest.objects.exists()
    assert not Notification.objects.filter(kind__startswith="return.").exists()


@pytest.mark.parametrize(
    ("units", "code"),
    [
        (0, "no_items"),
        (-1, "invalid_quantity"),
        ("1", "invalid_quantity"),
        (3, "quantity_too_large"),
    ],
)
def test_zero_negative_or_too_many_units_are_refused(seller, units, code):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()

    refused(code, create, order=order, quantities={line.pk: units})

    assert not ReturnRequest.objects.exists()
    assert not ReturnRequestLine.objects.exists()


def test_no_item_at_all_is_refused(seller):
    order = delivered_order(seller)

    refused("no_items", create, order=order, quantities={})


def test_a_line_of_another_order_is_not_found(seller):
    order = delivered_order(seller)
    other = delivered_order(seller, buyer=order.buyer)

    with pytest.raises(ReturnNotFound):
        create(order, quantities={other.lines.get().pk: 1})
    assert not ReturnRequest.objects.exists()


def test_another_buyers_order_is_not_found(seller):
    order = delivered_order(seller)

    with pytest.raises(ReturnNotFound):
        return_request_create(
            order_id=order.pk,
            buyer=UserFactory(),
            kind=RequestKind.REFUND_ONLY,
            reason=RequestReason.DAMAGED,
            quantities={order.lines.get().pk: 1},
        )
    assert not ReturnRequest.objects.exists()


def test_a_second_request_on_the_same_units_is_sent_to_the_first(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()
    first = create(order, quantities={line.pk: 1})

    with pytest.raises(LineAlreadyRequested) as error:
        create(order, quantities={line.pk: 1})

    assert error.value.request_id == first.pk
    assert ReturnRequest.objects.get() == first


def test_a_second_request_on_other_lines_of_the_same_order_is_allowed(seller):
    order = delivered_order(seller, (2500, 1), (1000, 1))
    first_line, second_line = order.lines.order_by("id")
    first = create(order, quantities={first_line.pk: 1})

    second = create(order, kind=RequestKind.REFUND_ONLY, quantities={second_line.pk: 1})

    assert {first.status, second.status} == {ReturnStatus.REQUESTED}
    assert held_lines(first) == held_lines(second) == [True]


def test_only_the_units_not_refunded_yet_may_be_asked_about(seller):
    order = delivered_order(seller, (2500, 3))
    line = order.lines.get()
    done = create(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 2})
    return_approve(request_id=done.pk, seller=seller)

    refused("quantity_too_large", create, order=order, quantities={line.pk: 2})

    assert create(order, quantities={line.pk: 1}).requested_amount_minor == 2500


# --- The seller approves -----------------------------------------------------------------------


def test_approving_a_refund_only_refunds_it_in_full_and_releases_its_lines(seller):
    order = delivered_order(seller, (2500, 2), (1000, 1))
    first, second = order.lines.order_by("id")
    request = create(order, kind=RequestKind.REFUND_ONLY, quantities={first.pk: 1, second.pk: 1})

    return_approve(request_id=request.pk, seller=seller, actor=seller.owner)

    request = reload(request)
    refund = Refund.objects.get(order=order)
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund == refund
    assert (refund.amount_minor, refund.shipping_minor, refund.reason) == (
        3500,
        0,
        RefundReason.RETURN,
    )
    assert refund.idempotency_key == f"refund:return:{request.pk}"
    assert sorted(refund.lines.values_list("order_line_id", "quantity", "amount_minor")) == [
        (first.pk, 1, 2500),
        (second.pk, 1, 1000),
    ]
    assert held_lines(request) == [False, False]
    assert statuses(request) == [
        (ReturnStatus.REQUESTED, ReturnStatus.APPROVED),
        (ReturnStatus.APPROVED, ReturnStatus.REFUNDED),
    ]


def test_approving_a_return_waits_for_the_buyers_parcel(seller):
    order = delivered_order(seller, (2500, 1))
    request = create(order)
    now = timezone.now()

    return_approve(request_id=request.pk, seller=seller, now=now)

    request = reload(request)
    assert request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    assert request.ship_back_by == now + 7 * DAY
    assert not Refund.objects.exists()
    assert held_lines(request) == [True]


def test_approving_twice_refunds_once(seller):
    order = delivered_order(seller)
    request = create(order, kind=RequestKind.REFUND_ONLY)

    return_approve(request_id=request.pk, seller=seller)
    again = return_approve(request_id=request.pk, seller=seller)

    assert again.status == ReturnStatus.REFUNDED
    assert Refund.objects.count() == 1
    assert len(statuses(request)) == 2


# --- The seller rejects ------------------------------------------------------------------------


@pytest.mark.parametrize("reason_text", ["", "   ", "\x00"])
def test_rejecting_needs_a_reason(seller, reason_text):
    request = create(delivered_order(seller))

    refused(
        "reason_required",
        return_reject,
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        reason_text=reason_text,
    )

    assert reload(request).status == ReturnStatus.REQUESTED
    assert held_lines(request) == [True]


def test_rejecting_gives_a_reason_and_a_time_to_escalate_and_releases_the_lines(seller):
    request = create(delivered_order(seller))
    now = timezone.now()

    return_reject(
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        reason_text="  Scratches from use.  ",
        now=now,
    )

    request = reload(request)
    assert request.status == ReturnStatus.REJECTED
    assert request.reject_reason == "Scratches from use."
    assert request.escalate_by == now + 7 * DAY
    assert held_lines(request) == [False]
    assert not Refund.objects.exists()


# --- The seller offers part, the buyer answers -------------------------------------------------


@pytest.mark.parametrize("amount", [0, -100, 2500, 2501], ids=["zero", "negative", "all", "more"])
def test_an_offer_of_nothing_of_everything_or_more_is_refused(seller, amount):
    request = create(delivered_order(seller), kind=RequestKind.REFUND_ONLY)

    refused(
        "amount_out_of_range",
        return_offer_partial,
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        amount_minor=amount,
    )

    request = reload(request)
    assert request.status == ReturnStatus.REQUESTED
    assert request.offer_amount_minor is None


def test_an_offer_gives_the_buyer_a_week_to_answer(seller):
    request = create(delivered_order(seller), kind=RequestKind.REFUND_ONLY)
    now = timezone.now()

    return_offer_partial(
        request_id=request.pk, seller=seller, actor=seller.owner, amount_minor=900, now=now
    )

    request = reload(request)
    assert request.status == ReturnStatus.PARTIAL_REFUND_OFFERED
    assert (request.offer_amount_minor, request.offer_expires_at) == (900, now + 7 * DAY)
    assert held_lines(request) == [True]


def test_the_same_offer_again_is_harmless_and_another_one_is_refused(seller):
    order = delivered_order(seller)
    request = offered_request(order, amount_minor=900)

    return_offer_partial(request_id=request.pk, seller=seller, actor=None, amount_minor=900)
    refused(
        "offer_made",
        return_offer_partial,
        request_id=request.pk,
        seller=seller,
        actor=None,
        amount_minor=1200,
    )

    assert reload(request).offer_amount_minor == 900
    assert len(statuses(request)) == 1


def test_accepting_an_offer_refunds_exactly_the_offer(seller):
    order = delivered_order(seller, (2500, 2), (1000, 1))
    first, second = order.lines.order_by("id")
    request = offered_request(order, amount_minor=1801, quantities={first.pk: 1, second.pk: 1})

    return_offer_accept(request_id=request.pk, buyer=order.buyer)

    request = reload(request)
    refund = Refund.objects.get(order=order)
    assert request.status == ReturnStatus.REFUNDED and request.refund == refund
    assert (refund.amount_minor, refund.shipping_minor) == (1801, 0)
    lines = dict(refund.lines.values_list("order_line_id", "amount_minor"))
    assert sum(lines.values()) == 1801
    # Split over the lines by what their units cost (2500 : 1000).
    assert lines == {first.pk: 1286, second.pk: 515}
    assert sorted(refund.lines.values_list("quantity", flat=True)) == [1, 1]
    assert statuses(request) == [
        (ReturnStatus.REQUESTED, ReturnStatus.PARTIAL_REFUND_OFFERED),
        (ReturnStatus.PARTIAL_REFUND_OFFERED, ReturnStatus.ACCEPTED),
        (ReturnStatus.ACCEPTED, ReturnStatus.REFUNDED),
    ]
    assert held_lines(request) == [False, False]


def test_accepting_twice_refunds_once(seller):
    order = delivered_order(seller)
    request = offered_request(order, amount_minor=900)

    return_offer_accept(request_id=request.pk, buyer=order.buyer)
    again = return_offer_accept(request_id=request.pk, buyer=order.buyer)

    assert again.status == ReturnStatus.REFUNDED
    assert Refund.objects.get(order=order).amount_minor == 900


def test_declining_an_offer_gives_a_time_to_escalate_and_releases_the_lines(seller):
    order = delivered_order(seller)
    request = offered_request(order, amount_minor=900)
    now = timezone.now()

    return_offer_decline(request_id=request.pk, buyer=order.buyer, now=now)

    request = reload(request)
    assert request.status == ReturnStatus.DECLINED
    assert request.escalate_by == now + 7 * DAY
    assert held_lines(request) == [False]
    assert not Refund.objects.exists()
    # Declined: accepting afterwards is refused.
    refused("already_moved", return_offer_accept, request_id=request.pk, buyer=order.buyer)
    assert not Refund.objects.exists()


# --- The buyer withdraws -----------------------------------------------------------------------


def request_ready_to_withdraw(order, status):
    if status == ReturnStatus.REQUESTED:
        return create(order)
    if status == ReturnStatus.PARTIAL_REFUND_OFFERED:
        return offered_request(order, amount_minor=900)
    return awaiting_shipment(order)


@pytest.mark.parametrize(
    "status",
    [
        ReturnStatus.REQUESTED,
        ReturnStatus.PARTIAL_REFUND_OFFERED,
        ReturnStatus.AWAITING_BUYER_SHIPMENT,
    ],
)
def test_the_buyer_withdraws_before_the_item_travels(seller, status):
    order = delivered_order(seller)
    request = request_ready_to_withdraw(order, status)
    assert request.status == status

    return_withdraw(request_id=request.pk, buyer=order.buyer)

    request = reload(request)
    assert request.status == ReturnStatus.WITHDRAWN
    assert held_lines(request) == [False]
    assert return_withdraw(request_id=request.pk, buyer=order.buyer).status == "withdrawn"
    # Withdrawn: the seller's answers are refused, nothing is refunded.
    refused("already_moved", return_approve, request_id=request.pk, seller=seller)
    assert not Refund.objects.exists()
    # The units may be asked about again.
    assert create(order).status == ReturnStatus.REQUESTED


def rejected(order):
    return rejected_request(order)


def refunded(order):
    request = create(order, kind=RequestKind.REFUND_ONLY)
    return return_approve(request_id=request.pk, seller=order.seller)


@pytest.mark.parametrize(
    "make", [shipped_back, rejected, refunded], ids=["shipped", "rejected", "refunded"]
)
def test_withdrawing_later_is_refused(seller, make):
    order = delivered_order(seller)
    request = make(order)
    status = request.status

    refused("not_withdrawable", return_withdraw, request_id=request.pk, buyer=order.buyer)

    assert reload(request).status == status


# --- Another buyer's or seller's request -------------------------------------------------------


def test_another_sellers_request_is_not_found_for_every_seller_step(seller):
    other = ApprovedSellerFactory()
    order = delivered_order(seller)
    fresh = create(order)
    calls = [
        lambda: return_approve(request_id=fresh.pk, seller=other),
        lambda: return_reject(
            request_id=fresh.pk, seller=other, actor=other.owner, reason_text="No."
        ),
        lambda: return_offer_partial(
            request_id=fresh.pk, seller=other, actor=other.owner, amount_minor=100
        ),
        lambda: return_confirm_receipt(request_id=fresh.pk, seller=other),
        lambda: return_report_problem(
            request_id=fresh.pk, seller=other, actor=other.owner, statement="Broken."
        ),
        lambda: return_escalate(
            request_id=fresh.pk, party=Party.SELLER, user=other.owner, seller=other, statement="x"
        ),
        lambda: dispute_add_statement(
            request_id=fresh.pk, party=Party.SELLER, user=other.owner, seller=other, statement="x"
        ),
    ]
    for call in calls:
        with pytest.raises(ReturnNotFound):
            call()
    assert reload(fresh).status == ReturnStatus.REQUESTED
    assert len(statuses(fresh)) == 0


def test_another_buyers_request_is_not_found_for_every_buyer_step(seller):
    stranger = UserFactory()
    order = delivered_order(seller)
    request = offered_request(order, amount_minor=900)
    calls = [
        lambda: return_offer_accept(request_id=request.pk, buyer=stranger),
        lambda: return_offer_decline(request_id=request.pk, buyer=stranger),
        lambda: return_withdraw(request_id=request.pk, buyer=stranger),
        lambda: return_ship_back(
            request_id=request.pk,
            buyer=stranger,
            carrier="demo",
            tracking_number=demo_tracking_number(),
        ),
        lambda: return_escalate(
            request_id=request.pk, party=Party.BUYER, user=stranger, statement="x"
        ),
    ]
    for call in calls:
        with pytest.raises(ReturnNotFound):
            call()
    assert reload(request).status == ReturnStatus.PARTIAL_REFUND_OFFERED
    assert not Refund.objects.exists()


# --- Escalation and the marketplace's decision -------------------------------------------------


def test_the_buyer_escalates_a_rejected_request_and_it_holds_its_lines_again(seller):
    order = delivered_order(seller, (2500, 2))
    request = rejected_request(order)
    now = timezone.now()

    return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="  It was broken on arrival. ",
        now=now,
    )

    request = reload(request)
    dispute = Dispute.objects.get(request=request)
    assert request.status == ReturnStatus.IN_DISPUTE
    assert (dispute.status, dispute.opened_by, dispute.opened_by_user) == (
        DisputeStatus.OPEN,
        Party.BUYER,
        order.buyer,
    )
    assert dispute.buyer_statement == "It was broken on arrival."
    assert held_lines(request) == [True]
    # Held again: no other request on those units meanwhile.
    with pytest.raises(LineAlreadyRequested):
        create(order, quantities={order.lines.get().pk: 1})


def test_the_seller_escalates_a_declined_offer(seller):
    order = delivered_order(seller)
    request = offered_request(order, amount_minor=900)
    return_offer_decline(request_id=request.pk, buyer=order.buyer)

    return_escalate(
        request_id=request.pk,
        party=Party.SELLER,
        user=seller.owner,
        seller=seller,
        statement="The offer was fair.",
    )

    dispute = Dispute.objects.get(request=request)
    assert (dispute.opened_by, dispute.seller_statement) == (Party.SELLER, "The offer was fair.")
    assert reload(request).status == ReturnStatus.IN_DISPUTE


def test_escalating_twice_opens_one_dispute(seller):
    order = delivered_order(seller)
    request = disputed_request(order)

    return_escalate(request_id=request.pk, party=Party.BUYER, user=order.buyer, statement="Again")

    assert Dispute.objects.count() == 1


def test_escalating_after_escalate_by_is_refused(seller):
    order = delivered_order(seller)
    now = timezone.now()
    request = rejected_request(order, now=now)

    refused(
        "too_late",
        return_escalate,
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="Please look.",
        now=request.escalate_by + timedelta(seconds=1),
    )

    assert reload(request).status == ReturnStatus.REJECTED
    assert not Dispute.objects.exists()
    # Up to the last moment it is allowed.
    return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="Please look.",
        now=request.escalate_by,
    )
    assert reload(request).status == ReturnStatus.IN_DISPUTE


def test_escalating_needs_a_statement_and_a_refusal(seller):
    order = delivered_order(seller)
    request = create(order)

    refused(
        "statement_required",
        return_escalate,
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement=" ",
    )
    refused(
        "not_escalatable",
        return_escalate,
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="Now.",
    )
    assert not Dispute.objects.exists()


def test_escalating_while_a_newer_request_holds_the_line_is_refused(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()
    old = rejected_request(order, quantities={line.pk: 1})
    newer = create(order, quantities={line.pk: 2})

    refused(
        "line_already_requested",
        return_escalate,
        request_id=old.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="Please look.",
    )

    assert reload(old).status == ReturnStatus.REJECTED
    assert held_lines(old) == [False] and held_lines(newer) == [True]
    assert not Dispute.objects.exists()


def test_escalating_units_refunded_since_by_a_newer_request_is_refused(seller):
    """The old request's units were refunded meanwhile: a dispute about them could never be
    decided for the buyer (there is nothing left to refund)."""
    order = delivered_order(seller, (2500, 1))
    old = rejected_request(order, kind=RequestKind.REFUND_ONLY)
    newer = create(order, kind=RequestKind.REFUND_ONLY)
    return_approve(request_id=newer.pk, seller=seller)

    refused(
        "already_refunded",
        return_escalate,
        request_id=old.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="Please look.",
    )

    assert reload(old).status == ReturnStatus.REJECTED
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("amount", "refunded_minor"), [(None, 5000), (1500, 1500)], ids=["full", "partial"]
)
def test_deciding_for_the_buyer_refunds_the_amount_decided(seller, staff, amount, refunded_minor):
    order = delivered_order(seller, (2500, 2))
    request = disputed_request(order)
    dispute = request.dispute
    now = timezone.now()

    dispute_decide(
        dispute_id=dispute.pk,
        staff=staff,
        for_buyer=True,
        note="The photos show the damage.",
        refund_amount_minor=amount,
        now=now,
    )

    dispute.refresh_from_db()
    request = reload(request)
    assert dispute.status == DisputeStatus.DECIDED_FOR_BUYER
    assert (dispute.decided_by, dispute.decided_at, dispute.refund_amount_minor) == (
        staff,
        now,
        refunded_minor,
    )
    assert dispute.decision_note == "The photos show the damage."
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund.amount_minor == refunded_minor
    assert held_lines(request) == [False]


def test_deciding_for_the_seller_closes_the_request_without_refund(seller, staff):
    order = delivered_order(seller)
    request = disputed_request(order)

    dispute_decide(dispute_id=request.dispute.pk, staff=staff, for_buyer=False, note="Used.")

    request = reload(request)
    assert request.status == ReturnStatus.CLOSED
    assert request.dispute.status == DisputeStatus.DECIDED_FOR_SELLER
    assert request.dispute.refund_amount_minor is None
    assert not Refund.objects.exists()
    assert held_lines(request) == [False]


def test_deciding_twice_is_refused_with_the_first_decision(seller, staff):
    order = delivered_order(seller)
    request = disputed_request(order)
    dispute_decide(dispute_id=request.dispute.pk, staff=staff, for_buyer=True, note="Refund.")

    for for_buyer in (True, False):
        refused(
            "already_decided",
            dispute_decide,
            dispute_id=request.dispute.pk,
            staff=staff,
            for_buyer=for_buyer,
            note="Again.",
        )

    assert Refund.objects.count() == 1
    assert reload(request).status == ReturnStatus.REFUNDED


@pytest.mark.parametrize("amount", [0, 2501])
def test_a_decision_out_of_range_or_without_a_note_is_refused(seller, staff, amount):
    order = delivered_order(seller)
    request = disputed_request(order)

    refused(
        "amount_out_of_range",
        dispute_decide,
        dispute_id=request.dispute.pk,
        staff=staff,
        for_buyer=True,
        note="Refund.",
        refund_amount_minor=amount,
    )
    refused(
        "note_required",
        dispute_decide,
        dispute_id=request.dispute.pk,
        staff=staff,
        for_buyer=False,
        note="",
    )

    assert Dispute.objects.get().status == DisputeStatus.OPEN
    assert reload(request).status == ReturnStatus.IN_DISPUTE


def test_the_other_side_adds_its_statement_while_the_dispute_is_open(seller, staff):
    order = delivered_order(seller)
    request = disputed_request(order)

    dispute_add_statement(
        request_id=request.pk,
        party=Party.SELLER,
        user=seller.owner,
        seller=seller,
        statement="It left here intact.",
    )
    dispute_decide(dispute_id=request.dispute.pk, staff=staff, for_buyer=False, note="Intact.")

    assert Dispute.objects.get().seller_statement == "It left here intact."
    refused(
        "no_open_dispute",
        dispute_add_statement,
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="More.",
    )


# --- The return parcel -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "number", "code"),
    [
        ("nope", "DP0123456789", "invalid_carrier"),
        ("demo", "DP12", "invalid_tracking_number"),
        ("ups", "DP0123456789", "invalid_tracking_number"),
        ("demo", "", "invalid_tracking_number"),
    ],
)
def test_a_bad_carrier_or_tracking_number_is_refused(seller, carrier, number, code):
    order = delivered_order(seller)
    request = awaiting_shipment(order)

    refused(
        code,
        return_ship_back,
        request_id=request.pk,
        buyer=order.buyer,
        carrier=carrier,
        tracking_number=number,
    )

    assert reload(request).status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_shipping_back_records_the_parcel_and_the_same_number_again_is_harmless(seller):
    order = delivered_order(seller)
    request = awaiting_shipment(order)
    number = demo_tracking_number()

    for typed in (number, f" {number.lower()} "):
        return_ship_back(
            request_id=request.pk, buyer=order.buyer, carrier="demo", tracking_number=typed
        )

    request = reload(request)
    parcel = Shipment.objects.get(direction=ShipmentDirection.RETURN)
    assert request.status == ReturnStatus.BUYER_SHIPPED
    assert request.return_shipment == parcel
    assert (parcel.order, parcel.seller, parcel.tracking_number) == (order, seller, number)
    assert len(statuses(request)) == 3  # requested -> approved -> awaiting -> shipped


def test_a_tracking_number_another_parcel_uses_is_refused(seller):
    order = delivered_order(seller)
    outbound = order.shipments.get()
    request = awaiting_shipment(order)

    refused(
        "tracking_number_taken",
        return_ship_back,
        request_id=request.pk,
        buyer=order.buyer,
        carrier=outbound.carrier,
        tracking_number=outbound.tracking_number,
    )

    assert reload(request).status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_a_second_number_after_shipping_is_refused(seller):
    order = delivered_order(seller)
    request = shipped_back(order)

    refused(
        "already_moved",
        return_ship_back,
        request_id=request.pk,
        buyer=order.buyer,
        carrier="ups",
        tracking_number=UPS,
    )

    assert Shipment.objects.filter(direction=ShipmentDirection.RETURN).count() == 1


def test_shipping_back_after_ship_back_by_is_refused(seller):
    order = delivered_order(seller)
    request = awaiting_shipment(order)

    refused(
        "ship_back_deadline_passed",
        return_ship_back,
        request_id=request.pk,
        buyer=order.buyer,
        carrier="demo",
        tracking_number=demo_tracking_number(),
        now=request.ship_back_by + timedelta(seconds=1),
    )

    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_shipping_back_a_request_not_approved_is_refused(seller):
    order = delivered_order(seller)
    request = create(order)

    refused(
        "already_moved",
        return_ship_back,
        request_id=request.pk,
        buyer=order.buyer,
        carrier="demo",
        tracking_number=demo_tracking_number(),
    )

    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_the_tracking_job_delivers_the_return_parcel_without_moving_the_order(seller):
    order = delivered_order(seller)
    now = timezone.now()
    request = shipped_back(order, now=now)
    order_events = OrderStatusEvent.objects.filter(order=order).count()

    request = return_parcel_delivered(request)

    parcel = request.return_shipment
    assert parcel.status == ShipmentStatus.DELIVERED
    assert request.status == ReturnStatus.BUYER_SHIPPED
    assert request.return_delivered_at == parcel.delivered_at == now + timedelta(hours=2)
    assert request.confirm_receipt_by == parcel.delivered_at + timedelta(hours=48)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert OrderStatusEvent.objects.filter(order=order).count() == order_events


def test_a_return_parcel_of_a_completed_order_leaves_the_order_completed(seller):
    order = delivered_order(seller)
    orders_auto_complete(now=order.delivered_at + 8 * DAY)
    order_events = OrderStatusEvent.objects.filter(order=order).count()
    request = shipped_back(order, now=order.delivered_at + 9 * DAY)

    request = return_parcel_delivered(request)

    assert request.return_shipment.status == ShipmentStatus.DELIVERED
    assert request.confirm_receipt_by is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert OrderStatusEvent.objects.filter(order=order).count() == order_events


def test_confirming_receipt_restocks_the_resellable_units_and_refunds(seller):
    order = delivered_order(seller, (2500, 3), (1000, 1))
    first, second = order.lines.order_by("id")
    stock = dict(SKU.objects.values_list("pk", "stock_on_hand"))
    request = return_parcel_delivered(shipped_back(order))

    return_confirm_receipt(
        request_id=request.pk, seller=seller, actor=seller.owner, not_resellable={first.pk: 1}
    )

    request = reload(request)
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund.amount_minor == 3 * 2500 + 1000
    assert SKU.objects.get(pk=first.sku_id).stock_on_hand == stock[first.sku_id] + 2
    assert SKU.objects.get(pk=second.sku_id).stock_on_hand == stock[second.sku_id] + 1
    assert sorted(
        request.lines.values_list("order_line_id", "restocked_quantity", "not_resellable_quantity")
    ) == [(first.pk, 2, 1), (second.pk, 1, 0)]
    assert statuses(request)[-2:] == [
        (ReturnStatus.BUYER_SHIPPED, ReturnStatus.RECEIVED),
        (ReturnStatus.RECEIVED, ReturnStatus.REFUNDED),
    ]
    # Twice: nothing more.
    return_confirm_receipt(request_id=request.pk, seller=seller, actor=seller.owner)
    assert Refund.objects.count() == 1
    assert SKU.objects.get(pk=first.sku_id).stock_on_hand == stock[first.sku_id] + 2


@pytest.mark.parametrize("marked", [5, -1])
def test_marking_more_units_than_came_back_is_refused(seller, marked):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()
    request = return_parcel_delivered(shipped_back(order))

    refused(
        "invalid_quantity",
        return_confirm_receipt,
        request_id=request.pk,
        seller=seller,
        not_resellable={line.pk: marked},
    )

    assert reload(request).status == ReturnStatus.BUYER_SHIPPED
    assert not Refund.objects.exists()


def test_reporting_a_problem_sends_the_return_to_the_marketplace(seller):
    order = delivered_order(seller)
    request = return_parcel_delivered(shipped_back(order))
    stock = SKU.objects.get(pk=order.lines.get().sku_id).stock_on_hand

    return_report_problem(
        request_id=request.pk, seller=seller, actor=seller.owner, statement="A brick came back."
    )

    request = reload(request)
    assert request.status == ReturnStatus.IN_DISPUTE
    dispute = Dispute.objects.get(request=request)
    assert (dispute.opened_by, dispute.seller_statement) == (Party.SELLER, "A brick came back.")
    assert not Refund.objects.exists()
    assert SKU.objects.get(pk=order.lines.get().sku_id).stock_on_hand == stock
    # In dispute: confirming now is refused.
    refused("already_moved", return_confirm_receipt, request_id=request.pk, seller=seller)


def test_reporting_a_problem_after_the_time_to_confirm_is_refused(seller):
    order = delivered_order(seller)
    request = return_parcel_delivered(shipped_back(order))

    refused(
        "receipt_deadline_passed",
        return_report_problem,
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        statement="Late.",
        now=request.confirm_receipt_by + timedelta(seconds=1),
    )

    assert reload(request).status == ReturnStatus.BUYER_SHIPPED


# --- The emails --------------------------------------------------------------------------------


def notices(request) -> dict[str, Notification]:
    return {n.kind: n for n in Notification.objects.filter(about=f"return:{request.pk}")}


def assert_to_buyer(notification, order):
    assert notification.recipient == order.buyer
    assert notification.recipient_email == order.buyer.email


def assert_to_seller(notification, order):
    assert notification.recipient is None
    assert notification.recipient_email == order.seller.contact_email


def test_every_step_of_a_return_tells_the_other_side(seller):
    order = delivered_order(seller)
    request = return_parcel_delivered(shipped_back(order))
    return_confirm_receipt(request_id=request.pk, seller=seller)

    sent = notices(request)
    assert set(sent) == {
        "return.requested.seller",
        "return.approved.buyer",
        "return.shipped.seller",
        "return.return-delivered.seller",
        "return.refunded.buyer",
    }
    for kind, notification in sent.items():
        (assert_to_buyer if kind.endswith(".buyer") else assert_to_seller)(notification, order)
        assert notification.context["number"] == request.number
        assert notification.context["order_number"] == order.number


def test_offers_withdrawals_and_rejections_are_told(seller):
    order = delivered_order(seller, (2500, 1), (1000, 1), (500, 1))
    first, second, third = order.lines.order_by("id")
    accepted = offered_request(order, amount_minor=900, quantities={first.pk: 1})
    return_offer_accept(request_id=accepted.pk, buyer=order.buyer)
    declined = offered_request(order, amount_minor=300, quantities={second.pk: 1})
    return_offer_decline(request_id=declined.pk, buyer=order.buyer)
    withdrawn = create(order, quantities={third.pk: 1})
    return_withdraw(request_id=withdrawn.pk, buyer=order.buyer)
    rejected = rejected_request(order, quantities={third.pk: 1})

    assert set(notices(accepted)) == {
        "return.requested.seller",
        "return.offer.buyer",
        "return.offer-accepted.seller",
        "return.refunded.buyer",
    }
    assert set(notices(declined)) == {
        "return.requested.seller",
        "return.offer.buyer",
        "return.offer-declined.seller",
    }
    assert set(notices(withdrawn)) == {"return.requested.seller", "return.withdrawn.seller"}
    assert set(notices(rejected)) == {"return.requested.seller", "return.rejected.buyer"}
    assert_to_seller(notices(withdrawn)["return.withdrawn.seller"], order)
    assert_to_buyer(notices(rejected)["return.rejected.buyer"], order)
    assert_to_seller(notices(declined)["return.offer-declined.seller"], order)


def test_a_dispute_tells_the_other_side_and_its_decision_both(seller, staff):
    order = delivered_order(seller)
    request = disputed_request(order)
    dispute_decide(dispute_id=request.dispute.pk, staff=staff, for_buyer=False, note="Used.")

    sent = notices(request)
    assert_to_seller(sent["return.dispute-opened.seller"], order)
    assert "return.dispute-opened.buyer" not in sent
    assert_to_buyer(sent["return.dispute-decided.buyer"], order)
    assert_to_seller(sent["return.dispute-decided.seller"], order)
    assert "Used." in sent["return.dispute-decided.buyer"].context["message"]


def test_a_refused_step_stores_no_email(seller):
    order = delivered_order(seller)
    request = create(order)
    before = Notification.objects.count()

    refused(
        "amount_out_of_range",
        return_offer_partial,
        request_id=request.pk,
        seller=seller,
        actor=None,
        amount_minor=0,
    )
    refused(
        "not_escalatable",
        return_escalate,
        request_id=request.pk,
        party="buyer",
        user=order.buyer,
        statement="x",
    )

    assert Notification.objects.count() == before


# --- The order completes only once nothing is open ---------------------------------------------


def test_an_open_request_keeps_the_order_from_completing_until_it_is_refunded(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()
    later = order.delivered_at + 8 * DAY
    request = create(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 1})

    assert orders_auto_complete(now=later) == []
    return_approve(request_id=request.pk, seller=seller)

    assert orders_auto_complete(now=later) == [order.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.parametrize("make", [rejected, shipped_back], ids=["rejected", "shipped_back"])
def test_only_open_requests_hold_the_order(seller, make):
    order = delivered_order(seller)
    request = make(order)
    later = order.delivered_at + 8 * DAY

    completed = orders_auto_complete(now=later)

    assert completed == ([order.pk] if request.status == ReturnStatus.REJECTED else [])


def test_a_completed_order_still_takes_requests_inside_its_window(seller):
    order = delivered_order(seller)
    orders_auto_complete(now=order.delivered_at + 8 * DAY)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    request = create(order, now=order.delivered_at + 9 * DAY)

    assert request.status == ReturnStatus.REQUESTED


# --- The ledger --------------------------------------------------------------------------------


def pending(seller) -> int:
    return balance_minor(accounts.seller_pending(seller.pk, "USD"))


def commission_pending() -> int:
    return balance_minor(accounts.platform_commission_pending("USD"))


def test_a_refund_takes_the_sellers_share_from_pending(seller):
    order = delivered_order(seller, (2500, 2))
    assert (order.total_minor, order.commission_minor) == (5000, 100)
    line = order.lines.get()
    before, commission_before = pending(seller), commission_pending()
    request = create(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 1})

    return_approve(request_id=request.pk, seller=seller)

    # 2500 back to the buyer: 50 of it was commission, the seller gives back the other 2450.
    assert commission_before - commission_pending() == 50
    assert before - pending(seller) == 2500 - 50


def test_after_settlement_a_refund_draws_on_available_and_the_rest_becomes_debt(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()
    journal_order_settled(seller_order_id=order.pk, split=order_split(order))
    available = accounts.seller_available(seller.pk, "USD")
    debt = accounts.seller_debt(seller.pk, "USD")
    assert (balance_minor(available), balance_minor(debt)) == (4900, 0)
    first = create(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 1})
    return_approve(request_id=first.pk, seller=seller)
    assert (balance_minor(available), balance_minor(debt)) == (2450, 0)
    # A payout takes most of what is left; the next refund finds 450 available.
    journal_seller_payout_created(payout_id=990_001, seller_id=seller.pk, amount=Money(2000, "USD"))
    second = create(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 1})

    return_approve(request_id=second.pk, seller=seller)

    assert (balance_minor(available), balance_minor(debt)) == (0, 2450 - 450)
    assert pending(seller) == 0
    # The commission the platform had earned went back too.
    assert balance_minor(accounts.platform_commission_earned("USD")) == 0


def test_shipping_goes_back_only_with_the_last_of_the_order(seller):
    ShippingTemplateFactory(seller=seller, flat_fee_minor=500, free_shipping_threshold_minor=None)
    order = delivered_order(seller, (2500, 1), (1000, 2))
    assert (order.shipping_minor, order.total_minor) == (500, 5000)
    first, second = order.lines.order_by("id")
    one = create(order, kind=RequestKind.REFUND_ONLY, quantities={first.pk: 1, second.pk: 1})
    return_approve(request_id=one.pk, seller=seller)
    assert reload(one).refund.shipping_minor == 0
    assert reload(one).refund.amount_minor == 3500

    last = create(order, kind=RequestKind.REFUND_ONLY, quantities={second.pk: 1})
    return_approve(request_id=last.pk, seller=seller)

    refund = reload(last).refund
    assert (refund.amount_minor, refund.shipping_minor) == (1000 + 500, 500)
    assert Refund.objects.filter(order=order).aggregate(s=Sum("amount_minor"))["s"] == 5000
    assert RefundLine.objects.filter(refund__order=order).aggregate(s=Sum("amount_minor"))["s"] == (
        order.subtotal_minor
    )
    # Paid, then refunded in full: the order's postings net to zero on every account.
    nets = (
        LedgerEntry.objects.filter(transaction__reference=f"seller-order:{order.pk}")
        .values("account__code")
        .annotate(net=Sum("amount_minor"))
    )
    assert {row["account__code"]: row["net"] for row in nets if row["net"]} == {}


def test_a_partial_refund_keeps_the_shipping_fee(seller):
    ShippingTemplateFactory(seller=seller, flat_fee_minor=500, free_shipping_threshold_minor=None)
    order = delivered_order(seller, (2500, 1))
    request = offered_request(order, amount_minor=2000)

    return_offer_accept(request_id=request.pk, buyer=order.buyer)

    refund = reload(request).refund
    assert (refund.amount_minor, refund.shipping_minor) == (2000, 0)
