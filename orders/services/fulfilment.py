"""Shipping (docs/architecture.md, "Shipping and tracking, cancellations and refunds"): orders leave
the hold once the buyer's free cancellation window has passed, and the seller ships each order in
one or several packages, one by one from the order page or many at once from a CSV file.

- `orders_release_for_shipment` (every minute): on_hold -> awaiting_shipment, with the deadlines.
- `order_ship`: awaiting_shipment -> awaiting_collection with its Shipments and ShipmentLines, in
  one transaction; the compare-and-swap on the order's status comes first, so of two concurrent
  submits one ships and the other is refused with nothing written; the unique
  (carrier, tracking_number) constraint has the last word on numbers used twice.
- `bulk_ship`: a CSV of order_number,carrier,tracking_number[,lines], each order shipped by
  `order_ship` in its own transaction, with a report per row.
"""

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, Q, Value, When
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.notifications.services import notify
from marketplace.state import StaleTransition, transition, transition_many
from orders.carriers import (
    carrier_adapter,
    carrier_get,
    normalize_tracking_number,
    tracking_number_error,
)
from orders.models import (
    ORDER_MACHINE,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from sellers.models import Seller, ShippingTemplate

logger = logging.getLogger(__name__)

# Without a shipping template a seller has this many days to hand an order to the carrier.
DEFAULT_PROCESSING_DAYS = 2
# One order ships in at most this many packages (the form shows three rows; the CSV allows more).
MAX_PACKAGES = 10
# The bulk page ships synchronously, within the request: larger files are refused.
BULK_MAX_ROWS = 500
BULK_MAX_BYTES = 1_048_576
BULK_COLUMNS = ("order_number", "carrier", "tracking_number")
BULK_OPTIONAL_COLUMNS = ("lines",)

_SHIPPED_STATUSES = {
    OrderStatus.AWAITING_COLLECTION,
    OrderStatus.IN_TRANSIT,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
}
_ORDER_NUMBER = re.compile(r"^#?A?0*(\d{1,12})$", re.IGNORECASE)


class ShipError(DomainError):
    code = "ship_refused"


class TrackingNumberTaken(ShipError):
    code = "tracking_number_taken"


class InvalidBulkShipFile(DomainError):
    code = "invalid_bulk_ship_file"


def order_delivery_days() -> int:
    return getattr(settings, "ORDER_DELIVERY_DAYS", 7)


# --- Leaving the hold ---------------------------------------------------------------------------


def orders_release_for_shipment(*, now: datetime | None = None) -> list[int]:
    """Move every on_hold order whose free cancellation window has passed to awaiting_shipment,
    in one UPDATE, with ship_by = now + the seller's processing days (calendar days; 2 without a
    shipping template) and deliver_by = ship_by + ORDER_DELIVERY_DAYS. Returns the ids moved.

    Safe to run twice or on two workers at once: the UPDATE only moves rows still on hold, so an
    order is released (and audited) once."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(status=OrderStatus.ON_HOLD, cancel_window_ends_at__lte=now)
        .order_by("id")
        .values_list("id", "seller_id")
    )
    if not due:
        return []
    seller_ids = {seller_id for _, seller_id in due}
    days_by_seller = dict(
        ShippingTemplate.objects.filter(seller_id__in=seller_ids).values_list(
            "seller_id", "processing_days"
        )
    )
    sellers_by_days: dict[int, list[int]] = {}
    for seller_id in sorted(seller_ids):
        days = days_by_seller.get(seller_id, DEFAULT_PROCESSING_DAYS)
        sellers_by_days.setdefault(days, []).append(seller_id)
    delivery = timedelta(days=order_delivery_days())

    def by_seller(offset: timedelta) -> Case:
        return Case(
            *(
                When(
                    seller_id__in=ids,
                    then=Value(now + timedelta(days=days) + offset, output_field=DateTimeField()),
                )
                for days, ids in sorted(sellers_by_days.items())
            ),
            default=Value(
                now + timedelta(days=DEFAULT_PROCESSING_DAYS) + offset,
                output_field=DateTimeField(),
            ),
            output_field=DateTimeField(),
        )

    return transition_many(
        ORDER_MACHINE,
        pks=[order_id for order_id, _ in due],
        where=Q(cancel_window_ends_at__lte=now),
        from_status=OrderStatus.ON_HOLD,
        to_status=OrderStatus.AWAITING_SHIPMENT,
        message="The free cancellation window ended: ready to ship.",
        fields={"ship_by": by_seller(timedelta()), "deliver_by": by_seller(delivery)},
        now=now,
    )


# --- Shipping one order -------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageInput:
    """One package: its carrier code, tracking number, and the units in it (order line id ->
    quantity). lines=None: every unit not put in another package (in the first such package;
    later packages with None hold none of the lines, e.g. a second box of one item)."""

    carrier: str
    tracking_number: str
    lines: dict[int, int] | None = None


@dataclass(frozen=True)
class _Package:
    carrier: str
    tracking_number: str
    lines: dict[int, int]


def _refusal_for_status(order: Order) -> str | None:
    if order.status == OrderStatus.AWAITING_SHIPMENT:
        return None
    if order.status in _SHIPPED_STATUSES:
        return f"Order {order.number} has already shipped."
    if order.status == OrderStatus.CANCELLED:
        return f"Order {order.number} was cancelled: do not ship it."
    if order.status == OrderStatus.ON_HOLD:
        when = order.cancel_window_ends_at
        after = f" after {timezone.localtime(when):%b %-d, %H:%M}" if when else " soon"
        return (
            f"Order {order.number} is still in the buyer's free cancellation window: you can "
            f"ship it{after}."
        )
    return f"Order {order.number} cannot be shipped now."


def _plan_packages(
    *, order: Order, lines: list[OrderLine], packages: list[PackageInput]
) -> list[_Package]:
    """Check every package and decide which units travel in which; raise ShipError with every
    problem found, having written nothing."""
    if not packages:
        raise ShipError("Add at least one package with its carrier and tracking number.")
    if len(packages) > MAX_PACKAGES:
        raise ShipError(f"Ship one order in at most {MAX_PACKAGES} packages.")
    errors: list[str] = []
    numbers_seen: set[tuple[str, str]] = set()
    normalized: list[tuple[str, str]] = []
    for index, package in enumerate(packages, start=1):
        label = f"Package {index}: " if len(packages) > 1 else ""
        carrier = carrier_get(package.carrier or "")
        number = normalize_tracking_number(package.tracking_number)
        if carrier is None:
            errors.append(f"{label}choose a carrier from the list.")
        elif not number:
            errors.append(f"{label}enter the tracking number.")
        elif len(number) > Shipment._meta.get_field("tracking_number").max_length:
            errors.append(f"{label}this tracking number is too long.")
        else:
            problem = tracking_number_error(carrier_code=carrier.code, tracking_number=number)
            if problem:
                errors.append(f"{label}{problem}")
            elif (carrier.code, number) in numbers_seen:
                errors.append(f"{label}tracking number {number} is given twice.")
            numbers_seen.add((carrier.code, number))
        normalized.append((package.carrier or "", number))

    by_id = {line.pk: line for line in lines}
    placed = {line.pk: 0 for line in lines}
    for index, package in enumerate(packages, start=1):
        label = f"Package {index}: " if len(packages) > 1 else ""
        for line_id, quantity in (package.lines or {}).items():
            if line_id not in by_id:
                errors.append(f"{label}an item that is not in order {order.number}.")
            elif not isinstance(quantity, int) or quantity <= 0:
                errors.append(
                    f"{label}the quantity of {by_id[line_id].product_title} must be 1 or more."
                )
            else:
                placed[line_id] += quantity
    if errors:
        raise ShipError(" ".join(_sentence(error) for error in errors))

    remaining = {line_id: by_id[line_id].quantity - count for line_id, count in placed.items()}
    over = [by_id[line_id] for line_id, left in remaining.items() if left < 0]
    if over:
        raise ShipError(
            "The packages hold more than was ordered of "
            + ", ".join(f"{line.product_title} ({line.quantity} ordered)" for line in over)
            + "."
        )
    planned: list[_Package] = []
    catch_all_used = False
    for (carrier, number), package in zip(normalized, packages, strict=True):
        if package.lines is not None:
            units = dict(package.lines)
        elif not catch_all_used:
            units = {line_id: left for line_id, left in remaining.items() if left > 0}
            remaining = dict.fromkeys(remaining, 0)
            catch_all_used = True
        else:
            units = {}
        planned.append(_Package(carrier=carrier, tracking_number=number, lines=units))
    missing = [by_id[line_id] for line_id, left in remaining.items() if left > 0]
    if missing:
        raise ShipError(
            "Every unit of the order must be in a package; missing: "
            + ", ".join(f"{remaining[line.pk]} x {line.product_title}" for line in missing)
            + ". Partial shipping is not available yet: ship the whole order at once."
        )
    return planned


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def order_ship(
    *, order_id: int, seller: Seller, actor, packages: list[PackageInput], now=None
) -> list[Shipment]:
    """Ship the whole order in one or several packages: create its Shipments (label_created) and
    ShipmentLines, move it awaiting_shipment -> awaiting_collection with shipped_at, and tell the
    buyer, in one transaction; after commit, register each parcel with its carrier's adapter.

    Raises ShipError (nothing written) for another seller's order, an order that is not waiting
    for shipment (on hold, cancelled, already shipped), a carrier not in the list, a tracking
    number in the wrong format or already used, or packages that do not hold exactly the order."""
    now = now or timezone.now()
    order = (
        Order.objects.filter(pk=order_id, seller=seller, paid_at__isnull=False)
        .select_related("seller", "buyer")
        .first()
    )
    if order is None:
        raise ShipError("No such order in your shop.", code="not_found")
    refusal = _refusal_for_status(order)
    if refusal:
        raise ShipError(refusal, code="not_awaiting_shipment")
    lines = list(order.lines.order_by("id"))
    planned = _plan_packages(order=order, lines=lines, packages=packages)
    taken = _taken_tracking_numbers(planned)
    if taken:
        raise TrackingNumberTaken(_taken_message(taken))

    try:
        with transaction.atomic():
            # The compare-and-swap first: a second submit waits here for the first to commit,
            # then finds the order shipped and writes nothing.
            transition(
                ORDER_MACHINE,
                instance=order,
                from_status=OrderStatus.AWAITING_SHIPMENT,
                to_status=OrderStatus.AWAITING_COLLECTION,
                actor=actor,
                message=_shipped_message(planned),
                fields={"shipped_at": now},
                now=now,
            )
            shipments = [
                Shipment.objects.create(
                    order=order,
                    seller_id=order.seller_id,
                    carrier=package.carrier,
                    tracking_number=package.tracking_number,
                    status=ShipmentStatus.LABEL_CREATED,
                    created_by=actor,
                    created_at=now,
                )
                for package in planned
            ]
            ShipmentLine.objects.bulk_create(
                ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
                for shipment, package in zip(shipments, planned, strict=True)
                for line_id, quantity in sorted(package.lines.items())
            )
            _notify_shipped(order=order, shipments=shipments, lines=lines)
    except StaleTransition:
        order.refresh_from_db(fields=["status", "cancel_window_ends_at"])
        raise ShipError(
            _refusal_for_status(order) or f"Order {order.number} changed meanwhile; try again.",
            code="not_awaiting_shipment",
        ) from None
    except IntegrityError:
        # Another shipment took one of these numbers between the check and the insert.
        taken = _taken_tracking_numbers(planned)
        raise TrackingNumberTaken(
            _taken_message(taken) if taken else "A tracking number is already in use."
        ) from None

    for shipment in shipments:
        # robust: a carrier that is unreachable now must not turn a committed shipment into an
        # error page; the tracking job asks the carrier again later.
        transaction.on_commit(
            _register_with_carrier(shipment.carrier, shipment.tracking_number, now), robust=True
        )
    return shipments


def _register_with_carrier(carrier: str, tracking_number: str, shipped_at: datetime):
    def register() -> None:
        carrier_adapter(carrier).register_shipment(
            tracking_number=tracking_number, shipped_at=shipped_at
        )

    return register


def _taken_tracking_numbers(planned: list[_Package]) -> list[str]:
    condition = Q(pk__in=[])
    for package in planned:
        condition |= Q(carrier=package.carrier, tracking_number=package.tracking_number)
    return list(
        Shipment.objects.filter(condition).order_by("id").values_list("tracking_number", flat=True)
    )


def _taken_message(numbers: list[str]) -> str:
    listed = ", ".join(numbers)
    return (
        f"Tracking number {listed} is already used by another shipment. Check the number on the "
        "label."
    )


def _shipped_message(planned: list[_Package]) -> str:
    parcels = ", ".join(
        f"{carrier_get(package.carrier).name} {package.tracking_number}" for package in planned
    )
    return f"Shipped in {len(planned)} package{'s' if len(planned) != 1 else ''}: {parcels}."


def _notify_shipped(*, order: Order, shipments: list[Shipment], lines: list[OrderLine]) -> None:
    buyer = order.buyer
    notify(
        kind="order.shipped.buyer",
        key=f"order-shipped:{order.pk}:buyer",
        to_email=buyer.email,
        user=buyer,
        about=f"order:{order.pk}",
        subject_template="orders/email/order_shipped_subject.txt",
        body_template="orders/email/order_shipped.txt",
        context={
            "number": order.number,
            "shop_name": order.seller.shop_name,
            "packages": [
                {
                    "carrier": carrier_get(shipment.carrier).name,
                    "tracking_number": shipment.tracking_number,
                }
                for shipment in shipments
            ],
            "lines": [
                {
                    "quantity": line.quantity,
                    "product_title": line.product_title,
                    "option_label": line.option_label,
                }
                for line in lines
            ],
            "deliver_by": (
                f"{timezone.localtime(order.deliver_by):%B %-d, %Y}" if order.deliver_by else ""
            ),
        },
    )


# --- Bulk shipping from a CSV -------------------------------------------------------------------


class BulkOutcome:
    SHIPPED = "shipped"
    NOT_SHIPPED = "not shipped"


@dataclass(frozen=True)
class BulkShipRow:
    row: int  # the row's number in the file (the header is row 1)
    order_number: str
    carrier: str
    tracking_number: str
    outcome: str  # BulkOutcome
    reason: str = ""


@dataclass
class BulkShipReport:
    rows: list[BulkShipRow] = field(default_factory=list)

    @property
    def shipped_orders(self) -> int:
        return len(
            {
                _order_key(row.order_number)
                for row in self.rows
                if row.outcome == BulkOutcome.SHIPPED
            }
        )

    @property
    def rejected_rows(self) -> int:
        return sum(1 for row in self.rows if row.outcome != BulkOutcome.SHIPPED)

    def to_csv(self) -> str:
        return bulk_ship_report_csv(rows=self.rows)


REPORT_COLUMNS = ("row", "order_number", "carrier", "tracking_number", "outcome", "reason")


def bulk_ship_report_csv(*, rows: list[BulkShipRow]) -> str:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.row,
                *(
                    _spreadsheet_safe(value)
                    for value in (row.order_number, row.carrier, row.tracking_number)
                ),
                row.outcome,
                _spreadsheet_safe(row.reason),
            ]
        )
    return output.getvalue()


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: the file echoes the seller's own
    # input, but a report may be opened by someone else in the shop.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


@dataclass
class _CsvRow:
    number: int
    order_number: str
    carrier: str
    tracking_number: str
    lines: str


def _read_bulk_csv(csv_text: str) -> list[_CsvRow]:
    text = (csv_text or "").lstrip("\ufeff").replace("\x00", "")
    if not text.strip():
        raise InvalidBulkShipFile("The file is empty.")
    if len(text.encode()) > BULK_MAX_BYTES:
        raise InvalidBulkShipFile("The file is larger than 1 MB. Split it into smaller files.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        missing = [column for column in BULK_COLUMNS if column not in header]
        if missing:
            raise InvalidBulkShipFile(
                "The first row must name the columns order_number, carrier and tracking_number "
                f"(missing: {', '.join(missing)})."
            )
        position = {name: header.index(name) for name in (*BULK_COLUMNS, "lines") if name in header}
        rows: list[_CsvRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= BULK_MAX_ROWS:
                raise InvalidBulkShipFile(
                    f"The file has more than {BULK_MAX_ROWS} rows. Split it into files of at most "
                    f"{BULK_MAX_ROWS} rows."
                )

            def cell(name: str, cells=cells) -> str:
                index = position.get(name)
                return cells[index].strip() if index is not None and index < len(cells) else ""

            rows.append(
                _CsvRow(
                    number=reader.line_num,
                    order_number=cell("order_number")[:40],
                    carrier=cell("carrier").lower()[:30],
                    tracking_number=cell("tracking_number")[:60],
                    lines=cell("lines")[:1000],
                )
            )
    except StopIteration:
        raise InvalidBulkShipFile("The file is empty.") from None
    except csv.Error as error:
        raise InvalidBulkShipFile(f"The file is not valid CSV: {error}.") from None
    if not rows:
        raise InvalidBulkShipFile("The file has a header but no rows.")
    return rows


def _parse_lines_cell(text: str, lines: list[OrderLine]) -> tuple[dict[int, int] | None, str]:
    """`SKU:quantity` pairs separated by `;` (e.g. `TEA-1:2; MUG-3:1`) -> order line id ->
    quantity; an empty cell -> None. Returns (lines, error)."""
    if not text:
        return None, ""
    by_code: dict[str, list[OrderLine]] = {}
    for line in lines:
        by_code.setdefault(line.sku_code.strip().lower(), []).append(line)
    result: dict[int, int] = {}
    for part in filter(None, (part.strip() for part in text.split(";"))):
        code, _, quantity_text = part.rpartition(":")
        code, quantity_text = code.strip().lower(), quantity_text.strip()
        # 0-9 only, at most 6 of them: "²" passes str.isdigit() but not int().
        if not code or not re.fullmatch(r"[0-9]{1,6}", quantity_text):
            return None, f"Lines: write SKU:quantity pairs separated by ; (not {part[:60]!r})."
        matches = by_code.get(code, [])
        if len(matches) != 1:
            return None, f"Lines: SKU {code.upper()} is not in this order."
        line_id = matches[0].pk
        result[line_id] = result.get(line_id, 0) + int(quantity_text)
    return result or None, ""


def bulk_ship(*, seller: Seller, actor, csv_text: str, now=None) -> BulkShipReport:
    """Ship many orders from a CSV: `order_number,carrier,tracking_number` and an optional `lines`
    column (`SKU:quantity; SKU:quantity`). One row per package: several rows with one order number
    are several packages of that order; without `lines`, the first row's package holds every item
    and the others none. Each order is shipped by `order_ship` in its own transaction, so a bad
    row costs only its own order. Raises InvalidBulkShipFile for a file that cannot be read as a
    whole (then nothing is shipped); returns a report with one entry per row."""
    rows = _read_bulk_csv(csv_text)
    groups: dict[str, list[_CsvRow]] = {}
    for row in rows:
        groups.setdefault(_order_key(row.order_number), []).append(row)
    report = BulkShipReport()
    outcomes: dict[int, BulkShipRow] = {}
    for key, group in groups.items():
        for row, outcome, reason in _ship_group(
            seller=seller, actor=actor, key=key, group=group, now=now
        ):
            outcomes[row.number] = BulkShipRow(
                row=row.number,
                order_number=row.order_number,
                carrier=row.carrier,
                tracking_number=row.tracking_number,
                outcome=outcome,
                reason=reason,
            )
    report.rows = [outcomes[row.number] for row in rows]
    return report


def _order_key(order_number: str) -> str:
    match = _ORDER_NUMBER.match(order_number.strip())
    return f"id:{int(match.group(1))}" if match else f"raw:{order_number.strip()}"


def _ship_group(*, seller, actor, key: str, group: list[_CsvRow], now):
    def every_row(outcome: str, reason: str):
        return [(row, outcome, reason) for row in group]

    if not key.startswith("id:"):
        if not group[0].order_number:
            return every_row(BulkOutcome.NOT_SHIPPED, "The order number is missing.")
        return every_row(
            BulkOutcome.NOT_SHIPPED,
            f"{group[0].order_number} is not an order number (they look like A0000042).",
        )
    order_id = int(key[3:])
    if order_id > 2_147_483_647:
        return every_row(BulkOutcome.NOT_SHIPPED, "No such order in your shop.")
    order_lines = list(
        OrderLine.objects.filter(order_id=order_id, order__seller=seller).order_by("id")
    )
    packages: list[PackageInput] = []
    for row in group:
        lines, error = _parse_lines_cell(row.lines, order_lines)
        if error:
            return [
                (
                    each,
                    BulkOutcome.NOT_SHIPPED,
                    error if each is row else "Another row of this order has a problem.",
                )
                for each in group
            ]
        packages.append(
            PackageInput(carrier=row.carrier, tracking_number=row.tracking_number, lines=lines)
        )
    try:
        order_ship(order_id=order_id, seller=seller, actor=actor, packages=packages, now=now)
    except DomainError as error:
        return every_row(BulkOutcome.NOT_SHIPPED, error.message)
    return every_row(BulkOutcome.SHIPPED, "")
