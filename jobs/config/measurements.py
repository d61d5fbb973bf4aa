"""The annotators a benchmark runs to measure (MinHash signatures, PII, harm), from its preset's sections,
apart from those the recipes' rules need; and the checks that they fit the recipes, before Spark starts."""

from __future__ import annotations

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.harm import HarmAnnotator
from cc_sieve.filters.minhash import MinHashAnnotator
from cc_sieve.filters.pii import PiiAnnotator, check_entities, split_entities
from cc_sieve.jobs.config.presets import BenchmarkConfig, DedupConfig, PiiConfig
from cc_sieve.jobs.config.recipes import Recipe
from cc_sieve.jobs.errors import ConfigError


def minhash_spec(config: DedupConfig) -> AnnotatorSpec:
    """The annotator that writes minhash_signature, minhash_bands and exact_hash for `config`."""
    return AnnotatorSpec.of(MinHashAnnotator, num_perm=config.num_perm, bands=config.bands, rows=config.rows,
                            ngram=config.ngram, threshold=config.threshold, unit=config.unit)


def pii_spec(config: PiiConfig, where: str = "pii.entities") -> AnnotatorSpec:
    """The PII annotator for `config`; entity types the mode cannot find, or a NER sample that does not fit the
    mode and types, are a ConfigError naming `where` (or pii.ner_sample)."""
    try:  # with a NER sample, regex mode looks for NER types too
        check_entities("full" if config.ner_sample else config.mode, config.entities)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    try:
        split_entities(config.mode, config.entities, config.ner_sample)
    except ValueError as error:
        raise ConfigError(f"pii.ner_sample: {error}") from None
    extra = {"ner_sample": config.ner_sample, "ner_seed": config.ner_seed} if config.ner_sample else {}
    return AnnotatorSpec.of(PiiAnnotator, mode=config.mode, entities=config.entities,
                            score_threshold=config.score_threshold, sample=config.sample, **extra)


def measurement_specs(config: BenchmarkConfig) -> list[AnnotatorSpec]:
    specs = []
    if config.dedup.enabled:
        specs.append(minhash_spec(config.dedup))
    if config.pii.enabled:
        specs.append(pii_spec(config.pii))
    if config.harm.enabled:
        specs.append(AnnotatorSpec.of(HarmAnnotator, profanity_threshold=config.harm.profanity_threshold))
    return specs


def check_measurements(config: BenchmarkConfig, recipes: list[Recipe]) -> None:
    """The PII settings are usable, and a recipe rule that reads a measurement's column (pii_entities reads
    pii_total) does not meet a benchmark where that measurement is off."""
    if config.pii.enabled:
        pii_spec(config.pii)
    enabled = {"pii": config.pii.enabled, "dedup": config.dedup.enabled}
    for recipe in recipes:
        for index, entry in enumerate(recipe.rules):
            section = entry.definition.measured_by
            if section and not enabled[section]:
                raise ConfigError(f"{recipe.path}: rules[{index}]: {entry.rule} reads {entry.definition.column}, "
                                  f"which the benchmark's {section} measurement writes, and {section}.enabled is "
                                  f"false in this benchmark: enable it or drop the rule")
