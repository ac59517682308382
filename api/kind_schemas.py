"""The request body of each kind: its payload model's JSON Schema, with the request options
(``reissue``, ``deliver``, ``review``) and ``document.type`` fixed to the kind.
``GET /v1/kinds`` and the OpenAPI document's ``DocumentRequest`` union are both built here
(one source for both)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import (
    GenerateJsonSchema,
    JsonSchemaMode,
    JsonSchemaValue,
    models_json_schema,
)
from pydantic_core import core_schema

from api.schemas import DeliveryRequest
from correspondence.bounds import DECIMAL_INPUT_MAX
from correspondence.kinds import KINDS, Kind

DECIMAL_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


ACRONYMS = {
    "id": "ID", "cfdi": "CFDI", "iban": "IBAN", "bic": "BIC", "clabe": "CLABE", "vat": "VAT",
    "sat": "SAT", "rfc": "RFC", "url": "URL", "fx": "FX", "mep": "MEP", "afl": "AFL",
    "sac": "SAC", "une": "UNE", "ips": "IPS", "dcl": "DCL", "mx": "MX", "uuid": "UUID",
    "tfd": "TFD", "qr": "QR", "pct": "%", "sla": "SLA",
}  # fmt: skip


def field_title(name: str) -> str:
    """``tax_id`` → "Tax ID": sentence case, acronyms in capitals."""
    words = [ACRONYMS.get(word.lower(), word.lower()) for word in name.split("_") if word]
    title = " ".join(words)
    return title[:1].upper() + title[1:]


class ApiJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, told the truth about decimals: every decimal of a payload
    arrives as a JSON string (``"1234.50"``); the server refuses a JSON number."""

    def get_title_from_name(self, name: str) -> str:
        """A field's title as a form labels it: ``tax_id`` → "Tax ID" (pydantic: "Tax Id")."""
        return field_title(name)

    def field_title_should_be_set(self, schema: Any) -> bool:
        """Every field has a title, a nested model's too (a form's legend)."""
        return True

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        return {"type": "string", "pattern": DECIMAL_PATTERN, "maxLength": DECIMAL_INPUT_MAX}

    def generate(self, schema: core_schema.CoreSchema, mode: JsonSchemaMode = "validation") -> Any:
        return _standard(super().generate(schema, mode))

    def generate_definitions(self, inputs: Any) -> Any:
        refs, defs = super().generate_definitions(inputs)
        return refs, _standard(defs)


_PYDANTIC_ONLY = ("max_digits", "decimal_places")


def _standard(node: Any) -> Any:
    """``node`` without pydantic's own keywords (JSON Schema has no ``max_digits``)."""
    if isinstance(node, dict):
        return {k: _standard(v) for k, v in node.items() if k not in _PYDANTIC_ONLY}
    if isinstance(node, list):
        return [_standard(v) for v in node]
    return node


def _drop_unused(defs: dict[str, Any], name: str, within: Any) -> None:
    if f'/{name}"' not in json.dumps(within):
        defs.pop(name, None)


OPTIONS_DESCRIPTION = {
    "reissue": (
        "issue a new version of the document with this business reference (or correct a "
        "failed one); without it a changed body for an existing reference is refused (409)"
    ),
    "deliver": "also email the document once it is issued",
    "review": (
        '`{"required": true}`: a member of staff other than its composer approves the '
        "document before it is numbered and issued (answered 202, status `in_review`); the "
        "server's settings may require review whatever this says (docs/review.md)"
    ),
}


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _specialise(
    kind: Kind, schema: dict[str, Any], defs: dict[str, Any], template: str
) -> dict[str, Any]:
    """The kind's top-level ``schema`` with the request options, and ``document.type``
    fixed to the kind's name (a header of its own is added to ``defs``)."""
    header_ref = schema["properties"]["document"]["$ref"]
    header = defs[header_ref.rsplit("/", 1)[1]]
    own_header = f"{pascal(kind.name)}DocumentHeader"
    defs[own_header] = {
        **header,
        "title": own_header,
        "properties": {
            **header["properties"],
            "type": {"const": kind.name, "type": "string", "title": "Type"},
        },
    }
    properties = {
        **schema["properties"],
        "document": {"$ref": template.format(model=own_header)},
        "reissue": {"type": "boolean", "description": OPTIONS_DESCRIPTION["reissue"]},
        "deliver": {
            "$ref": template.format(model="DeliveryRequest"),
            "description": OPTIONS_DESCRIPTION["deliver"],
        },
        "review": {
            "type": "object",
            "properties": {"required": {"type": "boolean"}},
            "required": ["required"],
            "additionalProperties": False,
            "description": OPTIONS_DESCRIPTION["review"],
        },
    }
    return {**schema, "properties": properties, "title": f"{pascal(kind.name)}Request"}


@cache
def kind_schema(kind: Kind) -> dict[str, Any]:
    """The request body ``POST /v1/documents`` accepts for ``kind``, standalone (``$defs``)."""
    template = "#/$defs/{model}"
    schema = kind.model.model_json_schema(ref_template=template, schema_generator=ApiJsonSchema)
    delivery = DeliveryRequest.model_json_schema(ref_template=template)
    defs = {**schema.pop("$defs", {}), **delivery.pop("$defs", {}), "DeliveryRequest": delivery}
    specialised = _specialise(kind, schema, defs, template)
    _drop_unused(defs, "DocumentHeader", [specialised, defs])
    return {**specialised, "$defs": defs}


def components() -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI components of the kinds' request bodies, and the body's union schema."""
    template = "#/components/schemas/{model}"
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (kind.model, "validation") for kind in KINDS.values()
    ]
    models.append((DeliveryRequest, "validation"))
    refs, top = models_json_schema(models, ref_template=template, schema_generator=ApiJsonSchema)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    union = []
    for kind in KINDS.values():
        own = schemas.pop(refs[(kind.model, "validation")]["$ref"].rsplit("/", 1)[1])
        name = f"{pascal(kind.name)}Request"
        schemas[name] = _specialise(kind, own, schemas, template)
        union.append({"$ref": template.format(model=name)})
    _drop_unused(schemas, "DocumentHeader", schemas)
    schemas = _plain_names(schemas, template)
    body = {"oneOf": union, "description": "a payload of one kind, named by `document.type`"}
    return schemas, body


def _plain_names(schemas: dict[str, Any], template: str) -> dict[str, Any]:
    """Pydantic names two models of one name after their modules
    (``correspondence__kinds__renewal_pack__Fee``); generators want ``RenewalPackFee``."""
    text = json.dumps(schemas)
    titles = []
    for name in [n for n in schemas if "__" in n]:
        *modules, model = name.split("__")
        plain = pascal(modules[-1]) + model
        if plain in schemas:
            raise RuntimeError(f"two schemas would be named {plain}")
        text = text.replace(f'"{name}"', f'"{plain}"')
        text = text.replace(f'"{template.format(model=name)}"', f'"{template.format(model=plain)}"')
        titles.append(plain)
    renamed: dict[str, Any] = json.loads(text)
    for plain in titles:  # generators name classes after titles: keep them apart too
        renamed[plain]["title"] = plain
    return renamed


DOCUMENT_REQUEST = "#/components/schemas/DocumentRequest"

DOCUMENT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": DOCUMENT_REQUEST}}},
}
"""The request body of ``POST /v1/documents`` (and of previews): one kind's payload."""

BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": {"$ref": DOCUMENT_REQUEST}}},
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "one payload per line"}
        },
    },
}

DELIVERY_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeliveryRequest"}}},
}
