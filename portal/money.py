"""Money as integer minor units of a currency, to and from the decimal amounts people type.

How many decimals a currency has comes from Babel (EUR 2, JPY 0, KWD 3), so no caller multiplies
by 100. No request state: forms, services and formatting all use it."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import get_currency_precision

from portal.text import lazy_text as _l

# Digits with an optional decimal point, as a browser's number field sends them: no sign, no
# exponent, no NaN or Infinity, and no more digits than any real amount has.
_AMOUNT = re.compile(r"(?P<whole>[0-9]{0,12})(?:\.(?P<fraction>[0-9]{1,12}))?")
# The most any amount may be, in minor units: far above a real order, below the database's integer.
MAX_MINOR = 1_000_000_000


class InvalidAmount(ValueError):
    """Typed text that is not an amount of the currency; `message` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def places(currency: str) -> int:
    return get_currency_precision(currency)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """1250 EUR cents -> Decimal('12.50'); 1250 JPY -> Decimal('1250')."""
    return Decimal(amount_minor).scaleb(-places(currency))


def step(currency: str) -> str:
    """The smallest amount one can type: '0.01' for EUR, '1' for JPY (a number field's step)."""
    return str(from_minor(1, currency))


def to_minor(text: str, currency: str) -> int:
    """What a person typed ('12.5', '0.01', '1250') as minor units of the currency.

    Refuses anything else with a translated reason: signs (also '-0'), exponents, NaN and
    Infinity, thousands separators, an amount that needs more decimals than the currency has
    ('12.345' EUR, '1.5' JPY; trailing zeros are fine), and sizes beyond MAX_MINOR."""
    match = _AMOUNT.fullmatch((text or "").strip())
    if match is None or not (match["whole"] or match["fraction"]):
        raise InvalidAmount(
            _l("Enter an amount in %(currency)s like %(example)s.", currency=currency, example=_example(currency))
        )
    digits = places(currency)
    fraction = (match["fraction"] or "").rstrip("0")
    if len(fraction) > digits:
        if digits == 0:
            raise InvalidAmount(_l("%(currency)s amounts have no decimals.", currency=currency))
        # Babel's currencies have 0, 2, 3 or 4 decimals, so the plural always fits.
        raise InvalidAmount(_l("Use at most %(places)d decimals for %(currency)s.", places=digits, currency=currency))
    amount = int(match["whole"] or "0") * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if amount > MAX_MINOR:
        raise InvalidAmount(_l("That amount is too large."))
    return amount


def _example(currency: str) -> str:
    return str(from_minor(1250 * 10 ** max(places(currency) - 2, 0), currency))
