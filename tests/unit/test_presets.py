"""A benchmark preset names only what differs from conf/benchmark/default.yaml."""

from __future__ import annotations

import pytest

from cc_sieve.jobs.commands.benchmark import apply_overrides, parse_args
from cc_sieve.jobs.config.presets import DEFAULT_PRESET, load_benchmark_config
from cc_sieve.jobs.errors import ConfigError


def test_a_preset_with_only_an_input_is_the_default_preset_on_that_input(tmp_path):
    preset = tmp_path / "mine.yaml"
    preset.write_text("input:\n  specs: [data/commoncrawl/CC-MAIN-2020-34]\n")
    config, default = load_benchmark_config(preset), load_benchmark_config()
    assert config.input.specs == ["data/commoncrawl/CC-MAIN-2020-34"]
    assert config.name == "mine"  # named after its file
    assert config.recipes == default.recipes
    # The default preset's PII entity list (no URL; the NER types on the NER sample), not every entity type the
    # class default would give
    assert config.pii.entities == default.pii.entities == [
        "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "CRYPTO", "MAC_ADDRESS",
        "PERSON", "LOCATION", "NRP", "DATE_TIME"]
    assert (config.pii.ner_sample, config.pii.ner_seed) == (default.pii.ner_sample, 0)
    assert config.spark.master == default.spark.master == "local[*]"
    assert config.model_dump(exclude={"name", "input"}) == default.model_dump(exclude={"name", "input"})


def test_a_section_merges_key_by_key_and_a_list_replaces(tmp_path):
    preset = tmp_path / "wider.yaml"
    preset.write_text("name: wider\nrecipes: [raw, gopher]\ndedup: {num_perm: 128, bands: 16}\n"
                      "pii: {entities: null}\n")
    config = load_benchmark_config(preset)
    assert (config.name, config.recipes) == ("wider", ["raw", "gopher"])
    assert (config.dedup.num_perm, config.dedup.bands, config.dedup.rows, config.dedup.verify_threshold) == (
        128, 16, 8, 0.75)
    assert config.pii.entities is None and config.pii.mode == "regex"
    args = parse_args(["--config", str(preset), "--recipes", "c4", "--limit", "2"])
    overridden = apply_overrides(config, args)
    assert (overridden.recipes, overridden.input.limit, overridden.input.specs) == (["c4"], 2, ["data/commoncrawl"])


def test_a_mistake_in_a_minimal_preset_names_its_file_and_key(tmp_path):
    preset = tmp_path / "bad.yaml"
    preset.write_text("dedup: {band: 16}\n")
    with pytest.raises(ConfigError, match=rf"^{preset}: dedup.band: unknown key; allowed: enabled, num_perm"):
        load_benchmark_config(preset)
    assert load_benchmark_config(DEFAULT_PRESET).name == "default"
