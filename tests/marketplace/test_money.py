from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import (
    CurrencyMismatch,
    Money,
    MoneyParseError,
    allocate,
    format_bps,
    percentage_of,
)

amounts = st.integers(min_value=-(10**12), max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(any)


@pytest.mark.parametrize(
    ("amount", "rate_bps", "expected"),
    [
        (1025, 200, 21),  # 20.5 cents rounds half up
        (1024, 200, 20),  # 20.48
        (1000, 200, 20),
        (25, 200, 1),  # 0.5 rounds up
        (24, 200, 0),  # 0.48 rounds down
        (-1025, 200, -21),  # the magnitude rounds, the sign stays
        (0, 200, 0),
        (999, 10_000, 999),
        (12345, 8000, 9876),
    ],
)
def test_a_percentage_rounds_half_up_on_the_minor_unit(amount, rate_bps, expected):
    assert percentage_of(amount, rate_bps) == expected


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_a_percentage_is_within_half_a_cent_of_the_exact_value(amount, rate_bps):
    exact = Fraction(amount * rate_bps, 10_000)
    assert abs(percentage_of(amount, rate_bps) - exact) <= Fraction(1, 2)


@given(amounts, weights)
def test_split_parts_always_add_up_to_the_whole(total, parts):
    assert sum(allocate(total, parts)) == total


@given(amounts, weights)
def test_no_split_part_is_a_cent_or_more_from_its_exact_share(total, parts):
    for part, weight in zip(allocate(total, parts), parts, strict=True):
        assert abs(part - Fraction(total * weight, sum(parts))) < 1


def test_leftover_cents_go_to_the_largest_remainders_then_the_earlier_part():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(5, [1, 2]) == [2, 3]  # exact 1.67 / 3.33: 1 + remainder wins the cent
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


def test_a_zero_weight_part_gets_nothing():
    assert allocate(999, [0, 1, 0]) == [0, 999, 0]


@pytest.mark.parametrize("bad", [[], [0, 0], [-1, 2], [1.5]])
def test_split_refuses_meaningless_weights(bad):
    with pytest.raises(ValueError):
        allocate(100, bad)


def test_money_refuses_a_float_amount_and_an_unknown_currency():
    with pytest.raises(TypeError):
        Money(4.99, "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(Exception, match="Unknown currency"):
        Money(100, "XYZ")


def test_money_of_different_currencies_does_not_mix():
    with pytest.raises(CurrencyMismatch):
        Money(100, "USD") + Money(100, "EUR")
    with pytest.raises(CurrencyMismatch):
        assert Money(100, "USD") < Money(100, "EUR")


def test_money_arithmetic_and_helpers():
    price = Money(1025, "USD")
    assert price + Money(75, "USD") == Money(1100, "USD")
    assert price - Money(1100, "USD") == Money(-75, "USD")
    assert price.times(3) == Money(3075, "USD")
    assert price.percentage(200) == Money(21, "USD")
    assert price.split([1, 1]) == [Money(513, "USD"), Money(512, "USD")]
    assert -price == Money(-1025, "USD")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123450, "USD"), "$1,234.50"),
        (Money(-21, "USD"), "-$0.21"),
        (Money(1500, "JPY"), "¥1,500"),
        (Money(123450, "SEK"), "1,234.50 SEK"),
        (Money(0, "EUR"), "€0.00"),
    ],
)
def test_money_formats_for_people(money, text):
    assert money.format() == text


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("4.99", "USD", 499),
        (" 1,250 ", "USD", 125000),
        ("12.5", "EUR", 1250),
        ("1500", "JPY", 1500),
        ("0", "USD", 0),
    ],
)
def test_parse_reads_what_people_type(text, currency, minor):
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("abc", "USD", "Enter an amount"),
        ("", "USD", "Enter an amount"),
        ("NaN", "USD", "Enter an amount"),
        ("Infinity", "USD", "Enter an amount"),
        ("4.999", "USD", "at most 2 decimals"),
        ("15.5", "JPY", "no decimals"),
        ("-1", "USD", "cannot be negative"),
    ],
)
def test_parse_refuses_with_a_clear_message(text, currency, message):
    with pytest.raises(MoneyParseError, match=message):
        Money.parse(text, currency)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_reads_back_what_format_wrote(minor):
    money = Money(minor, "USD")
    assert Money.parse(money.format().lstrip("$"), "USD") == money


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e999999", "Enter an amount"),
        ("1e999990", "Enter an amount"),
        ("99999999999999", "too large"),
    ],
)
def test_parse_refuses_an_absurdly_large_amount_at_once(text, message):
    with pytest.raises(MoneyParseError, match=message):
        Money.parse(text, "USD")


@pytest.mark.parametrize("text", ["4,99", "1,2,3", "12,50"])
def test_parse_refuses_a_decimal_comma_instead_of_reading_thousands(text):
    with pytest.raises(MoneyParseError, match="Use a dot for decimals"):
        Money.parse(text, "USD")


def test_parse_reads_only_ascii_digits():
    with pytest.raises(MoneyParseError):
        Money.parse("١٢", "USD")


@pytest.mark.parametrize(
    ("rate_bps", "shown"), [(200, "2%"), (250, "2.5%"), (1, "0.01%"), (0, "0%"), (10_000, "100%")]
)
def test_a_rate_in_basis_points_reads_as_people_write_it(rate_bps, shown):
    assert format_bps(rate_bps) == shown
