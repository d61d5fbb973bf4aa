"""The web-page labeled set (data/eval/web/): its units are the real samples' text at their offsets, every
unit is labeled by the guideline's vocabulary, the README's counts per stratum are the file's, and the
weights are pool / sample. Also the sampler's pieces that need no model: cutting, strata, allocation, draw.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from functools import cache

import pytest

from cc_sieve.jobs.generator.web_eval import (
    DEFAULT_OUTPUT,
    LABEL_FIELDS,
    LABELS,
    LANGUAGE_GROUPS,
    MAX_UNIT_CHARS,
    MIN_UNIT_CHARS,
    NO_FLAG,
    SOURCES,
    PoolUnit,
    Unit,
    allocate,
    assign_strata,
    draw,
    existing_labels,
    passage_bounds,
    read_units,
    script_of,
    strata_table,
    unit_rows,
)

README = DEFAULT_OUTPUT.parent / "README.md"
ENTITY_TYPES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "URL",
                "PERSON", "LOCATION", "DATE_TIME", "NRP"}


@cache
def _rows() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in DEFAULT_OUTPUT.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def rows() -> tuple[dict, ...]:
    return _rows()


@pytest.fixture(scope="module")
def units_by_id() -> dict[str, Unit]:
    """Every unit of the pool, cut from the samples as cc-sieve's reader reads them today."""
    return {unit.id: unit for unit in read_units()}


def readme_strata() -> dict[str, list[str]]:
    """stratum -> the other cells of its row in the README's counts table (and 'all' -> the total row)."""
    table = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\| (`[^`/]+/[^`/]+`|all) \|(.*)\|", line)
        if match:
            table[match.group(1).strip("`")] = [cell.strip() for cell in match.group(2).split("|")]
    return table


# ---------------------------------------------------------------------------------------------
# The shipped set

def test_the_set_holds_601_units_of_the_bundled_samples(rows):
    assert len(rows) == 601
    assert len({row["id"] for row in rows}) == 601
    assert Counter(row["source"] for row in rows) == {
        "commoncrawl/CC-MAIN-2019-30/dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz": 577,
        "commoncrawl/CC-MAIN-2020-34/resiliparse-warcfile.warc.gz": 23,
        "commoncrawl/CC-MAIN-2024-22/whirlwind.warc.gz": 1}
    assert all(row["source"] in SOURCES for row in rows)


def test_every_unit_is_its_document_text_at_its_offsets(rows, units_by_id):
    """The unit is found again: same document, same offsets, same text, same URL; and its offsets are
    where the sampler cuts that document today."""
    for row in rows:
        unit = units_by_id.get(row["id"])
        assert unit is not None, f"{row['id']}: the sampler no longer cuts this unit from {row['source']}"
        assert (unit.source, unit.doc_id, unit.url, unit.start, unit.end) == (
            row["source"], row["doc_id"], row["url"], row["start"], row["end"]), row["id"]
        assert unit.text == row["text"], row["id"]
        assert len(row["text"]) <= MAX_UNIT_CHARS, row["id"]


def test_every_unit_is_labeled_by_the_guideline_vocabulary(rows):
    for row in rows:
        labels = row["labels"]
        assert labels and set(labels) <= set(LABELS), row["id"]
        assert labels == sorted(set(labels)), row["id"]
        assert NO_FLAG not in labels or labels == [NO_FLAG], row["id"]
        assert set(row) >= set(LABEL_FIELDS)


def test_every_entity_is_the_unit_text_at_its_offsets(rows):
    for row in rows:
        spans = set()
        for entity in row["entities"]:
            assert entity["type"] in ENTITY_TYPES, row["id"]
            assert 0 <= entity["start"] < entity["end"] <= len(row["text"]), row["id"]
            assert row["text"][entity["start"]:entity["end"]] == entity["text"], row["id"]
            assert ("person" in entity) == (entity["type"] == "PERSON"), row["id"]
            assert entity.get("person", "public") in ("public", "private"), row["id"]
            key = (entity["type"], entity["start"], entity["end"])
            assert key not in spans, f"{row['id']}: {key} twice"
            spans.add(key)


def test_known_units_carry_their_labels(rows):
    """A few units whose labels the README cites as examples."""
    by_id = {row["id"]: row for row in rows}
    assert by_id["warc2020:6:0-1339"]["labels"] == ["profanity", "sexual"]
    assert by_id["dolma:13:1418-2825"]["labels"] == ["hate"]
    assert by_id["dolma:453:0-841"]["labels"] == ["profanity"]
    assert by_id["dolma:502:2200-2969"]["labels"] == ["pii_private"]
    assert by_id["dolma:248:2963-4383"]["labels"] == ["none"]
    assert Counter(label for row in rows for label in row["labels"]) == {
        "none": 550, "profanity": 30, "pii_private": 11, "hate": 6, "sexual": 5}
    persons = Counter(entity["person"] for row in rows for entity in row["entities"] if entity["type"] == "PERSON")
    assert persons == {"public": 2860, "private": 145}


def test_strata_and_weights_are_consistent(rows):
    """One pool size and one sample size per stratum; the sample size is the stratum's units in the set;
    the pool sizes add up to the 2,310 units of the pool."""
    strata: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        assert row["language_group"] in LANGUAGE_GROUPS, row["id"]
        assert row["stratum"].endswith("/" + row["language_group"]), row["id"]
        rarest = row["stratum"].rsplit("/", 1)[0]
        assert rarest in row["flags"] or (rarest == NO_FLAG and not row["flags"]), row["id"]
        strata[row["stratum"]].append(row)
    for stratum, members in strata.items():
        assert {(row["pool_size"], row["sample_size"]) for row in members} == {
            (members[0]["pool_size"], len(members))}, stratum
        assert members[0]["pool_size"] >= len(members)
    assert sum(members[0]["pool_size"] for members in strata.values()) == 2310


def test_readme_counts_per_stratum_match_the_file(rows):
    table = readme_strata()
    strata: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        strata[row["stratum"]].append(row)
    assert set(table) == set(strata) | {"all"}
    for stratum, members in strata.items():
        pool, sample, weight, *label_counts = table[stratum]
        assert (int(pool), int(sample)) == (members[0]["pool_size"], len(members)), stratum
        assert float(weight) == pytest.approx(members[0]["pool_size"] / len(members), abs=5e-4), stratum
        counts = Counter(label for row in members for label in row["labels"])
        assert [int(count) for count in label_counts] == [counts[label] for label in LABELS], stratum
    pool, sample, _, *label_counts = table["all"]
    assert (int(pool), int(sample)) == (2310, len(rows))
    assert [int(count) for count in label_counts] == [
        sum(label in row["labels"] for row in rows) for label in LABELS]


def test_readme_table_is_what_the_sampler_prints(rows):
    assert strata_table(list(rows)) in README.read_text(encoding="utf-8")


def test_a_redraw_keeps_the_labels_of_unchanged_units(rows, tmp_path):
    path = tmp_path / "units.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows[:3]), encoding="utf-8")
    labeled = existing_labels(path)
    first = rows[0]
    unit = Unit(first["source"], int(first["id"].split(":")[1]), first["doc_id"], first["url"],
                first["start"], first["end"], first["text"])
    member = PoolUnit(unit, first["language_group"], first["flags"], first["stratum"])
    changed = PoolUnit(Unit(unit.source, unit.doc_index, unit.doc_id, unit.url, unit.start, unit.end,
                            unit.text + " "), member.language_group, member.flags, member.stratum)
    kept, dropped = unit_rows([(member, first["pool_size"], first["sample_size"]),
                              (changed, first["pool_size"], first["sample_size"])], labeled)
    assert kept == first
    assert dropped["labels"] is None and dropped["entities"] is None


# ---------------------------------------------------------------------------------------------
# The sampler's pieces

def test_a_short_document_is_one_unit_without_its_outer_whitespace():
    assert passage_bounds("\n  a page  \n") == [(3, 9)]
    assert passage_bounds(" \n ") == []


def test_a_long_document_is_cut_at_line_breaks_into_passages_of_600_to_1500_characters():
    lines = [f"line {index}" + " word" * (index % 37) for index in range(400)]
    text = "\n".join(lines)
    bounds = passage_bounds(text)
    assert len(bounds) >= -(-len(text) // MAX_UNIT_CHARS)
    for (start, end), (next_start, _) in itertools.pairwise(bounds):
        assert MIN_UNIT_CHARS <= end - start <= MAX_UNIT_CHARS
        assert text[end] == "\n" and next_start == end + 1
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)


def test_a_line_longer_than_a_unit_is_cut_after_a_sentence():
    sentence = "This sentence is forty characters long. "
    text = sentence * 80
    bounds = passage_bounds(text)
    assert all(MIN_UNIT_CHARS <= end - start <= MAX_UNIT_CHARS for start, end in bounds[:-1])
    assert all(text[start:end].endswith(".") for start, end in bounds)


def test_script_of_a_text_is_its_letters_majority():
    assert script_of("Привет, мир! hello") == "cyrillic"
    assert script_of("東京は晴れ, ok") == "cjk"
    assert script_of("안녕하세요") == "cjk"
    assert script_of("Grüß Gott") == "latin"
    assert script_of("ދިވެހިރާއްޖެ") == "other"
    assert script_of("1234 !!") == "other"


def pool_of(flags_per_unit: list[list[str]], group: str = "english") -> list[PoolUnit]:
    source = next(iter(SOURCES))
    return [PoolUnit(Unit(source, index, f"d{index}", None, 0, 1, "x"), group, flags)
            for index, flags in enumerate(flags_per_unit)]


def test_a_unit_belongs_to_the_stratum_of_its_rarest_flag():
    pool = pool_of([["common", "rare"], ["common"], ["common"], []])
    assign_strata(pool)
    assert [member.stratum for member in pool] == ["rare/english", "common/english", "common/english", "none/english"]


def test_allocation_takes_whole_strata_and_samples_the_others_at_one_rate():
    sizes = allocate({"big": 1000, "mid": 200, "small": 5, "rare": 40}, whole={"rare"}, size=200, minimum=12)
    assert sizes["rare"] == 40 and sizes["small"] == 5
    assert sizes["big"] / 1000 == pytest.approx(sizes["mid"] / 200, abs=0.005)
    assert sum(sizes.values()) >= 200
    assert sum(allocate({"big": 1000, "mid": 200, "small": 5, "rare": 40}, {"rare"}, 199, 12).values()) <= sum(
        sizes.values())


def test_the_draw_is_seeded_per_stratum_and_keeps_pool_and_sample_sizes():
    pool = pool_of([["rare"]] * 3 + [["common"]] * 50 + [[]] * 100)
    assign_strata(pool)
    drawn = draw(pool, size=30, minimum=5, rare=3, seed=7)
    again = draw(list(reversed(pool)), size=30, minimum=5, rare=3, seed=7)
    assert [member.unit.id for member, _, _ in drawn] == [member.unit.id for member, _, _ in again]
    sizes = {member.stratum: (pool_size, sample_size) for member, pool_size, sample_size in drawn}
    assert sizes["rare/english"] == (3, 3)
    assert sizes["common/english"][0] == 50 and sizes["none/english"][0] == 100
    drawn_per_stratum = Counter(member.stratum for member, _, _ in drawn)
    assert drawn_per_stratum == {stratum: sample for stratum, (_, sample) in sizes.items()}
    other_seed = draw(pool, size=30, minimum=5, rare=3, seed=8)
    assert [member.unit.id for member, _, _ in other_seed] != [member.unit.id for member, _, _ in drawn]
