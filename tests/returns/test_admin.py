"""The staff's arbitration queue in the admin (returns/admin.py): the queue, a dispute's page with
both sides' case and evidence, the decisions through dispute_decide, and the read-only requests."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Refund, RefundStatus, Shipment
from orders.services.tracking import tracking_poll_due
from returns.models import (
    Dispute,
    DisputeStatus,
    Party,
    RequestKind,
    RequestReason,
    ReturnEvidence,
    ReturnStatus,
)
from returns.services.disputes import dispute_add_statement, dispute_decide, return_escalate
from returns.services.requests import return_approve, return_reject, return_request_create
from returns.services.shipping import return_report_problem, return_ship_back
from tests.accounts.factories import UserFactory
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.returns.factories import delivered_order, demo_tracking_number
from tests.sellers.factories import pdf_upload, png_upload

pytestmark = pytest.mark.django_db

BUYER_STATEMENT = "It arrived in pieces; the photos show the crushed box."
SELLER_STATEMENT = "We packed it in foam; the courier must have dropped it."


def open_dispute(seller, *, price_minor=2500, quantity=2) -> Dispute:
    """A delivered order, a request with the buyer's photo, the seller's rejection with a PDF,
    the buyer's escalation with another photo and the seller's statement: an open dispute."""
    order = delivered_order(seller, (price_minor, quantity))
    line = order.lines.get()
    request = return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind=RequestKind.RETURN_AND_REFUND,
        reason=RequestReason.DAMAGED,
        description="The box was crushed and the mug inside broken.",
        quantities={line.pk: quantity},
        photos=[png_upload("crushed-box.png")],
    )
    return_reject(
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        reason_text="It left our warehouse intact.",
        evidence=[pdf_upload("packing-record.pdf")],
    )
    return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement=BUYER_STATEMENT,
        evidence=[png_upload("broken-mug.png")],
    )
    dispute_add_statement(
        request_id=request.pk,
        party=Party.SELLER,
        user=seller.owner,
        seller=seller,
        statement=SELLER_STATEMENT,
    )
    return Dispute.objects.select_related("request__order", "request__buyer").get(request=request)


def decide_url(dispute: Dispute, side: str) -> str:
    return reverse("admin:returns_dispute_decide", args=[dispute.pk, side])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_undecided(dispute: Dispute):
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert dispute.refund_amount_minor is None and not dispute.decision_note
    dispute.request.refresh_from_db()
    assert dispute.request.status == ReturnStatus.IN_DISPUTE
    assert not Refund.objects.filter(order=dispute.request.order).exists()


# --- The queue


def test_the_queue_lists_open_disputes_first_with_amounts_as_money(staff_client, seller):
    decided = open_dispute(seller)
    dispute_decide(dispute_id=decided.pk, staff=None, for_buyer=False, note="Packed well.")
    waiting = open_dispute(seller, price_minor=1999, quantity=1)

    response = staff_client.get(reverse("admin:returns_dispute_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    request = waiting.request
    for shown in (
        request.number,
        seller.shop_name,
        request.buyer.email,
        "$19.99",
        "Open disputes (1)",
    ):
        assert shown in page
    # The open one comes first although the decided one is older.
    assert page.index(request.number) < page.index(decided.request.number)
    rows = list(response.context["cl"].result_list)
    assert [row.pk for row in rows] == [waiting.pk, decided.pk]


@pytest.mark.parametrize("term", ["request", "order", "email", "shop"])
def test_the_queue_finds_a_dispute_by_number_email_or_shop(staff_client, seller, term):
    dispute = open_dispute(seller)
    other = open_dispute(seller)
    request = dispute.request
    query = {
        "request": request.number,
        "order": request.order.number,
        "email": request.buyer.email.upper(),
        "shop": seller.shop_name,
    }[term]
    response = staff_client.get(reverse("admin:returns_dispute_changelist"), {"q": query})
    found = {row.pk for row in response.context["cl"].result_list}
    assert dispute.pk in found
    if term != "shop":  # both disputes are with the same shop
        assert other.pk not in found


def test_the_queue_filters_by_status(staff_client, seller):
    decided = open_dispute(seller)
    dispute_decide(dispute_id=decided.pk, staff=None, for_buyer=False, note="Packed well.")
    waiting = open_dispute(seller)
    response = staff_client.get(
        reverse("admin:returns_dispute_changelist"), {"status__exact": "open"}
    )
    assert [row.pk for row in response.context["cl"].result_list] == [waiting.pk]


# --- A dispute's page


def test_the_dispute_page_shows_both_sides_the_request_evidence_and_timeline(staff_client, seller):
    dispute = open_dispute(seller)

    response = staff_client.get(reverse("admin:returns_dispute_change", args=[dispute.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    for shown in (
        BUYER_STATEMENT,
        SELLER_STATEMENT,
        "The box was crushed and the mug inside broken.",
        "It left our warehouse intact.",
        "Return and refund",
        "Arrived damaged or broken",
        "$50.00",  # 2 units of $25.00
        "No parcel: nothing was sent back.",
        "Escalated to the marketplace by the buyer.",
        "Decide for the buyer",
        "Decide for the seller",
    ):
        assert shown in page, shown
    line = dispute.request.order.lines.get()
    assert line.product_title in page and line.sku_code in page
    for evidence in ReturnEvidence.objects.filter(request=dispute.request):
        url = reverse("admin:returns_dispute_evidence", args=[dispute.pk, evidence.pk])
        assert url in page
        assert evidence.original_name in page
    assert ReturnEvidence.objects.filter(request=dispute.request).count() == 3
    # Read-only: nothing to save.
    assert 'name="_save"' not in page


def test_the_dispute_page_shows_the_return_parcel_and_its_tracking(staff_client, seller):
    order = delivered_order(seller, (2500, 1))
    line = order.lines.get()
    request = return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind=RequestKind.RETURN_AND_REFUND,
        reason=RequestReason.CHANGED_MIND,
        quantities={line.pk: 1},
    )
    return_approve(request_id=request.pk, seller=seller)
    number = demo_tracking_number()
    return_ship_back(
        request_id=request.pk, buyer=order.buyer, carrier="demo", tracking_number=number
    )
    Shipment.objects.filter(tracking_number=number).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    return_report_problem(
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        statement="The item came back used.",
        evidence=[png_upload("used.png")],
    )
    dispute = Dispute.objects.get(request=request)
    assert dispute.opened_by == Party.SELLER

    page = staff_client.get(reverse("admin:returns_dispute_change", args=[dispute.pk]))
    page = page.content.decode()

    assert number in page
    assert "Delivered" in page
    assert "Collected by the carrier" in page  # a tracking event
    assert "The item came back used." in page


def test_the_evidence_is_served_to_staff_and_refused_to_anyone_else(staff_client, seller):
    dispute = open_dispute(seller)
    evidence = ReturnEvidence.objects.filter(request=dispute.request, party=Party.BUYER).first()
    url = reverse("admin:returns_dispute_evidence", args=[dispute.pk, evidence.pk])

    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x89PNG")

    # The buyer (not staff), and nobody signed in: sent to the admin's sign-in, no file.
    buyer_client = Client()
    buyer_client.force_login(dispute.request.buyer)
    for client in (buyer_client, Client()):
        refused = client.get(url)
        assert refused.status_code == 302
        assert reverse("admin:login") in refused["Location"]

    # Another dispute's evidence is not reachable through this one.
    other = open_dispute(seller)
    foreign = ReturnEvidence.objects.filter(request=other.request).first()
    wrong = reverse("admin:returns_dispute_evidence", args=[dispute.pk, foreign.pk])
    assert staff_client.get(wrong).status_code == 404


def test_staff_without_the_view_permission_get_no_evidence(client, seller):
    dispute = open_dispute(seller)
    evidence = ReturnEvidence.objects.filter(request=dispute.request).first()
    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:returns_dispute_evidence", args=[dispute.pk, evidence.pk])
    assert client.get(url).status_code == 403


# --- Decisions


def test_deciding_for_the_buyer_with_a_partial_amount_refunds_exactly_that(
    staff_client, seller, mailoutbox, django_capture_on_commit_callbacks
):
    dispute = open_dispute(seller)
    page = staff_client.get(decide_url(dispute, "buyer"))
    assert page.status_code == 200
    assert "Leave empty to refund everything asked, $50.00" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            decide_url(dispute, "buyer"),
            {"amount": "12.50", "note": "The photos show damage; half the mug was usable."},
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:returns_dispute_changelist")
    assert any("decided for the buyer: $12.50" in text for text in messages_of(response))
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DECIDED_FOR_BUYER
    assert dispute.refund_amount_minor == 1250
    assert dispute.decided_by is not None and dispute.decided_at is not None
    request = dispute.request
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    refund = Refund.objects.get(order=request.order)
    assert refund.amount_minor == 1250
    assert refund.status == RefundStatus.SUCCEEDED
    assert request.refund_id == refund.pk
    # Both sides read the note.
    told = {tuple(mail.to) for mail in mailoutbox if "half the mug" in mail.body}
    assert (request.buyer.email,) in told and (seller.contact_email,) in told


def test_deciding_for_the_buyer_without_an_amount_refunds_everything_asked(staff_client, seller):
    dispute = open_dispute(seller)
    response = staff_client.post(
        decide_url(dispute, "buyer"), {"amount": "", "note": "Broken on arrival."}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.refund_amount_minor == 5000
    assert Refund.objects.get(order=dispute.request.order).amount_minor == 5000


def test_deciding_for_the_seller_closes_the_request_without_a_refund(staff_client, seller):
    dispute = open_dispute(seller)
    response = staff_client.post(
        decide_url(dispute, "seller"), {"note": "The packing was sound; courier claim instead."}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:returns_dispute_changelist")
    assert any("decided for the seller" in text for text in messages_of(response))
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DECIDED_FOR_SELLER
    assert dispute.refund_amount_minor is None
    dispute.request.refresh_from_db()
    assert dispute.request.status == ReturnStatus.CLOSED
    assert not Refund.objects.filter(order=dispute.request.order).exists()
    # Decided: the page offers no decision any more.
    page = staff_client.get(reverse("admin:returns_dispute_change", args=[dispute.pk]))
    assert "Decide for the buyer" not in page.content.decode()


def test_deciding_twice_shows_an_error_and_changes_nothing(staff_client, seller):
    dispute = open_dispute(seller)
    first = staff_client.post(decide_url(dispute, "buyer"), {"amount": "10", "note": "Damaged."})
    assert first.status_code == 302

    # A second member of staff, on the page opened before the first decided.
    second = staff_client.post(decide_url(dispute, "seller"), {"note": "Not damaged."})

    assert second.status_code == 400
    assert any("already decided" in text for text in messages_of(second))
    assert "This dispute was already decided" in second.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DECIDED_FOR_BUYER
    assert dispute.decision_note == "Damaged."
    assert Refund.objects.filter(order=dispute.request.order).count() == 1
    dispute.request.refresh_from_db()
    assert dispute.request.status == ReturnStatus.REFUNDED


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", "Enter an amount such as"),
        ("12,50", "Use a dot for decimals"),
        ("-5", ""),
        ("0", "The refund must be between $0.01 and $50.00."),
        ("50.01", "The refund must be between $0.01 and $50.00."),
        ("99999999999999", ""),
    ],
)
def test_a_bad_amount_shows_an_error_and_changes_nothing(staff_client, seller, amount, error):
    dispute = open_dispute(seller)
    response = staff_client.post(
        decide_url(dispute, "buyer"), {"amount": amount, "note": "Partly damaged."}
    )
    assert response.status_code == 400
    page = response.content.decode()
    shown = page + " ".join(messages_of(response))
    assert error in shown
    assert "errornote" in page or messages_of(response)
    assert_undecided(dispute)


def test_a_decision_without_a_note_shows_an_error_and_changes_nothing(staff_client, seller):
    dispute = open_dispute(seller)
    response = staff_client.post(decide_url(dispute, "seller"), {"note": "   "})
    assert response.status_code == 400
    assert any("Write the note both sides will read" in text for text in messages_of(response))
    assert_undecided(dispute)


def test_a_decision_page_for_no_such_dispute_or_side_is_404(staff_client, seller):
    dispute = open_dispute(seller)
    assert staff_client.get(decide_url(dispute, "nobody")).status_code == 404
    missing = reverse("admin:returns_dispute_decide", args=[dispute.pk + 1000, "buyer"])
    assert staff_client.get(missing).status_code == 404


def test_staff_who_may_only_view_cannot_decide(client, seller):
    from django.contrib.auth.models import Permission

    dispute = open_dispute(seller)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_dispute", content_type__app_label="returns")
    )
    client.force_login(viewer)
    page = client.get(reverse("admin:returns_dispute_change", args=[dispute.pk]))
    assert page.status_code == 200
    assert "Decide for the buyer" not in page.content.decode()
    assert client.post(decide_url(dispute, "buyer"), {"note": "x"}).status_code == 403
    evidence = ReturnEvidence.objects.filter(request=dispute.request).first()
    url = reverse("admin:returns_dispute_evidence", args=[dispute.pk, evidence.pk])
    assert client.get(url).status_code == 200
    assert_undecided(dispute)


# --- Return requests, read-only


def test_return_requests_are_read_only_with_their_lines_evidence_and_timeline(staff_client, seller):
    dispute = open_dispute(seller)
    request = dispute.request
    listing = staff_client.get(reverse("admin:returns_returnrequest_changelist"))
    assert listing.status_code == 200
    assert request.number in listing.content.decode()
    assert "$50.00" in listing.content.decode()
    for query in (
        {"status__exact": "in_dispute"},
        {"kind__exact": "return_and_refund"},
        {"reason__exact": "damaged"},
        {"q": request.order.number},
    ):
        found = staff_client.get(reverse("admin:returns_returnrequest_changelist"), query)
        assert [row.pk for row in found.context["cl"].result_list] == [request.pk]

    change_url = reverse("admin:returns_returnrequest_change", args=[request.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text
    assert "In dispute" in text and "$50.00" in text
    evidence = ReturnEvidence.objects.filter(request=request).first()
    evidence_url = reverse("admin:returns_returnrequest_evidence", args=[request.pk, evidence.pk])
    assert evidence_url in text
    assert staff_client.get(evidence_url).status_code == 200
    assert reverse("admin:returns_dispute_change", args=[dispute.pk]) in text

    # No edit, add or delete, whatever is posted.
    posted = staff_client.post(change_url, {"status": "refunded", "requested_amount_minor": "1"})
    assert posted.status_code == 403
    assert staff_client.get(reverse("admin:returns_returnrequest_add")).status_code == 403
    delete_url = reverse("admin:returns_returnrequest_delete", args=[request.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    request.refresh_from_db()
    assert request.status == ReturnStatus.IN_DISPUTE
    assert request.requested_amount_minor == 5000


def test_a_dispute_cannot_be_edited_added_or_deleted(staff_client, seller):
    dispute = open_dispute(seller)
    change_url = reverse("admin:returns_dispute_change", args=[dispute.pk])
    posted = staff_client.post(
        change_url, {"status": "decided_for_buyer", "refund_amount_minor": "5000"}
    )
    assert posted.status_code == 403
    assert staff_client.get(reverse("admin:returns_dispute_add")).status_code == 403
    delete_url = reverse("admin:returns_dispute_delete", args=[dispute.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert_undecided(dispute)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_deciding_at_once_decide_once(seller):
    """Two members of staff submit opposite decisions at the same moment: one wins, the other is
    told it was already decided; one refund at most, never a 500."""
    dispute = open_dispute(seller)
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    posts = [
        (decide_url(dispute, "buyer"), {"amount": "20.00", "note": "Damaged in transit."}),
        (decide_url(dispute, "seller"), {"note": "Packed well."}),
    ]

    responses = run_at_once(2, lambda index: clients[index].post(*posts[index]))

    assert sorted(response.status_code for response in responses) == [302, 400]
    loser = next(response for response in responses if response.status_code == 400)
    assert any("already decided" in text for text in messages_of(loser))
    dispute.refresh_from_db()
    assert dispute.status != DisputeStatus.OPEN
    refunds = Refund.objects.filter(order=dispute.request.order)
    if dispute.status == DisputeStatus.DECIDED_FOR_BUYER:
        assert [refund.amount_minor for refund in refunds] == [2000]
    else:
        assert not refunds.exists()
