"""Money: half-up quantisation and the Mexican amount in words."""

from decimal import Decimal

import pytest

from correspondence.money import amount_in_words_mxn, apply_rate, quantize


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1", "(UN PESO 00/100 M.N.)"),
        ("21", "(VEINTIÚN PESOS 00/100 M.N.)"),
        ("101", "(CIENTO UN PESOS 00/100 M.N.)"),
        ("21000", "(VEINTIÚN MIL PESOS 00/100 M.N.)"),
        ("1000000", "(UN MILLÓN DE PESOS 00/100 M.N.)"),
        ("1000000.50", "(UN MILLÓN DE PESOS 50/100 M.N.)"),
        ("76067.00", "(SETENTA Y SEIS MIL SESENTA Y SIETE PESOS 00/100 M.N.)"),
        ("2000000", "(DOS MILLONES DE PESOS 00/100 M.N.)"),
        ("1500000", "(UN MILLÓN QUINIENTOS MIL PESOS 00/100 M.N.)"),
        ("100", "(CIEN PESOS 00/100 M.N.)"),
        ("1001", "(MIL UN PESOS 00/100 M.N.)"),
        ("0.99", "(CERO PESOS 99/100 M.N.)"),
        ("31021031.31", "(TREINTA Y UN MILLONES VEINTIÚN MIL TREINTA Y UN PESOS 31/100 M.N.)"),
        ("716", "(SETECIENTOS DIECISÉIS PESOS 00/100 M.N.)"),
    ],
)
def test_amount_in_words_mxn(amount: str, words: str) -> None:
    """The importe con letra apocopates before nouns and adds DE after exact millions."""
    assert amount_in_words_mxn(Decimal(amount)) == words


def test_amount_in_words_rounds_cents_half_up() -> None:
    """Half a centavo rounds up, unlike Babel's half-even."""
    assert amount_in_words_mxn(Decimal("10.005")) == "(DIEZ PESOS 01/100 M.N.)"


def test_amount_in_words_refuses_negative_amounts() -> None:
    """A negative amount has no importe con letra."""
    with pytest.raises(ValueError, match="non-negative"):
        amount_in_words_mxn(Decimal("-1"))


def test_quantize_is_half_up_to_minor_unit() -> None:
    """Half a cent rounds away from zero; yen have no minor unit."""
    assert quantize(Decimal("0.005"), "EUR") == Decimal("0.01")
    assert quantize(Decimal("0.015"), "EUR") == Decimal("0.02")
    assert quantize(Decimal("2.5"), "JPY") == Decimal("3")


def test_apply_rate_rounds_each_tax_half_up() -> None:
    """A tax is base × rate rounded half-up to the cent."""
    assert apply_rate(Decimal("1875.00"), Decimal("0.16"), "MXN") == Decimal("300.00")
    assert apply_rate(Decimal("0.0625"), Decimal("0.08"), "EUR") == Decimal("0.01")
