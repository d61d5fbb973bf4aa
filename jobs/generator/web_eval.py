"""The web-page labeled set's sample: real Common Crawl text units drawn in strata of detector flags.

The harm and PII detectors are calibrated on tweets and synthetic sentences; this draws the units of
data/eval/web/units.jsonl, which were then labeled by reading (data/eval/web/README.md: the guideline,
how the labels were made, the counts per stratum and how to weight them back to the pool).

The pool: every document of the real samples (SOURCES, read with cc-sieve's reader: the Dolma JSONL
documents, the WARC pages as extracted, the WET record) cut into units. A document of at most
MAX_UNIT_CHARS characters is one unit (a whole page); a longer one is cut into passages of about equal
length, between MIN_UNIT_CHARS and MAX_UNIT_CHARS, at line breaks (within a line longer than that, at a
sentence end or a space); a document's last passage can be shorter where its line breaks fall badly. A
unit keeps its document's id and its character offsets in the document's text (leading and trailing
whitespace left out), so `text == document_text[start:end]`.

Every unit is annotated as a document of its own, with its document's URL: the text harm detectors
(ldnoobw, davidson_hate, profanity) and the URL ones (url_<category>) of filters/harm.py, and
Presidio (filters/pii.py) in regex mode and in full (NER) mode, one flag per entity type found
(detector_flags). A unit belongs to one stratum: its rarest flag (the flag fewest units of the pool
carry; `none` without any) and its language group. Strata of a rare flag (at most --rare units carry
it) are taken whole, the others sampled at one rate, at least --minimum units each, so that the set
holds at least --size units. Each unit keeps its stratum, the stratum's pool size and its sample
size: weight = pool_size / sample_size.

    python -m cc_sieve.jobs.generator.web_eval --output data/eval/web/units.jsonl

Labels of units already in --output (same id and text) are kept; a new unit gets `labels: null` until
someone labels it by reading (the README's guideline).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cc_sieve.filters.harm import HarmAnnotator
from cc_sieve.filters.language import Py3LangIdentifier
from cc_sieve.filters.pii import NER_ENTITIES, SCORE_THRESHOLD, PiiDetector
from cc_sieve.filters.resources import REPO_ROOT, data_path
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.errors import InputError, run_command
from cc_sieve.jobs.reading.reader import read_documents

# Source file (relative to a data folder) -> the short name unit ids start with.
SOURCES = {
    "commoncrawl/CC-MAIN-2019-30/dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz": "dolma",
    "commoncrawl/CC-MAIN-2020-34/resiliparse-warcfile.warc.gz": "warc2020",
    "commoncrawl/CC-MAIN-2024-22/whirlwind.warc.gz": "whirlwind-warc",
    "commoncrawl/CC-MAIN-2024-22/whirlwind.warc.wet.gz": "whirlwind-wet",
    "commoncrawl/CC-MAIN-2019-51/jwarc-cc.warc.gz": "jwarc",
}
MIN_UNIT_CHARS = 600
MAX_UNIT_CHARS = 1500
LANGUAGE_GROUPS = ("english", "latin", "cjk", "cyrillic", "other")
NO_FLAG = "none"
PRESET_PII_THRESHOLD = 0.5  # conf/benchmark/default.yaml pii.score_threshold
DEFAULT_OUTPUT = REPO_ROOT / "data" / "eval" / "web" / "units.jsonl"
_SENTENCE_END = re.compile(r"[.!?。！？]\s")
_SCRIPT_OF_NAME = (("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"), ("HANGUL", "cjk"),
                   ("CYRILLIC", "cyrillic"), ("LATIN", "latin"))


class SampleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    output: Path = DEFAULT_OUTPUT
    seed: int = 0
    size: int = Field(default=600, ge=1)
    minimum: int = Field(default=12, ge=1)
    rare: int = Field(default=100, ge=0)


@dataclass(frozen=True)
class Unit:
    source: str  # the file, relative to a data folder
    doc_index: int  # the document's position among the file's documents
    doc_id: str
    url: str | None
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return f"{SOURCES[self.source]}:{self.doc_index}:{self.start}-{self.end}"


@dataclass
class PoolUnit:
    unit: Unit
    language_group: str
    flags: list[str] = field(default_factory=list)
    stratum: str = ""


# ---------------------------------------------------------------------------------------------
# Units

def cut_inside(text: str, start: int, limit: int) -> int:
    """Where to end a piece that starts at `start` inside one long line: after the last sentence end
    (else the last space) between MIN_UNIT_CHARS and `limit` characters in, else at `limit`."""
    window = text[start:start + limit]
    sentence_ends = [match.end() for match in _SENTENCE_END.finditer(window) if match.end() >= MIN_UNIT_CHARS]
    if sentence_ends:
        return start + sentence_ends[-1]
    space = window.rfind(" ", MIN_UNIT_CHARS)
    return start + (space + 1 if space > 0 else limit)


def passage_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of the units of a document's text: the whole text when it is at most MAX_UNIT_CHARS
    long, else passages of about len / ceil(len / MAX_UNIT_CHARS) characters ended at a line break
    (or inside a too long line, see cut_inside), the last one possibly shorter than MIN_UNIT_CHARS;
    whitespace at either end of a unit is left out."""
    cuts = [0]
    if len(text) > MAX_UNIT_CHARS:
        line_ends = [match.end() for match in re.finditer(r"\n", text)]
        while len(text) - cuts[-1] > MAX_UNIT_CHARS:
            start = cuts[-1]
            left = len(text) - start
            target = start + left / math.ceil(left / MAX_UNIT_CHARS)
            candidates = [end for end in line_ends if start + MIN_UNIT_CHARS <= end <= start + MAX_UNIT_CHARS]
            if candidates:
                cuts.append(min(candidates, key=lambda end: abs(end - target)))
            else:
                cuts.append(cut_inside(text, start, MAX_UNIT_CHARS))
    cuts.append(len(text))
    bounds = []
    for start, end in itertools.pairwise(cuts):
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            offset = start + len(piece) - len(piece.lstrip())
            bounds.append((offset, offset + len(stripped)))
    return bounds


def read_units(sources: Iterable[str] = SOURCES) -> list[Unit]:
    """Every unit of every document of the sources, in file and document order."""
    units = []
    for source in sources:
        try:
            documents = read_documents(data_path(source))
        except (FileNotFoundError, RuntimeError) as error:
            raise InputError(f"{source}: {error}; the web-page set is drawn from the bundled real samples") from None
        for index, document in enumerate(documents):
            text = document["text"]
            units += [Unit(source, index, document["doc_id"], document["url"], start, end, text[start:end])
                      for start, end in passage_bounds(text)]
    return units


def script_of(text: str) -> str:
    """The script most letters of a text are written in: latin, cjk (Han, kana, Hangul), cyrillic or other."""
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            counts[next((script for prefix, script in _SCRIPT_OF_NAME if name.startswith(prefix)), "other")] += 1
    return counts.most_common(1)[0][0] if counts else "other"


def language_group(text: str, identifier: Py3LangIdentifier) -> str:
    """english (Latin script, detected as English by py3langid, as the harm detectors decide), latin
    (another Latin-script language), cjk, cyrillic or other (other scripts, or no letters)."""
    script = script_of(text)
    if script == "latin" and identifier.classify(text)[0] == "en":
        return "english"
    return script


# ---------------------------------------------------------------------------------------------
# Detector flags and strata

def detector_flags(units: Sequence[Unit]) -> list[list[str]]:
    """The flags each unit carries, read as one document: the harm detectors by name (ldnoobw, url_adult,
    ...) and PII entity types: `pii_regex:<TYPE>` (regex mode at the preset's threshold, 0.5),
    `pii_regex@0.4:<TYPE>` (found at 0.4, the threshold of redacted excerpts, and not at 0.5: phone numbers
    without a context word) and `pii_full:<TYPE>` for the NER types of full mode (full mode finds the
    regex types exactly as regex mode does, checked on the whole pool)."""
    batch = {"doc_id": [unit.id for unit in units], "text": [unit.text for unit in units],
             "url": [unit.url for unit in units], "language": [None] * len(units)}
    harm = HarmAnnotator().annotate(batch)
    flags: list[list[str]] = [[] for _ in units]
    for column, values in harm.items():
        if not column.endswith("_score"):
            for unit_flags, value in zip(flags, values, strict=True):
                if value:
                    unit_flags.append(column.removeprefix("harm_"))
    runs = {"pii_regex": PiiDetector.shared("regex", score_threshold=PRESET_PII_THRESHOLD),
            "pii_regex@0.4": PiiDetector.shared("regex", score_threshold=SCORE_THRESHOLD),
            "pii_full": PiiDetector.shared("full", entities=NER_ENTITIES, score_threshold=PRESET_PII_THRESHOLD)}
    found_types = {name: [{finding.type for finding in found} for found in detector.find(batch["text"])]
                   for name, detector in runs.items()}
    for index, unit_flags in enumerate(flags):
        preset = found_types["pii_regex"][index]
        for name, types_per_unit in found_types.items():
            types = types_per_unit[index]
            extra = types - preset if name == "pii_regex@0.4" else types
            unit_flags += [f"{name}:{entity}" for entity in sorted(extra)]
    return flags


def assign_strata(pool: list[PoolUnit]) -> None:
    """Each unit's stratum: `<rarest flag>/<language group>`, the rarest flag being the one fewest units of
    the pool carry (ties by name), `none/<group>` for a unit without a flag."""
    carried = Counter(flag for member in pool for flag in set(member.flags))
    rank = {flag: index for index, flag in enumerate(sorted(carried, key=lambda flag: (carried[flag], flag)))}
    for member in pool:
        rarest = min(member.flags, key=rank.__getitem__, default=NO_FLAG)
        member.stratum = f"{rarest}/{member.language_group}"


def allocate(pool_sizes: dict[str, int], whole: set[str], size: int, minimum: int) -> dict[str, int]:
    """Sample size per stratum: the `whole` strata and those of at most `minimum` units entire, the others
    at one rate (the smallest, in steps of 0.001, that brings the total to `size`) and at least `minimum`."""

    def sizes(rate: float) -> dict[str, int]:
        return {stratum: pool if stratum in whole else min(pool, max(minimum, round(pool * rate)))
                for stratum, pool in pool_sizes.items()}

    step = next((step for step in range(1001) if sum(sizes(step / 1000).values()) >= size), 1000)
    return sizes(step / 1000)


def draw(pool: list[PoolUnit], size: int, minimum: int, rare: int, seed: int) -> list[tuple[PoolUnit, int, int]]:
    """(unit, pool size, sample size) of every unit drawn, in stratum and id order. Strata whose flag at most
    `rare` units of the pool carry are taken whole (see allocate for the others); each stratum's draw is
    seeded with (seed, stratum), so it does not depend on the other strata."""
    carried = Counter(flag for member in pool for flag in set(member.flags))
    strata: dict[str, list[PoolUnit]] = {}
    for member in sorted(pool, key=lambda member: member.unit.id):
        strata.setdefault(member.stratum, []).append(member)
    whole = {stratum for stratum in strata if carried.get(stratum.rsplit("/", 1)[0], rare + 1) <= rare}
    sample_sizes = allocate({stratum: len(members) for stratum, members in strata.items()}, whole, size, minimum)
    drawn = []
    for stratum in sorted(strata):
        members = strata[stratum]
        chosen = random.Random(f"{seed}/{stratum}").sample(members, sample_sizes[stratum])
        drawn += [(member, len(members), sample_sizes[stratum])
                  for member in sorted(chosen, key=lambda member: member.unit.id)]
    return drawn


def build_pool(units: Sequence[Unit]) -> list[PoolUnit]:
    identifier = Py3LangIdentifier.shared()  # the identifier the set was drawn with
    pool = [PoolUnit(unit, language_group(unit.text, identifier), flags)
            for unit, flags in zip(units, detector_flags(units), strict=True)]
    assign_strata(pool)
    return pool


# ---------------------------------------------------------------------------------------------
# The file

LABEL_FIELDS = ("labels", "entities", "label_note")  # what reading a unit adds (the README's guideline)


def existing_labels(path: Path) -> dict[tuple[str, str], dict]:
    """(id, text) -> the label fields of the labeled units already in the file."""
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(row["id"], row["text"]): {name: row.get(name) for name in LABEL_FIELDS}
            for row in rows if row.get("labels") is not None}


def unit_rows(drawn: list[tuple[PoolUnit, int, int]], labeled: dict[tuple[str, str], dict]) -> list[dict]:
    rows = []
    for member, pool_size, sample_size in drawn:
        unit = member.unit
        row = {"id": unit.id, **{k: v for k, v in asdict(unit).items() if k != "doc_index"},
               "language_group": member.language_group, "stratum": member.stratum, "flags": member.flags,
               "pool_size": pool_size, "sample_size": sample_size}
        row.update(labeled.get((unit.id, unit.text), dict.fromkeys(LABEL_FIELDS)))
        rows.append(row)
    return rows


LABELS = ("sexual", "profanity", "hate", "pii_private", "none")  # the README's guideline


def strata_table(rows: list[dict]) -> str:
    """A Markdown table of the strata (the README's counts): pool size, sample size, weight and how many
    of the stratum's units carry each label (a unit may carry several; unlabeled units count in none of them)."""
    strata: dict[str, tuple[int, int]] = {}
    labels: dict[str, Counter[str]] = {}
    for row in rows:
        strata[row["stratum"]] = (row["pool_size"], row["sample_size"])
        labels.setdefault(row["stratum"], Counter()).update(row["labels"] or ())
    lines = ["| stratum | pool units | sampled | weight | " + " | ".join(LABELS) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(LABELS)]
    lines += [f"| `{stratum}` | {pool} | {sample} | {pool / sample:.3f} | "
              + " | ".join(str(labels[stratum][label]) for label in LABELS) + " |"
              for stratum, (pool, sample) in strata.items()]
    total = sum(labels.values(), Counter())
    lines.append(f"| all | {sum(pool for pool, _ in strata.values())} | {len(rows)} | | "
                 + " | ".join(str(total[label]) for label in LABELS) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> SampleOptions:
    defaults = {name: spec.default for name, spec in SampleOptions.model_fields.items()}
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.generator.web_eval",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=defaults["output"],
                        help="the units file (JSONL); labels of units it already holds are kept")
    parser.add_argument("--seed", type=int, default=defaults["seed"])
    parser.add_argument("--size", type=int, default=defaults["size"], help="units to draw, at least")
    parser.add_argument("--minimum", type=int, default=defaults["minimum"],
                        help="units drawn from a stratum at least (all of a smaller one)")
    parser.add_argument("--rare", type=int, default=defaults["rare"],
                        help="a flag at most this many units of the pool carry is rare: its strata are taken whole")
    return validate_flags(SampleOptions, vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    pool = build_pool(read_units())
    drawn = draw(pool, options.size, options.minimum, options.rare, options.seed)
    rows = unit_rows(drawn, existing_labels(options.output))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    with open(options.output, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(strata_table(rows))
    unlabeled = sum(row["labels"] is None for row in rows)
    print(f"{len(rows)} units of {len(pool)} in {options.output}; {unlabeled} to label by reading")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="web_eval"))
