"""The report's per-type PII rows: each count labelled with its web-page precision, and a count from too few
NER-sampled documents says that its bracket is every value the pages' length allows, not an interval."""

from __future__ import annotations

from pathlib import Path

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.tracking.report import IntervalCell, RunView, formatted, pii_type_measures, rate_rows

PRECISION = {"PERSON": {"precision": {"value": 0.27, "ci_low": 0.22, "ci_high": 0.32}}}


def view(metrics: dict[str, float]) -> RunView:
    return RunView("run", "name", metrics, {}, {}, Path("/nonexistent"))


def sample(read: float, share: float, prefix: str = "") -> dict[str, float]:
    return {prefix + M.PII_NER_SCANNED: read, prefix + M.pii_doc_share("PERSON"): share,
            prefix + M.pii_per_1k_docs("PERSON"): 1200.0}


def test_a_count_from_too_few_sampled_documents_says_so_on_its_side():
    parent = view(sample(71, 0.8, M.unfiltered("")))
    label = {name: text for name, text, _, _ in pii_type_measures(parent, view(sample(9, 0.8)), PRECISION)}
    assert label[M.pii_per_1k_docs("PERSON")] == (
        "PERSON per 1,000 documents (NER sample); web-page precision 0.27 [0.22, 0.32]; after recipe: too few "
        "sampled documents hold it for an interval, so the bracket is every value the pages' length allows (for the "
        "change too)")
    both = {name: text for name, text, _, _ in pii_type_measures(view(sample(71, 0.01, M.unfiltered(""))),
                                                                 view(sample(40, 0.02)), PRECISION)}
    assert "; unfiltered and after recipe: too few sampled documents" in both[M.pii_per_1k_docs("PERSON")]
    enough = {name: text for name, text, _, _ in pii_type_measures(parent, view(sample(40, 0.5)), PRECISION)}
    assert enough[M.pii_per_1k_docs("PERSON")] == ("PERSON per 1,000 documents (NER sample); web-page precision "
                                                   "0.27 [0.22, 0.32]")
    # a pattern type is searched in every document: the NER sample's size says nothing of its count
    card = {M.pii_per_1k_docs("CREDIT_CARD"): 0.0, M.pii_doc_share("CREDIT_CARD"): 0.0, M.PII_NER_SCANNED: 9.0}
    labels = [text for _, text, _, _ in pii_type_measures(parent, view(card), {})]
    assert labels[0] == "CREDIT_CARD per 1,000 documents; web-page precision -"


def test_a_change_of_a_count_per_1000_documents_is_said_in_its_own_units_not_in_points():
    """fineweb's PERSON per 1,000 documents on the bundled samples: -22,500 [-45,040, -6,604], 71 % less (it read
    "-2250000.0 pts", the words for a share)."""
    person = M.pii_per_1k_docs("PERSON")
    recipe = {person: 9384.0, M.change(person): -22500.0, M.interval(M.change(person), "ci_low"): -45040.0,
              M.interval(M.change(person), "ci_high"): -6604.0, M.relative_change(person): -0.706,
              M.PII_DOC_RATE: 0.0417, M.change(M.PII_DOC_RATE): -0.0714,
              M.interval(M.change(M.PII_DOC_RATE), "ci_low"): -0.10,
              M.interval(M.change(M.PII_DOC_RATE), "ci_high"): -0.03, M.relative_change(M.PII_DOC_RATE): -0.63}
    said = {row[0]: row[-1] for row in rate_rows(view({}), view(recipe))}
    assert said["PERSON per 1,000 documents; web-page precision -"] == "-22,500 per 1,000 documents, 71% less"
    assert said["documents with pattern-found PII"] == "-7.1 pts, 63% less"  # a share still speaks in points
    recipe[M.interval(M.change(person), "ci_high")] = 100.0
    said = {row[0]: row[-1] for row in rate_rows(view({}), view(recipe))}
    assert said["PERSON per 1,000 documents; web-page precision -"] == "no measurable change"


def test_counts_per_1000_documents_read_to_three_significant_digits_or_more():
    assert formatted(31880.0, "number") == "31,880"
    assert formatted(23.456, "number") == "23.5"
    assert formatted(2.3456, "number") == "2.35"
    assert formatted(0.01234, "number") == "0.012"
    assert IntervalCell(31880.0, "m", "run", "number", 0.4, 48012.5).text() == "31,880 [0.400, 48,012]"
