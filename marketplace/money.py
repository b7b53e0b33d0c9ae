"""Money: integer amounts in a currency's minor unit (cents), with the ISO 4217 code beside them.

Never float. This module owns the marketplace's one rounding rule and its one splitting rule:

- Percentages are rates in basis points (200 bps = 2%). A percentage of an amount is rounded
  half up on the minor unit, on the magnitude (so -1.5 cents rounds to -2, like +1.5 to +2), and is
  computed once per seller order: 2% of $10.25 is 20.5 cents, which is 21 cents.
- Splitting a total into parts (a refund across order lines, a discount across sellers) uses the
  largest-remainder method: each part gets the floor of its exact share, and the cents left over go
  one each to the parts with the largest remainders (ties to the earlier part). The parts always add
  up to the whole, and no part is more than one minor unit from its exact share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from marketplace.errors import DomainError

# Minor-unit exponents of the currencies we accept (ISO 4217). Extend when a market opens.
CURRENCY_EXPONENTS = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "DKK": 2, "EUR": 2, "GBP": 2, "IDR": 2, "INR": 2,
    "JPY": 0, "KRW": 0, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "PHP": 2, "PLN": 2, "SEK": 2,
    "SGD": 2, "THB": 2, "USD": 2, "VND": 0,
}  # fmt: skip
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}

BPS_DENOMINATOR = 10_000
# No price has more than 13 digits before the point. Typed text beyond that ("1e999999") is
# refused before it is turned into a (million-digit) integer, which would take seconds.
MAX_TYPED_EXPONENT = 12
TYPED_AMOUNT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?$", re.ASCII)


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"


class MoneyParseError(DomainError):
    code = "invalid_amount"


class MoneyTooLarge(MoneyParseError):
    """An amount above the maximum given to Money.parse; `limit` is that maximum."""

    code = "amount_too_large"

    def __init__(self, limit: Money):
        self.limit = limit
        super().__init__(f"That amount is too large; the most is {limit}.")


def amount_text_is_too_large(text: str) -> bool:
    """True when typed amount text is far beyond any price (see MAX_TYPED_EXPONENT); text that is
    no number at all is Money.parse's to judge."""
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        return False
    return value.is_finite() and bool(value) and value.adjusted() > MAX_TYPED_EXPONENT


def exponent_of(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise DomainError(f"Unknown currency {currency!r}.", code="unknown_currency") from None


def percentage_of(amount_minor: int, rate_bps: int) -> int:
    """`rate_bps` basis points of `amount_minor`, rounded half up on the magnitude."""
    if not isinstance(amount_minor, int) or not isinstance(rate_bps, int):
        raise TypeError("amounts and rates are integers")
    if rate_bps < 0:
        raise ValueError("a rate cannot be negative")
    magnitude = (abs(amount_minor) * rate_bps * 2 + BPS_DENOMINATOR) // (2 * BPS_DENOMINATOR)
    return magnitude if amount_minor >= 0 else -magnitude


def format_bps(rate_bps: int) -> str:
    """A rate in basis points as people write it: 200 -> "2%", 250 -> "2.5%" (exact, no float)."""
    percent = (Decimal(rate_bps) / 100).normalize()
    return f"{percent:f}%"


def allocate(total_minor: int, weights: list[int]) -> list[int]:
    """Split `total_minor` in proportion to `weights` by largest remainder (see module docstring).

    Weights are non-negative integers (for example line totals); at least one must be positive.
    A negative total is split as its magnitude, then negated.
    """
    if not weights or any(not isinstance(w, int) or w < 0 for w in weights):
        raise ValueError("weights must be non-negative integers")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("at least one weight must be positive")
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    left_over = magnitude - sum(floors)
    # Largest remainder first; among equals, the earlier part.
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left_over]:
        floors[index] += 1
    return [sign * part for part in floors]


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError(f"amount_minor must be an int, not {type(self.amount_minor).__name__}")
        exponent_of(self.currency)

    # --- construction

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(
        cls,
        text: str,
        currency: str,
        *,
        allow_negative: bool = False,
        maximum_minor: int | None = None,
    ) -> Money:
        """Read an amount typed by a person ("4.99", "1,250", " 12.5 ") into Money. The one
        parser of typed amounts: forms, the CSV importer and filters all call it.

        Raises MoneyParseError with a message for people: not a number, too many decimals for the
        currency, or negative when not allowed. With `maximum_minor` (say, what a column holds),
        an amount above it raises MoneyTooLarge, and so does any number typed far beyond a price,
        exponent notation included ("1e15"), which is otherwise simply not an amount.
        """
        exponent = exponent_of(currency)
        if maximum_minor is not None and amount_text_is_too_large(text):
            raise MoneyTooLarge(cls(maximum_minor, currency))
        text = (text or "").strip()
        # ASCII digits, an optional sign and dot, and commas only between groups of three: "4,99"
        # is a European decimal that must not become 499, and exponents ("1e9") are nobody's price.
        if not TYPED_AMOUNT.match(text) or not any(char.isdigit() for char in text):
            if "," in text and re.fullmatch(r"-?[0-9.,]+", text):
                raise MoneyParseError(
                    f"Use a dot for decimals, as in {cls.example(currency)}; commas may only "
                    "separate thousands (1,250)."
                )
            raise MoneyParseError(f"Enter an amount such as {cls.example(currency)}.")
        cleaned = text.replace(",", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyParseError(f"Enter an amount such as {cls.example(currency)}.") from None
        if not value.is_finite():
            raise MoneyParseError(f"Enter an amount such as {cls.example(currency)}.")
        if value and value.adjusted() > MAX_TYPED_EXPONENT:
            raise MoneyParseError("That amount is too large.")
        if value < 0 and not allow_negative:
            raise MoneyParseError("The amount cannot be negative.")
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            places = "no decimals" if exponent == 0 else f"at most {exponent} decimals"
            raise MoneyParseError(f"{currency} amounts have {places}.")
        if maximum_minor is not None and scaled > maximum_minor:
            raise MoneyTooLarge(cls(maximum_minor, currency))
        return cls(int(scaled), currency)

    @staticmethod
    def example(currency: str) -> str:
        return "1500" if exponent_of(currency) == 0 else "12.50"

    # --- arithmetic (same currency only)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Money can only be combined with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor >= other.amount_minor

    def times(self, quantity: int) -> Money:
        if not isinstance(quantity, int):
            raise TypeError("quantity must be an int")
        return Money(self.amount_minor * quantity, self.currency)

    def percentage(self, rate_bps: int) -> Money:
        return Money(percentage_of(self.amount_minor, rate_bps), self.currency)

    def split(self, weights: list[int]) -> list[Money]:
        return [Money(part, self.currency) for part in allocate(self.amount_minor, weights)]

    # --- for people

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-exponent_of(self.currency))

    def format(self) -> str:
        """ "$1,234.50", "-$0.21", "¥1,500", "1,234.50 SEK"."""
        exponent = exponent_of(self.currency)
        number = f"{abs(self.decimal):,.{exponent}f}"
        sign = "-" if self.amount_minor < 0 else ""
        symbol = CURRENCY_SYMBOLS.get(self.currency)
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {self.currency}"

    def __str__(self) -> str:
        return self.format()
