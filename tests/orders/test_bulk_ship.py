"""Bulk shipping from a CSV (orders.services.fulfilment.bulk_ship and the Seller Center page): one
row per package, each order shipped on its own so a bad row costs only its order, and a report
per row shown on the page and downloadable."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Order, OrderStatus, Shipment, ShipmentLine
from orders.services import fulfilment
from orders.services.fulfilment import (
    BULK_MAX_ROWS,
    BulkOutcome,
    InvalidBulkShipFile,
    bulk_ship,
)
from orders.services.transitions import order_transition
from tests.orders.factories import UPS, UPS_2, order_with_lines, ready_to_ship
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

HEADER = "order_number,carrier,tracking_number\n"


@pytest.fixture(autouse=True)
def no_carrier_calls(monkeypatch):
    class Quiet:
        def __init__(self, code):
            pass

        def register_shipment(self, *, tracking_number, shipped_at):
            pass

    monkeypatch.setattr(fulfilment, "carrier_adapter", Quiet)


def outcomes(report) -> list[tuple]:
    return [(row.row, row.order_number, row.outcome) for row in report.rows]


def test_each_order_ships_on_its_own_and_every_row_is_reported():
    seller = ApprovedSellerFactory()
    good = ready_to_ship(seller, (1000, 2))
    two_packages = ready_to_ship(seller, (1000, 1), (500, 1))
    on_hold = order_with_lines(seller)
    someone_elses = ready_to_ship(ApprovedSellerFactory())
    csv_text = (
        HEADER
        + f"{good.number},ups,{UPS}\n"
        + f"{two_packages.pk},demo,DP0000000001\n"
        + f"{on_hold.number},ups,{UPS_2}\n"
        + f"{someone_elses.number},demo,DP0000000002\n"
        + "\n"
        + f"{two_packages.number},demo,DP0000000003\n"
        + "nonsense,ups,1Z0\n"
        + f"{good.number.lower()}x,ups,{UPS}\n"
    )

    report = bulk_ship(seller=seller, actor=seller.owner, csv_text=csv_text)

    assert outcomes(report) == [
        (2, good.number, BulkOutcome.SHIPPED),
        (3, str(two_packages.pk), BulkOutcome.SHIPPED),
        (4, on_hold.number, BulkOutcome.NOT_SHIPPED),
        (5, someone_elses.number, BulkOutcome.NOT_SHIPPED),
        (7, two_packages.number, BulkOutcome.SHIPPED),
        (8, "nonsense", BulkOutcome.NOT_SHIPPED),
        (9, f"{good.number.lower()}x", BulkOutcome.NOT_SHIPPED),
    ]
    reasons = {row.row: row.reason for row in report.rows}
    assert "free cancellation window" in reasons[4]
    assert reasons[5] == "No such order in your shop."
    assert "not an order number" in reasons[8]
    assert report.shipped_orders == 2 and report.rejected_rows == 4
    for order in (good, two_packages):
        order.refresh_from_db()
        assert order.status == OrderStatus.AWAITING_COLLECTION
    first, second = Shipment.objects.filter(order=two_packages).order_by("id")
    assert first.tracking_number == "DP0000000001" and first.lines.count() == 2
    assert second.tracking_number == "DP0000000003" and second.lines.count() == 0
    on_hold.refresh_from_db()
    someone_elses.refresh_from_db()
    assert on_hold.status == OrderStatus.ON_HOLD
    assert someone_elses.status == OrderStatus.AWAITING_SHIPMENT
    assert not Shipment.objects.filter(order__in=[on_hold, someone_elses]).exists()


def test_a_bad_package_stops_its_whole_order_only():
    seller = ApprovedSellerFactory()
    split = ready_to_ship(seller)
    fine = ready_to_ship(seller)
    csv_text = (
        HEADER
        + f"{split.number},ups,{UPS}\n"
        + f"{split.number},ups,not-a-number\n"
        + f"{fine.number},ups,{UPS_2}\n"
    )

    report = bulk_ship(seller=seller, actor=seller.owner, csv_text=csv_text)

    assert [row.outcome for row in report.rows] == [
        BulkOutcome.NOT_SHIPPED,
        BulkOutcome.NOT_SHIPPED,
        BulkOutcome.SHIPPED,
    ]
    assert "Package 2: A UPS tracking number looks like" in report.rows[1].reason
    assert not Shipment.objects.filter(order=split).exists()
    # The tracking number of the refused order stays free for the next file.
    assert (
        bulk_ship(
            seller=seller, actor=seller.owner, csv_text=HEADER + f"{split.number},ups,{UPS}\n"
        )
        .rows[0]
        .outcome
        == BulkOutcome.SHIPPED
    )


def test_the_lines_column_splits_an_order_by_sku():
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 3), (500, 1))
    teapot, mug = order.lines.order_by("id")
    csv_text = (
        "order_number,carrier,tracking_number,lines\n"
        + f'{order.number},ups,{UPS},"{teapot.sku_code}:2"\n'
        + f'{order.number},ups,{UPS_2},"{teapot.sku_code.lower()}:1; {mug.sku_code}:1"\n'
    )

    report = bulk_ship(seller=seller, actor=seller.owner, csv_text=csv_text)

    assert [row.outcome for row in report.rows] == [BulkOutcome.SHIPPED] * 2
    first, second = Shipment.objects.filter(order=order).order_by("id")
    assert list(first.lines.values_list("order_line_id", "quantity")) == [(teapot.pk, 2)]
    assert sorted(second.lines.values_list("order_line_id", "quantity")) == sorted(
        [(teapot.pk, 1), (mug.pk, 1)]
    )


@pytest.mark.parametrize(
    ("lines", "reason"),
    [("NOPE:1", "SKU NOPE is not in this order"), ("two", "SKU:quantity pairs")],
)
def test_a_bad_lines_cell_is_reported(lines, reason):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    report = bulk_ship(
        seller=seller,
        actor=seller.owner,
        csv_text=f"order_number,carrier,tracking_number,lines\n{order.number},ups,{UPS},{lines}\n",
    )
    assert report.rows[0].outcome == BulkOutcome.NOT_SHIPPED
    assert reason in report.rows[0].reason
    assert not ShipmentLine.objects.exists()


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("", "empty"),
        ("order,carrier\nA1,ups\n", "missing: order_number, tracking_number"),
        (HEADER, "no rows"),
        (HEADER + "A1,ups,1\n" * (BULK_MAX_ROWS + 1), f"more than {BULK_MAX_ROWS} rows"),
        ('order_number,carrier,tracking_number\n"A1,ups', "not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_ships_nothing(csv_text, message):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    with pytest.raises(InvalidBulkShipFile, match=message):
        bulk_ship(seller=seller, actor=seller.owner, csv_text=csv_text)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT


def test_exactly_the_maximum_number_of_rows_is_accepted():
    seller = ApprovedSellerFactory()
    report = bulk_ship(
        seller=seller, actor=seller.owner, csv_text=HEADER + "A1,ups,1\n" * BULK_MAX_ROWS
    )
    assert len(report.rows) == BULK_MAX_ROWS


def test_the_report_csv_has_a_row_per_input_row_and_defuses_formulas():
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    report = bulk_ship(
        seller=seller,
        actor=seller.owner,
        csv_text=HEADER + f"{order.number},ups,{UPS}\n=HYPERLINK(1),ups,x\n",
    )
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0] == ["row", "order_number", "carrier", "tracking_number", "outcome", "reason"]
    assert rows[1][:5] == ["2", order.number, "ups", UPS, "shipped"]
    assert rows[2][0] == "3" and rows[2][1] == "'=HYPERLINK(1)" and rows[2][4] == "not shipped"


# --- The page -----------------------------------------------------------------------------------


def upload(client, text: str, name: str = "ship.csv"):
    return client.post(
        reverse("seller_orders:bulk_ship"),
        {"file": SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")},
    )


def test_the_orders_list_links_to_the_bulk_page_which_explains_the_columns(owner_client):
    list_html = owner_client.get(reverse("seller_orders:list")).content.decode()
    assert reverse("seller_orders:bulk_ship") in list_html

    html = owner_client.get(reverse("seller_orders:bulk_ship")).content.decode()
    assert "order_number" in html and "tracking_number" in html and "lines" in html
    assert f"at most {BULK_MAX_ROWS} rows" in html
    assert "1Z999AA10123456784" in html


def test_uploading_shows_the_report_and_it_downloads_as_csv(owner_client):
    seller = owner_client.seller
    order = ready_to_ship(seller)
    cancelled = ready_to_ship(seller)
    order_transition(order=cancelled, to_status=OrderStatus.CANCELLED)

    response = upload(
        owner_client, HEADER + f"{order.number},ups,{UPS}\n{cancelled.number},ups,{UPS_2}\n"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 order shipped." in html
    assert html.count('class="bulk-ship-row-shipped"') == 1
    assert html.count('class="bulk-ship-row-rejected"') == 1
    assert "was cancelled" in html
    token = html.split('name="report" value="')[1].split('"')[0]

    download = owner_client.post(reverse("seller_orders:bulk_ship_report"), {"report": token})

    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert [row[1] for row in rows[1:]] == [order.number, cancelled.number]
    assert [row[4] for row in rows[1:]] == ["shipped", "not shipped"]


def test_a_tampered_or_foreign_report_token_is_refused(owner_client, client):
    order = ready_to_ship(owner_client.seller)
    html = upload(owner_client, HEADER + f"{order.number},ups,{UPS}\n").content.decode()
    token = html.split('name="report" value="')[1].split('"')[0]
    url = reverse("seller_orders:bulk_ship_report")

    assert owner_client.post(url, {"report": token + "x"}).status_code == 302
    other = ApprovedSellerFactory()
    client.force_login(other.owner)
    assert client.post(url, {"report": token}).status_code == 302


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"", "The file is empty."),
        (b"order_number\nA1\n", "missing: carrier, tracking_number"),
    ],
)
def test_a_bad_file_is_a_message_not_an_error(owner_client, content, message):
    response = owner_client.post(
        reverse("seller_orders:bulk_ship"),
        {"file": SimpleUploadedFile("ship.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was shipped." in html and message in html


def test_no_file_is_a_message(owner_client):
    response = owner_client.post(reverse("seller_orders:bulk_ship"), {})
    assert response.status_code == 400
    assert "Choose a CSV file" in response.content.decode()


def test_another_sellers_orders_in_the_file_are_not_shipped(owner_client):
    theirs = ready_to_ship(ApprovedSellerFactory())
    html = upload(owner_client, HEADER + f"{theirs.number},ups,{UPS}\n").content.decode()
    assert "No such order in your shop." in html
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.AWAITING_SHIPMENT
    assert Order.objects.filter(status=OrderStatus.AWAITING_COLLECTION).count() == 0


@pytest.mark.parametrize("quantity", ["\u00b2", "9" * 5000])
def test_a_lines_cell_with_a_quantity_that_is_no_number_rejects_its_row(owner_client, quantity):
    order = ready_to_ship(owner_client.seller)
    line = order.lines.first()
    text = (
        "order_number,carrier,tracking_number,lines\n"
        f"{order.number},ups,{UPS},{line.sku_code}:{quantity}\n"
    )
    response = owner_client.post(
        reverse("seller_orders:bulk_ship"),
        {"file": SimpleUploadedFile("ship.csv", text.encode(), content_type="text/csv")},
    )
    assert response.status_code in (200, 400)
    assert "Lines: write SKU:quantity pairs" in response.content.decode()
    assert not Shipment.objects.exists()
