"""Every move of the return request machine and the dispute machine, legal and illegal, against
tables written out here from the issue and docs ("Returns, refunds and disputes") rather than
read from the code under test; and the documented status lists."""

import re
from pathlib import Path

import pytest

from marketplace.errors import IllegalTransition
from marketplace.state import transition
from returns.models import (
    BUYER_STATUS_LABELS,
    DISPUTE_MACHINE,
    ESCALATABLE_STATUSES,
    OPEN_STATUSES,
    RETURN_MACHINE,
    Dispute,
    DisputeStatus,
    Party,
    ReturnRequest,
    ReturnStatus,
    ReturnStatusEvent,
)
from tests.returns.factories import delivered_order, return_request

pytestmark = pytest.mark.django_db

S = ReturnStatus
# The request's life: the seller answers a new request (approve, reject, offer part); an approval
# moves on at once (a refund only to refunded, a return to awaiting the buyer's parcel); the buyer
# answers an offer; a return travels back and is received; refusals may be escalated; staff
# decide a dispute; missed deadlines close; the buyer may withdraw before the item travels.
LEGAL = {
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.REJECTED),
    (S.REQUESTED, S.PARTIAL_REFUND_OFFERED),
    (S.REQUESTED, S.WITHDRAWN),
    (S.APPROVED, S.REFUNDED),
    (S.APPROVED, S.AWAITING_BUYER_SHIPMENT),
    (S.PARTIAL_REFUND_OFFERED, S.ACCEPTED),
    (S.PARTIAL_REFUND_OFFERED, S.DECLINED),
    (S.PARTIAL_REFUND_OFFERED, S.WITHDRAWN),
    (S.PARTIAL_REFUND_OFFERED, S.CLOSED),
    (S.ACCEPTED, S.REFUNDED),
    (S.DECLINED, S.IN_DISPUTE),
    (S.REJECTED, S.IN_DISPUTE),
    (S.AWAITING_BUYER_SHIPMENT, S.BUYER_SHIPPED),
    (S.AWAITING_BUYER_SHIPMENT, S.WITHDRAWN),
    (S.AWAITING_BUYER_SHIPMENT, S.CLOSED),
    (S.BUYER_SHIPPED, S.RECEIVED),
    (S.BUYER_SHIPPED, S.IN_DISPUTE),
    (S.RECEIVED, S.REFUNDED),
    (S.IN_DISPUTE, S.REFUNDED),
    (S.IN_DISPUTE, S.CLOSED),
}
PAIRS = [(a, b) for a in S.values for b in S.values if a != b]

# The statuses in the order the issue lists them, which of them hold their lines (and keep the
# order from completing), which may be escalated, and which are final.
DOCUMENTED_STATUSES = [
    "requested",
    "approved",
    "rejected",
    "partial_refund_offered",
    "accepted",
    "declined",
    "awaiting_buyer_shipment",
    "buyer_shipped",
    "received",
    "in_dispute",
    "refunded",
    "withdrawn",
    "closed",
]
DOCUMENTED_OPEN = {
    "requested",
    "approved",
    "partial_refund_offered",
    "accepted",
    "awaiting_buyer_shipment",
    "buyer_shipped",
    "received",
    "in_dispute",
}
DOCUMENTED_FINAL = {"refunded", "withdrawn", "closed"}

D = DisputeStatus
DISPUTE_LEGAL = {(D.OPEN, D.DECIDED_FOR_BUYER), (D.OPEN, D.DECIDED_FOR_SELLER)}
DISPUTE_PAIRS = [(a, b) for a in D.values for b in D.values if a != b]


@pytest.fixture
def request_row(seller):
    """A new request (requested) about a delivered order."""
    return return_request(delivered_order(seller, (2500, 1)))


def put_in(request: ReturnRequest, status: str) -> ReturnRequest:
    # Put the request where the move starts (a test set-up, not a transition).
    ReturnRequest.objects.filter(pk=request.pk).update(status=status)
    request.refresh_from_db()
    return request


# --- The documented lists ------------------------------------------------------------------------


def test_the_statuses_are_the_documented_ones():
    assert list(S.values) == DOCUMENTED_STATUSES
    assert set(RETURN_MACHINE.transitions) == set(DOCUMENTED_STATUSES)


def documented_moves() -> set[tuple[str, str]]:
    """The table of docs/architecture.md ("Returns, refunds and disputes"): one row per status
    (or statuses) moved from, the statuses moved to in the second cell, remarks in brackets."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    section = text.split("## Returns, refunds and disputes", 1)[1].split("\n## ", 1)[0]
    table = section.split("**The request's machine**", 1)[1]
    moves = set()
    rows = re.findall(r"^\| ([a-z_, ]+) \| (.+) \|$", table, flags=re.MULTILINE)
    assert rows[0] == ("from", "to"), rows[0]
    for row in rows[1:]:
        targets = re.sub(r"\([^)]*\)", "", row[1])
        for from_status in row[0].split(","):
            for to_status in targets.split(","):
                if to_status.strip():
                    moves.add((from_status.strip(), to_status.strip()))
    return moves


def test_the_machine_is_the_table_in_the_architecture_document():
    assert documented_moves() == {(str(a), str(b)) for a, b in LEGAL}


def test_the_open_statuses_are_those_that_are_not_refused_or_final():
    assert set(OPEN_STATUSES) == DOCUMENTED_OPEN
    assert set(ESCALATABLE_STATUSES) == {"rejected", "declined"}
    assert DOCUMENTED_OPEN | {"rejected", "declined"} | DOCUMENTED_FINAL == set(S.values)


def test_the_final_statuses_go_nowhere_and_every_other_status_goes_somewhere():
    for status in S.values:
        assert (not RETURN_MACHINE.transitions[status]) == (status in DOCUMENTED_FINAL), status


def test_every_status_is_reachable_from_requested():
    seen, frontier = {S.REQUESTED.value}, [S.REQUESTED.value]
    while frontier:
        for nxt in RETURN_MACHINE.transitions[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S.values)


def test_the_buyer_reads_a_label_for_every_status():
    assert set(BUYER_STATUS_LABELS) == set(S.values)
    assert all(label.strip() for label in BUYER_STATUS_LABELS.values())


def test_the_dispute_statuses_are_the_documented_ones():
    assert list(D.values) == ["open", "decided_for_buyer", "decided_for_seller"]


# --- The request machine -------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_the_request_machine_allows_exactly_the_documented_moves(from_status, to_status):
    assert RETURN_MACHINE.allows(from_status, to_status) == ((from_status, to_status) in LEGAL)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_a_legal_move_changes_the_request_and_writes_its_audit_row(
    request_row, from_status, to_status
):
    request = put_in(request_row, from_status)
    events = ReturnStatusEvent.objects.filter(request=request).count()

    transition(RETURN_MACHINE, instance=request, to_status=to_status, message="test")

    request.refresh_from_db()
    assert request.status == to_status
    assert ReturnStatusEvent.objects.filter(request=request).count() == events + 1
    last = ReturnStatusEvent.objects.filter(request=request).latest("id")
    assert (last.from_status, last.to_status, last.message) == (from_status, to_status, "test")


@pytest.mark.parametrize(
    ("from_status", "to_status"), [pair for pair in PAIRS if pair not in LEGAL]
)
def test_an_illegal_move_of_a_request_is_refused_and_writes_nothing(
    request_row, from_status, to_status
):
    request = put_in(request_row, from_status)
    events = ReturnStatusEvent.objects.filter(request=request).count()

    with pytest.raises(IllegalTransition):
        transition(RETURN_MACHINE, instance=request, to_status=to_status)

    request.refresh_from_db()
    assert request.status == from_status
    assert ReturnStatusEvent.objects.filter(request=request).count() == events


# --- The dispute machine -------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), DISPUTE_PAIRS)
def test_the_dispute_machine_allows_exactly_the_documented_moves(from_status, to_status):
    assert DISPUTE_MACHINE.allows(from_status, to_status) == (
        (from_status, to_status) in DISPUTE_LEGAL
    )


def dispute_in(request: ReturnRequest, status: str) -> Dispute:
    put_in(request, S.IN_DISPUTE)
    return Dispute.objects.create(request=request, opened_by=Party.BUYER, status=status)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(DISPUTE_LEGAL))
def test_a_legal_move_decides_the_dispute(request_row, from_status, to_status):
    dispute = dispute_in(request_row, from_status)

    transition(DISPUTE_MACHINE, instance=dispute, to_status=to_status)

    dispute.refresh_from_db()
    assert dispute.status == to_status


@pytest.mark.parametrize(
    ("from_status", "to_status"), [pair for pair in DISPUTE_PAIRS if pair not in DISPUTE_LEGAL]
)
def test_an_illegal_move_of_a_dispute_is_refused_and_writes_nothing(
    request_row, from_status, to_status
):
    dispute = dispute_in(request_row, from_status)

    with pytest.raises(IllegalTransition):
        transition(DISPUTE_MACHINE, instance=dispute, to_status=to_status)

    dispute.refresh_from_db()
    assert dispute.status == from_status
