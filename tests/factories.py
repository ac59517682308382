"""Payloads built for tests and benchmarks from the kinds' samples."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from correspondence.kinds import KINDS
from correspondence.money import quantize


def sample_with_lines(count: int) -> dict[str, Any]:
    """The es-MX sample with ``count`` monitoring-fee lines, for tests and benchmarks of
    long invoices. The service computes the totals; the CFDI QR code states the total it
    will compute (16 % IVA, rounded half-up per line)."""
    payload = copy.deepcopy(KINDS["premium_invoice"].sample())
    template = payload["lines"][2]
    lines, total = [], Decimal(0)
    for i in range(count):
        price = quantize(Decimal("100.00") + Decimal(i) / 4, "MXN")
        quantity = 1 + i % 3
        line = copy.deepcopy(template)
        line["description"] = f"Cuota de monitoreo del comprador {i + 1:05d}, vigencia 2027"
        line["quantity"] = str(quantity)
        line["unit_price"]["amount"] = str(price)
        del line["net"], line["tax"]
        lines.append(line)
        net = price * quantity
        total += net + quantize(net * Decimal("0.16"), "MXN")
    payload["lines"] = lines
    del payload["totals"]
    cfdi = payload["cfdi"]
    cfdi["qr_payload"] = (
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
        f"?id={cfdi['uuid']}&re=FSC980615K25&rr=DNA150312AB0&tt={total}"
    )
    return payload
