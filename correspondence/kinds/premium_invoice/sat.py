"""The SAT catalogue entries a printed CFDI names, for the codes we use (Anexo 20 of the
Resolución Miscelánea Fiscal, CFDI 4.0 catalogues published by the SAT as
``catCFDI.xls``). Each code is printed followed by its description; a code outside this
table is refused at validation, naming the field, so that nothing prints bare.

The Spanish text is the catalogue's own description. The English one is our reading of
it, for documents rendered in English; the catalogue has no English text. [VERIFY with
the tax team: c_ClaveProdServ 84131500 for credit insurance premiums.]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SatEntry:
    """One catalogue entry: the code and its description in Spanish and English."""

    catalogue: str
    code: str
    es: str
    en: str

    def shown(self, language: str) -> str:
        """``G03 – Gastos en general``."""
        return f"{self.code} – {self.es if language == 'es' else self.en}"


_TABLE: dict[str, dict[str, tuple[str, str]]] = {
    "c_TipoDeComprobante": {
        "I": ("Ingreso", "Income"),
        "E": ("Egreso", "Credit (egreso)"),
    },
    "c_Moneda": {
        "MXN": ("Peso Mexicano", "Mexican peso"),
        "USD": ("Dólar americano", "US dollar"),
        "EUR": ("Euro", "Euro"),
    },
    "c_Exportacion": {
        "01": ("No aplica", "Not applicable"),
    },
    "c_UsoCFDI": {
        "G01": ("Adquisición de mercancías", "Purchase of goods"),
        "G02": ("Devoluciones, descuentos o bonificaciones", "Returns, discounts or rebates"),
        "G03": ("Gastos en general", "General expenses"),
        "S01": ("Sin efectos fiscales", "No tax effects"),
    },
    "c_RegimenFiscal": {
        "601": ("General de Ley Personas Morales", "General regime for legal entities"),
        "603": (
            "Personas Morales con Fines no Lucrativos",
            "Non-profit legal entities",
        ),
        "612": (
            "Personas Físicas con Actividades Empresariales y Profesionales",
            "Individuals with business and professional activities",
        ),
        "626": ("Régimen Simplificado de Confianza", "Simplified trust regime"),
    },
    "c_FormaPago": {
        "01": ("Efectivo", "Cash"),
        "02": ("Cheque nominativo", "Nominative cheque"),
        "03": ("Transferencia electrónica de fondos", "Electronic funds transfer"),
        "04": ("Tarjeta de crédito", "Credit card"),
        "28": ("Tarjeta de débito", "Debit card"),
        "99": ("Por definir", "To be defined"),
    },
    "c_MetodoPago": {
        "PUE": ("Pago en una sola exhibición", "Payment in a single instalment"),
        "PPD": ("Pago en parcialidades o diferido", "Payment in instalments or deferred"),
    },
    "c_ObjetoImp": {
        "01": ("No objeto de impuesto", "Not subject to tax"),
        "02": ("Sí objeto de impuesto", "Subject to tax"),
    },
    "c_ClaveUnidad": {
        "E48": ("Unidad de servicio", "Service unit"),
        "ACT": ("Actividad", "Activity"),
    },
    "c_ClaveProdServ": {
        "84131500": (
            "Servicios de seguros para estructuras y propiedades y posesiones",
            "Insurance services for structures, property and possessions",
        ),
    },
}


def entry(catalogue: str, code: str) -> SatEntry | None:
    """The entry of ``code`` in ``catalogue``, or None if we do not use it."""
    found = _TABLE[catalogue].get(code)
    return SatEntry(catalogue, code, *found) if found else None


def codes(catalogue: str) -> tuple[str, ...]:
    """The codes of ``catalogue`` we use, for messages."""
    return tuple(_TABLE[catalogue])


@dataclass(frozen=True)
class LineKeys:
    """The SAT keys shared by some lines of the invoice (``lines``: ``1–3, 5``)."""

    lines: str
    prod_serv: SatEntry
    unit: SatEntry
    objeto_imp: SatEntry


def line_key_groups(codes: dict[str, SatEntry], count: int) -> tuple[LineKeys, ...]:
    """The lines' keys grouped by combination, in the order first seen, each with the
    numbers (1-based, runs joined by an en dash) of the lines that carry it: a 500-line
    invoice of one service prints one row, not 500."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    entries: dict[tuple[str, str, str], tuple[SatEntry, SatEntry, SatEntry]] = {}
    for i in range(count):
        trio = [
            codes.get(f"{i}.{name}") for name in ("clave_prod_serv", "clave_unidad", "objeto_imp")
        ]
        if None in trio:
            continue
        prod, unit, obj = trio
        assert prod is not None and unit is not None and obj is not None
        key = (prod.code, unit.code, obj.code)
        groups.setdefault(key, []).append(i + 1)
        entries[key] = (prod, unit, obj)
    return tuple(LineKeys(_runs(numbers), *entries[key]) for key, numbers in groups.items())


def _runs(numbers: list[int]) -> str:
    runs: list[str] = []
    start = previous = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == previous + 1:
            previous = n
            continue
        runs.append(str(start) if start == previous else f"{start}–{previous}")
        if n is not None:
            start = previous = n
    return ", ".join(runs)
