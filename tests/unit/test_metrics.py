"""Metrics from counts: intervals checked against a direct computation, the within-language change, the
corrected prevalence, the circular graders and the PII rates per entity type."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from scipy.stats import t as student_t

from cc_sieve.filters.harm import DETECTORS_BY_NAME
from cc_sieve.filters.language import LANGUAGE_GROUPS, language_group
from cc_sieve.filters.pii import NER_ENTITIES, PEOPLE_ENTITIES, PERSONAL_IDENTIFIERS
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.config.recipes import load_recipe
from cc_sieve.jobs.spark.evaluate import RecipePlan, graders

GROUPS = len(LANGUAGE_GROUPS)
EN, LATIN = LANGUAGE_GROUPS.index("en"), LANGUAGE_GROUPS.index("latin")
BUCKETS = 50


def counts(documents: np.ndarray, flagged: np.ndarray, readable: np.ndarray | None = None,
           kept: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Counters of one recipe from per-document arrays (bucket, group, flagged, readable, kept)."""
    bucket, group = documents[:, 0], documents[:, 1]
    readable = np.ones(len(documents), dtype=bool) if readable is None else readable
    kept = np.ones(len(documents), dtype=bool) if kept is None else kept

    def grid(values: np.ndarray) -> np.ndarray:
        array = np.zeros((BUCKETS, GROUPS))
        np.add.at(array, (bucket, group), values.astype(float))
        return array

    ones = np.ones(len(documents))
    return {M.DOCS: grid(ones), M.CHARS: grid(ones * 100), M.WORDS: grid(ones * 20), M.kept(M.DOCS): grid(kept),
            M.kept(M.CHARS): grid(kept * 100), M.kept(M.WORDS): grid(kept * 20),
            M.flagged("d"): grid(kept & readable & flagged), M.readable("d"): grid(kept & readable)}


@pytest.fixture(scope="module")
def corpus():
    """1,000 documents, 600 English (5 % flagged) and 400 German (not readable by the detector)."""
    rng = np.random.default_rng(3)
    group = np.where(np.arange(1000) < 600, EN, LATIN)
    documents = np.column_stack([rng.integers(0, BUCKETS, 1000), group])
    flagged = (group == EN) & (rng.random(1000) < 0.05)
    return documents, flagged, group == EN


def test_wilson_interval():
    assert M.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert M.wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_change_interval_equals_a_direct_paired_bootstrap(corpus):
    documents, flagged, english = corpus
    baseline = counts(documents, flagged, english)
    keep = ~flagged | (np.arange(1000) % 2 == 0)  # removes about half the flagged documents
    recipe = counts(documents, flagged, english, keep)
    evaluator = M.Evaluator(baseline, ["d"], buckets=BUCKETS, replicates=400)
    metrics = evaluator.recipe_metrics(recipe)
    # direct: resample buckets with the evaluator's weights, the same for recipe and baseline
    weights = evaluator.resampler.weights
    per_bucket = {name: array.sum(axis=1) for name, array in recipe.items()}
    base_bucket = {name: array.sum(axis=1) for name, array in baseline.items()}
    rate = (weights @ per_bucket[M.flagged("d")]) / (weights @ per_bucket[M.readable("d")])
    base = (weights @ base_bucket[M.flagged("d")]) / (weights @ base_bucket[M.readable("d")])
    low, high = np.percentile(rate - base, [2.5, 97.5])
    name = M.change(M.harm("d", "readable_rate"))
    assert metrics[name] == pytest.approx(flagged[keep].sum() / english[keep].sum() - flagged.sum() / english.sum())
    assert metrics[M.interval(name, "ci_low")] == pytest.approx(min(low, metrics[name]))
    assert metrics[M.interval(name, "ci_high")] == pytest.approx(max(high, metrics[name]))
    assert metrics[M.measurable(name)] == 1.0 and metrics[name] < 0
    wilson = M.wilson_interval(flagged[keep].sum(), english[keep].sum())
    assert (metrics[M.interval(M.harm("d", "readable_rate"), "ci_low")],
            metrics[M.interval(M.harm("d", "readable_rate"), "ci_high")]) == pytest.approx(wilson)


def test_keeping_english_pages_raises_the_raw_rate_but_not_the_within_language_one(corpus):
    """A recipe that drops German pages (the detector cannot read them) but keeps every English one: the rate
    among all kept documents rises by the mix alone; the headline change is zero."""
    documents, flagged, english = corpus
    baseline = counts(documents, flagged, english)
    recipe = counts(documents, flagged, english, kept=english)
    evaluator = M.Evaluator(baseline, ["d"], buckets=BUCKETS, replicates=200)
    metrics, unfiltered = evaluator.recipe_metrics(recipe), evaluator.recipe_metrics(baseline)
    assert metrics[M.harm("d", "rate")] - unfiltered[M.harm("d", "rate")] > 0.01  # among all kept: 3 % -> 5 %
    assert metrics[M.change(M.harm("d", "readable_rate"))] == pytest.approx(0.0)
    assert metrics[M.measurable(M.change(M.harm("d", "readable_rate")))] == 0.0
    assert metrics[M.harm("d", "coverage")] == 1.0


def test_within_language_change_weights_groups_by_the_unfiltered_mix():
    flagged = np.array([[10.0, 40.0]])
    readable = np.array([[100.0, 100.0]])
    # the recipe's group rates 10 % and 40 % at a 3:1 unfiltered mix: 17.5 %
    assert M.standardized(flagged, readable, np.array([[300.0, 100.0]])) == pytest.approx(0.175)
    # a group the recipe keeps nothing of leaves the average
    assert M.standardized(np.array([[10.0, 0.0]]), np.array([[100.0, 0.0]]), np.array([[300.0, 100.0]])) \
        == pytest.approx(0.1)


def test_rogan_gladen_correction():
    assert M.corrected(0.1, 1.0, 1.0) == pytest.approx(0.1)
    # half of the true cases are found, 2 % of the others flagged: a 6 % flag rate means 8 %
    assert M.corrected(0.06, 0.5, 0.98) == pytest.approx(0.0833, abs=1e-4)
    assert np.isnan(M.corrected(0.1, 0.3, 0.6))  # recall + specificity <= 1: nothing to learn
    assert M.corrected(0.001, 0.5, 0.98) == 0.0  # clipped


def test_calibration_weights_back_to_the_pool_and_resamples_within_strata():
    units = ([{"weight": 10, "stratum": "flagged", "flagged": True, "positive": True}] * 6
             + [{"weight": 10, "stratum": "flagged", "flagged": True, "positive": False}] * 4
             + [{"weight": 100, "stratum": "rest", "flagged": False, "positive": False}] * 18
             + [{"weight": 100, "stratum": "rest", "flagged": False, "positive": True}] * 2)
    calibration = M.DetectorCalibration.of(units)
    recall, specificity = calibration.rates(calibration.weights)
    assert recall == pytest.approx(60 / 260) and specificity == pytest.approx(1800 / 1840)
    assert calibration.estimable  # 8 positives, 22 negatives, recall + specificity - 1 = 0.21
    assert not M.DetectorCalibration.of(units[2:28]).estimable  # 4 labeled positives
    assert not M.DetectorCalibration.of(units[:6] + units[28:]).estimable  # no labeled negative
    weights = calibration.replicate_weights(50)
    assert weights.shape == (50, 30)
    assert np.allclose(weights[:, :10].sum(axis=1), 100) and np.allclose(weights[:, 10:].sum(axis=1), 2000)


def test_a_detector_reading_a_recipes_list_is_circular_for_it():
    assert graders(RecipePlan.of(load_recipe("badwords"), DedupConfig()), ["ldnoobw", "profanity"]) == {
        "ldnoobw": "circular", "profanity": "independent"}
    fineweb = graders(RecipePlan.of(load_recipe("fineweb"), DedupConfig()), ["url_adult", "url_sinfonietta"])
    assert fineweb == {"url_adult": "circular", "url_sinfonietta": "independent"}
    assert DETECTORS_BY_NAME["url_sinfonietta"].grades == ("adult_url",)


def test_every_harm_kind_a_shipped_recipe_targets_has_an_independent_grader():
    recipes = [load_recipe(name) for name in ("c4", "gopher", "fineweb", "url-blocklist", "badwords", "pii-dolma")]
    sources = {source for recipe in recipes for entry in recipe.rules for source in entry.definition.uses}
    for kind in ("sexual", "profanity", "hate", "adult_url"):
        assert any(kind in detector.grades and detector.independent_of(sources)
                   for detector in DETECTORS_BY_NAME.values()), kind


def test_language_groups():
    assert [language_group(code) for code in ("en", "de", "ru", "zh", "ar", None)] == [
        "en", "latin", "cyrillic", "cjk", "other", "unknown"]


def pii_counts(bucket, group, words, chars, kept, found: dict[str, np.ndarray], ner_read=None
               ) -> dict[str, np.ndarray]:
    """A recipe's PII counters as jobs/spark/evaluate.py collects them, from per-document arrays (every document
    scanned by the patterns; the NER types searched in `ner_read`)."""
    def grid(values: np.ndarray) -> np.ndarray:
        array = np.zeros((BUCKETS, GROUPS))
        np.add.at(array, (bucket, group), np.asarray(values, dtype=float))
        return array

    searched = {M.PII_SCANNED_SET: kept}
    if ner_read is not None:
        searched[M.PII_NER_SET] = kept & ner_read
    out = {M.kept(M.DOCS): grid(kept), M.kept(M.WORDS): grid(kept * words), M.kept(M.CHARS): grid(kept * chars)}
    for name, condition in searched.items():
        out[M.kept(name)], out[M.kept(M.chars_of(name))] = grid(condition), grid(condition * chars)
    patterns = [e for e in found if e not in NER_ENTITIES]
    out[M.kept("pii_docs")] = grid(kept & np.logical_or.reduce([found[e] > 0 for e in patterns]))
    for entity, values in found.items():
        condition = searched[M.searched_set(entity, ner_read is not None)]
        out[M.pii_entities(entity)] = grid(condition * values)
        out[M.pii_holding(entity)] = grid(condition & (values > 0))
    about_people = [found[e] > 0 for e in found if e in PEOPLE_ENTITIES or e in PERSONAL_IDENTIFIERS]
    out[M.PII_PEOPLE_DOCS] = grid(searched[M.ner_set(ner_read is not None)] & np.logical_or.reduce(about_people))
    return out


def direct_per_1k(weight, group, chars, kept, values, read) -> np.ndarray:
    """Entities per 1,000 kept documents, post-stratified by language group, for each row of document weights
    (one row per bootstrap replicate): computed document by document."""
    estimate = 0.0
    for g in np.unique(group):
        in_group = group == g
        found = (weight * (kept & read & in_group) * values).sum(-1)
        searched_chars = (weight * (kept & read & in_group) * chars).sum(-1)
        estimate = estimate + found / searched_chars * (weight * (kept & in_group) * chars).sum(-1)
    return 1000 * estimate / (weight * kept).sum(-1)


@pytest.fixture(scope="module")
def pii_corpus():
    """3,000 documents: heavy-tailed words and names per document (the top 1 % hold a large share), a NER sample
    of 20 %, and a recipe that keeps the short documents."""
    rng = np.random.default_rng(11)
    n = 3000
    bucket, group = rng.integers(0, BUCKETS, n), np.where(rng.random(n) < 0.6, EN, LATIN)
    words = np.ceil(rng.lognormal(5, 1.2, n))
    person = rng.poisson(words / 200 * np.where(group == LATIN, 3, 1) * rng.gamma(0.3, 1 / 0.3, n))
    email = (rng.random(n) < 0.03).astype(float)
    read = rng.random(n) < 0.2
    chars = np.round(words * rng.uniform(3, 9, n))  # characters per word vary from page to page
    kept = words < 600
    return bucket, group, words, chars, kept, {"PERSON": person.astype(float), "EMAIL_ADDRESS": email}, read


def test_pii_type_metrics_and_intervals_equal_a_direct_computation(pii_corpus):
    bucket, group, words, chars, kept, found, read = pii_corpus
    everyone = np.ones(len(words), dtype=bool)
    baseline = pii_counts(bucket, group, words, chars, everyone, found, read)
    recipe = pii_counts(bucket, group, words, chars, kept, found, read)
    evaluator = M.Evaluator(baseline, [], buckets=BUCKETS, replicates=300)
    metrics = evaluator.pii_metrics(recipe)
    person = found["PERSON"]
    assert metrics[M.PII_SCANNED] == kept.sum() and metrics[M.PII_NER_SCANNED] == (kept & read).sum()
    # shares of documents holding a type, among those searched for it (NER types: the NER sample): Wilson
    holding, searched = (kept & read & (person > 0)).sum(), (kept & read).sum()
    assert metrics[M.pii_doc_share("PERSON")] == pytest.approx(holding / searched)
    assert (metrics[M.interval(M.pii_doc_share("PERSON"), "ci_low")],
            metrics[M.interval(M.pii_doc_share("PERSON"), "ci_high")]) == pytest.approx(
        M.wilson_interval(holding, searched))
    assert metrics[M.pii_doc_share("EMAIL_ADDRESS")] == pytest.approx((kept & (found["EMAIL_ADDRESS"] > 0)).sum()
                                                                      / kept.sum())
    people = kept & read & ((person > 0) | (found["EMAIL_ADDRESS"] > 0))
    assert metrics[M.PII_PEOPLE_RATE] == pytest.approx(people.sum() / searched)
    # entities per 1,000 documents: the post-stratified ratio, and the bucket bootstrap of it, document by document,
    # at Hesterberg's expanded percentiles for the n kept documents NER read, and so is its change
    name = M.pii_per_1k_docs("PERSON")
    assert metrics[name] == pytest.approx(direct_per_1k(np.ones(len(words)), group, chars, kept, person, read))
    weights = M.Resampler(BUCKETS, 300).weights[:, bucket]  # [replicates, documents]
    recipe_replicates = direct_per_1k(weights, group, chars, kept, person, read)
    base_replicates = direct_per_1k(weights, group, chars, everyone, person, read)
    n = searched
    expanded = np.sqrt(n / (n - 1)) * student_t.ppf(0.975, n - 1)
    assert (metrics[M.interval(name, "ci_low")], metrics[M.interval(name, "ci_high")]) == pytest.approx(
        np.percentile(recipe_replicates, 100 * norm.cdf([-expanded, expanded])))
    change = M.change(name)
    assert metrics[change] == pytest.approx(metrics[name] - direct_per_1k(np.ones(len(words)), group, chars,
                                                                          everyone, person, read))
    assert (metrics[M.interval(change, "ci_low")], metrics[M.interval(change, "ci_high")]) == pytest.approx(
        np.percentile(recipe_replicates - base_replicates, 100 * norm.cdf([-expanded, expanded])))
    # the total per 1,000 documents counts the pattern types only (those of pii_total, on every document)
    assert metrics[M.PII_PER_1K_DOCS] == pytest.approx(metrics[M.pii_per_1k_docs("EMAIL_ADDRESS")])


def test_with_every_document_searched_entities_per_1k_documents_is_the_exact_count(pii_corpus):
    bucket, group, words, chars, kept, found, _ = pii_corpus
    every = np.ones(len(words), dtype=bool)
    counts = pii_counts(bucket, group, words, chars, kept, found, every)
    metrics = M.Evaluator(counts, [], buckets=BUCKETS, replicates=50).pii_metrics(counts)
    for entity, values in found.items():
        assert metrics[M.pii_per_1k_docs(entity)] == pytest.approx(1000 * values[kept].sum() / kept.sum())


def test_expanded_percentiles_widen_with_few_documents():
    # n = 14 (a 2 % sample of 716): t[13] = 2.1604, x sqrt(14 / 13) = 2.2419, Phi(-2.2419) = 1.248 %
    assert M.expanded_percentiles(14) == pytest.approx((1.248, 98.752), abs=1e-3)
    assert M.expanded_percentiles(10) < M.expanded_percentiles(14) < M.expanded_percentiles(71) < (2.5, 97.5)
    assert M.expanded_percentiles(1e6) == pytest.approx((2.5, 97.5), abs=1e-3)


def test_a_type_few_sampled_documents_hold_spans_every_value_the_words_allow(pii_corpus):
    bucket, group, words, chars, kept, found, read = pii_corpus
    person = found["PERSON"]
    baseline = pii_counts(bucket, group, words, chars, np.ones(len(words), dtype=bool), found, read)
    evaluator = M.Evaluator(baseline, [], buckets=BUCKETS, replicates=100)
    nine_read = read & (np.cumsum(kept & read) <= 9)
    one_holds = np.where(np.cumsum(kept & read & (person > 0)) <= 1, person, 0)  # one read kept document has names
    every_word = 1000 * words[kept].sum() / kept.sum()
    for values, ner_read in ((person, nine_read), (one_holds, read)):
        estimate = evaluator.sampled_per_1k(pii_counts(bucket, group, words, chars, kept, {"PERSON": values}, ner_read),
                                            "PERSON")
        assert estimate.value == pytest.approx(direct_per_1k(np.ones(len(words)), group, chars, kept, values,
                                                             ner_read))
        assert (estimate.low, estimate.high) == pytest.approx((0.0, every_word))
        assert M.sampled_per_1k_too_thin(logged_sample(kept, values, ner_read), "PERSON")  # the report says so
    ten_read = read & (np.cumsum(kept & read) <= 10)  # 10 documents read, several with names: the bootstrap
    estimate = evaluator.sampled_per_1k(pii_counts(bucket, group, words, chars, kept, {"PERSON": person}, ten_read),
                                        "PERSON")
    assert estimate.low < estimate.value < estimate.high < every_word
    assert not M.sampled_per_1k_too_thin(logged_sample(kept, person, ten_read), "PERSON")
    assert not M.sampled_per_1k_too_thin({}, "PERSON")  # no NER sample: nothing to say


def test_a_change_from_few_sampled_documents_spans_every_change_the_words_allow(pii_corpus):
    """Read like the value: from fewer than 10 kept documents NER read, the change of entities per 1,000 documents
    is anywhere from minus the unfiltered value to one entity per word less it (a bootstrap of 9 documents would
    say little about a tail where a few hold most entities); a recipe that removes nothing has no change."""
    bucket, group, words, chars, kept, found, read = pii_corpus
    person, everyone = found["PERSON"], np.ones(len(words), dtype=bool)
    nine_read = read & (np.cumsum(kept & read) <= 9)
    baseline = pii_counts(bucket, group, words, chars, everyone, {"PERSON": person}, nine_read)
    evaluator = M.Evaluator(baseline, [], buckets=BUCKETS, replicates=100)
    metrics = evaluator.pii_metrics(pii_counts(bucket, group, words, chars, kept, {"PERSON": person}, nine_read))
    change, unfiltered = M.change(M.pii_per_1k_docs("PERSON")), direct_per_1k(
        np.ones(len(words)), group, chars, everyone, person, nine_read)
    every_word = 1000 * words[kept].sum() / kept.sum()
    assert metrics[change] == pytest.approx(metrics[M.pii_per_1k_docs("PERSON")] - unfiltered)
    assert (metrics[M.interval(change, "ci_low")], metrics[M.interval(change, "ci_high")]) == pytest.approx(
        (-unfiltered, every_word - unfiltered))
    assert metrics[M.measurable(change)] == 0
    relative = M.relative_change(M.pii_per_1k_docs("PERSON"))
    assert (metrics[M.interval(relative, "ci_low")], metrics[M.interval(relative, "ci_high")]) == pytest.approx(
        (-1, every_word / unfiltered - 1))
    nothing_removed = evaluator.pii_metrics(baseline)
    assert (nothing_removed[change], nothing_removed[M.interval(change, "ci_low")],
            nothing_removed[M.interval(change, "ci_high")]) == (0, 0, 0)


def logged_sample(kept: np.ndarray, values: np.ndarray, ner_read: np.ndarray) -> dict[str, float]:
    """The NER sample's metrics as a recipe run logs them: the documents NER read, the share holding the type."""
    read = float((kept & ner_read).sum())
    return {M.PII_NER_SCANNED: read, M.pii_doc_share("PERSON"): float((kept & ner_read & (values > 0)).sum()) / read}


def test_sampled_share_change_is_newcombes_interval_scaled_by_the_removed_share():
    # Newcombe (1998), Statistics in Medicine 17, table II, example (a): 56/70 - 48/80, hybrid score interval
    estimate = M.sampled_share_change(1.0, (56, 70), (48, 80))
    assert (estimate.value, estimate.low, estimate.high) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)
    half = M.sampled_share_change(0.5, (56, 70), (48, 80))
    assert (half.value, half.low, half.high) == pytest.approx((0.1, 0.0262, 0.16695), abs=1e-4)
    # no removed document in the sample: the removed share may be anything, so the interval spans what it allows
    low, high = M.wilson_interval(3, 10)
    blind = M.sampled_share_change(0.1, (3, 10), (0, 0))
    assert (blind.value, blind.low, blind.high) == pytest.approx((0.0, 0.1 * (low - 1), 0.1 * high))
    assert M.sampled_share_change(0.0, (3, 10), (0, 0)).measurable is False


def test_a_share_on_the_ner_sample_changes_by_the_kept_and_removed_strata(pii_corpus):
    bucket, group, words, chars, kept, found, read = pii_corpus
    everyone = np.ones(len(words), dtype=bool)
    evaluator = M.Evaluator(pii_counts(bucket, group, words, chars, everyone, found, read), [], buckets=BUCKETS,
                            replicates=50)
    metrics = evaluator.pii_metrics(pii_counts(bucket, group, words, chars, kept, found, read))
    holds = found["PERSON"] > 0
    removed_share = 1 - kept.sum() / len(kept)
    p_kept, p_removed = holds[kept & read].mean(), holds[~kept & read].mean()
    name = M.change(M.pii_doc_share("PERSON"))
    assert metrics[name] == pytest.approx(removed_share * (p_kept - p_removed))
    expected = M.sampled_share_change(removed_share, (holds[kept & read].sum(), (kept & read).sum()),
                                      (holds[~kept & read].sum(), (~kept & read).sum()))
    assert (metrics[M.interval(name, "ci_low")], metrics[M.interval(name, "ci_high")]) == pytest.approx(
        (expected.low, expected.high))
    assert metrics[M.measurable(name)] == float(expected.measurable)
