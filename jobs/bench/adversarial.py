"""Hostile input: a 1 MB document made of every pathological pattern found in the security review (issue 16),
annotated with the default preset's annotators beside ordinary pages, one core, CPU seconds per annotator.

The patterns, each a run of about size / len(PATTERNS) characters:
- `a.a.a....@` and `a-a-a-...@`: Presidio's e-mail pattern backtracked quadratically on them (20,000 characters:
  ~2 minutes) until its local part was bounded (filters/pii.py);
- `a.a.a...a.a x.com`: Presidio's URL patterns try up to 253 characters at every position of a dotted run; near
  a top-level domain they still do (linear, ~30 s a megabyte: URL is not among the default preset's entities;
  the annotate pass's time budget covers it), elsewhere a scan skips the run (`NearTopLevelDomainSearch`);
- `((((...`: spaCy's tokenizer is quadratic in a run without whitespace (1 MB: over 500 s) until such runs
  became one token;
- `. . . .`: sentence counting was quadratic in a run of marks;
- digits and separators, hexadecimal pairs, capitals and digits: what the phone, IP, MAC and IBAN patterns
  read.

    python -m cc_sieve.jobs.bench.adversarial          # prints each annotator's time on the document
"""

from __future__ import annotations

import argparse
import sys
import time

from cc_sieve.filters.base import batch_of
from cc_sieve.jobs.bench.timing import Measurement
from cc_sieve.jobs.config.measurements import measurement_specs
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipes, required_annotators
from cc_sieve.jobs.errors import run_command

DOCUMENT_CHARS = 1_000_000
PATTERNS = {"e-mail (dots)": "a.", "e-mail (hyphens)": "a-", "url": "a." * 125 + " x.com ", "spaCy tokenizer": "(",
            "sentence marks": ". ", "phone": "1-", "ip / mac": "ab:", "ssn / card": "1", "iban": "AB12 "}
ENDINGS = {"e-mail (dots)": "@", "e-mail (hyphens)": "@"}


def adversarial_document(size: int = DOCUMENT_CHARS) -> str:
    """Each pattern repeated to size / len(PATTERNS) characters (then its ending), separated by a line break."""
    share = size // len(PATTERNS)
    return "\n".join((unit * (share // len(unit) + 1))[:share] + ENDINGS.get(name, "")
                     for name, unit in PATTERNS.items())


def default_annotators() -> list:
    """The annotators of the default preset's annotate pass, built."""
    config = load_benchmark_config()
    specs = list(dict.fromkeys(required_annotators(load_recipes(config.recipes)) + measurement_specs(config)))
    return [spec.build() for spec in specs]


def annotator_seconds(annotators: list, document: dict) -> dict[str, float]:
    """CPU seconds each annotator spends on one document alone."""
    seconds = {}
    for annotator in annotators:
        started = time.process_time()
        annotator.annotate(batch_of([document]))
        seconds[annotator.name] = time.process_time() - started
    return seconds


def bench_adversarial(ordinary: list[dict], annotators: list | None = None) -> tuple[list[Measurement], dict]:
    """The adversarial document and `ordinary` documents through every annotator, one at a time; the rows
    are per annotator (on the adversarial document, and on the ordinary ones in all)."""
    annotators = annotators if annotators is not None else default_annotators()
    text = adversarial_document()
    hostile = annotator_seconds(annotators, {"doc_id": "adversarial", "text": text, "url": None, "language": None})
    usual = {annotator.name: 0.0 for annotator in annotators}
    for document in ordinary:
        for name, seconds in annotator_seconds(annotators, document).items():
            usual[name] += seconds
    size = len(text.encode()) / 1e6
    ordinary_mb = sum(len((d["text"] or "").encode()) for d in ordinary) / 1e6
    rows = []
    for name in hostile:
        rows.append(Measurement("adversarial", f"{name}, the 1 MB adversarial document", False, 1, size,
                                hostile[name], "1 document, 1 core, CPU seconds"))
        rows.append(Measurement("adversarial", f"{name}, ordinary pages", False, len(ordinary), ordinary_mb,
                                usual[name], f"{len(ordinary):,} pages of the bench shard, one at a time"))
    return rows, {"adversarial_seconds": hostile, "ordinary_seconds": usual}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.adversarial",
                                     description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    annotators = default_annotators()
    text = adversarial_document()
    seconds = annotator_seconds(annotators, {"doc_id": "adversarial", "text": text, "url": None, "language": None})
    for name, value in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"{name:<28} {value:7.2f} CPU s on {len(text):,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.adversarial"))
