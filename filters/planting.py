"""Planting truth into documents: word 5-gram Jaccard, near-duplicate edits, inserted sentences.

`shingle_words` is THE word normalisation for near-duplicate similarity in cc-sieve: lower-case,
every Unicode punctuation character removed, then split on whitespace. `word_shingles` makes
word n-gram sets from it and `jaccard` compares them; `cc-sieve make-shards` records the exact
Jaccard of every planted near-duplicate with these functions, so a MinHash annotator that shingles
text the same way (import `shingle_words`/`word_shingles`) is judged against the very quantity it
estimates. Pure Python, no I/O.

The second half builds the near-duplicate accuracy corpus (`planted_corpus`: real originals and copies
edited to set Jaccard levels) and scores clusters against its exact truth, for the dedup tests and
`make bench`.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

SHINGLE_SIZE = 5
TRUTH_FILE = "truth.jsonl"  # what `cc-sieve make-shards` planted, beside its manifests; the benchmark reads it
# Unicode assigns no punctuation above U+1FFFF (planes 2-16 hold ideographs, tags, private use).
_PUNCTUATION = {code: None for code in range(0x20000) if unicodedata.category(chr(code)).startswith("P")}
_TOKENS = re.compile(r"(\s+)")


def shingle_words(text: str) -> list[str]:
    """Words as the similarity sees them: lower-cased, Unicode punctuation (category P*) removed,
    split on whitespace ("Don't stop!" -> ["dont", "stop"])."""
    return text.lower().translate(_PUNCTUATION).split()


def word_shingles(words: Sequence[str], n: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """The set of word n-grams; a text shorter than n words is one shingle (all its words)."""
    if len(words) < n:
        return {tuple(words)} if words else set()
    return set(zip(*(words[i:] for i in range(n)), strict=False))


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def text_jaccard(first: str, second: str, n: int = SHINGLE_SIZE) -> float:
    """Exact Jaccard similarity of two texts' word n-gram sets."""
    return jaccard(word_shingles(shingle_words(first), n), word_shingles(shingle_words(second), n))


@dataclass(frozen=True)
class NearDuplicate:
    text: str
    jaccard: float  # exact, of word 5-gram sets, against the original
    edits: int  # words replaced or deleted, spread over the text
    trimmed_words: int  # words cut from the end to come close to the target


class _Edits:
    """A text cut into words and the whitespace between them, with a fixed random edit plan.

    Every edit position holds a word that survives normalisation, so edits map one to one onto
    the normalised word list: the Jaccard of a plan is computed on word lists, not on rebuilt text.
    """

    def __init__(self, text: str, rng: random.Random, vocabulary: Sequence[str], delete_share: float):
        self.tokens = _TOKENS.split(text)
        # the normalised word of every raw token at an even index ('' when only punctuation): one
        # translate over the tokens joined by NUL, which neither lower() nor the table touches
        raw_words = self.tokens[0::2]
        if any("\0" in token for token in raw_words):
            normalised = ["".join(shingle_words(token)) for token in raw_words]
        else:
            normalised = "\0".join(raw_words).lower().translate(_PUNCTUATION).split("\0")
        self.word_tokens = [2 * i for i, word in enumerate(normalised) if word]
        self.words = [word for word in normalised if word]
        order = list(range(len(self.word_tokens)))
        rng.shuffle(order)
        self.order = order  # word indexes in the order they get edited
        self.replacements = []
        for index in order:
            if rng.random() < delete_share:
                self.replacements.append(None)
            else:
                word = rng.choice(vocabulary)
                while shingle_words(word) in ([], [self.words[index]]):
                    word = rng.choice(vocabulary)
                self.replacements.append(word)

    def words_after(self, edits: int, trim: int) -> list[str]:
        words: list[str | None] = list(self.words)
        for index, replacement in zip(self.order[:edits], self.replacements[:edits], strict=True):
            words[index] = shingle_words(replacement)[0] if replacement is not None else None
        kept = [w for w in words if w is not None]
        return kept[:len(kept) - trim] if trim else kept

    def text_after(self, edits: int, trim: int) -> str:
        tokens = list(self.tokens)
        for index, replacement in zip(self.order[:edits], self.replacements[:edits], strict=True):
            position = self.word_tokens[index]
            if replacement is not None:
                tokens[position] = replacement
            else:
                _delete_token(tokens, position)
        if trim:
            surviving = [p for p in self.word_tokens if tokens[p] and shingle_words(tokens[p])]
            cut = surviving[len(surviving) - trim]
            tokens = tokens[:cut]
        return "".join(tokens).strip()


def _delete_token(tokens: list[str], position: int) -> None:
    """Remove a word and one of the two whitespace runs around it, keeping a line break if any."""
    tokens[position] = ""
    before = position - 1 if position > 0 else None
    after = position + 1 if position + 1 < len(tokens) else None
    if after is not None and ("\n" not in tokens[after] or (before is not None and "\n" in tokens[before])):
        tokens[after] = ""
    elif before is not None:
        tokens[before] = ""


def largest_at_or_above(value, target: float, guess: int, limit: int) -> int:
    """The largest x in [0, limit] with value(x) >= target, for a value that falls as x grows and
    starts at or above the target; gallops out from `guess`, so a good guess costs few calls."""
    if limit <= 0:
        return 0
    guess = min(max(guess, 1), limit)
    step = max(1, guess // 4)
    if value(guess) >= target:
        low, high = guess, guess + step
        while high <= limit and value(high) >= target:
            low, high, step = high, high + step, step * 2
        high = min(high, limit + 1)  # past the limit counts as below the target
    else:
        low, high = guess - step, guess
        while low > 0 and value(low) < target:
            low, high, step = low - step, low, step * 2
        low = max(low, 0)
    while high - low > 1:
        middle = (low + high) // 2
        if value(middle) >= target:
            low = middle
        else:
            high = middle
    return low


def near_duplicate(text: str, target: float, rng: random.Random, vocabulary: Sequence[str],
                   delete_share: float = 0.3, n: int = SHINGLE_SIZE) -> NearDuplicate:
    """A copy of `text` edited until the Jaccard of its word n-gram set with the original's is as
    close to `target` as the text allows: words replaced (from `vocabulary`) or deleted at random
    positions, as many edits as keep the similarity at or above the target, then words trimmed from
    the end one at a time (each moves it by about 1/shingles) to land closest to the target."""
    if not 0 < target < 1:
        raise ValueError(f"target Jaccard {target} must be between 0 and 1")
    plan = _Edits(text, rng, vocabulary, delete_share)
    original = word_shingles(plan.words, n)
    shingles = len(original)

    def similarity(edits: int, trim: int) -> float:
        return jaccard(original, word_shingles(plan.words_after(edits, trim), n))

    # each isolated edit changes about n shingles (fewer where edits overlap): J ~ (S - d) / (S + d)
    changed = shingles * (1 - target) / (1 + target)
    edits = largest_at_or_above(lambda k: similarity(k, 0), target, round(changed / (n - 0.5)), len(plan.order))
    above = similarity(edits, 0)
    remaining = len(plan.words_after(edits, 0))
    trim = largest_at_or_above(lambda t: similarity(edits, t), target, round((above - target) * shingles),
                               max(remaining - 1, 0))
    if trim + 1 < remaining and abs(similarity(edits, trim + 1) - target) < abs(similarity(edits, trim) - target):
        trim += 1
    edited = plan.text_after(edits, trim)
    return NearDuplicate(edited, text_jaccard(text, edited, n), edits, trim)


@dataclass(frozen=True)
class Insertion:
    text: str
    start: int  # where the inserted sentence begins in the new text (code points)


def insert_paragraph(text: str, sentence: str, rng: random.Random) -> Insertion:
    """`sentence` as its own line between two lines of `text` (after the first, title line when
    there is more than one), at a random line boundary."""
    lines = text.split("\n")
    position = rng.randint(1, len(lines)) if len(lines) > 1 else 1
    before = "\n".join(lines[:position])
    after = "\n".join(lines[position:])
    start = len(before) + 1 if before else 0
    joined = (before + "\n" if before else "") + sentence + ("\n" + after if after else "")
    return Insertion(joined, start)


# ---------------------------------------------------------------------------------------------
# Truth files

TRUTH_FORMATS = ("warc", "wet", "jsonl")


def truth_problem(path: Path) -> str | None:
    """Why a file is not make-shards' truth.jsonl (one JSON object a line with a string doc_id and a format of
    TRUTH_FORMATS), or None when it is."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("doc_id"), str) \
                        or row.get("format") not in TRUTH_FORMATS:
                    return f"line {number} has no doc_id and format of make-shards' truth"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"not readable as JSON lines ({type(error).__name__})"
    return None


def find_truth(specs: list[str], explicit: str | None) -> tuple[list[Path], list[str]]:
    """Planted truth written by `cc-sieve make-shards`, beside a folder or manifest input or named: the files
    recognised by content, and a one-line note for each one left out."""
    candidates = [Path(explicit)] if explicit else sorted({
        folder / TRUTH_FILE for spec in specs
        for folder in [Path(spec) if Path(spec).is_dir() else Path(spec).parent] if (folder / TRUTH_FILE).is_file()})
    found, notes = [], []
    for path in candidates:
        problem = truth_problem(path)
        if problem:
            notes.append(f"{path}: not make-shards' planted truth ({problem}); left out")
        else:
            found.append(path)
    return found, notes


# ---------------------------------------------------------------------------------------------
# Near-duplicate accuracy: planted families and their exact truth

# Words that replace edited ones in the accuracy corpus: in no real text, so no edit creates a shared shingle.
FRESH_WORDS = tuple(f"zq{index:05d}" for index in range(20_000))
LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
MIN_WORDS = 100  # enough shingles for an edit count to land within ~0.01 of a level
MAX_WORDS = 2000  # keeps the exact Jaccard of every pair of a family cheap to compute
MAX_SHARED = 0.3  # originals whose Jaccard with an earlier one reaches this are left out


@dataclass(frozen=True)
class PlantedDocument:
    doc_id: str
    text: str
    family: str  # the original's doc_id
    level: float | None  # the targeted Jaccard (None for the original)
    jaccard: float  # exact Jaccard of word 5-gram sets with the original (1.0 for the original)


def dissimilar_originals(docs: list[dict], max_shared: float = MAX_SHARED) -> list[dict]:
    """Documents of MIN_WORDS to MAX_WORDS words, skipping any that shares `max_shared` Jaccard with one kept."""
    kept: list[dict] = []
    index: dict[str, list[int]] = defaultdict(list)  # shingle -> kept positions
    sets: list[set] = []
    for doc in docs:
        words = shingle_words(doc["text"])
        if not MIN_WORDS <= len(words) <= MAX_WORDS:
            continue
        own = word_shingles(words)
        shared: dict[int, int] = defaultdict(int)
        for shingle in own:
            for position in index.get(shingle, ()):
                shared[position] += 1
        if any(count / len(own | sets[p]) >= max_shared for p, count in shared.items()):
            continue
        for shingle in own:
            index[shingle].append(len(kept))
        kept.append(doc)
        sets.append(own)
    return kept


def planted_corpus(docs: list[dict], levels: tuple[float, ...] = LEVELS, seed: int = 0) -> list[PlantedDocument]:
    """Dissimilar real originals, each followed by one copy per level edited with `near_duplicate` (level 1.0:
    the text itself), with the exact Jaccard each copy reached."""
    rng = random.Random(seed)
    planted = []
    for doc in dissimilar_originals(docs):
        planted.append(PlantedDocument(doc["doc_id"], doc["text"], doc["doc_id"], None, 1.0))
        for level in levels:
            copy = near_duplicate(doc["text"], level, rng, FRESH_WORDS) if level < 1 else \
                NearDuplicate(doc["text"], 1.0, 0, 0)
            planted.append(PlantedDocument(f"{doc['doc_id']}~{level:.2f}", copy.text, doc["doc_id"], level,
                                           copy.jaccard))
    return planted


def truth_components(planted: list[PlantedDocument], threshold: float) -> dict[str, str]:
    """doc_id -> smallest doc_id of its component when documents of one family are linked by exact
    Jaccard >= threshold (originals share less than MAX_SHARED, so families never link)."""
    parent = {doc.doc_id: doc.doc_id for doc in planted}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    families: dict[str, list[PlantedDocument]] = defaultdict(list)
    for doc in planted:
        families[doc.family].append(doc)
    for members in families.values():
        sets = {doc.doc_id: word_shingles(shingle_words(doc.text)) for doc in members}
        for first, second in combinations(members, 2):
            if jaccard(sets[first.doc_id], sets[second.doc_id]) >= threshold:
                low, high = sorted((root(first.doc_id), root(second.doc_id)))
                parent[high] = low
    return {doc.doc_id: root(doc.doc_id) for doc in planted}


def planted_pair_scores(planted: list[PlantedDocument], clusters: dict[str, str], threshold: float,
                        ) -> dict[str, float]:
    """Precision, recall, F1 over (original, copy) pairs: found when both share a cluster, a true
    duplicate when their exact Jaccard reaches `threshold`."""
    copies = [doc for doc in planted if doc.level is not None]
    found = [clusters[doc.doc_id] == clusters[doc.family] for doc in copies]
    true = [doc.jaccard >= threshold for doc in copies]
    hits = sum(f and t for f, t in zip(found, true, strict=True))
    precision = hits / sum(found) if any(found) else 1.0
    recall = hits / sum(true) if any(true) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": float(sum(true)),
            "found_pairs": float(sum(found))}


def found_by_level(planted: list[PlantedDocument], clusters: dict[str, str]) -> dict[float, float]:
    """Share of copies put in their original's cluster, per targeted level (the LSH S-curve, measured)."""
    by_level: dict[float, list[bool]] = defaultdict(list)
    for doc in planted:
        if doc.level is not None:
            by_level[doc.level].append(clusters[doc.doc_id] == clusters[doc.family])
    return {level: sum(found) / len(found) for level, found in sorted(by_level.items())}


def co_clustered_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id, cluster in clusters.items():
        members[cluster].append(doc_id)
    return {pair for group in members.values() for pair in combinations(sorted(group), 2)}


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """Precision, recall and F1 of 'in one cluster' over document pairs, predicted against truth."""
    predicted_pairs, true_pairs = co_clustered_pairs(predicted), co_clustered_pairs(truth)
    hits = len(predicted_pairs & true_pairs)
    precision = hits / len(predicted_pairs) if predicted_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": float(len(true_pairs)),
            "predicted_pairs": float(len(predicted_pairs))}
