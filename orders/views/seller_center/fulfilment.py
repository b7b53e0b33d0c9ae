"""Seller Center: shipping orders (/seller/orders/...): the ship form of an order's page, bulk
shipping from a CSV, and the printable packing slip.

Every view is wrapped in sellers.access.seller_center_view(Section.ORDERS): a role that may not
open the orders section, or another seller's order, answers 404. The views parse input and call
orders.services.fulfilment, which owns every rule.
"""

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from marketplace.errors import DomainError
from orders.carriers import CARRIERS, carrier_get
from orders.selectors import seller_order_get
from orders.services.fulfilment import (
    BULK_MAX_BYTES,
    BULK_MAX_ROWS,
    BulkShipRow,
    PackageInput,
    ShipError,
    bulk_ship,
    bulk_ship_report_csv,
    order_ship,
)
from sellers.access import seller_center_view
from sellers.roles import Section

# The form offers this many package rows: the first always, the others behind "Add another
# package" (a <details>, so it needs no script).
FORM_PACKAGES = 3
_MAX_QUANTITY_DIGITS = 6


def ship_form_state(order, post=None) -> dict:
    """What the ship form shows: one entry per package row, with the values typed (re-shown after
    a refusal) and the order's lines for the optional quantities."""
    post = post or {}
    lines = list(order.lines.all())
    packages = []
    for index in range(1, FORM_PACKAGES + 1):
        carrier = post.get(f"carrier_{index}", "")
        tracking = post.get(f"tracking_number_{index}", "")
        quantities = {line.pk: post.get(f"qty_{index}_{line.pk}", "") for line in lines}
        packages.append(
            {
                "index": index,
                "carrier": carrier if carrier_get(carrier) else "",
                "tracking_number": tracking[:60],
                "lines": [
                    {"line": line, "value": quantities[line.pk][:_MAX_QUANTITY_DIGITS]}
                    for line in lines
                ],
                "open": index == 1 or bool(tracking or any(quantities.values())),
                "lines_open": any(quantities.values()),
            }
        )
    return {"packages": packages, "carriers": CARRIERS}


def _packages_from_post(order, post) -> list[PackageInput]:
    """The filled package rows as the service takes them. A row counts when anything in it is
    filled (a carrier, a tracking number or a quantity); the first row always counts."""
    lines = list(order.lines.all())
    packages = []
    for index in range(1, FORM_PACKAGES + 1):
        carrier = post.get(f"carrier_{index}", "")
        tracking = post.get(f"tracking_number_{index}", "")[:60]
        quantities: dict[int, int] = {}
        for line in lines:
            text = post.get(f"qty_{index}_{line.pk}", "").strip()
            if not text:
                continue
            if not (text.isascii() and text.isdigit()) or len(text) > _MAX_QUANTITY_DIGITS:
                raise ShipError(
                    f"Package {index}: the quantity of {line.product_title} must be a whole number."
                )
            if int(text):
                quantities[line.pk] = int(text)
        if index > 1 and not carrier and not tracking.strip() and not quantities:
            continue
        packages.append(
            PackageInput(carrier=carrier, tracking_number=tracking, lines=quantities or None)
        )
    return packages


@seller_center_view(Section.ORDERS, require_approved=True)
@require_POST
def ship(request, order_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    try:
        packages = _packages_from_post(order, request.POST)
        shipments = order_ship(
            order_id=order.pk, seller=request.seller, actor=request.user, packages=packages
        )
    except DomainError as error:
        context = {
            "seller": request.seller,
            "order": order,
            "error": error.message,
            **ship_form_state(order, request.POST),
        }
        return render(request, "orders/seller_center/ship.html", context, status=400)
    parcels = ", ".join(
        f"{carrier_get(shipment.carrier).name} {shipment.tracking_number}" for shipment in shipments
    )
    messages.success(
        request,
        f"Order {order.number} is shipped ({parcels}). We emailed the buyer the tracking "
        f"number{'s' if len(shipments) != 1 else ''}.",
    )
    return redirect("seller_orders:detail", order.pk)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_safe
def packing_slip(request, order_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    context = {"seller": request.seller, "order": order}
    return render(request, "orders/seller_center/packing_slip.html", context)


def _report_salt(seller) -> str:
    return f"orders.bulk-ship-report:{seller.pk}"


@seller_center_view(Section.ORDERS, require_approved=True)
@require_http_methods(["GET", "HEAD", "POST"])
def bulk_ship_view(request):
    context = {
        "max_rows": BULK_MAX_ROWS,
        "max_megabytes": BULK_MAX_BYTES // 1_048_576,
        "carriers": CARRIERS,
    }
    if request.method != "POST":
        return render(request, "orders/seller_center/bulk_ship.html", context)
    upload = request.FILES.get("file")
    error = None
    if upload is None:
        error = "Choose a CSV file to upload."
    elif upload.size > BULK_MAX_BYTES:
        error = f"The file is larger than {BULK_MAX_BYTES // 1_048_576} MB. Split it."
    else:
        try:
            text = upload.read(BULK_MAX_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            error = "The file is not UTF-8 text: save it as CSV UTF-8 and upload it again."
    if error is None:
        try:
            report = bulk_ship(seller=request.seller, actor=request.user, csv_text=text)
        except DomainError as refusal:
            error = refusal.message
    if error is not None:
        context["error"] = error
        return render(request, "orders/seller_center/bulk_ship.html", context, status=400)
    # The report is not stored: the download button posts it back, signed so that only what this
    # page produced for this shop comes back as a file.
    context["report"] = report
    context["report_token"] = signing.dumps(
        [list(row.__dict__.values()) for row in report.rows],
        salt=_report_salt(request.seller),
        compress=True,
    )
    if report.shipped_orders:
        messages.success(
            request,
            f"{report.shipped_orders} order{'s' if report.shipped_orders != 1 else ''} shipped.",
        )
    return render(request, "orders/seller_center/bulk_ship.html", context)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_POST
def bulk_ship_report(request):
    try:
        rows = signing.loads(
            request.POST.get("report", ""), salt=_report_salt(request.seller), max_age=86_400
        )
        report_rows = [BulkShipRow(*row) for row in rows]
    except (signing.BadSignature, TypeError, ValueError):
        messages.error(request, "That report has expired: upload the file again to get a new one.")
        return redirect("seller_orders:bulk_ship")
    response = HttpResponse(
        bulk_ship_report_csv(rows=report_rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="bulk-ship-report.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
