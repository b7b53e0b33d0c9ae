"""Disputes: a rejected request, a declined offer or a problem at receipt goes to the
marketplace, which decides for the buyer (a full or partial refund) or for the seller, with a
note both read (docs/architecture.md, "Returns, refunds and disputes"). Staff work the queue in
the admin (returns/admin.py), which calls `dispute_decide`.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.money import Money
from marketplace.state import StaleTransition, transition
from orders.services.refunds import order_refundable
from returns.models import (
    DISPUTE_MACHINE,
    ESCALATABLE_STATUSES,
    Dispute,
    DisputeStatus,
    EvidenceStage,
    Party,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
)
from returns.services.common import (
    ReturnNotFound,
    ReturnRefused,
    already_moved,
    clean_text,
    locked_request,
    move,
    refund_request,
    tell,
)
from returns.services.evidence import evidence_check, evidence_record, evidence_stored


def dispute_open(
    request: ReturnRequest,
    *,
    party: str,
    user,
    statement: str,
    from_status: str,
    now: datetime,
    message: str = "",
) -> Dispute:
    """Move the request (order locked by the caller) to in_dispute and open its dispute. The
    request takes its lines back (one open request per line): if a newer request holds one, or
    refunded its units meanwhile (nothing would be left to decide), escalating is refused."""
    if request.status != from_status:
        raise already_moved(request)
    if request.status in ESCALATABLE_STATUSES and _units_refunded_since(request):
        raise ReturnRefused(
            "These items were refunded since, through another request; there is nothing left "
            "to decide.",
            code="already_refunded",
        )
    try:
        with transaction.atomic():
            ReturnRequestLine.objects.filter(request=request).update(holds_line=True)
    except IntegrityError:
        raise ReturnRefused(
            "A newer request about these items is open; follow that one instead.",
            code="line_already_requested",
        ) from None
    move(
        request,
        from_status=from_status,
        to_status=ReturnStatus.IN_DISPUTE,
        actor=user,
        message=message or f"Escalated to the marketplace by the {Party(party).label.lower()}.",
        now=now,
    )
    dispute = Dispute.objects.create(
        request=request,
        opened_by=party,
        opened_by_user=user,
        buyer_statement=statement if party == Party.BUYER else "",
        seller_statement=statement if party == Party.SELLER else "",
        created_at=now,
    )
    opener = "the marketplace" if party == Party.STAFF else f"the {Party(party).label.lower()}"
    for to in ("buyer", "seller"):
        if to == party:
            continue
        tell(
            request,
            event="dispute-opened",
            to=to,
            title=f"Request {request.number} is with the marketplace",
            message=(
                f"{message or opener.capitalize() + ' asked the marketplace to decide.'} Add "
                "your side of the story and any evidence on the request page; the marketplace "
                "will decide and tell you both."
            ),
        )
    return dispute


def _units_refunded_since(request: ReturnRequest) -> bool:
    """A refused request let go of its lines: another request may have refunded its units."""
    left = order_refundable(request.order)
    return any(left[line.order_line_id].units < line.quantity for line in request.lines.all())


def _check_party(party: str, seller) -> None:
    """A side acts only on its own requests: the buyer's are found by `user`, a shop's by
    `seller`, which must be given."""
    if party not in (Party.BUYER, Party.SELLER) or (party == Party.SELLER and seller is None):
        raise ReturnNotFound("No such request.")


def return_escalate(
    *,
    request_id: int,
    party: str,
    user,
    seller=None,
    statement: str,
    evidence=(),
    now: datetime | None = None,
) -> ReturnRequest:
    """Either side escalates a rejected request or a declined offer before its `escalate_by`.
    `party` "buyer": `user` must be the request's buyer; "seller": `seller` its shop. Escalating
    twice answers with the request in dispute."""
    now = now or timezone.now()
    _check_party(party, seller)
    statement = clean_text(statement)
    if not statement:
        raise ReturnRefused(
            "Explain why the marketplace should step in.", code="statement_required"
        )
    checked = evidence_check(evidence, photos_only=party == Party.BUYER)
    with transaction.atomic():
        request = locked_request(
            request_id=request_id,
            buyer=user if party == Party.BUYER else None,
            seller=seller if party == Party.SELLER else None,
        )
        if request.status == ReturnStatus.IN_DISPUTE:
            # Already with the marketplace: a double click, or the other side escalated first
            # (this page was older). Either way what this side wrote is kept, as its statement.
            dispute = Dispute.objects.filter(request=request, status=DisputeStatus.OPEN).first()
            field = "buyer_statement" if party == Party.BUYER else "seller_statement"
            if dispute is not None and getattr(dispute, field) != statement:
                with evidence_stored(checked, order_id=request.order_id) as stored:
                    _record_statement(request, dispute, party, user, statement, stored)
            return request
        if request.status not in ESCALATABLE_STATUSES:
            raise ReturnRefused(
                "Only a rejected request or a declined offer can be escalated.",
                code="not_escalatable",
            )
        if request.escalate_by and now > request.escalate_by:
            raise ReturnRefused("The time to escalate this request has passed.", code="too_late")
        with evidence_stored(checked, order_id=request.order_id) as stored:
            dispute_open(
                request,
                party=party,
                user=user,
                statement=statement,
                from_status=request.status,
                now=now,
            )
            evidence_record(
                request=request,
                stored=stored,
                party=party,
                stage=EvidenceStage.DISPUTE,
                user=user,
            )
    return request


def dispute_add_statement(
    *, request_id: int, party: str, user, seller=None, statement: str, evidence=()
) -> Dispute:
    """The other side (or the opener, again) adds its account and evidence while the dispute is
    open; a later statement replaces the earlier one."""
    _check_party(party, seller)
    statement = clean_text(statement)
    if not statement and not evidence:
        raise ReturnRefused("Write your statement or attach evidence.", code="statement_required")
    checked = evidence_check(evidence, photos_only=party == Party.BUYER)
    with transaction.atomic():
        request = locked_request(
            request_id=request_id,
            buyer=user if party == Party.BUYER else None,
            seller=seller if party == Party.SELLER else None,
        )
        dispute = Dispute.objects.filter(request=request, status=DisputeStatus.OPEN).first()
        if dispute is None:
            raise ReturnRefused("This request has no open dispute.", code="no_open_dispute")
        with evidence_stored(checked, order_id=request.order_id) as stored:
            _record_statement(request, dispute, party, user, statement, stored)
    return dispute


def _record_statement(request, dispute: Dispute, party: str, user, statement: str, stored) -> None:
    """Keep one side's statement (a later one replaces it) and evidence, and tell the other side
    (once per request: later statements are on the request page)."""
    if statement:
        field = "buyer_statement" if party == Party.BUYER else "seller_statement"
        Dispute.objects.filter(pk=dispute.pk).update(**{field: statement})
        setattr(dispute, field, statement)
    evidence_record(
        request=request, stored=stored, party=party, stage=EvidenceStage.DISPUTE, user=user
    )
    other = "seller" if party == Party.BUYER else "buyer"
    tell(
        request,
        event="dispute-statement",
        to=other,
        title=f"New statement on request {request.number}",
        message=(
            f"The {Party(party).label.lower()} added their side of the story for the marketplace; "
            "read it on the request page and add yours."
        ),
    )


def dispute_decide(
    *,
    dispute_id: int,
    staff,
    for_buyer: bool,
    note: str,
    refund_amount_minor: int | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Staff decide. For the buyer: `refund_amount_minor` (default: the request's full value, at
    most that) is refunded through the gateway and the request is refunded. For the seller: the
    request closes. Both sides read `note` (required). Deciding twice is refused with the first
    decision."""
    now = now or timezone.now()
    note = clean_text(note)
    if not note:
        raise ReturnRefused("Write the note both sides will read.", code="note_required")
    request_id = Dispute.objects.filter(pk=dispute_id).values_list("request_id", flat=True).first()
    if request_id is None:
        raise ReturnNotFound("No such dispute.")
    with transaction.atomic():
        request = locked_request(request_id=request_id)
        dispute = Dispute.objects.get(pk=dispute_id)
        if dispute.status != DisputeStatus.OPEN:
            raise ReturnRefused(
                f"This dispute was already decided: {dispute.get_status_display().lower()}.",
                code="already_decided",
            )
        amount = (
            request.requested_amount_minor if refund_amount_minor is None else refund_amount_minor
        )
        if for_buyer and not 0 < amount <= request.requested_amount_minor:
            raise ReturnRefused(
                f"The refund must be between {Money(1, request.currency)} and "
                f"{Money(request.requested_amount_minor, request.currency)}.",
                code="amount_out_of_range",
            )
        try:
            transition(
                DISPUTE_MACHINE,
                instance=dispute,
                from_status=DisputeStatus.OPEN,
                to_status=(
                    DisputeStatus.DECIDED_FOR_BUYER
                    if for_buyer
                    else DisputeStatus.DECIDED_FOR_SELLER
                ),
                fields={
                    "decided_by": staff,
                    "decided_at": now,
                    "decision_note": note,
                    "refund_amount_minor": amount if for_buyer else None,
                },
                now=now,
            )
        except StaleTransition:
            raise ReturnRefused(
                "This dispute was already decided.", code="already_decided"
            ) from None
        if for_buyer:
            refund_request(
                request,
                amount_minor=amount,
                actor=staff,
                message=f"Decided for the buyer by the marketplace: {note}",
                now=now,
            )
        else:
            move(
                request,
                from_status=ReturnStatus.IN_DISPUTE,
                to_status=ReturnStatus.CLOSED,
                actor=staff,
                message=f"Decided for the seller by the marketplace: {note}",
                fields={"close_reason": "Decided for the seller by the marketplace."},
                now=now,
            )
        outcome = (
            f"for the buyer: {Money(amount, request.currency)} is refunded"
            if for_buyer
            else "for the seller: no refund"
        )
        for to in ("buyer", "seller"):
            tell(
                request,
                event="dispute-decided",
                to=to,
                title=f"The marketplace decided on request {request.number}",
                message=f"Decision {outcome}. {note}",
            )
    return dispute
