"""Numbering a validated document: ``kinds.numbered`` (ours: the number set on the model,
the figures derived again) against validating the numbered payload again (what the
issuer did before), in one run, on the numbered documents of the pipeline's mix.

Both give the same model, stored JSON and figures (checked here on every document, and
by tests/unit/test_numbered.py down to the PDF's bytes).

    .venv/bin/python bench/history/numbering.py [--documents 200] [--runs 7]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pairs import interleaved_ms, medians

from correspondence.kinds import numbered, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for pipeline's mix
from pipeline import mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pairs = []
    for payload in mixed(args.documents):
        validated = validate(payload)
        request = validated.kind.numbering(validated.doc)
        if request is not None and request.stated is None:
            pairs.append((payload, validated, request.format(1)))
    dump = {"indent": 2, "exclude_unset": True, "by_alias": True}
    for payload, validated, number in pairs:
        ours = numbered(validated, number)
        again = validate(validated.kind.with_number(payload, number))
        assert ours.doc.model_dump_json(**dump) == again.doc.model_dump_json(**dump)
        assert ours.figures == again.figures
    paths = {
        "validated again": lambda: [validate(v.kind.with_number(p, n)) for p, v, n in pairs],
        "numbered": lambda: [numbered(v, n) for _, v, n in pairs],
    }
    ms = medians(interleaved_ms(paths, args.runs))
    each = {key: value / len(pairs) for key, value in ms.items()}
    print(f"{len(pairs)} numbered documents of {args.documents}; the same model, JSON, figures")
    for key, value in each.items():
        print(f"  {key:<16}{value:8.3f} ms a document")
    print(f"numbered / validated again: {each['numbered'] / each['validated again']:.3f}")


if __name__ == "__main__":
    main()
