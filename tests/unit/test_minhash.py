"""MinHash signatures: the vectorised path against the plain definitions and against datasketch itself."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from cc_sieve.filters.minhash import (
    MinHashAnnotator,
    MinHasher,
    datasketch_minhash,
    lsh_parameters,
    normalization_table,
    normalize,
    normalize_char,
    permutations,
    shingle_hash,
    shingles,
    text_hash,
)
from cc_sieve.filters.planting import FRESH_WORDS, jaccard, near_duplicate
from cc_sieve.jobs.config.measurements import check_measurements
from cc_sieve.jobs.config.presets import BenchmarkConfig, DedupConfig
from cc_sieve.jobs.config.recipes import load_recipe, required_annotators
from cc_sieve.jobs.errors import ConfigError
from tests.support.samples import sample_documents

EDGE_CASES = ["", None, "a", "Hello, World!", "one two three four", "one two three four five", "!!! ... ?",
              "Don't stop-believing!", "ΟΔΟΣ İstanbul", "a\ud800b c", "tab\tnew\nline\u00a0nbsp", "x" * 30]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [doc["text"] for doc in sample_documents()] + EDGE_CASES


@pytest.fixture(scope="module")
def hasher() -> MinHasher:
    return MinHasher()


def test_normalisation_drops_punctuation_and_case():
    assert normalize("Don't  STOP-believing!\n\tNow…") == "dont stopbelieving now"
    assert normalize("!!! ... ?") == "" and normalize(None) == ""
    assert shingles("one two three four") == ["one two three four"]
    assert shingles("a b c d e f") == ["a b c d e", "b c d e f"]
    assert shingles("Ab, cd!", ngram=3, unit="char") == ["ab ", "b c", " cd"]


def test_table_and_translation_follow_the_character_rule(texts):
    table = normalization_table()
    for code in [0x41, 0x130, 0x3A3, 0x2019, 0x3000, 0x1F600, 0x10400, 0x20000, 0x10FFFF]:
        expected = normalize_char(chr(code))
        assert (chr(table[code]) if expected else "") == expected
    for text in texts[:60]:
        assert normalize(text) == " ".join("".join(map(normalize_char, text or "")).split())


def test_permutations_are_datasketchs():
    a, b = permutations(112)
    expected_a, expected_b = MinHash(num_perm=112).permutations
    assert np.array_equal(a, expected_a) and np.array_equal(b, expected_b)


@pytest.mark.parametrize(("unit", "ngram", "documents"), [("word", 5, None), ("word", 1, 100), ("char", 5, 100)])
def test_signatures_equal_datasketch_given_the_same_hash(texts, unit, ngram, documents):
    """Real documents (all of them with the defaults) and edge cases: datasketch's
    MinHash(hashfunc=shingle_hash).update_batch(shingles) gives the same signature."""
    texts = texts if documents is None else texts[:documents] + EDGE_CASES
    result = MinHasher(ngram=ngram, unit=unit).signatures(texts)
    for index, text in enumerate(texts):
        expected = shingles(text, ngram, unit)
        assert result.has_shingles[index] == bool(expected)
        if expected:
            reference = MinHash(num_perm=112, hashfunc=shingle_hash)
            reference.update_batch(expected)
            assert np.array_equal(result.values[index], reference.hashvalues), index


def test_sha1_signatures_equal_datasketch_defaults(texts):
    """hashfunc="sha1": the signature of datasketch's own defaults (sha1_hash32 of UTF-8 shingles, seed 1)."""
    result = MinHasher(hashfunc="sha1").signatures(texts)
    for index, text in enumerate(texts):
        if result.has_shingles[index]:
            reference = MinHash(num_perm=112)
            reference.update_batch([s.encode("utf-8", "surrogatepass") for s in shingles(text)])
            assert np.array_equal(result.values[index], reference.hashvalues), index


def test_exact_hash_is_the_hash_of_the_normalised_text(texts, hasher):
    result = hasher.signatures(texts)
    for index, text in enumerate(texts):
        if result.has_shingles[index]:
            assert int(result.exact.view(np.int64)[index]) == text_hash(text)
    assert text_hash("Hello,   WORLD") == text_hash("hello world") != text_hash("hello world!!! again")


def test_jaccard_estimate_error_is_no_worse_than_datasketchs(texts):
    """On real documents and edited copies, our hash's estimate is as close to the exact Jaccard as sha1's."""
    rng = random.Random(7)
    pairs = []
    for text in texts[:300]:
        if 100 <= len(normalize(text).split()) <= 2000:
            pairs.append((text, near_duplicate(text, rng.uniform(0.3, 0.95), rng, FRESH_WORDS).text))
    errors = {}
    for hashfunc in ("poly64", "sha1"):
        hasher = MinHasher(hashfunc=hashfunc)
        first, second = hasher.signatures([p[0] for p in pairs]), hasher.signatures([p[1] for p in pairs])
        estimates = (first.values == second.values).mean(axis=1)
        exact = np.array([jaccard(set(shingles(a)), set(shingles(b))) for a, b in pairs])
        errors[hashfunc] = float(np.abs(estimates - exact).mean())
    print(f"mean |estimate - exact Jaccard| over {len(pairs)} pairs: {errors}")
    assert len(pairs) > 150
    assert errors["poly64"] <= errors["sha1"] * 1.15


def test_band_keys_group_as_datasketch_lsh(texts, hasher):
    """Two documents share a band key exactly when datasketch's MinHashLSH puts them in one bucket."""
    result = hasher.signatures(texts + texts[:50])  # repeats: documents certain to share every band
    keys = hasher.band_keys(result.values)
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    present = np.flatnonzero(result.has_shingles)
    for index in present:
        lsh.insert(int(index), datasketch_minhash(result.values[index]))
    for index in present:
        ours = {int(other) for other in present if (keys[other] == keys[index]).any()}
        assert ours == set(lsh.query(datasketch_minhash(result.values[index]))), index


def test_threshold_picks_datasketchs_bands_and_rows():
    assert lsh_parameters(0.65, 112) == (14, 8)
    annotator = MinHashAnnotator(threshold=0.8)
    assert (annotator.hasher.bands, annotator.hasher.rows) == (9, 12)
    with pytest.raises(ValueError, match="bands x rows"):
        MinHasher(bands=20, rows=8)


def test_annotator_columns(texts):
    annotator = MinHashAnnotator()
    out = annotator.annotate({"text": texts})
    import pyarrow as pa

    batch = pa.RecordBatch.from_pydict(out, schema=pa.schema(annotator.schema()))
    assert batch.num_rows == len(texts)
    empty = texts.index("!!! ... ?")
    assert out["minhash_signature"][empty] is None and out["minhash_bands"][empty] is None
    assert out["exact_hash"][empty] is None
    assert all(len(s) == 112 for s in out["minhash_signature"] if s is not None)
    assert all(len(b) == 14 for b in out["minhash_bands"] if b is not None)


def test_exact_duplicate_rule_reads_the_dedup_stage_column(tmp_path):
    """A recipe may name exact_duplicate: no annotator of its own, and the benchmark refuses it without dedup."""
    path = tmp_path / "exact.yaml"
    path.write_text("name: exact\nrules:\n  - rule: exact_duplicate\n", encoding="utf-8")
    recipe = load_recipe(path)
    assert recipe.removal_predicates() == {"exact_duplicate": "coalesce(`exact_duplicate`, false)"}
    assert required_annotators([recipe]) == []
    assert recipe.removals({"exact_duplicate": True}) == {"exact_duplicate": True}
    assert recipe.removals({"exact_duplicate": None}) == {"exact_duplicate": False}
    config = BenchmarkConfig(input={"specs": ["data/commoncrawl"]}, recipes=["exact"], dedup={"enabled": False},
                             pii={"enabled": False})
    with pytest.raises(ConfigError, match="dedup.enabled is false"):
        check_measurements(config, [recipe])
    check_measurements(config.model_copy(update={"dedup": DedupConfig()}), [recipe])
