"""Accuracy of the PII detector per entity type on labeled text (data/eval/pii).

Two labeled sets, with their own entity names mapped onto Presidio's:
- presidio-research's generated sentences (`presidio-generated_{small,large}.json`: full_text and spans
  with offsets). ADDRESS maps to LOCATION and DOMAIN_NAME to URL, as presidio-research's evaluation maps
  them; ORGANIZATION, TITLE, PREFIX and US_DRIVER_LICENSE have no counterpart in either mode;
- NeMo-Curator's PII test lines (`nemo-curator-pii_data/*.txt`, spans marked inline as <email>...</email>).

A found span is correct when it overlaps a labeled span of the same type; precision is the share of
found spans that are correct, recall the share of labeled spans that some found span of the same type
overlaps (an address labeled as one span and found as two locations counts once). Only entity types
with labeled spans are scored: a NRP found in these sentences may well be right, nothing says.

    python -m cc_sieve.filters.pii_eval                # both modes on the large generated set + NeMo lines
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cc_sieve.filters.pii import PiiDetector
from cc_sieve.filters.resources import data_path

PRESIDIO_SMALL = "eval/pii/presidio-generated_small.json"
PRESIDIO_LARGE = "eval/pii/presidio-generated_large.json"
NEMO_FOLDER = "eval/pii/nemo-curator-pii_data"
PRESIDIO_LABELS = {"PERSON": "PERSON", "ADDRESS": "LOCATION", "LOCATION": "LOCATION", "CREDIT_CARD": "CREDIT_CARD",
                   "PHONE_NUMBER": "PHONE_NUMBER", "DATE_TIME": "DATE_TIME", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
                   "US_SSN": "US_SSN", "IBAN_CODE": "IBAN_CODE", "DOMAIN_NAME": "URL", "IP_ADDRESS": "IP_ADDRESS"}
NEMO_LABELS = {"name": "PERSON", "email": "EMAIL_ADDRESS", "phone_number": "PHONE_NUMBER", "ssn": "US_SSN",
               "credit_card_number": "CREDIT_CARD", "ip_address": "IP_ADDRESS", "address": "LOCATION",
               "birth_date": "DATE_TIME"}
NEMO_TAG = re.compile(r"<(/?)([a-z_]+)>")


@dataclass(frozen=True)
class LabeledText:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # (start, end, Presidio entity type)
    source: str


def load_presidio_generated(relative: str = PRESIDIO_LARGE) -> list[LabeledText]:
    """presidio-research's generated sentences, labels mapped (unmapped labels dropped)."""
    records = json.loads(data_path(relative).read_text(encoding="utf-8"))
    return [LabeledText(record["full_text"],
                        tuple(sorted((span["start_position"], span["end_position"],
                                      PRESIDIO_LABELS[span["entity_type"]])
                                     for span in record["spans"] if span["entity_type"] in PRESIDIO_LABELS)),
                        Path(relative).name)
            for record in records]


def parse_inline(line: str) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """A NeMo-Curator test line without its tags, and the tagged spans."""
    text, spans, opened, position = [], [], None, 0
    length = 0
    for match in NEMO_TAG.finditer(line):
        piece = line[position:match.start()]
        text.append(piece)
        length += len(piece)
        closing, tag = match.groups()
        if closing:
            if opened is None or opened[0] != tag:
                raise ValueError(f"unbalanced </{tag}> in {line!r}")
            spans.append((opened[1], length, NEMO_LABELS[tag]))
            opened = None
        else:
            opened = (tag, length)
        position = match.end()
    text.append(line[position:])
    return "".join(text), tuple(spans)


def load_nemo_lines(relative: str = NEMO_FOLDER) -> list[LabeledText]:
    labeled = []
    for path in sorted(data_path(relative).glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text, spans = parse_inline(line)
                labeled.append(LabeledText(text, spans, path.name))
    return labeled


def labeled_sets(large: bool = True) -> list[LabeledText]:
    return load_presidio_generated(PRESIDIO_LARGE if large else PRESIDIO_SMALL) + load_nemo_lines()


def overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return a[2] == b[2] and a[0] < b[1] and b[0] < a[1]


def score(labeled: Iterable[LabeledText], found: Iterable[Iterable[tuple[int, int, str]]],
          entities: Iterable[str]) -> list[dict]:
    """Rows {entity, precision, recall, f1, support, found} for each of `entities` with labeled spans."""
    counts = {entity: {"support": 0, "recalled": 0, "found": 0, "correct": 0} for entity in entities}
    for item, spans in zip(labeled, found, strict=True):
        spans = [tuple(span[:3]) for span in spans]
        for gold in item.spans:
            if gold[2] in counts:
                counts[gold[2]]["support"] += 1
                counts[gold[2]]["recalled"] += any(overlaps(gold, span) for span in spans)
        for span in spans:
            if span[2] in counts:
                counts[span[2]]["found"] += 1
                counts[span[2]]["correct"] += any(overlaps(span, gold) for gold in item.spans)
    rows = []
    for entity, c in counts.items():
        if not c["support"]:
            continue
        precision = c["correct"] / c["found"] if c["found"] else 0.0
        recall = c["recalled"] / c["support"]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"entity": entity, "precision": precision, "recall": recall, "f1": f1,
                     "support": c["support"], "found": c["found"]})
    return rows


def pii_accuracy_table(mode: str, labeled: list[LabeledText] | None = None, detector=None) -> list[dict]:
    """Precision, recall and F1 per entity type of `mode` (default: the large generated set + NeMo lines)."""
    labeled = labeled_sets() if labeled is None else labeled
    detector = detector or PiiDetector.shared(mode)
    return score(labeled, detector.find([item.text for item in labeled]), detector.entities)


def format_table(mode: str, rows: list[dict]) -> str:
    lines = [f"PII accuracy, {mode} mode", f"{'entity':<14} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8} "
                                          f"{'found':>6}"]
    lines += [f"{r['entity']:<14} {r['precision']:>9.3f} {r['recall']:>7.3f} {r['f1']:>6.3f} {r['support']:>8} "
              f"{r['found']:>6}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.filters.pii_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["regex", "full", "both"], default="both")
    parser.add_argument("--small", action="store_true", help="the 100-sentence generated set instead of 2,109")
    parser.add_argument("--score-threshold", type=float, default=0.5, help="minimum Presidio score")
    args = parser.parse_args(argv)

    labeled = labeled_sets(large=not args.small)
    print(f"{len(labeled)} labeled texts, score >= {args.score_threshold}")
    for mode in (["regex", "full"] if args.mode == "both" else [args.mode]):
        detector = PiiDetector.shared(mode, score_threshold=args.score_threshold)
        print(format_table(mode, pii_accuracy_table(mode, labeled, detector)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
