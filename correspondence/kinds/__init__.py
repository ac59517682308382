"""The document kinds: each module holds a payload model, its derived figures and rules.

A :class:`Kind` ties together what the rest of the engine needs: the model that
validates a payload, the function that computes and checks its figures, the template
name (the same in ``templates/es`` and ``templates/en``) and its sample payload.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, runtime_checkable

from pydantic import ValidationError
from typing_extensions import TypeVar  # PEP 696 defaults (typing has them from 3.13)

from correspondence.checks import Reconciler
from correspondence.errors import InvalidPayload, Problem
from correspondence.models import Envelope
from correspondence.rules import check_every_input

SAMPLES_DIR = Path(__file__).parent / "samples"

SEQUENCE_MAX = 999_999
"""The last sequence of a series in one year (numbers carry six digits)."""
STATED_AHEAD_MAX = 10_000
"""How far ahead of a series' last number a stated number may be. Stating a number moves
the series on to it, so without this bound one stated ``XX-2026-999999`` would leave the
series nothing to give."""


@dataclass(frozen=True)
class NumberRequest:
    """A document that needs a number from a gapless series: ``{series}-{year}-{seq:06d}``.

    ``stated`` is the number upstream already gave it (for example a stamped CFDI), which
    the registry records instead of allocating one.
    """

    series: str
    year: int
    stated: str | None
    field: str = "invoice.number"
    """Where the number is in the payload, for messages."""

    def format(self, sequence: int) -> str:
        """The number for ``sequence`` in this series and year."""
        return f"{self.series}-{self.year:04d}-{sequence:06d}"

    def sequence_of(self, number: str) -> int:
        """The sequence part of a number in this series and year."""
        prefix = f"{self.series}-{self.year:04d}-"
        if not number.startswith(prefix) or not number[len(prefix) :].isdigit():
            raise ValueError(f"{number!r} is not in series {prefix}")
        return int(number[len(prefix) :])


def _no_number(_doc: Any) -> NumberRequest | None:
    return None


def _unnumbered(payload: dict[str, Any], _number: str) -> dict[str, Any]:
    return payload


def _nothing_internal(_doc: Any) -> tuple[str, ...]:
    return ()


def _same_doc(doc: Any, _number: str) -> Any:
    return doc


D = TypeVar("D", bound=Envelope, default=Envelope)
"""A kind's validated payload model."""
F = TypeVar("F", default=Any)
"""A kind's derived figures."""


@dataclass(frozen=True)
class Kind(Generic[D, F]):
    """One document kind: ``Kind[InvoicePayload, InvoiceFigures]``."""

    name: str
    model: type[D]
    derive: Callable[[D], F]
    template: str
    sample_file: str
    numbering: Callable[[D], NumberRequest | None] = _no_number
    with_number: Callable[[dict[str, Any], str], dict[str, Any]] = _unnumbered
    number_doc: Callable[[D, str], D] = _same_doc
    """``with_number`` on the validated model: the document with its number set."""
    group_four_digits: bool = True
    """es-ES: ``4.860,00 €`` (amounts in columns) or ``4860,00 €`` (prose letters)."""
    signed_amounts: tuple[str, ...] = ()
    """Paths of the amounts that may be negative (``*`` for a list index); every other
    amount must not be (:func:`correspondence.rules.check_amounts`)."""
    internal: Callable[[Any], tuple[str, ...]] = _nothing_internal
    """The dotted paths of the fields of a validated document that the customer may not
    see (a rating not shareable, an internal metric): left out of the payload embedded in
    the PDF (:func:`customer_payload`), which is what emails carry too. The archive keeps
    the whole payload beside the PDF (issue 19)."""
    accounts: Callable[[Any], tuple[str, ...]] = _nothing_internal
    """The dotted paths of the customer's own account numbers (a debit, a refund, an
    indemnity): masked in the embedded payload as on the page (``common.mask_account``)."""

    def __post_init__(self) -> None:
        numbers = (
            self.numbering is not _no_number,
            self.with_number is not _unnumbered,
            self.number_doc is not _same_doc,
        )
        if len(set(numbers)) > 1:  # a number stored but not printed, or printed but lost
            raise TypeError(f"{self.name}: give numbering, with_number and number_doc, or none")

    def sample(self) -> dict[str, Any]:
        """The kind's sample payload, as a fresh dict."""
        loaded: dict[str, Any] = json.loads((SAMPLES_DIR / self.sample_file).read_text("utf-8"))
        return loaded


@dataclass(frozen=True)
class Validated(Generic[D, F]):
    """A payload that passed validation: its kind, its model and its derived figures."""

    kind: Kind[D, F]
    doc: D
    figures: F


def numbered(validated: Validated[D, F], number: str) -> Validated[D, F]:
    """``validated`` given the number the registry allocated it: what validating
    ``kind.with_number(payload, number)`` gives, without validating again the whole
    payload a number does not change. Its figures are derived again, since they check
    the number (series, year) and may print it."""
    kind = validated.kind
    doc = kind.number_doc(validated.doc, number)
    return Validated(kind, doc, kind.derive(doc))


def customer_payload(validated: Validated) -> bytes:
    """The validated payload as the customer may see it, as JSON: the kind's internal
    fields removed. A document without any is the model's own JSON, byte for byte."""
    from correspondence.kinds.common import mask_account

    doc = validated.doc
    whole = doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True)
    internal, accounts = validated.kind.internal(doc), validated.kind.accounts(doc)
    if not internal and not accounts:
        return whole.encode("utf-8")
    tree = json.loads(whole)
    for paths, change in ((internal, None), (accounts, mask_account)):
        for path in paths:
            *parents, leaf = path.split(".")
            node = tree
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict) or leaf not in node:
                continue
            if change is None:
                del node[leaf]
            elif isinstance(node[leaf], str):
                node[leaf] = change(node[leaf])
    return json.dumps(tree, indent=2, ensure_ascii=False).encode("utf-8")


# What some kinds have and the engine asks for: checked with isinstance, never getattr.
@runtime_checkable
class Lined(Protocol):
    """A payload with invoice lines (rendered in sections when there are many)."""

    @property
    def lines(self) -> Sequence[object]: ...


class _Numbered(Protocol):
    @property
    def number(self) -> str | None: ...


@runtime_checkable
class Invoiced(Protocol):
    """A payload with an invoice header, whose number names its attachment."""

    @property
    def invoice(self) -> _Numbered: ...


@runtime_checkable
class Packed(Protocol):
    """Figures of a pack: the keys of its components, in order."""

    @property
    def components(self) -> tuple[str, ...]: ...


@runtime_checkable
class Warned(Protocol):
    """Figures that carry business warnings, answered with the rendered document."""

    @property
    def warnings(self) -> tuple[str, ...]: ...


_KIND_MODULES = (
    "premium_invoice",
    "credit_limit_change_notice",
    "credit_limit_decision",
    "claim_filing_guide",
    "claim_decision",
    "collection_update",
    "renewal_pack",
)
"""Every kind's name, which is also the name of its module under ``correspondence.kinds``."""


class _Registry(Mapping[str, "Kind[Any, Any]"]):
    """Every kind by name, each kind's module imported when the kind is first looked up:
    its models are pydantic classes whose building is most of the import, so a cold
    ``correspondence render`` of one letter builds that letter's models only."""

    def __getitem__(self, name: str) -> Kind[Any, Any]:
        if name not in _KIND_MODULES:
            raise KeyError(name)
        kind: Kind[Any, Any] = importlib.import_module(f"{__name__}.{name}").KIND
        return kind

    def __iter__(self) -> Iterator[str]:
        return iter(_KIND_MODULES)

    def __len__(self) -> int:
        return len(_KIND_MODULES)

    def __contains__(self, name: object) -> bool:
        return name in _KIND_MODULES


KINDS: Mapping[str, Kind[Any, Any]] = _Registry()


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def problems_from(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[Problem]:
    """Turn pydantic's errors into our field-level problems."""
    return [
        Problem(_field_path(prefix + tuple(e["loc"])), _message(e), str(e["type"]))
        for e in error.errors(include_url=False)
    ]


def kind_of(payload: object) -> Kind[Any, Any]:
    """The kind named by ``payload['document']['type']``."""
    if not isinstance(payload, Mapping):
        raise InvalidPayload([Problem("", "the payload must be a JSON object", "type")])
    document = payload.get("document")
    name = document.get("type") if isinstance(document, Mapping) else None
    if name is None:
        raise InvalidPayload([Problem("document.type", "Field required", "missing")])
    if not isinstance(name, str) or name not in KINDS:
        raise InvalidPayload(
            [
                Problem(
                    "document.type",
                    f"unknown document type {name!r}; expected one of {', '.join(sorted(KINDS))}",
                    "unknown_kind",
                )
            ]
        )
    return KINDS[name]


def validate(payload: object) -> Validated[Any, Any]:
    """Validate ``payload`` against its kind and compute its figures.

    Raises :class:`InvalidPayload` listing every problem: shape errors first (all of them);
    then the rules that hold on every kind (sign and currency of amounts, tax IDs,
    regions: all of them); then every disagreement between stated and computed figures.
    """
    kind = kind_of(payload)
    try:
        doc = kind.model.model_validate(payload, context={"text_language": _text_language(payload)})
    except ValidationError as error:
        raise InvalidPayload(problems_from(error)) from None
    check = Reconciler()
    check_every_input(doc, check, signed=kind.signed_amounts)
    check.raise_if_any()
    validated = Validated(kind, doc, kind.derive(doc))
    from correspondence.language import require_language

    require_language(validated, doc.document.locale)  # its own locale, before it is issued
    return validated


def _text_language(payload: object) -> str | None:
    """The language the payload's free text is written in, read before validation so that
    each free-text field given in several languages reads in it."""
    document = payload.get("document") if isinstance(payload, Mapping) else None
    if not isinstance(document, Mapping):
        return None
    stated = document.get("text_language")
    if isinstance(stated, str):
        return stated
    locale = document.get("locale")
    return locale.split("-")[0] if isinstance(locale, str) else None
