"""The Seller Center's Returns section (returns/views/seller_center.py): the list's tabs, counts,
search and query count; a request's page; every action through the client; evidence downloads;
and the doors: another seller's request and a role without the section answer 404."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU
from orders.models import Shipment
from orders.services.tracking import tracking_poll_due
from returns.models import (
    Dispute,
    EvidenceStage,
    Party,
    RequestKind,
    ReturnEvidence,
    ReturnRequest,
    ReturnStatus,
)
from returns.services.disputes import return_escalate
from returns.services.requests import (
    return_approve,
    return_offer_partial,
    return_reject,
    return_withdraw,
)
from returns.services.shipping import return_ship_back
from sellers.models import SellerRole
from tests.accounts.factories import UserFactory
from tests.returns.factories import delivered_order, demo_tracking_number, return_request
from tests.sellers.factories import (
    ApprovedSellerFactory,
    SellerMemberFactory,
    jpeg_upload,
    pdf_upload,
    png_upload,
)

pytestmark = pytest.mark.django_db

LIST = reverse("seller_returns:list")


# --- Requests in each state, through the services people use -----------------------------------


def requested(seller, *lines, kind=RequestKind.RETURN_AND_REFUND, buyer=None) -> ReturnRequest:
    """A new request about every unit of a delivered order of `seller` (one $25.00 line)."""
    return return_request(delivered_order(seller, *lines, buyer=buyer), kind=kind)


def awaiting(seller, *lines) -> ReturnRequest:
    request = requested(seller, *lines)
    return return_approve(request_id=request.pk, seller=seller)


def shipped(seller, *lines, delivered: bool) -> ReturnRequest:
    """An approved return the buyer sent back; `delivered`: the tracking job saw it arrive."""
    request = awaiting(seller, *lines)
    return_ship_back(
        request_id=request.pk,
        buyer=request.buyer,
        carrier="demo",
        tracking_number=demo_tracking_number(),
    )
    request.refresh_from_db()
    if delivered:
        # The demo carrier delivers two hours after shipment.
        Shipment.objects.filter(pk=request.return_shipment_id).update(
            created_at=timezone.now() - timedelta(days=1)
        )
        tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
        request.refresh_from_db()
        assert request.return_delivered_at is not None
    return request


def offered(seller) -> ReturnRequest:
    request = requested(seller, kind=RequestKind.REFUND_ONLY)
    return return_offer_partial(
        request_id=request.pk, seller=seller, actor=seller.owner, amount_minor=1000
    )


def rejected(seller) -> ReturnRequest:
    request = requested(seller)
    return return_reject(
        request_id=request.pk, seller=seller, actor=seller.owner, reason_text="Used, not faulty."
    )


def disputed(seller) -> ReturnRequest:
    request = rejected(seller)
    return return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=request.buyer,
        statement="It arrived broken.",
    )


def withdrawn(seller) -> ReturnRequest:
    request = requested(seller)
    return return_withdraw(request_id=request.pk, buyer=request.buyer)


# --- Reading the pages ---------------------------------------------------------------------------


def page(client, url=LIST, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def numbers(html: str) -> set[str]:
    return set(re.findall(r">(R\d{7})</a>", html))


def tab_counts(html: str) -> dict[str, int]:
    nav = html.split('aria-label="Request status"', 1)[1].split("</nav>", 1)[0]
    return {
        label: int(count)
        for label, count in re.findall(
            r">([^<>]+?) <span class=\"status-tab-count\">(\d+)</span>", nav
        )
    }


def detail_url(request) -> str:
    return reverse("seller_returns:detail", args=[request.pk])


def post(client, name: str, request, data=None, follow=True):
    return client.post(
        reverse(f"seller_returns:{name}", args=[request.pk]), data or {}, follow=follow
    )


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def status_of(request) -> str:
    request.refresh_from_db()
    return request.status


# --- The list ------------------------------------------------------------------------------------


def test_each_tab_holds_its_requests_and_the_counts_add_up(owner_client, seller):
    states = {
        "to_respond": requested(seller),
        "offers": offered(seller),
        "awaiting_shipment": awaiting(seller),
        "on_its_way": shipped(seller, delivered=False),
        "to_confirm": shipped(seller, delivered=True),
        "in_dispute": disputed(seller),
        "rejected": rejected(seller),
        "withdrawn": withdrawn(seller),
        "refunded": return_approve(
            request_id=requested(seller, kind=RequestKind.REFUND_ONLY).pk, seller=seller
        ),
    }
    other_shop = requested(ApprovedSellerFactory())
    expected = {
        "all": set(states),
        "to_respond": {"to_respond"},
        "offers": {"offers"},
        "awaiting_return": {"awaiting_shipment", "on_its_way"},
        "to_confirm": {"to_confirm"},
        "in_dispute": {"in_dispute"},
        "closed": {"rejected", "withdrawn", "refunded"},
    }

    for tab, names in expected.items():
        html = page(owner_client, status=tab)
        assert numbers(html) == {states[name].number for name in names}, tab
        assert other_shop.number not in html

    counts = tab_counts(page(owner_client))
    assert counts == {
        "All": 9,
        "To respond": 1,
        "Offers": 1,
        "Awaiting return": 2,
        "To confirm receipt": 1,
        "In dispute": 1,
        "Closed": 3,
    }


def test_a_row_shows_order_buyer_items_kind_reason_amount_status_and_time_left(
    owner_client, seller
):
    buyer = UserFactory(full_name="Ada Lovelace", email="ada@example.com")
    request = requested(seller, (2500, 1), (1000, 2), (500, 1), buyer=buyer)
    titles = [line.order_line.product_title for line in request.lines.select_related("order_line")]

    html = page(owner_client)
    row = html[html.index(request.number) : html.index("</tr>", html.index(request.number))]

    assert request.order.number in row
    assert "Ada Lovelace" in row and "ada@example.com" in row
    assert f"{titles[0]} and 2 more" in row
    assert "Return and refund" in row and "Arrived damaged or broken" in row
    assert "$50.00" in row
    assert "Requested" in row
    assert "respond in 47 h" in row or "respond in 48 h" in row


def test_a_row_past_its_deadline_says_overdue(owner_client, seller):
    request = requested(seller)
    ReturnRequest.objects.filter(pk=request.pk).update(
        respond_by=timezone.now() - timedelta(minutes=5)
    )

    html = page(owner_client, status="to_respond")

    assert "overdue" in html


def test_search_by_request_number_order_number_buyer_email_or_name(owner_client, seller):
    ada = requested(seller, buyer=UserFactory(full_name="Ada Lovelace", email="ada@example.com"))
    bob = requested(seller, buyer=UserFactory(full_name="Bob Byron", email="bob@example.net"))

    assert numbers(page(owner_client, q=ada.number)) == {ada.number}
    assert numbers(page(owner_client, q=bob.number.lower())) == {bob.number}
    assert numbers(page(owner_client, q=bob.order.number)) == {bob.number}
    assert numbers(page(owner_client, q="ADA@example")) == {ada.number}
    assert numbers(page(owner_client, q="byron")) == {bob.number}
    assert tab_counts(page(owner_client, q="byron"))["All"] == 1


@pytest.mark.parametrize(
    "query", ["zzqxw nothing", "R99999999999", "A0", "R0", "%", "x" * 500, "R" + "9" * 40]
)
def test_a_search_that_matches_nothing_is_an_empty_state(owner_client, seller, query):
    requested(seller)

    html = page(owner_client, q=query)

    assert numbers(html) == set()
    assert "No requests match" in html


def test_without_requests_the_list_says_so(owner_client):
    html = page(owner_client)

    assert "No return requests yet" in html
    assert owner_client.head(LIST).status_code == 200


def test_the_list_pages_25_at_a_time(owner_client, seller):
    order = delivered_order(seller, *[(1000, 1)] * 27)
    for line in order.lines.all():
        return_request(order, quantities={line.pk: 1})

    first = page(owner_client)
    second = page(owner_client, page=2)

    assert len(numbers(first)) == 25
    assert len(numbers(second)) == 2
    assert "Page 1 of 2" in first


def test_the_list_costs_the_same_queries_for_3_or_20_requests(
    client, seller, django_assert_num_queries
):
    client.force_login(seller.owner)
    order = delivered_order(seller, *[(1000, 1)] * 20)
    lines = list(order.lines.all())

    def add(chosen):
        for index, line in enumerate(chosen):
            request = return_request(order, quantities={line.pk: 1})
            if index % 3 == 1:
                return_approve(request_id=request.pk, seller=seller)

    add(lines[:3])
    client.get(LIST)  # warm the session and the seller lookups
    with CaptureQueriesContext(connection) as context:
        client.get(LIST, {"q": "example"})
    with_three = len(context.captured_queries)

    add(lines[3:])
    with django_assert_num_queries(with_three):
        response = client.get(LIST, {"q": "example"})
    assert len(numbers(response.content.decode())) == 20
    with django_assert_num_queries(with_three):
        client.get(LIST, {"q": "example", "status": "awaiting_return"})


def test_the_navigation_marks_returns_as_the_current_page(owner_client, seller):
    request = requested(seller)
    link = f'<a href="{LIST}" aria-current="page">Returns</a>'

    assert link in page(owner_client)
    assert link in page(owner_client, detail_url(request))


# --- A request's page ----------------------------------------------------------------------------


def test_the_page_shows_lines_reason_evidence_timeline_parcel_and_actions(owner_client, seller):
    request = shipped(seller, (2500, 2), delivered=True)
    line = request.lines.select_related("order_line").get()
    ReturnEvidence.objects.create(
        request=request,
        party=Party.BUYER,
        stage=EvidenceStage.REQUEST,
        file="returns/x/photo.png",
        original_name="crushed-box.png",
        content_type="image/png",
    )

    html = page(owner_client, detail_url(request))

    assert line.order_line.product_title in html
    assert line.order_line.sku_code in html
    assert "$50.00" in html
    assert "The box was crushed." in html
    assert "crushed-box.png" in html
    assert "Awaiting return shipment" in html  # the timeline
    assert request.return_shipment.tracking_number in html
    assert "Delivered" in html
    assert reverse("seller_returns:confirm_receipt", args=[request.pk]) in html
    assert reverse("seller_returns:report_problem", args=[request.pk]) in html
    assert reverse("seller_returns:approve", args=[request.pk]) not in html
    assert "confirm in" in html


def test_a_new_request_offers_approve_offer_and_reject_only(owner_client, seller):
    request = requested(seller)

    html = page(owner_client, detail_url(request))

    for name in ("approve", "offer", "reject"):
        assert reverse(f"seller_returns:{name}", args=[request.pk]) in html
    for name in ("confirm_receipt", "report_problem", "escalate", "statement"):
        assert reverse(f"seller_returns:{name}", args=[request.pk]) not in html


def test_the_order_page_lists_its_requests_with_one_query(
    client, seller, django_assert_num_queries
):
    client.force_login(seller.owner)
    order = delivered_order(seller, (1000, 1), (1000, 1), (1000, 1))
    url = reverse("seller_orders:detail", args=[order.pk])
    assert 'id="order-returns-title"' not in page(client, url)
    lines = list(order.lines.all())
    first = return_request(order, quantities={lines[0].pk: 1})

    with CaptureQueriesContext(connection) as context:
        html = page(client, url)
    assert detail_url(first) in html and first.number in html

    for line in lines[1:]:
        return_request(order, quantities={line.pk: 1})
    with django_assert_num_queries(len(context.captured_queries)):
        html = page(client, url)
    assert html.count(reverse("seller_returns:list")) >= 4  # the nav link and three requests


# --- The actions ---------------------------------------------------------------------------------


def test_approving_a_refund_only_request_refunds_it(owner_client, seller):
    request = requested(seller, kind=RequestKind.REFUND_ONLY)

    response = post(owner_client, "approve", request)

    assert response.redirect_chain[-1][0] == detail_url(request)
    assert status_of(request) == ReturnStatus.REFUNDED
    assert request.refund.amount_minor == 2500
    assert "the buyer is refunded $25.00" in messages_of(response)


def test_approving_a_return_waits_for_the_buyers_parcel(owner_client, seller):
    request = requested(seller)

    response = post(owner_client, "approve", request)

    assert status_of(request) == ReturnStatus.AWAITING_BUYER_SHIPMENT
    assert "to send the item back" in messages_of(response)
    # Twice: the request is as it was, no error.
    assert post(owner_client, "approve", request).status_code == 200
    assert status_of(request) == ReturnStatus.AWAITING_BUYER_SHIPMENT


def test_rejecting_needs_a_reason(owner_client, seller):
    request = requested(seller)

    response = post(owner_client, "reject", request, {"reason": "   "})

    assert "Tell the buyer why" in messages_of(response)
    assert status_of(request) == ReturnStatus.REQUESTED


def test_rejecting_with_a_reason_and_evidence_files(owner_client, seller):
    request = requested(seller)

    response = post(
        owner_client,
        "reject",
        request,
        {"reason": "The seal is broken: it was used.", "evidence": [png_upload(), pdf_upload()]},
    )

    assert status_of(request) == ReturnStatus.REJECTED
    assert request.reject_reason == "The seal is broken: it was used."
    assert request.escalate_by is not None
    assert "rejected" in messages_of(response)
    files = list(request.evidence.order_by("id"))
    assert [(each.party, each.stage) for each in files] == [(Party.SELLER, "rejection")] * 2
    html = response.content.decode()
    for each in files:
        assert reverse("seller_returns:evidence", args=[request.pk, each.pk]) in html
    download = owner_client.get(reverse("seller_returns:evidence", args=[request.pk, files[1].pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_rejecting_with_a_bad_or_too_many_files_changes_nothing(owner_client, seller):
    request = requested(seller)
    fake = SimpleUploadedFile("fake.png", b"not an image at all", content_type="image/png")

    response = post(owner_client, "reject", request, {"reason": "No.", "evidence": [fake]})
    assert "fake.png" in messages_of(response)
    response = post(
        owner_client,
        "reject",
        request,
        {"reason": "No.", "evidence": [jpeg_upload(f"{n}.jpg") for n in range(7)]},
    )
    assert "at most 6 files" in messages_of(response)

    assert status_of(request) == ReturnStatus.REQUESTED
    assert not request.evidence.exists()


@pytest.mark.parametrize(
    ("amount", "offered_minor", "message"),
    [
        ("12.50", 1250, "You offered $12.50"),
        ("0", None, "A partial refund is more than zero and less than $25.00"),
        ("abc", None, "Enter an amount such as"),
        ("99999", None, "A partial refund is more than zero and less than $25.00"),
        ("25.00", None, "approve the request"),
        ("12,50", None, "Use a dot for decimals"),
        ("", None, "Enter the amount you offer"),
    ],
)
def test_offering_a_partial_refund(owner_client, seller, amount, offered_minor, message):
    request = requested(seller, kind=RequestKind.REFUND_ONLY)

    response = post(owner_client, "offer", request, {"amount": amount})

    assert message in messages_of(response)
    request.refresh_from_db()
    assert request.offer_amount_minor == offered_minor
    expected = ReturnStatus.PARTIAL_REFUND_OFFERED if offered_minor else ReturnStatus.REQUESTED
    assert request.status == expected


def test_confirming_receipt_refunds_and_restocks_what_can_be_sold(owner_client, seller):
    request = shipped(seller, (2500, 3), delivered=True)
    line = request.lines.select_related("order_line").get()
    sku = SKU.objects.get(pk=line.order_line.sku_id)
    stock_before = sku.stock_on_hand
    field = f"not_resellable_{line.order_line_id}"

    response = post(owner_client, "confirm_receipt", request, {field: "1"})

    assert status_of(request) == ReturnStatus.REFUNDED
    assert request.refund.amount_minor == 7500
    sku.refresh_from_db()
    assert sku.stock_on_hand == stock_before + 2
    line.refresh_from_db()
    assert (line.restocked_quantity, line.not_resellable_quantity) == (2, 1)
    assert "2 units went back in stock" in messages_of(response)


@pytest.mark.parametrize("value", ["abc", "4", "-1", "1.5"])
def test_confirming_receipt_with_a_bad_count_changes_nothing(owner_client, seller, value):
    request = shipped(seller, (2500, 3), delivered=True)
    line = request.lines.get()
    sku = SKU.objects.get(pk=line.order_line.sku_id)
    stock_before = sku.stock_on_hand

    response = post(
        owner_client, "confirm_receipt", request, {f"not_resellable_{line.order_line_id}": value}
    )

    assert response.status_code == 200
    assert messages_of(response)
    assert status_of(request) == ReturnStatus.BUYER_SHIPPED
    sku.refresh_from_db()
    assert sku.stock_on_hand == stock_before


def test_confirming_receipt_of_a_request_not_shipped_back_is_refused(owner_client, seller):
    request = requested(seller)

    response = post(owner_client, "confirm_receipt", request)

    assert "moved on" in messages_of(response) or "cannot go" in messages_of(response)
    assert status_of(request) == ReturnStatus.REQUESTED


def test_reporting_a_problem_opens_a_dispute(owner_client, seller):
    request = shipped(seller, delivered=True)

    refused = post(owner_client, "report_problem", request, {"statement": ""})
    assert "Describe the problem" in messages_of(refused)
    assert status_of(request) == ReturnStatus.BUYER_SHIPPED

    response = post(
        owner_client,
        "report_problem",
        request,
        {"statement": "A different, older item came back.", "evidence": [jpeg_upload()]},
    )

    assert status_of(request) == ReturnStatus.IN_DISPUTE
    dispute = Dispute.objects.get(request=request)
    assert dispute.opened_by == Party.SELLER
    assert dispute.seller_statement == "A different, older item came back."
    assert request.evidence.get().stage == EvidenceStage.RECEIPT
    assert "Problem reported" in messages_of(response)
    # The page now offers a statement, and nothing else.
    html = response.content.decode()
    assert reverse("seller_returns:statement", args=[request.pk]) in html
    assert reverse("seller_returns:confirm_receipt", args=[request.pk]) not in html


def test_escalating_a_rejected_request_and_adding_a_statement(owner_client, seller):
    request = rejected(seller)
    assert reverse("seller_returns:escalate", args=[request.pk]) in page(
        owner_client, detail_url(request)
    )

    assert "Explain why" in messages_of(post(owner_client, "escalate", request, {}))
    response = post(owner_client, "escalate", request, {"statement": "The buyer used it."})

    assert status_of(request) == ReturnStatus.IN_DISPUTE
    assert Dispute.objects.get(request=request).opened_by == Party.SELLER
    assert "with the marketplace" in messages_of(response)

    response = post(
        owner_client,
        "statement",
        request,
        {"statement": "Here are the photos from the warehouse.", "evidence": [pdf_upload()]},
    )
    assert "Added to the dispute" in messages_of(response)
    dispute = Dispute.objects.get(request=request)
    assert dispute.seller_statement == "Here are the photos from the warehouse."
    assert request.evidence.get().stage == EvidenceStage.DISPUTE


def test_escalating_after_the_deadline_is_refused(owner_client, seller):
    request = rejected(seller)
    ReturnRequest.objects.filter(pk=request.pk).update(
        escalate_by=timezone.now() - timedelta(minutes=1)
    )

    assert reverse("seller_returns:escalate", args=[request.pk]) not in page(
        owner_client, detail_url(request)
    )
    response = post(owner_client, "escalate", request, {"statement": "Too late?"})

    assert "has passed" in messages_of(response)
    assert status_of(request) == ReturnStatus.REJECTED


def test_a_statement_without_a_dispute_is_refused(owner_client, seller):
    request = requested(seller)

    response = post(owner_client, "statement", request, {"statement": "Hello"})

    assert "no open dispute" in messages_of(response)


# --- The doors -----------------------------------------------------------------------------------

ACTIONS = (
    "approve",
    "reject",
    "offer",
    "confirm_receipt",
    "report_problem",
    "escalate",
    "statement",
)


def test_another_sellers_request_is_404_on_every_url(client, seller):
    theirs = requested(ApprovedSellerFactory())
    evidence = ReturnEvidence.objects.create(
        request=theirs,
        party=Party.BUYER,
        stage=EvidenceStage.REQUEST,
        file="returns/1/photo.png",
        original_name="photo.png",
        content_type="image/png",
    )
    client.force_login(seller.owner)

    assert client.get(detail_url(theirs)).status_code == 404
    assert (
        client.get(reverse("seller_returns:evidence", args=[theirs.pk, evidence.pk])).status_code
        == 404
    )
    data = {"reason": "x", "amount": "1.00", "statement": "x"}
    for name in ACTIONS:
        response = client.post(reverse(f"seller_returns:{name}", args=[theirs.pk]), data)
        assert response.status_code == 404, name
    assert status_of(theirs) == ReturnStatus.REQUESTED


def test_evidence_of_another_request_of_the_shop_is_404_under_this_one(owner_client, seller):
    first, second = requested(seller), requested(seller)
    post(owner_client, "reject", first, {"reason": "No.", "evidence": [png_upload()]})
    evidence = first.evidence.get()

    assert (
        owner_client.get(
            reverse("seller_returns:evidence", args=[second.pk, evidence.pk])
        ).status_code
        == 404
    )
    assert (
        owner_client.get(reverse("seller_returns:evidence", args=[first.pk, evidence.pk]))
    ).status_code == 200


def test_a_missing_evidence_file_is_404_not_500(owner_client, seller):
    request = requested(seller)
    evidence = ReturnEvidence.objects.create(
        request=request,
        party=Party.BUYER,
        stage=EvidenceStage.REQUEST,
        file="returns/1/gone.png",
        original_name="gone.png",
        content_type="image/png",
    )

    url = reverse("seller_returns:evidence", args=[request.pk, evidence.pk])
    assert owner_client.get(url).status_code == 404


def test_an_order_manager_works_the_section_and_a_product_manager_gets_404(client, seller):
    request = requested(seller, kind=RequestKind.REFUND_ONLY)
    order_manager = SellerMemberFactory(seller=seller, role=SellerRole.ORDER_MANAGER).user
    product_manager = SellerMemberFactory(seller=seller, role=SellerRole.PRODUCT_MANAGER).user

    client.force_login(product_manager)
    assert client.get(LIST).status_code == 404
    assert client.get(detail_url(request)).status_code == 404
    assert client.post(reverse("seller_returns:approve", args=[request.pk])).status_code == 404
    assert status_of(request) == ReturnStatus.REQUESTED

    client.force_login(order_manager)
    assert request.number in page(client)
    response = post(client, "approve", request)
    assert status_of(request) == ReturnStatus.REFUNDED
    assert "refunded" in messages_of(response)
    event = request.status_events.filter(to_status=ReturnStatus.APPROVED).get()
    assert event.actor == order_manager


def test_get_is_not_allowed_on_the_actions(owner_client, seller):
    request = requested(seller)

    for name in ACTIONS:
        url = reverse(f"seller_returns:{name}", args=[request.pk])
        assert owner_client.get(url).status_code == 405, name
    assert status_of(request) == ReturnStatus.REQUESTED
